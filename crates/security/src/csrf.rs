//! Cross-site request forgery protection for the web portal's forms: the
//! double-submit token. The server gives each browser a random token twice,
//! as an `HttpOnly`, `SameSite=Strict` cookie and as a hidden field of every
//! form it renders; a form post is accepted only when both are present and
//! equal. A page of another site can make the browser send the cookie (not
//! with `SameSite=Strict`, and never the field): it cannot read the cookie,
//! so it cannot put the token in the field.
//!
//! This module holds the rule (what a token is, when two match, in constant
//! time); the server sets the cookie and reads the form.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

use crate::Result;
use crate::secret_files::random_bytes;

/// Random bytes in a token (256 bits).
pub const TOKEN_BYTES: usize = 32;
/// Name of the form field that carries the token.
pub const FORM_FIELD: &str = "csrf";

/// Why a form post was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CsrfRefusal {
    #[error("the form carries no anti-forgery token (field `csrf`)")]
    MissingFormToken,
    #[error("the browser sent no valid anti-forgery cookie: reload the page and submit again")]
    MissingCookie,
    #[error("the form's anti-forgery token (field `csrf`) is not this browser's")]
    Mismatch,
}

/// A fresh token: base64url (no padding) of [`TOKEN_BYTES`] random bytes.
pub fn issue() -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<TOKEN_BYTES>()?))
}

/// Whether `token` has the shape [`issue`] gives (a cookie the server
/// could have set).
pub fn well_formed(token: &str) -> bool {
    URL_SAFE_NO_PAD
        .decode(token)
        .is_ok_and(|b| b.len() == TOKEN_BYTES)
}

/// Accepts a form post when the form's token equals the browser's cookie
/// token (compared in constant time) and the cookie is well formed.
pub fn check(cookie: Option<&str>, form: Option<&str>) -> std::result::Result<(), CsrfRefusal> {
    let form = form
        .filter(|f| !f.is_empty())
        .ok_or(CsrfRefusal::MissingFormToken)?;
    let cookie = cookie
        .filter(|c| well_formed(c))
        .ok_or(CsrfRefusal::MissingCookie)?;
    if bool::from(cookie.as_bytes().ct_eq(form.as_bytes())) {
        Ok(())
    } else {
        Err(CsrfRefusal::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_with_the_cookies_token_is_accepted() {
        let t = issue().unwrap();
        assert!(well_formed(&t));
        assert_eq!(check(Some(&t), Some(&t)), Ok(()));
    }

    #[test]
    fn a_form_without_the_token_or_with_another_is_refused() {
        let t = issue().unwrap();
        let other = issue().unwrap();
        assert_ne!(t, other, "tokens are random");
        assert_eq!(check(Some(&t), None), Err(CsrfRefusal::MissingFormToken));
        assert_eq!(
            check(Some(&t), Some("")),
            Err(CsrfRefusal::MissingFormToken)
        );
        assert_eq!(check(Some(&t), Some(&other)), Err(CsrfRefusal::Mismatch));
        assert_eq!(check(None, Some(&t)), Err(CsrfRefusal::MissingCookie));
    }

    #[test]
    fn a_cookie_the_server_could_not_have_set_matches_nothing() {
        // An attacker who can plant a cookie must still plant a well-formed one.
        assert_eq!(check(Some("x"), Some("x")), Err(CsrfRefusal::MissingCookie));
        assert_eq!(check(Some(""), Some("a")), Err(CsrfRefusal::MissingCookie));
    }
}
