//! Who is visiting, in which language, with which anti-forgery token: read
//! once per request from its cookies, query and headers, and the cookies
//! the answer must set in turn.
//!
//! Cookies are `HttpOnly`, `SameSite=Strict`, `Path=/`, and `Secure` when
//! the connection is TLS. The session cookie carries the same session token
//! the API's `Authorization: Bearer` does (one session model for both).
use super::locale::Locale;
use crate::AppState;
use crate::auth::Caller;
use crate::tls::TlsPeer;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use voltex_security::csrf;

/// The session token.
pub const SESSION_COOKIE: &str = "voltex_session";
/// The anti-forgery token (double submit: also a hidden field of each form).
pub const CSRF_COOKIE: &str = "voltex_csrf";
/// The language chosen with the switch.
pub const LANG_COOKIE: &str = "voltex_lang";
/// How long a language choice is remembered (a year).
const LANG_MAX_AGE_S: i64 = 365 * 24 * 3600;

/// One request's visitor.
#[derive(Debug)]
pub(crate) struct Visit {
    pub locale: Locale,
    /// `?lang=` chose the language: remember it.
    pub lang_chosen: bool,
    /// The anti-forgery token of this browser (from its cookie, or new).
    pub csrf: String,
    pub csrf_is_new: bool,
    /// The signed-in user, if the session cookie names a live session.
    pub caller: Option<Caller>,
    /// A session cookie was presented but its session is over: clear it.
    pub stale_session: bool,
    /// The connection is TLS (cookies get `Secure`).
    pub secure: bool,
    /// The request's path (the language switch links back to it).
    pub path: String,
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim())
}

/// A `Set-Cookie` value; `max_age_s` 0 deletes the cookie, `None` keeps it
/// for the browser session.
pub(crate) fn set_cookie(name: &str, value: &str, secure: bool, max_age_s: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(s) = max_age_s {
        c.push_str(&format!("; Max-Age={s}"));
    }
    c
}

fn query_lang(parts: &Parts) -> Option<String> {
    parts
        .uri
        .query()?
        .split('&')
        .find_map(|kv| kv.strip_prefix("lang="))
        .map(str::to_owned)
}

impl Visit {
    /// The cookies the answer sets: a new anti-forgery token, a chosen
    /// language, the deletion of a dead session's cookie.
    pub fn cookies(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.csrf_is_new {
            out.push(set_cookie(CSRF_COOKIE, &self.csrf, self.secure, None));
        }
        if self.lang_chosen {
            out.push(set_cookie(
                LANG_COOKIE,
                self.locale.tag(),
                self.secure,
                Some(LANG_MAX_AGE_S),
            ));
        }
        if self.stale_session {
            out.push(set_cookie(SESSION_COOKIE, "", self.secure, Some(0)));
        }
        out
    }
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = super::page::ErrorPage;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let headers = &parts.headers;
        let chosen = query_lang(parts).filter(|l| Locale::from_tag(l).is_some());
        let lang_cookie = cookie(headers, LANG_COOKIE).map(str::to_owned);
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        let locale = Locale::negotiate(chosen.as_deref().or(lang_cookie.as_deref()), accept);
        let (csrf, csrf_is_new) =
            match cookie(headers, CSRF_COOKIE).filter(|c| csrf::well_formed(c)) {
                Some(c) => (c.to_owned(), false),
                None => (
                    csrf::issue()
                        .map_err(|e| super::page::ErrorPage::internal(locale, &e.to_string()))?,
                    true,
                ),
            };
        let (caller, stale_session) =
            match cookie(headers, SESSION_COOKIE).filter(|t| !t.is_empty()) {
                None => (None, false),
                Some(token) => match crate::auth::caller_of_token(state, token).await {
                    Ok(c) => (Some(c), false),
                    Err(e) if e.status.is_server_error() => {
                        return Err(super::page::ErrorPage::from_api(locale, e));
                    }
                    Err(_) => (None, true),
                },
            };
        let secure = parts.extensions.get::<ConnectInfo<TlsPeer>>().is_some();
        Ok(Visit {
            locale,
            lang_chosen: chosen.is_some(),
            csrf,
            csrf_is_new,
            caller,
            stale_session,
            secure,
            path: parts.uri.path().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_exact_name_from_every_cookie_header() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "a=1; voltex_csrf_x=no".parse().unwrap());
        h.append(header::COOKIE, "voltex_csrf=tok; b=2".parse().unwrap());
        assert_eq!(cookie(&h, CSRF_COOKIE), Some("tok"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, SESSION_COOKIE), None);
    }

    #[test]
    fn cookies_are_http_only_same_site_strict_and_secure_over_tls() {
        let c = set_cookie(SESSION_COOKIE, "t", true, None);
        assert_eq!(
            c,
            "voltex_session=t; Path=/; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(!set_cookie(SESSION_COOKIE, "t", false, Some(0)).contains("Secure"));
    }
}
