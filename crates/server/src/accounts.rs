//! Users and their logins: password (argon2id) + one-time password (TOTP),
//! answered with a short-lived session token that the store keeps only as a
//! SHA-256 hash.
//!
//! The cryptography and the rules (password policy, TOTP window and replay,
//! backoff and lockout, token expiry) are `voltex-security`'s; this module
//! stores users and sessions as versioned records, orders the checks, and
//! keeps the per-account and per-address failure counters of this process.
use crate::error::ApiError;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use utoipa::ToSchema;
use voltex_market::Market;
use voltex_model::Violation;
use voltex_security::roles::{AuthStrength, Principal, Role};
use voltex_security::session::{self, SessionRecord};
use voltex_security::throttle::{LoginThrottle, ThrottlePolicy};
use voltex_security::totp::{self, TotpVerifier};
use voltex_security::{SecurityError, password};
use voltex_store::{Entity, Record, Store};

/// A session's `last_used_at` is written back at most this often, so a busy
/// client does not add a record version per request; idle expiry is
/// therefore exact to within this many seconds.
const LAST_USE_RESOLUTION_S: i64 = 60;

/// A person (or a member's trading system) that may sign in.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct User {
    pub id: String,
    pub role: Role,
    /// The member the user works for; `None` for operator and auditor staff.
    pub member_id: Option<String>,
    /// argon2id PHC string.
    pub password_phc: String,
    /// TOTP secret (base32), shown once at enrolment.
    pub totp_secret: String,
    /// Last accepted TOTP time step: each code is accepted once.
    pub last_totp_step: Option<u64>,
    pub disabled: bool,
    /// Who created the user (user id, or `cli` for `voltex users add`).
    pub created_by: String,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("member_id", &self.member_id)
            .field("password_phc", &"<secret>")
            .field("totp_secret", &"<secret>")
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

impl Entity for User {
    const TABLE: &'static str = "users";
    const NAME: &'static str = "user";
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        self.id.clone()
    }
    fn owner(&self) -> Option<&str> {
        self.member_id.as_deref()
    }
}

/// A login session as stored: keyed by the token's SHA-256, never the token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredSession {
    #[serde(flatten)]
    pub record: SessionRecord,
}

impl Entity for StoredSession {
    const TABLE: &'static str = "auth_sessions";
    const NAME: &'static str = "login session";
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        self.record.token_sha256.clone()
    }
    fn owner(&self) -> Option<&str> {
        self.record.member_id.as_deref()
    }
}

/// What a user looks like to others: no secrets.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct UserView {
    pub id: String,
    #[schema(value_type = String, example = "member-trader")]
    pub role: Role,
    pub member_id: Option<String>,
    pub disabled: bool,
    pub created_by: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id.clone(),
            role: u.role,
            member_id: u.member_id.clone(),
            disabled: u.disabled,
            created_by: u.created_by.clone(),
        }
    }
}

/// A request to create a user.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub id: String,
    #[schema(value_type = String, example = "member-trader")]
    pub role: Role,
    pub member_id: Option<String>,
    /// 12 to 256 characters; only its argon2id hash is kept.
    pub password: String,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("member_id", &self.member_id)
            .field("password", &"<secret>")
            .finish()
    }
}

/// Answer to a user creation: the TOTP secret is shown this once.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct Enrolment {
    pub user: UserView,
    /// Base32 secret for the authenticator app.
    pub totp_secret: String,
    /// `otpauth://` URL (QR-code content) with the same secret.
    pub otpauth_url: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolment")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// Login request: all three factors at once, so a failure never says which.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub user: String,
    pub password: String,
    /// Six-digit code from the authenticator.
    pub totp: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// Answer to a login: the bearer token is shown this once.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginAnswer {
    /// `Authorization: Bearer <token>` on later requests.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// A session unused this long expires earlier.
    pub idle_timeout_s: i64,
    pub user: UserView,
}

impl std::fmt::Debug for LoginAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginAnswer")
            .field("expires_at", &self.expires_at)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// Failure counters past this many are swept of expired ones.
const PRUNE_AT: usize = 10_000;

