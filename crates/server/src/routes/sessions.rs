//! Sessions and declarations.
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Identity};
use crate::openapi::{StoredDeclarationDoc, Versioned, VersionedList};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use voltex_model::{DeclarationBody, MarketKind, MarketSession, SessionState, TradingDay};
use voltex_store::{Record, StoredDeclaration};

type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    pub market: MarketKind,
    #[schema(value_type = String, format = Date)]
    pub trading_day: TradingDay,
}

/// Create a market's session for a trading day (operator).
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", request_body = NewSession,
    responses((status = 201, body = Versioned<MarketSession>), (status = 409, body = ErrorBody)))]
pub async fn create_session(
    State(s): State<AppState>,
    Identity(a): Identity,
    ApiJson(req): ApiJson<NewSession>,
) -> ApiResult<(StatusCode, Json<Record<MarketSession>>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            s.market
                .create_session(&a, req.market, req.trading_day)
                .await?,
        ),
    ))
}

#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions",
    responses((status = 200, body = VersionedList<MarketSession>)))]
pub async fn list_sessions(
    State(s): State<AppState>,
) -> ApiResult<Json<Vec<Record<MarketSession>>>> {
    Ok(Json(s.market.sessions().await?))
}

#[utoipa::path(get, path = "/api/v1/sessions/{id}", tag = "sessions", params(("id" = String, Path)),
    responses((status = 200, body = Versioned<MarketSession>), (status = 404, body = ErrorBody)))]
pub async fn get_session(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Record<MarketSession>>> {
    Ok(Json(s.market.session(&id).await?))
}

/// Open the declaration window (operator).
#[utoipa::path(post, path = "/api/v1/sessions/{id}/open", tag = "sessions",
    params(("id" = String, Path)),
    responses((status = 200, body = Versioned<MarketSession>), (status = 409, body = ErrorBody)))]
pub async fn open_session(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
) -> ApiResult<Json<Record<MarketSession>>> {
    Ok(Json(
        s.market
            .advance_session(&a, &id, SessionState::Open)
            .await?,
    ))
}

/// Gate closure: lock the latest version of every declaration (operator).
#[utoipa::path(post, path = "/api/v1/sessions/{id}/close", tag = "sessions",
    params(("id" = String, Path)),
    responses((status = 200, body = Versioned<MarketSession>), (status = 409, body = ErrorBody)))]
pub async fn close_session(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
) -> ApiResult<Json<Record<MarketSession>>> {
    Ok(Json(
        s.market
            .advance_session(&a, &id, SessionState::Closed)
            .await?,
    ))
}

/// Submit (or resubmit, superseding) a declaration while the session is open.
/// Every broken rule is listed in `details`.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/declarations", tag = "declarations", request_body = DeclarationBody,
    params(("id" = String, Path)),
    responses((status = 201, body = StoredDeclarationDoc), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn submit_declaration(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
    body: Result<ApiJson<DeclarationBody>, ApiError>,
) -> ApiResult<(StatusCode, Json<StoredDeclaration>)> {
    let result = match body {
        Ok(ApiJson(body)) => s
            .market
            .submit_declaration(&a, &id, body)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    crate::metrics::declaration_outcome(result.is_ok());
    Ok((StatusCode::CREATED, Json(result?)))
}

/// The latest version of each of the caller's declarations in the session (operator: all).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/declarations", tag = "declarations",
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<StoredDeclarationDoc>)))]
pub async fn list_declarations(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<StoredDeclaration>>> {
    Ok(Json(s.market.declarations(&a, &id).await?))
}

/// Every version of one declaration, oldest first; the last is in force.
#[utoipa::path(get, path = "/api/v1/declarations/{key}", tag = "declarations",
    params(("key" = String, Path, description = "<session>:<kind>:<subject>")),
    responses((status = 200, body = Vec<StoredDeclarationDoc>), (status = 404, body = ErrorBody)))]
pub async fn declaration_history(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(key): Path<String>,
) -> ApiResult<Json<Vec<StoredDeclaration>>> {
    Ok(Json(s.market.declaration_history(&a, &key).await?))
}
