//! Who is calling, and may they: the access rule of every endpoint, the
//! session check, and the certificate proof that core actions need.
//!
//! Every route of the API has exactly one [`Access`] rule, declared with
//! the route itself in the route table (`routes::api`), which builds the
//! [`AccessTable`] the middleware consults and the OpenAPI document's
//! security requirements from the same line. The
//! middleware [`authenticate`] resolves the caller from its session token,
//! applies the rule with `voltex_security::roles`, and hands the handler a
//! [`Caller`]; tenant isolation (a member sees only its own private data,
//! a foreign object answers 404) stays in `voltex-market`, which knows who
//! owns what.
//!
//! Core permissions (declaring, operating the market, managing members)
//! need proof of certificate possession on top of password + TOTP: the
//! request is signed with the user's member (or operator) certificate key
//! over [`RequestToSign`] (member, method, path and query, SHA-256 of the
//! body, time, nonce), sent in the `X-Voltex-*` headers below. A signed
//! declaration is its own proof ([`Access::SignedBody`]).
use crate::AppState;
use crate::accounts;
use crate::error::ApiError;
use crate::tls::ClientCertificate;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::Utc;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use voltex_market::{Actor, OPERATOR_ID};
use voltex_security::declaration::{REQUEST_MAX_SKEW_S, RequestToSign};
use voltex_security::roles::{AuthStrength, Permission, Principal, Role};

/// Base64 Ed25519 signature over the canonical [`RequestToSign`].
pub const SIGNATURE_HEADER: &str = "x-voltex-signature";
/// Base64 of the signer's certificate (PEM text).
pub const CERTIFICATE_HEADER: &str = "x-voltex-certificate";
/// Unix seconds the request was signed at.
pub const TIMESTAMP_HEADER: &str = "x-voltex-timestamp";
/// A fresh random string per request (replay protection).
pub const NONCE_HEADER: &str = "x-voltex-nonce";

/// What an endpoint requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (public market information, login itself).
    Public,
    /// Any signed-in user.
    SignedIn,
    /// A signed-in user whose role holds one of these permissions; a core
    /// permission also needs a signed request.
    AnyOf(&'static [Permission]),
    /// A signed-in user whose role holds the permission; the certificate
    /// proof is the signed body, which the handler verifies.
    SignedBody(Permission),
}

/// The access rule of every endpoint, keyed by method and route template.
/// Built by the route table (`routes::api`) from the same declaration that
/// routes and documents each endpoint; never written by hand.
#[derive(Debug, Default)]
pub struct AccessTable(HashMap<(Method, String), Access>);

impl AccessTable {
    /// Records `route`'s rule; answers the rule it replaced, if any.
    pub(crate) fn insert(&mut self, method: Method, route: &str, access: Access) -> Option<Access> {
        self.0.insert((method, route.to_owned()), access)
    }

    /// The rule for a route; `None` for a route the table lacks (the
    /// middleware then refuses: deny by default).
    pub fn get(&self, method: &Method, route: &str) -> Option<Access> {
        self.0.get(&(method.clone(), route.to_owned())).copied()
    }

    /// Whether some method of `route` has a rule: a request with another
    /// method is the router's to refuse (405 with `Allow`), never a handler's.
    pub fn knows_route(&self, route: &str) -> bool {
        self.0.keys().any(|(_, r)| r == route)
    }

    /// Every endpoint with its rule, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Method, &str, Access)> {
        self.0.iter().map(|((m, r), a)| (m, r.as_str(), *a))
    }
}

/// The authenticated caller of a request, as handlers and the audit log see it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// The market identity it acts as: its member, or the operator account
    /// for operator and auditor staff.
    pub actor: Actor,
    /// The session token (only for logout).
    pub token: Option<String>,
}

impl Caller {
    /// The caller's user id.
    pub fn user_id(&self) -> &str {
        &self.principal.user_id
    }
}

/// The user a handler itself identified (a successful sign-in, where no
/// session existed yet), as a response extension for the audit log.
#[derive(Debug, Clone)]
pub struct SignedInAs {
    pub user_id: String,
    pub role: Role,
    pub member_id: Option<String>,
}

/// Nonces of signed requests seen within the clock-skew window: in this
/// process on SQLite (one process), in the database on PostgreSQL, so that
/// a request replayed to another replica is refused there too.
#[derive(Debug, Default)]
pub struct NonceCache {
    seen: Mutex<HashMap<String, i64>>,
    /// Set on PostgreSQL: the nonces are the store's (every replica's).
    shared: Option<SharedNonces>,
}

#[derive(Debug)]
struct SharedNonces {
    store: voltex_store::Store,
    /// When expired nonces were last deleted (Unix seconds).
    pruned_at: AtomicI64,
}

