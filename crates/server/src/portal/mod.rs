//! The web portal: server-rendered pages in the same router as the API,
//! for members, the operator and the auditor, in Simplified Chinese and
//! English. See docs/portal.md.
//!
//! - [`locale`] picks the language (the switch on every page, else
//!   `Accept-Language`, else zh-CN); [`catalogue`] holds every visible
//!   string in both languages; [`format`] writes numbers, days and Beijing
//!   time per language.
//! - [`visit`] reads who is visiting from the session cookie (the API's
//!   session token: one session model), and the anti-forgery token; every
//!   form post is checked against it (`voltex_security::csrf`).
//! - [`signin`] is the front page and signing in and out (the API's sign-in
//!   rule: password + one-time code, throttling, lockout).
//! - [`pages`] are the signed-in pages; each reads through the same
//!   `voltex_market` calls as the matching JSON endpoint, as the visitor.
//! - [`assist`] is the customer-service panel (the API's assistant, as
//!   the visitor).
//! - [`retail`] are the retail company's pages (the portfolio's day-ahead
//!   forecast, a customer's energy report) through `voltex_retail`, as the
//!   visitor's retail viewer.
//! - [`page`] is the frame and the HTML answer (cookies, security headers,
//!   errors as pages); [`assets`] serves htmx and the stylesheet, embedded.
//!
//! These routes sit outside the OpenAPI document (they answer HTML, not
//! the API's JSON) and outside its access table: each page applies the
//! role's permissions itself, with the same `Permission`s as the API.
mod assets;
mod assist;
mod catalogue;
pub mod format;
mod locale;
mod page;
mod pages;
mod retail;
mod signin;
mod visit;

pub use locale::Locale;
pub use visit::{CSRF_COOKIE, LANG_COOKIE, SESSION_COOKIE};

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

/// Every page of the portal (method, path), as [`router`] serves them.
pub const PAGES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("POST", "/signin"),
    ("POST", "/signout"),
    ("GET", "/portal"),
    ("GET", "/portal/partials/sessions"),
    ("GET", "/portal/sessions/{id}"),
    ("GET", "/portal/declarations/{key}"),
    ("GET", "/portal/statements"),
    ("GET", "/portal/statements/{day}/{member}"),
    ("GET", "/portal/assist"),
    ("POST", "/portal/assist"),
    ("GET", "/portal/retail/forecast"),
    ("GET", "/portal/retail/customers/{id}/energy-report"),
    ("GET", "/assets/{name}"),
];

/// The portal's routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(signin::front))
        .route("/signin", post(signin::sign_in))
        .route("/signout", post(signin::sign_out))
        .route("/portal", get(pages::dashboard))
        .route("/portal/partials/sessions", get(pages::sessions_partial))
        .route("/portal/sessions/{id}", get(pages::session))
        .route("/portal/declarations/{key}", get(pages::declaration))
        .route("/portal/statements", get(pages::statements))
        .route("/portal/statements/{day}/{member}", get(pages::statement))
        .route("/portal/assist", get(assist::panel).post(assist::ask))
        .route("/portal/retail/forecast", get(retail::forecast))
        .route(
            "/portal/retail/customers/{id}/energy-report",
            get(retail::energy_report),
        )
        .route("/assets/{name}", get(assets::serve))
}
