//! Customer service over HTTP: a signed-in user asks (and may down-vote an
//! answer); operators and auditors read the unknown-question queue and the
//! statistics; operators answer queued questions (a draft entry) and approve
//! drafts. The rules are `voltex_assist`'s; this translates. The assistant
//! is opened on first use (the shipped knowledge base is seeded then).
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, SignedIn};
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use voltex_assist::{
    Answer, AskedQuestion, Asker, Assistant, FaqEntry, OperatorAnswer, Statistics,
};

type ApiResult<T> = Result<T, ApiError>;

impl AppState {
    /// The assistant over this server's store, opened on first use.
    pub(crate) async fn assistant(&self) -> ApiResult<&Assistant> {
        let market = self.market.clone();
        Ok(self
            .assist
            .get_or_try_init(|| Assistant::open(market))
            .await?)
    }
}

/// Who asks, as the assistant sees it: the user, its market identity when
/// its role may read its member's own data (a retail customer acts under
/// its retailer's member but may not), and its retail account when its
/// role works in a retail book. The API and the portal's panel both ask so.
pub(crate) fn asker_of(c: &Caller) -> Asker {
    let role = c.principal.role;
    Asker {
        user: c.principal.user_id.clone(),
        member_id: c.principal.member_id.clone(),
        actor: super::OWN_OR_ALL
            .iter()
            .any(|p| role.permits(*p))
            .then(|| c.actor.clone()),
        retail: role
            .is_retail()
            .then(|| super::retail::viewer(c).ok())
            .flatten(),
        record: true,
    }
}

/// A question to the assistant.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AskBody {
    /// In Chinese or English; the answer comes in the same language.
    pub question: String,
}

/// Asks the assistant: an answer from the asker's own data (personal
/// intents, within their member), else the best FAQ entry with its score,
/// else "not known" with the closest entries (the question is queued for
/// the operators).
#[utoipa::path(post, path = "/api/v1/assist/ask", tag = "assist",
    request_body = AskBody,
    responses((status = 200, description = "the answer (kind `answer`, `personal` or `not_known`)", body = Object),
        (status = 422, body = ErrorBody)))]
pub async fn ask(
    State(s): State<AppState>,
    SignedIn(c): SignedIn,
    ApiJson(body): ApiJson<AskBody>,
) -> ApiResult<Json<Answer>> {
    let asker = asker_of(&c);
    Ok(Json(
        s.assistant().await?.ask(&body.question, &asker).await?,
    ))
}

/// The asker says an answer did not help: the question joins the operators'
/// queue. Only the asker may; another user's question answers 404.
#[utoipa::path(post, path = "/api/v1/assist/questions/{id}/down-vote", tag = "assist",
    params(("id" = String, Path)),
    responses((status = 200, description = "the question, queued", body = Object),
        (status = 404, body = ErrorBody)))]
pub async fn down_vote(
    State(s): State<AppState>,
    SignedIn(c): SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Json<AskedQuestion>> {
    let store = s.assistant().await?.store();
    Ok(Json(
        voltex_assist::down_vote(store, &id, &c.principal.user_id).await?,
    ))
}

/// The unknown and down-voted questions waiting for an operator, oldest
/// first, with the closest entries as context (operator and auditors).
#[utoipa::path(get, path = "/api/v1/assist/queue", tag = "assist",
    responses((status = 200, description = "the open questions", body = Object),
        (status = 403, body = ErrorBody)))]
pub async fn queue(State(s): State<AppState>) -> ApiResult<Json<Vec<AskedQuestion>>> {
    let store = s.assistant().await?.store();
    Ok(Json(voltex_assist::queue(store).await?))
}

/// An operator's answer to a queued question: becomes a draft entry in the
/// question's language (not answered until another operator approves it).
#[utoipa::path(post, path = "/api/v1/assist/queue/{id}/answer", tag = "assist",
    params(("id" = String, Path)), request_body = Object,
    responses((status = 200, description = "the draft entry", body = Object),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn answer_queued(
    State(s): State<AppState>,
    SignedIn(c): SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OperatorAnswer>,
) -> ApiResult<Json<FaqEntry>> {
    let a = s.assistant().await?;
    Ok(Json(
        a.answer_queued(&id, &c.principal.user_id, &body).await?,
    ))
}

/// Approves a draft entry (by an operator other than its author); it is
/// answered from the next question on.
#[utoipa::path(post, path = "/api/v1/assist/entries/{id}/approve", tag = "assist",
    params(("id" = String, Path)),
    responses((status = 200, description = "the approved entry", body = Object),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn approve(
    State(s): State<AppState>,
    SignedIn(c): SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Json<FaqEntry>> {
    let a = s.assistant().await?;
    Ok(Json(a.approve(&id, &c.principal.user_id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StatisticsQuery {
    /// How many of the most asked unknown questions (default 10).
    #[serde(default)]
    pub top: Option<usize>,
}

/// Hit rate, unknown and down-voted counts, and the most asked unknown
/// questions (operator and auditors).
#[utoipa::path(get, path = "/api/v1/assist/statistics", tag = "assist",
    params(StatisticsQuery),
    responses((status = 200, description = "the statistics", body = Object),
        (status = 403, body = ErrorBody)))]
pub async fn statistics(
    State(s): State<AppState>,
    Query(q): Query<StatisticsQuery>,
) -> ApiResult<Json<Statistics>> {
    let store = s.assistant().await?.store();
    Ok(Json(
        voltex_assist::statistics(store, q.top.unwrap_or(10).min(100)).await?,
    ))
}