impl NonceCache {
    /// The cache for a server on `store`: shared through it on PostgreSQL.
    pub fn for_store(store: &voltex_store::Store) -> Self {
        let shared = (store.backend() == voltex_store::Backend::Postgres).then(|| SharedNonces {
            store: store.clone(),
            pruned_at: AtomicI64::new(0),
        });
        Self {
            seen: Mutex::default(),
            shared,
        }
    }

    /// Records `nonce` of `member` at `timestamp`; false if it was seen.
    async fn first_use(
        &self,
        member: &str,
        nonce: &str,
        timestamp: i64,
        now: i64,
    ) -> Result<bool, voltex_store::StoreError> {
        let Some(shared) = &self.shared else {
            return Ok(self.first_use_here(member, nonce, timestamp, now));
        };
        // Past this the timestamp check refuses the request anyway.
        let expires_at = timestamp + 2 * REQUEST_MAX_SKEW_S;
        let last = shared.pruned_at.load(Ordering::Relaxed);
        if now - last > REQUEST_MAX_SKEW_S
            && shared
                .pruned_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            shared.store.prune_nonces(now).await?;
        }
        shared
            .store
            .first_use_of_nonce(member, nonce, expires_at, now)
            .await
    }

    /// [`NonceCache::first_use`] in this process's memory.
    fn first_use_here(&self, member: &str, nonce: &str, timestamp: i64, now: i64) -> bool {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A nonce older than the skew window is refused by the timestamp check anyway.
        seen.retain(|_, t| now - *t <= 2 * REQUEST_MAX_SKEW_S);
        seen.insert(format!("{member}\u{0}{nonce}"), timestamp)
            .is_none()
    }
}

/// The session token of `Authorization: Bearer <token>`, if the request
/// presents one (not yet checked).
pub(crate) fn bearer(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let v = v.to_str().unwrap_or_default();
    match v.strip_prefix("Bearer ").map(str::trim) {
        Some(t) if !t.is_empty() => Ok(Some(t)),
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "session_invalid",
            "Authorization must be `Bearer <token>` with the token from POST /api/v1/auth/login",
        )),
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The market identity a principal acts as.
async fn actor_of(state: &AppState, p: &Principal) -> Result<Actor, ApiError> {
    let id = match (&p.member_id, p.role) {
        (Some(m), _) => m.as_str(),
        (None, Role::Operator | Role::Auditor) => OPERATOR_ID,
        (None, _) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "role_forbidden",
                "a member role without a member cannot act",
            ));
        }
    };
    Ok(state.market.actor(id).await?)
}

/// Resolves the caller from its session token, if the request presents one.
async fn resolve(state: &AppState, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
    let Some(token) = bearer(headers)? else {
        return Ok(None);
    };
    caller_of_token(state, token).await.map(Some)
}

/// The caller a session token stands for: the API's bearer token and the
/// portal's session cookie carry the same token.
pub(crate) async fn caller_of_token(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    let principal = accounts::session_principal(state.market.store(), token, Utc::now()).await?;
    let actor = actor_of(state, &principal).await?;
    Ok(Caller {
        principal,
        actor,
        token: Some(token.to_owned()),
    })
}

/// The certificate of the signer must name the session's member (the
/// operator account for operator staff) and role.
fn check_certificate_owner(
    cert: &voltex_security::VerifiedCertificate,
    principal: &Principal,
) -> Result<(), ApiError> {
    let expected_member = principal.member_id.as_deref().unwrap_or(OPERATOR_ID);
    if cert.member_id != expected_member || cert.role != principal.role {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "signer_mismatch",
            format!(
                "the certificate is member `{}`'s {}, but the session is {}'s {}",
                cert.member_id, cert.role, expected_member, principal.role
            ),
        ));
    }
    Ok(())
}

fn signing_config(state: &AppState) -> Result<&crate::SigningConfig, ApiError> {
    state.signing.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "certificates_not_configured",
            "this server has no platform CA configured (voltex serve --ca-dir), so it cannot \
             check the certificate proof that core actions need",
        )
    })
}

/// A TLS client certificate (already chained to the CA by the handshake)
/// proves possession when it is current, unrevoked and names the session's
/// member and role.
fn verify_client_certificate(
    state: &AppState,
    principal: &Principal,
    der: &[u8],
) -> Result<(), ApiError> {
    let trust = signing_config(state)?
        .trust()
        .map_err(crate::signing::security_refusal)?;
    let cert = trust
        .verify_member_certificate_der(der, Utc::now())
        .map_err(crate::signing::security_refusal)?;
    check_certificate_owner(&cert, principal)
}