/// Login failure counters of this process, per account and per address.
#[derive(Debug, Default)]
pub struct LoginGuard {
    policy: ThrottlePolicy,
    throttles: Mutex<HashMap<String, LoginThrottle>>,
}

impl LoginGuard {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            throttles: Mutex::default(),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, LoginThrottle>) -> R) -> R {
        let mut map = self
            .throttles
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut map)
    }

    /// Refuses (with the wait) when either the account or the address is
    /// throttled; the credentials are then not even looked at.
    /// A name or address with no failures gets no entry, and one whose
    /// failures have expired loses it: invented user names cost memory only
    /// while their failures count.
    fn check(&self, keys: &[String], now: u64) -> Result<(), u64> {
        self.with(|m| {
            let mut wait = 0;
            for k in keys {
                let Some(t) = m.get_mut(k) else { continue };
                if let Err(SecurityError::LoginThrottled { retry_after_s }) =
                    t.check(&self.policy, now)
                {
                    wait = wait.max(retry_after_s);
                } else if *t == LoginThrottle::default() {
                    m.remove(k);
                }
            }
            if wait > 0 { Err(wait) } else { Ok(()) }
        })
    }

    fn failed(&self, keys: &[String], now: u64) {
        self.with(|m| {
            if m.len() >= PRUNE_AT {
                let window = self.policy.failure_window_s;
                m.retain(|_, t| {
                    t.locked_until_unix.is_some_and(|u| u > now)
                        || t.last_failure_unix
                            .is_some_and(|l| now.saturating_sub(l) <= window)
                });
            }
            for k in keys {
                m.entry(k.clone())
                    .or_default()
                    .record_failure(&self.policy, now);
            }
        });
    }

    fn succeeded(&self, user_key: &str) {
        self.with(|m| {
            m.remove(user_key);
        });
    }
}

fn violation(field: &str, rule: &str, value: impl Into<serde_json::Value>, msg: &str) -> ApiError {
    let mut e = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", msg);
    e.details = vec![Violation::new(field, rule, value, msg)];
    e
}

/// User ids: 3 to 64 of ASCII letters, digits, `.`, `_`, `-`.
fn check_user_id(id: &str) -> Result<(), ApiError> {
    let ok = (3..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(violation(
            "id",
            "user_id_format",
            id,
            "a user id is 3 to 64 ASCII letters, digits, '.', '_' or '-'",
        ))
    }
}

/// Creates a user on behalf of `creator` (`None`: the platform's own
/// command line). Operators create anyone; a member administrator creates
/// administrators, traders and viewers of its own member only.
pub async fn create_user(
    market: &Market,
    creator: Option<&Principal>,
    req: NewUser,
) -> Result<Enrolment, ApiError> {
    check_user_id(&req.id)?;
    match (req.role.is_member_staff(), &req.member_id) {
        (true, None) => {
            return Err(violation(
                "member_id",
                "required_for_member_staff",
                serde_json::Value::Null,
                "member administrators, traders and viewers belong to a member: name it",
            ));
        }
        (false, Some(m)) => {
            return Err(violation(
                "member_id",
                "absent_for_platform_staff",
                m.as_str(),
                "operators and auditors belong to no member",
            ));
        }
        _ => {}
    }
    if let Some(c) = creator
        && c.role != Role::Operator
    {
        let own = c.member_id.as_deref();
        if c.role != Role::MemberAdministrator
            || !req.role.is_member_staff()
            || req.member_id.as_deref() != own
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "a {} may create only users of its own member ({}) with member roles",
                    c.role,
                    own.unwrap_or("none")
                ),
            ));
        }
    }
    if let Some(m) = &req.member_id {
        // Only a current member gets users (exited or unknown: refused).
        market.actor(m).await.map_err(|_| {
            violation(
                "member_id",
                "is_registered_member",
                m.as_str(),
                "no such member (or it has exited)",
            )
        })?;
    }
    password::check_password_policy(&req.password).map_err(|e| {
        violation(
            "password",
            "password_policy",
            serde_json::Value::Null,
            &e.to_string(),
        )
    })?;
    let store = market.store();
    if store.get::<User>(&req.id).await?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_exists",
            format!("user {} already exists", req.id),
        ));
    }
    let pw = req.password;
    let phc = tokio::task::spawn_blocking(move || password::hash_password(&pw))
        .await
        .map_err(|e| ApiError::internal(format!("password hashing task failed: {e}")))?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let secret = totp::generate_secret_base32().map_err(|e| ApiError::internal(e.to_string()))?;
    let verifier =
        TotpVerifier::new(&secret, &req.id).map_err(|e| ApiError::internal(e.to_string()))?;
    let url = verifier
        .otpauth_url()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let user = User {
        id: req.id,
        role: req.role,
        member_id: req.member_id,
        password_phc: phc,
        totp_secret: secret.to_string(),
        last_totp_step: None,
        disabled: false,
        created_by: creator.map_or_else(|| "cli".to_owned(), |c| c.user_id.clone()),
    };
    store.insert(&user).await?;
    Ok(Enrolment {
        user: UserView::from(&user),
        totp_secret: secret.to_string(),
        otpauth_url: url.to_string(),
    })
}

