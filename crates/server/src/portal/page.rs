//! How a portal page becomes an answer: the frame every page shares
//! ([`Chrome`]: language, navigation for the visitor's role, the language
//! switch, the anti-forgery token), the HTML response with its cookies and
//! security headers, and errors shown as pages in the visitor's language
//! rather than as the API's JSON.
use super::catalogue::Messages;
use super::locale::Locale;
use super::visit::Visit;
use crate::error::ApiError;
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use voltex_security::roles::{Permission, Role};

/// Scripts and styles only from this server; no frames, no foreign forms.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// A link of the navigation.
#[derive(Debug, Clone)]
pub(crate) struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// A link of the language switch.
#[derive(Debug, Clone)]
pub(crate) struct LangLink {
    pub href: String,
    pub tag: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// What the frame of every page shows.
#[derive(Debug, Clone)]
pub(crate) struct Chrome {
    pub lang: &'static str,
    pub m: &'static Messages,
    pub title: String,
    pub csrf: String,
    pub nav: Vec<NavLink>,
    /// "user · role · member" of the signed-in visitor.
    pub user: Option<String>,
    pub switch: Vec<LangLink>,
}

/// Whether `role` may use a page needing one of `needed`.
pub(crate) fn permits(role: Role, needed: &[Permission]) -> bool {
    needed.iter().any(|p| role.permits(*p))
}

/// The role's name in the visitor's language.
pub(crate) fn role_name(m: &'static Messages, role: Role) -> &'static str {
    match role {
        Role::Operator => m.role_operator,
        Role::MemberAdministrator => m.role_member_administrator,
        Role::MemberTrader => m.role_member_trader,
        Role::MemberViewer => m.role_member_viewer,
        Role::Auditor => m.role_auditor,
        Role::RetailCustomer => m.role_retail_customer,
        Role::RetailAccountManager => m.role_retail_account_manager,
        Role::RetailBilling => m.role_retail_billing,
        Role::RetailTrader => m.role_retail_trader,
        Role::RetailAdministrator => m.role_retail_administrator,
    }
}

impl Chrome {
    pub fn new(visit: &Visit, title: &str) -> Self {
        let m = visit.locale.messages();
        let mut nav = Vec::new();
        let mut user = None;
        if let Some(c) = &visit.caller {
            let role = c.principal.role;
            nav.push(NavLink {
                href: "/portal",
                label: m.nav_overview,
                current: visit.path == "/portal",
            });
            if permits(role, super::pages::PRIVATE) {
                nav.push(NavLink {
                    href: "/portal/statements",
                    label: m.nav_statements,
                    current: visit.path.starts_with("/portal/statements"),
                });
            }
            if permits(role, super::retail::BOOK) {
                nav.push(NavLink {
                    href: "/portal/retail/forecast",
                    label: m.nav_retail_forecast,
                    current: visit.path.starts_with("/portal/retail"),
                });
            }
            nav.push(NavLink {
                href: "/portal/assist",
                label: m.nav_assist,
                current: visit.path.starts_with("/portal/assist"),
            });
            let mut who = format!("{} · {}", c.principal.user_id, role_name(m, role));
            if let Some(member) = &c.principal.member_id {
                who.push_str(&format!(" · {member}"));
            }
            user = Some(who);
        }
        let switch = Locale::ALL
            .iter()
            .map(|l| LangLink {
                href: format!("{}?lang={}", visit.path, l.tag()),
                tag: l.tag(),
                label: l.messages().language_name,
                current: *l == visit.locale,
            })
            .collect();
        Chrome {
            lang: visit.locale.tag(),
            m,
            title: title.to_owned(),
            csrf: visit.csrf.clone(),
            nav,
            user,
            switch,
        }
    }
}

/// The HTML answer of a page: `status`, the visit's cookies, and the
/// portal's security headers.
pub(crate) fn html(visit: &Visit, status: StatusCode, page: &impl Template) -> Response {
    let body = match page.render() {
        Ok(b) => b,
        Err(e) => return ErrorPage::internal(visit.locale, &e.to_string()).into_response(),
    };
    let mut r = (status, body).into_response();
    decorate(&mut r, &visit.cookies());
    r
}

/// Styles inline in the page (a report that is also sent by e-mail, with
/// its SVG inline); nothing else, and no script.
const STANDALONE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
     frame-ancestors 'none'; form-action 'none'; base-uri 'none'";

/// A self-contained HTML document (a customer's report) as the answer: the
/// portal's headers, with a policy that lets its inline style apply.
pub(crate) fn standalone(visit: &Visit, body: String) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    decorate(&mut r, &visit.cookies());
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(STANDALONE_POLICY),
    );
    r
}

/// A redirect after a form post or to the sign-in page (303: the browser
/// follows with GET).
pub(crate) fn see_other(location: &str, cookies: &[String]) -> Response {
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    decorate(&mut r, cookies);
    r
}

fn decorate(r: &mut Response, cookies: &[String]) {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            h.append(header::SET_COOKIE, v);
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate {
    chrome: Chrome,
    message: String,
}

/// A refusal or failure shown as a page in the visitor's language. The
/// detail of a server failure goes to the log, never to the page.
#[derive(Debug)]
pub(crate) struct ErrorPage {
    pub locale: Locale,
    pub status: StatusCode,
    pub message: String,
}

impl ErrorPage {
    pub fn internal(locale: Locale, detail: &str) -> Self {
        tracing::error!(detail, "portal page failed");
        Self {
            locale,
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: locale.messages().error_unavailable.to_owned(),
        }
    }

    /// An API refusal as a page: not found (also what another member's
    /// object answers), forbidden, or unavailable.
    pub fn from_api(locale: Locale, e: ApiError) -> Self {
        let m = locale.messages();
        let message = match e.status {
            StatusCode::NOT_FOUND => m.error_not_found,
            StatusCode::FORBIDDEN => m.error_forbidden,
            StatusCode::UNAUTHORIZED => m.error_sign_in_first,
            s if s.is_server_error() => {
                tracing::error!(code = e.code, message = %e.message, "portal page failed");
                m.error_unavailable
            }
            _ => {
                return Self {
                    locale,
                    status: e.status,
                    message: e.message,
                };
            }
        };
        Self {
            locale,
            status: e.status,
            message: message.to_owned(),
        }
    }

    pub fn forbidden(locale: Locale) -> Self {
        Self {
            locale,
            status: StatusCode::FORBIDDEN,
            message: locale.messages().error_forbidden.to_owned(),
        }
    }
}

impl IntoResponse for ErrorPage {
    fn into_response(self) -> Response {
        let m = self.locale.messages();
        let chrome = Chrome {
            lang: self.locale.tag(),
            m,
            title: m.error_heading.to_owned(),
            csrf: String::new(),
            nav: Vec::new(),
            user: None,
            switch: Vec::new(),
        };
        let page = ErrorTemplate {
            chrome,
            message: self.message,
        };
        let body = page
            .render()
            .unwrap_or_else(|_| m.error_unavailable.to_owned());
        let mut r = (self.status, body).into_response();
        decorate(&mut r, &[]);
        r
    }
}
