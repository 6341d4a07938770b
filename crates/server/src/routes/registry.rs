//! Members, units, load resources, networks and market parameters.
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiText, Identity};
use crate::openapi::{Versioned, VersionedList};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use voltex_market::{MemberExport, MemberUpdate, NewMember};
use voltex_model::network::Network;
use voltex_model::{
    GeneratingUnit, LoadResource, MarketKind, MarketParameters, Member, MemberStatus,
};
use voltex_store::Record;

type ApiResult<T> = Result<T, ApiError>;
type Created<T> = (StatusCode, Json<Record<T>>);

/// Apply to become a member; the new member is pending until the operator approves it.
#[utoipa::path(post, path = "/api/v1/members", tag = "members", request_body = NewMember,
    responses((status = 201, body = Versioned<Member>), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn register_member(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<NewMember>,
) -> ApiResult<Created<Member>> {
    Ok((
        StatusCode::CREATED,
        Json(s.market.register_member(req).await?),
    ))
}

/// Members visible to the caller: all for the operator, oneself otherwise.
#[utoipa::path(get, path = "/api/v1/members", tag = "members",
    responses((status = 200, body = VersionedList<Member>)))]
pub async fn list_members(
    State(s): State<AppState>,
    Identity(a): Identity,
) -> ApiResult<Json<Vec<Record<Member>>>> {
    Ok(Json(s.market.members(&a).await?))
}

#[utoipa::path(get, path = "/api/v1/members/{id}", tag = "members",
    params(("id" = String, Path)),
    responses((status = 200, body = Versioned<Member>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_member(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
) -> ApiResult<Json<Record<Member>>> {
    Ok(Json(s.market.member(&a, &id).await?))
}

/// Alter registered details: stored as a new version.
#[utoipa::path(patch, path = "/api/v1/members/{id}", tag = "members", request_body = MemberUpdateDoc,
    params(("id" = String, Path)),
    responses((status = 200, body = Versioned<Member>), (status = 422, body = ErrorBody)))]
pub async fn alter_member(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
    ApiJson(update): ApiJson<MemberUpdate>,
) -> ApiResult<Json<Record<Member>>> {
    Ok(Json(s.market.alter_member(&a, &id, update).await?))
}

/// Documentation twin of `MemberUpdate` (which lives in a crate without OpenAPI types).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MemberUpdateDoc {
    name: Option<String>,
    registration_number: Option<String>,
    contact_email: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/members/{id}/history", tag = "members",
    params(("id" = String, Path)),
    responses((status = 200, body = VersionedList<Member>)))]
pub async fn member_history(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Record<Member>>>> {
    Ok(Json(s.market.member_history(&a, &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    pub status: MemberStatus,
}

/// Approve, suspend, reinstate or expel a member (operator); a member may exit by itself.
#[utoipa::path(post, path = "/api/v1/members/{id}/status", tag = "members", request_body = StatusChange,
    params(("id" = String, Path)),
    responses((status = 200, body = Versioned<Member>), (status = 409, body = ErrorBody)))]
pub async fn set_member_status(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<StatusChange>,
) -> ApiResult<Json<Record<Member>>> {
    Ok(Json(
        s.market.set_member_status(&a, &id, change.status).await?,
    ))
}

/// Everything held about a member, every version.
#[utoipa::path(get, path = "/api/v1/members/{id}/export", tag = "members",
    params(("id" = String, Path)),
    responses((status = 200, description = "member, units, load resources and declarations with all versions")))]
pub async fn export_member(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
) -> ApiResult<Json<MemberExport>> {
    Ok(Json(s.market.export_member(&a, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/units", tag = "units", request_body = GeneratingUnit,
    responses((status = 201, body = Versioned<GeneratingUnit>), (status = 422, body = ErrorBody)))]
pub async fn register_unit(
    State(s): State<AppState>,
    Identity(a): Identity,
    ApiJson(u): ApiJson<GeneratingUnit>,
) -> ApiResult<Created<GeneratingUnit>> {
    Ok((
        StatusCode::CREATED,
        Json(s.market.register_unit(&a, u).await?),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OwnerFilter {
    /// Only this member's (operator); members always see only their own.
    pub member: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/units", tag = "units", params(OwnerFilter),
    responses((status = 200, body = VersionedList<GeneratingUnit>)))]
pub async fn list_units(
    State(s): State<AppState>,
    Identity(a): Identity,
    Query(f): Query<OwnerFilter>,
) -> ApiResult<Json<Vec<Record<GeneratingUnit>>>> {
    Ok(Json(s.market.units(&a, f.member.as_deref()).await?))
}

/// Every version of a unit's parameters, oldest first.
#[utoipa::path(get, path = "/api/v1/units/{id}", tag = "units", params(("id" = String, Path)),
    responses((status = 200, body = VersionedList<GeneratingUnit>), (status = 404, body = ErrorBody)))]
pub async fn unit_history(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Record<GeneratingUnit>>>> {
    Ok(Json(s.market.unit(&a, &id).await?))
}

/// Change a unit's parameters: stored as a new version, the old one kept.
#[utoipa::path(put, path = "/api/v1/units/{id}", tag = "units", request_body = GeneratingUnit,
    params(("id" = String, Path)),
    responses((status = 200, body = Versioned<GeneratingUnit>), (status = 422, body = ErrorBody)))]
pub async fn alter_unit(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
    ApiJson(u): ApiJson<GeneratingUnit>,
) -> ApiResult<Json<Record<GeneratingUnit>>> {
    if u.id != id {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "id_mismatch",
            format!("body id {} differs from path id {id}", u.id),
        ));
    }
    Ok(Json(s.market.alter_unit(&a, u).await?))
}