/// Users visible to `viewer`: every user for the operator, the own member's
/// users for a member administrator.
pub async fn list_users(store: &Store, viewer: &Principal) -> Result<Vec<UserView>, ApiError> {
    let users = match (&viewer.role, &viewer.member_id) {
        (Role::Operator, _) => store.list::<User>().await,
        (_, Some(m)) => store.list_owned::<User>(m).await,
        (_, None) => Ok(Vec::new()),
    }?;
    Ok(users.iter().map(|r| UserView::from(&r.value)).collect())
}

/// Disables a user (operator: anyone but themselves; member administrator:
/// users of its own member) and ends every session it has.
pub async fn disable_user(store: &Store, by: &Principal, id: &str) -> Result<UserView, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no user {id}"));
    let current: Record<User> = store.get::<User>(id).await?.ok_or_else(not_found)?;
    let allowed = match by.role {
        Role::Operator => true,
        Role::MemberAdministrator => {
            current.value.member_id.is_some() && current.value.member_id == by.member_id
        }
        _ => false,
    };
    if !allowed {
        // Someone else's user does not exist, as far as the caller can tell.
        return Err(not_found());
    }
    if current.value.id == by.user_id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "cannot_disable_self",
            "a user cannot disable itself",
        ));
    }
    let mut user = current.value.clone();
    user.disabled = true;
    store.append(&user, current.version).await?;
    let now = Utc::now();
    let sessions = match &user.member_id {
        Some(m) => store.list_owned::<StoredSession>(m).await,
        None => store.list::<StoredSession>().await,
    }?;
    for s in sessions {
        if s.value.record.user_id == user.id && s.value.record.revoked_at.is_none() {
            let mut ended = s.value.clone();
            session::revoke(&mut ended.record, now);
            // A concurrent use wrote a newer version: that one is revoked on its next check.
            let _ = store.append(&ended, s.version).await;
        }
    }
    Ok(UserView::from(&user))
}

fn login_failed() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "login_failed",
        "user, password or one-time password not accepted",
    )
}

/// Throttled login attempt: the answer carries the wait.
pub struct Throttled {
    pub retry_after_s: u64,
}

/// Checks user, password and TOTP (all three, in constant order, so the
/// answer does not tell which was wrong) and starts a session.
pub async fn login(
    store: &Store,
    guard: &LoginGuard,
    req: LoginRequest,
    source: Option<std::net::IpAddr>,
    now: DateTime<Utc>,
) -> Result<Result<LoginAnswer, ApiError>, Throttled> {
    let unix = now.timestamp().max(0) as u64;
    let user_key = format!("user:{}", req.user);
    let mut keys = vec![user_key.clone()];
    if let Some(a) = source {
        keys.push(format!("addr:{a}"));
    }
    if let Err(wait) = guard.check(&keys, unix) {
        return Err(Throttled {
            retry_after_s: wait,
        });
    }
    let answer = check_credentials(store, &req, now).await;
    match &answer {
        Ok(_) => guard.succeeded(&user_key),
        Err(_) => guard.failed(&keys, unix),
    }
    Ok(answer)
}

