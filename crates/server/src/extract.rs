//! Request extractors that answer in the API's error shape.
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use voltex_market::Actor;

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

/// The raw body; one over the size limit is refused as 413
/// `body_too_large` in the API's error shape.
pub struct ApiBytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiBytes(axum::body::Bytes::from_request(req, state).await?))
    }
}

/// A text body; one that is not UTF-8 is refused as 400 `malformed_text`,
/// one over the size limit as 413 `body_too_large`.
pub struct ApiText(pub String);

impl<S: Send + Sync> FromRequest<S> for ApiText {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiText(String::from_request(req, state).await?))
    }
}

/// The signed-in caller (set by [`crate::auth::authenticate`]); 401 when
/// the request carries no identity.
pub struct SignedIn(pub Caller);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .map(SignedIn)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "sign in first (POST /api/v1/auth/login) and send `Authorization: Bearer <token>`",
                )
            })
    }
}

/// The market identity the signed-in caller acts as.
pub struct Identity(pub Actor);

impl FromRequestParts<AppState> for Identity {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let SignedIn(c) = SignedIn::from_request_parts(parts, state).await?;
        Ok(Identity(c.actor))
    }
}

/// The acting identity if the request carries one; anonymous readers get
/// the public view.
pub struct MaybeIdentity(pub Option<Actor>);

impl FromRequestParts<AppState> for MaybeIdentity {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(MaybeIdentity(
            parts.extensions.get::<Caller>().map(|c| c.actor.clone()),
        ))
    }
}