#[utoipa::path(post, path = "/api/v1/load-resources", tag = "units", request_body = LoadResource,
    responses((status = 201, body = Versioned<LoadResource>), (status = 422, body = ErrorBody)))]
pub async fn register_load_resource(
    State(s): State<AppState>,
    Identity(a): Identity,
    ApiJson(r): ApiJson<LoadResource>,
) -> ApiResult<Created<LoadResource>> {
    Ok((
        StatusCode::CREATED,
        Json(s.market.register_load_resource(&a, r).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/load-resources", tag = "units", params(OwnerFilter),
    responses((status = 200, body = VersionedList<LoadResource>)))]
pub async fn list_load_resources(
    State(s): State<AppState>,
    Identity(a): Identity,
    Query(f): Query<OwnerFilter>,
) -> ApiResult<Json<Vec<Record<LoadResource>>>> {
    Ok(Json(
        s.market.load_resources(&a, f.member.as_deref()).await?,
    ))
}

/// Import a network given as JSON (operator).
#[utoipa::path(post, path = "/api/v1/networks", tag = "network", request_body = Object,
    responses((status = 201, description = "stored network version"), (status = 422, body = ErrorBody)))]
pub async fn import_network(
    State(s): State<AppState>,
    Identity(a): Identity,
    ApiJson(n): ApiJson<Network>,
) -> ApiResult<Created<Network>> {
    Ok((
        StatusCode::CREATED,
        Json(s.market.import_network(&a, n).await?),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CaseName {
    /// Name to store the network under (defaults to the case's function name).
    pub name: Option<String>,
}

/// Import a MATPOWER case file (text body; operator).
#[utoipa::path(post, path = "/api/v1/networks/matpower", tag = "network",
    request_body(content = String, content_type = "text/plain", description = "MATPOWER .m case"),
    params(CaseName),
    responses((status = 201, description = "stored network version"), (status = 422, body = ErrorBody)))]
pub async fn import_matpower(
    State(s): State<AppState>,
    Identity(a): Identity,
    Query(q): Query<CaseName>,
    ApiText(body): ApiText,
) -> ApiResult<Created<Network>> {
    Ok((
        StatusCode::CREATED,
        Json(
            s.market
                .import_matpower(&a, &body, q.name.as_deref())
                .await?,
        ),
    ))
}

#[utoipa::path(get, path = "/api/v1/networks", tag = "network",
    responses((status = 200, description = "latest version of every network")))]
pub async fn list_networks(State(s): State<AppState>) -> ApiResult<Json<Vec<Record<Network>>>> {
    Ok(Json(s.market.networks().await?))
}

#[utoipa::path(get, path = "/api/v1/networks/{name}", tag = "network", params(("name" = String, Path)),
    responses((status = 200, description = "the network"), (status = 404, body = ErrorBody)))]
pub async fn get_network(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Record<Network>>> {
    Ok(Json(s.market.network(&name).await?))
}

/// Current parameters of every market (public).
#[utoipa::path(get, path = "/api/v1/market-parameters", tag = "markets",
    responses((status = 200, body = VersionedList<MarketParameters>)))]
pub async fn list_parameters(
    State(s): State<AppState>,
) -> ApiResult<Json<Vec<Record<MarketParameters>>>> {
    let mut out = Vec::new();
    for m in MarketKind::ALL {
        out.push(s.market.parameters(m).await?);
    }
    Ok(Json(out))
}

#[utoipa::path(get, path = "/api/v1/market-parameters/{market}", tag = "markets", params(("market" = MarketKind, Path)),
    responses((status = 200, body = Versioned<MarketParameters>)))]
pub async fn get_parameters(
    State(s): State<AppState>,
    Path(market): Path<MarketKind>,
) -> ApiResult<Json<Record<MarketParameters>>> {
    Ok(Json(s.market.parameters(market).await?))
}

/// Replace a market's parameters with a new version (operator).
#[utoipa::path(put, path = "/api/v1/market-parameters/{market}", tag = "markets", request_body = MarketParameters,
    params(("market" = MarketKind, Path)),
    responses((status = 200, body = Versioned<MarketParameters>), (status = 422, body = ErrorBody)))]
pub async fn set_parameters(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(market): Path<MarketKind>,
    ApiJson(p): ApiJson<MarketParameters>,
) -> ApiResult<Json<Record<MarketParameters>>> {
    if p.market != market {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "id_mismatch",
            format!("body market {} differs from path market {market}", p.market),
        ));
    }
    Ok(Json(s.market.set_parameters(&a, p).await?))
}