async fn check_credentials(
    store: &Store,
    req: &LoginRequest,
    now: DateTime<Utc>,
) -> Result<LoginAnswer, ApiError> {
    let found = store.get::<User>(&req.user).await?;
    let pw = voltex_security::Zeroizing::new(req.password.clone());
    let phc = found.as_ref().map(|r| r.value.password_phc.clone());
    // Unknown users cost the same argon2 work as known ones.
    let password_ok = tokio::task::spawn_blocking(move || match phc {
        Some(phc) => password::verify_password(&pw, &phc).unwrap_or(false),
        None => {
            password::verify_against_dummy(&pw);
            false
        }
    })
    .await
    .map_err(|e| ApiError::internal(format!("password check task failed: {e}")))?;
    let Some(current) = found else {
        return Err(login_failed());
    };
    let user = &current.value;
    let verifier = TotpVerifier::new(&user.totp_secret, &user.id)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let step = verifier.verify(
        &req.totp,
        now.timestamp().max(0) as u64,
        user.last_totp_step,
    );
    let (true, Ok(step), false) = (password_ok, step, user.disabled) else {
        return Err(login_failed());
    };
    let mut used = user.clone();
    used.last_totp_step = Some(step);
    // A concurrent login with the same code loses here: each code works once.
    store
        .append(&used, current.version)
        .await
        .map_err(|_| login_failed())?;
    let principal = Principal {
        user_id: user.id.clone(),
        role: user.role,
        member_id: user.member_id.clone(),
        strength: AuthStrength::PasswordAndTotp,
    };
    let (token, record) =
        session::issue(&principal, now).map_err(|e| ApiError::internal(e.to_string()))?;
    let expires_at = record.expires_at;
    store.insert(&StoredSession { record }).await?;
    Ok(LoginAnswer {
        token: token.expose().to_owned(),
        expires_at,
        idle_timeout_s: session::DEFAULT_IDLE_TIMEOUT_MIN * 60,
        user: UserView::from(user),
    })
}

/// The principal a presented bearer token stands for, if the session is
/// live (not revoked, not past its idle or absolute expiry) and its user is
/// not disabled.
pub async fn session_principal(
    store: &Store,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Principal, ApiError> {
    let invalid = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "session_invalid",
            "the session token is unknown, expired or ended: sign in again (POST /api/v1/auth/login)",
        )
    };
    let key = session::token_sha256(token);
    let Some(current) = store.get::<StoredSession>(&key).await? else {
        return Err(invalid());
    };
    let mut updated = current.value.clone();
    let principal =
        session::authenticate(token, &mut updated.record, now).map_err(|_| invalid())?;
    if (now - current.value.record.last_used_at).num_seconds() >= LAST_USE_RESOLUTION_S {
        // Losing this race to a parallel request of the same session is harmless.
        let _ = store.append(&updated, current.version).await;
    }
    Ok(principal)
}

/// Ends the session of `token` (logout).
pub async fn logout(store: &Store, token: &str, now: DateTime<Utc>) -> Result<(), ApiError> {
    let key = session::token_sha256(token);
    if let Some(current) = store.get::<StoredSession>(&key).await? {
        let mut ended = current.value.clone();
        session::revoke(&mut ended.record, now);
        store.append(&ended, current.version).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(g: &LoginGuard) -> usize {
        g.with(|m| m.len())
    }

    #[test]
    fn unknown_names_cost_memory_only_while_their_failures_count() {
        let g = LoginGuard::default();
        let keys = ["user:invented".to_owned()];
        assert!(g.check(&keys, 0).is_ok());
        assert_eq!(entries(&g), 0, "a check alone records nothing");
        g.failed(&keys, 0);
        assert_eq!(entries(&g), 1);
        let later = ThrottlePolicy::default().failure_window_s + 1;
        assert!(g.check(&keys, later).is_ok());
        assert_eq!(entries(&g), 0, "an expired failure is forgotten");
    }
}
