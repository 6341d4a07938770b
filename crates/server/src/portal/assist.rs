//! The customer-service panel: a signed-in visitor asks in Chinese or
//! English and reads the answer on the same page. The question goes to the
//! same assistant, as the same asker, as `POST /api/v1/assist/ask`
//! (`routes::assist::asker_of`), so a page answers what the API answers that
//! visitor. With htmx the form posts in place and only the answer is
//! swapped in; without script the whole page comes back with it.
use super::page::{self, Chrome, ErrorPage};
use super::signin::{check_form, form_refused};
use super::visit::Visit;
use crate::AppState;
use crate::routes::assist::asker_of;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use voltex_assist::Answer;

/// One answer as the panel shows it.
#[derive(Debug)]
pub(crate) struct AnswerView {
    pub question: String,
    /// The answer's language tag (the question's language).
    pub lang: &'static str,
    /// `answer`, `personal` or `not_known`.
    pub kind: &'static str,
    /// The answer's paragraphs.
    pub paragraphs: Vec<String>,
    /// The FAQ entry answering, with its score.
    pub source: Option<String>,
    /// Other entries close to the question: (canonical question, entry id).
    pub closest: Vec<(String, String)>,
}

impl AnswerView {
    fn of(question: &str, a: &Answer) -> Self {
        let text = match (&a.personal, &a.best) {
            (Some(p), _) => p.text.clone(),
            (None, Some(h)) => h.answer.clone(),
            (None, None) => String::new(),
        };
        let best = a.best.as_ref().map(|h| h.id.as_str());
        AnswerView {
            question: question.to_owned(),
            lang: a.lang.tag(),
            kind: a.kind,
            paragraphs: text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            source: a
                .best
                .as_ref()
                .map(|h| format!("{} · {:.2}", h.id, h.score)),
            closest: a
                .closest
                .iter()
                .filter(|h| Some(h.id.as_str()) != best)
                .take(3)
                .map(|h| (h.question.clone(), h.id.clone()))
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "assist.html")]
struct AssistPage {
    chrome: Chrome,
    answer: Option<AnswerView>,
}

#[derive(Template)]
#[template(path = "assist_answer.html")]
struct AnswerPartial {
    chrome: Chrome,
    answer: Option<AnswerView>,
}

/// The fields of the question form.
#[derive(Debug, Deserialize)]
pub(crate) struct AskForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    question: String,
}

fn render(visit: &Visit, headers: &HeaderMap, answer: Option<AnswerView>) -> Response {
    let chrome = Chrome::new(visit, visit.locale.messages().assist_heading);
    if headers.contains_key("hx-request") {
        page::html(visit, StatusCode::OK, &AnswerPartial { chrome, answer })
    } else {
        page::html(visit, StatusCode::OK, &AssistPage { chrome, answer })
    }
}

/// `GET /portal/assist`: the panel, empty.
pub(crate) async fn panel(visit: Visit, headers: HeaderMap) -> Response {
    if visit.caller.is_none() {
        return page::see_other("/", &visit.cookies());
    }
    render(&visit, &headers, None)
}

/// `POST /portal/assist`: asks (the anti-forgery token checked first) and
/// shows the answer; a question the assistant refuses is shown as the
/// API's refusal, on an error page.
pub(crate) async fn ask(
    State(s): State<AppState>,
    visit: Visit,
    headers: HeaderMap,
    form: Result<Form<AskForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return form_refused(&visit).into_response();
    };
    if let Err(e) = check_form(&visit, &headers, form.csrf.as_deref()) {
        return e.into_response();
    }
    let Some(caller) = &visit.caller else {
        return page::see_other("/", &visit.cookies());
    };
    let asker = asker_of(caller);
    let answered = match s.assistant().await {
        Ok(a) => a.ask(&form.question, &asker).await.map_err(Into::into),
        Err(e) => Err(e),
    };
    match answered {
        Ok(a) => render(&visit, &headers, Some(AnswerView::of(&form.question, &a))),
        Err(e) => ErrorPage::from_api(visit.locale, e).into_response(),
    }
}
