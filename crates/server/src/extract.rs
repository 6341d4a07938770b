//! Request extractors that answer in the API's error shape.
use crate::AppState;
use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use voltex_market::Actor;

/// Header that names the acting member.
///
/// PLACEHOLDER IDENTITY: until the security work lands (certificates, signed
/// requests, sessions), the caller simply states who it is. Anyone who can
/// reach the API can act as anyone; never expose this server beyond a test
/// network in this state.
pub const MEMBER_HEADER: &str = "x-member-id";

/// A JSON body; malformed JSON, unknown fields and oversize bodies become
/// [`ApiError`]s instead of axum's plain-text rejections.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(v) = axum::Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(v))
    }
}

/// The acting member, resolved from [`MEMBER_HEADER`].
pub struct Identity(pub Actor);

impl FromRequestParts<AppState> for Identity {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let id = parts
            .headers
            .get(MEMBER_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "missing_identity",
                    "this endpoint needs the X-Member-Id header naming the acting member",
                )
            })?;
        Ok(Identity(state.market.actor(id).await?))
    }
}

/// The acting member if the request names one; anonymous readers get the
/// public view. A named but unknown member is still refused.
pub struct MaybeIdentity(pub Option<Actor>);

impl FromRequestParts<AppState> for MaybeIdentity {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if parts.headers.get(MEMBER_HEADER).is_none() {
            return Ok(MaybeIdentity(None));
        }
        let Identity(a) = Identity::from_request_parts(parts, state).await?;
        Ok(MaybeIdentity(Some(a)))
    }
}