/// Checks a signed request against the caller: the certificate chains to
/// the platform CA, is current and unrevoked, names the caller's member (the
/// operator account for operator staff) and role; the signature covers this
/// method, path, query and body; the time is within the skew; the nonce is new.
async fn verify_signed_request(
    state: &AppState,
    principal: &Principal,
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), ApiError> {
    let signing = signing_config(state)?;
    let bad = |why: String| ApiError::new(StatusCode::FORBIDDEN, "request_signature_invalid", why);
    let missing = |h: &str| bad(format!("the signed request lacks the {h} header"));
    let signature =
        header_str(headers, SIGNATURE_HEADER).ok_or_else(|| missing(SIGNATURE_HEADER))?;
    let cert_b64 =
        header_str(headers, CERTIFICATE_HEADER).ok_or_else(|| missing(CERTIFICATE_HEADER))?;
    let timestamp: i64 = header_str(headers, TIMESTAMP_HEADER)
        .ok_or_else(|| missing(TIMESTAMP_HEADER))?
        .parse()
        .map_err(|_| bad(format!("{TIMESTAMP_HEADER} must be Unix seconds")))?;
    let nonce = header_str(headers, NONCE_HEADER).ok_or_else(|| missing(NONCE_HEADER))?;
    if nonce.len() < 16 || nonce.len() > 128 {
        return Err(bad(format!("{NONCE_HEADER} must be 16 to 128 characters")));
    }
    let pem = B64
        .decode(cert_b64)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            bad(format!(
                "{CERTIFICATE_HEADER} must be base64 of the PEM text"
            ))
        })?;
    let now = Utc::now();
    let trust = signing.trust().map_err(crate::signing::security_refusal)?;
    let cert = trust
        .verify_member_certificate(&pem, now)
        .map_err(crate::signing::security_refusal)?;
    check_certificate_owner(&cert, principal)?;
    let request = RequestToSign::new(
        &cert.member_id,
        method.as_str(),
        path_and_query,
        body,
        timestamp,
        nonce,
    );
    request
        .verify(signature, &cert, now.timestamp())
        .map_err(|e| bad(e.to_string()))?;
    if !state
        .nonces
        .first_use(&cert.member_id, nonce, timestamp, now.timestamp())
        .await?
    {
        return Err(bad(
            "this nonce was already used: a signed request is accepted once".into(),
        ));
    }
    Ok(())
}

/// Reads the body (the signature covers it), verifies the signed request
/// and gives the request back whole.
async fn prove_by_signature(
    state: &AppState,
    principal: &Principal,
    req: Request,
) -> Result<Request, ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, state.body_limit_bytes)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the request body is over the limit",
            )
        })?;
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    verify_signed_request(
        state,
        principal,
        &parts.method,
        &path_and_query,
        &parts.headers,
        &bytes,
    )
    .await?;
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Applies a rule to a resolved caller; `Ok(true)` when a core permission
/// still needs the certificate proof.
fn admit(access: Access, caller: Option<&Caller>) -> Result<bool, ApiError> {
    if access == Access::Public {
        return Ok(false);
    }
    let Some(caller) = caller else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in first (POST /api/v1/auth/login) and send `Authorization: Bearer <token>`",
        ));
    };
    let p = &caller.principal;
    let needed: &[Permission] = match &access {
        Access::Public | Access::SignedIn => return Ok(false),
        Access::AnyOf(ps) => ps,
        Access::SignedBody(perm) => std::slice::from_ref(perm),
    };
    let Some(granted) = needed.iter().find(|perm| p.role.permits(**perm)) else {
        let names: Vec<&str> = needed.iter().map(|perm| perm.as_str()).collect();
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "role_forbidden",
            format!(
                "the role {} does not hold {} needed here",
                p.role,
                names.join(" or ")
            ),
        ));
    };
    let needs_proof = granted.is_core()
        && p.strength < AuthStrength::Certificate
        && !matches!(access, Access::SignedBody(_));
    Ok(needs_proof)
}

/// Middleware: resolves the caller, applies the route's [`Access`] rule,
/// checks the certificate proof of core requests, and passes the [`Caller`]
/// to the handler (request extension) and to the audit log (response
/// extension).
pub async fn authenticate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match check(&state, req).await {
        Ok((req, caller)) => {
            if let Some(c) = &caller
                && let Err((which, wait)) = state
                    .limiter
                    .admit_member(&c.actor.member_id, std::time::Instant::now())
            {
                let mut response = crate::limits::refused(which, wait);
                response.extensions_mut().insert(c.clone());
                return response;
            }
            let mut response = next.run(req).await;
            if let Some(c) = caller {
                response.extensions_mut().insert(c);
            }
            response
        }
        Err((e, caller)) => {
            let mut response = e.into_response();
            if let Some(c) = caller {
                response.extensions_mut().insert(c);
            }
            response
        }
    }
}

