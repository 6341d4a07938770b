//! The front page (sign-in form), signing in and out. Sign-in is the
//! API's: password + one-time code under `voltex_security::signin`'s rule
//! (one answer whatever was wrong, backoff and lockout per account and
//! address), the same session record; the token goes into the session
//! cookie instead of a JSON answer.
use super::page::{self, Chrome, ErrorPage};
use super::visit::{CSRF_COOKIE, SESSION_COOKIE, Visit, set_cookie};
use crate::AppState;
use crate::accounts::{self, LoginRequest};
use crate::auth::SignedInAs;
use askama::Template;
use axum::Extension;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::net::SocketAddr;
use voltex_security::csrf;

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    chrome: Chrome,
    /// Why the last attempt was refused.
    error: Option<String>,
    /// The user name typed last time (never the password or code).
    user: String,
}

/// The fields of the sign-in form.
#[derive(Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    totp: String,
}

impl std::fmt::Debug for SignInForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInForm")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// A form that carries nothing but its anti-forgery token.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default)]
    csrf: Option<String>,
}

/// The refusal of a forged (or stale) form post: 403.
pub(crate) fn form_refused(visit: &Visit) -> ErrorPage {
    ErrorPage {
        locale: visit.locale,
        status: StatusCode::FORBIDDEN,
        message: visit.locale.messages().form_refused.to_owned(),
    }
}

/// Refuses a form post whose anti-forgery token is missing or is not this
/// browser's, and one sent from a page of another origin (`Origin` names
/// another host than `Host`).
pub(crate) fn check_form(
    visit: &Visit,
    headers: &HeaderMap,
    token: Option<&str>,
) -> Result<(), ErrorPage> {
    let refused = || form_refused(visit);
    let cookie = (!visit.csrf_is_new).then_some(visit.csrf.as_str());
    csrf::check(cookie, token).map_err(|_| refused())?;
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let origin_host = origin.split_once("://").map_or(origin, |(_, h)| h);
        if origin != "null" && Some(origin_host) != host {
            return Err(refused());
        }
    }
    Ok(())
}

fn form_page(visit: &Visit, status: StatusCode, error: Option<String>, user: String) -> Response {
    let m = visit.locale.messages();
    let page = SignInPage {
        chrome: Chrome::new(visit, m.sign_in_heading),
        error,
        user,
    };
    page::html(visit, status, &page)
}

/// `GET /`: the sign-in form; a signed-in visitor goes to the overview.
pub(crate) async fn front(visit: Visit) -> Response {
    if visit.caller.is_some() {
        return page::see_other("/portal", &visit.cookies());
    }
    form_page(&visit, StatusCode::OK, None, String::new())
}

/// `POST /signin`: checks the anti-forgery token, then signs in as the API
/// does and sets the session cookie (and a fresh anti-forgery token).
pub(crate) async fn sign_in(
    State(s): State<AppState>,
    visit: Visit,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    form: Result<Form<SignInForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(f)) => f,
        // A body that is no form carries no token either.
        Err(_) => return form_refused(&visit).into_response(),
    };
    if let Err(e) = check_form(&visit, &headers, form.csrf.as_deref()) {
        return e.into_response();
    }
    let m = visit.locale.messages();
    let source = peer.map(|Extension(ConnectInfo(a))| a.ip());
    let request = LoginRequest {
        user: form.user.clone(),
        password: form.password,
        totp: form.totp,
    };
    match accounts::login(
        s.market.store(),
        &s.logins,
        request,
        source,
        chrono::Utc::now(),
    )
    .await
    {
        Ok(Ok(answer)) => {
            let fresh = match csrf::issue() {
                Ok(t) => t,
                Err(e) => return ErrorPage::internal(visit.locale, &e.to_string()).into_response(),
            };
            let cookies = [
                set_cookie(SESSION_COOKIE, &answer.token, visit.secure, None),
                set_cookie(CSRF_COOKIE, &fresh, visit.secure, None),
            ];
            let mut r = page::see_other("/portal", &cookies);
            r.extensions_mut().insert(SignedInAs {
                user_id: answer.user.id.clone(),
                role: answer.user.role,
                member_id: answer.user.member_id.clone(),
            });
            r
        }
        Ok(Err(e)) if e.status == StatusCode::UNAUTHORIZED => form_page(
            &visit,
            StatusCode::UNAUTHORIZED,
            Some(m.sign_in_refused.to_owned()),
            form.user,
        ),
        Ok(Err(e)) => ErrorPage::from_api(visit.locale, e).into_response(),
        Err(t) => {
            let mut r = form_page(
                &visit,
                StatusCode::TOO_MANY_REQUESTS,
                Some(super::catalogue::fill(m.sign_in_throttled, t.retry_after_s)),
                form.user,
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(t.retry_after_s));
            r
        }
    }
}

/// `POST /signout`: ends the session (as `POST /api/v1/auth/logout`) and
/// deletes the cookie.
pub(crate) async fn sign_out(
    State(s): State<AppState>,
    visit: Visit,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let token = form.ok().and_then(|Form(f)| f.csrf);
    if let Err(e) = check_form(&visit, &headers, token.as_deref()) {
        return e.into_response();
    }
    if let Some(t) = visit.caller.as_ref().and_then(|c| c.token.as_deref())
        && let Err(e) = accounts::logout(s.market.store(), t, chrono::Utc::now()).await
    {
        return ErrorPage::from_api(visit.locale, e).into_response();
    }
    page::see_other(
        "/",
        &[set_cookie(SESSION_COOKIE, "", visit.secure, Some(0))],
    )
}
