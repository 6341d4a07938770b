//! Sign in and out, users, and the audit log for those allowed to read it.
use crate::AppState;
use crate::accounts::{self, Enrolment, LoginAnswer, LoginRequest, NewUser, UserView};
use crate::audit::{audit_record, verify_stored_chain};
use crate::auth::{Caller, SignedInAs};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, SignedIn};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::{IntoParams, ToSchema};

type ApiResult<T> = Result<T, ApiError>;

/// Sign in with user, password and the current one-time password. Answers a
/// bearer token for `Authorization: Bearer …` (30 min idle, 12 h at most).
/// Repeated failures slow the account and the address down (429 with
/// Retry-After), then lock them for 15 minutes.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginAnswer),
        (status = 401, body = ErrorBody, description = "the user, password or one-time password is wrong, or the user is disabled"),
        (status = 429, body = ErrorBody)))]
pub async fn login(
    State(s): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Response {
    let source = peer.map(|Extension(ConnectInfo(a))| a.ip());
    match accounts::login(s.market.store(), &s.logins, req, source, chrono::Utc::now()).await {
        Ok(Ok(answer)) => {
            let who = SignedInAs {
                user_id: answer.user.id.clone(),
                role: answer.user.role,
                member_id: answer.user.member_id.clone(),
            };
            let mut r = Json(answer).into_response();
            r.extensions_mut().insert(who);
            r
        }
        Ok(Err(e)) => e.into_response(),
        Err(t) => {
            let mut r = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "login_throttled",
                format!(
                    "too many failed sign-ins for this account or address; retry after {} s",
                    t.retry_after_s
                ),
            )
            .into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(t.retry_after_s));
            r
        }
    }
}

/// End the current session: its token stops working at once.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(s): State<AppState>, SignedIn(c): SignedIn) -> ApiResult<StatusCode> {
    if let Some(t) = &c.token {
        accounts::logout(s.market.store(), t, chrono::Utc::now()).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Who the session belongs to.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub user_id: String,
    pub role: String,
    pub member_id: Option<String>,
    /// The market identity the user acts as.
    pub acts_as: String,
}

#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(SignedIn(c): SignedIn) -> Json<Me> {
    Json(me_of(&c))
}

fn me_of(c: &Caller) -> Me {
    Me {
        user_id: c.principal.user_id.clone(),
        role: c.principal.role.to_string(),
        member_id: c.principal.member_id.clone(),
        acts_as: c.actor.member_id.clone(),
    }
}

/// Create a user. The operator creates anyone; a member administrator
/// creates administrators, traders and viewers of its own member. The
/// answer shows the TOTP secret once.
#[utoipa::path(post, path = "/api/v1/users", tag = "auth", request_body = NewUser,
    responses((status = 201, body = Enrolment), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_user(
    State(s): State<AppState>,
    SignedIn(c): SignedIn,
    ApiJson(req): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<Enrolment>)> {
    let e = accounts::create_user(&s.market, Some(&c.principal), req).await?;
    Ok((StatusCode::CREATED, Json(e)))
}

/// Users the caller manages: all (operator) or its member's (administrator).
#[utoipa::path(get, path = "/api/v1/users", tag = "auth",
    responses((status = 200, body = Vec<UserView>), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(s): State<AppState>,
    SignedIn(c): SignedIn,
) -> ApiResult<Json<Vec<UserView>>> {
    Ok(Json(
        accounts::list_users(s.market.store(), &c.principal).await?,
    ))
}

/// Disable a user and end its sessions.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "auth",
    params(("id" = String, Path)),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
pub async fn disable_user(
    State(s): State<AppState>,
    SignedIn(c): SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(
        accounts::disable_user(s.market.store(), &c.principal, &id).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// First sequence number to return (default 1).
    pub from: Option<i64>,
    /// At most this many rows (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// Rows of the audit chain in order (operator and auditor).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Vec<serde_json::Value>), (status = 403, body = ErrorBody)))]
pub async fn audit_rows(
    State(s): State<AppState>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Vec<serde_json::Value>>> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows = s
        .market
        .store()
        .audit_rows(q.from.unwrap_or(1), limit)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let r = audit_record(row).map_err(|e| ApiError::internal(e.to_string()))?;
        out.push(serde_json::to_value(r).map_err(|e| ApiError::internal(e.to_string()))?);
    }
    Ok(Json(out))
}

/// Result of verifying the stored audit chain.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChainCheck {
    pub intact: bool,
    pub rows: usize,
    pub head_hash: Option<String>,
    /// Where and how the chain breaks, when it does.
    pub problem: Option<String>,
}

/// Verify the whole stored audit chain (operator and auditor).
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = ChainCheck), (status = 403, body = ErrorBody)))]
pub async fn audit_verify(State(s): State<AppState>) -> Json<ChainCheck> {
    Json(match verify_stored_chain(s.market.store(), None).await {
        Ok(sum) => ChainCheck {
            intact: true,
            rows: sum.rows,
            head_hash: Some(sum.head_hash),
            problem: None,
        },
        Err(e) => ChainCheck {
            intact: false,
            rows: 0,
            head_hash: None,
            problem: Some(e.to_string()),
        },
    })
}