type Checked = Result<(Request, Option<Caller>), (ApiError, Option<Caller>)>;

async fn check(state: &AppState, req: Request) -> Checked {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let access = route
        .as_deref()
        .and_then(|r| state.access.get(req.method(), r));
    let Some(access) = access else {
        // A method the route does not serve reaches no handler: the router
        // answers 405. HEAD is the exception (axum would run the GET
        // handler for it), so it stays refused with every other unknown.
        if req.method() != Method::HEAD
            && route
                .as_deref()
                .is_some_and(|r| state.access.knows_route(r))
        {
            return Ok((req, None));
        }
        return Err((
            ApiError::new(
                StatusCode::FORBIDDEN,
                "role_forbidden",
                "this endpoint has no access rule; refused by default",
            ),
            None,
        ));
    };
    let caller = resolve(state, req.headers()).await.map_err(|e| (e, None))?;
    let needs_proof = match admit(access, caller.as_ref()) {
        Ok(n) => n,
        Err(e) => return Err((e, caller)),
    };
    let mut req = req;
    if needs_proof {
        let Some(c) = caller.as_ref() else {
            unreachable!("admit refuses anonymous callers of non-public routes")
        };
        let proof = if header_str(req.headers(), SIGNATURE_HEADER).is_some() {
            prove_by_signature(state, &c.principal, req).await
        } else if let Some(cert) = req.extensions().get::<ClientCertificate>().cloned() {
            // Over mTLS the connection's certificate is the proof.
            verify_client_certificate(state, &c.principal, &cert.0).map(|()| req)
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "certificate_required",
                "a core action needs proof of certificate possession: sign the request \
                 (X-Voltex-Signature, X-Voltex-Certificate, X-Voltex-Timestamp, X-Voltex-Nonce) \
                 or connect over TLS with the certificate",
            ))
        };
        req = match proof {
            Ok(r) => r,
            Err(e) => return Err((e, caller)),
        };
    }
    let caller = caller.map(|mut c| {
        if needs_proof {
            c.principal.strength = AuthStrength::Certificate;
        }
        c
    });
    if let Some(c) = &caller {
        req.extensions_mut().insert(c.clone());
    }
    Ok((req, caller))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_accepted_once_within_the_window() {
        let c = NonceCache::default();
        assert!(c.first_use_here("GEN-A", "n-0123456789abcdef", 1000, 1000));
        assert!(!c.first_use_here("GEN-A", "n-0123456789abcdef", 1000, 1001));
        // another member's identical nonce is a different request
        assert!(c.first_use_here("GEN-B", "n-0123456789abcdef", 1000, 1001));
        // long after the window the entry is forgotten (the timestamp check refuses it then)
        assert!(c.first_use_here("GEN-A", "n-0123456789abcdef", 5000, 5000));
    }

    fn caller(role: Role, strength: AuthStrength) -> Caller {
        Caller {
            principal: Principal {
                user_id: "u".into(),
                role,
                member_id: role.is_member_staff().then(|| "GEN-A".into()),
                strength,
            },
            actor: Actor {
                member_id: "GEN-A".into(),
                kind: voltex_model::MemberKind::Generator,
                status: voltex_model::MemberStatus::Active,
            },
            token: None,
        }
    }

    use Permission as P;
    const DECLARE: &[Permission] = &[P::SubmitDeclaration];
    const OWN_OR_ALL: &[Permission] = &[P::ReadOwnPrivateData, P::ReadAllPrivateData];

    #[test]
    fn core_permissions_need_a_proof_unless_the_body_is_signed() {
        let t = caller(Role::MemberTrader, AuthStrength::PasswordAndTotp);
        assert!(admit(Access::AnyOf(DECLARE), Some(&t)).unwrap());
        assert!(!admit(Access::SignedBody(P::SubmitDeclaration), Some(&t)).unwrap());
        assert!(!admit(Access::AnyOf(OWN_OR_ALL), Some(&t)).unwrap());
        let v = caller(Role::MemberViewer, AuthStrength::PasswordAndTotp);
        assert_eq!(
            admit(Access::AnyOf(DECLARE), Some(&v)).unwrap_err().code,
            "role_forbidden"
        );
        assert_eq!(
            admit(Access::SignedIn, None).unwrap_err().code,
            "unauthenticated"
        );
        assert!(!admit(Access::Public, None).unwrap());
    }
}
