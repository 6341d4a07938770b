//! Users and their logins: password (argon2id) + one-time password (TOTP),
//! answered with a short-lived session token that the store keeps only as a
//! SHA-256 hash.
//!
//! The cryptography and the rules are `voltex-security`'s: who may create or
//! disable which user (`users`), the sign-in rule and its failure counters
//! (`signin`: password + TOTP, one answer whatever was wrong, backoff and
//! lockout per account and address), token expiry (`session`). This module
//! stores users and sessions as versioned records, does the I/O those rules
//! need (reading the user, the member, storing the used TOTP step and the
//! session) and answers in the API's error shape.
use crate::error::ApiError;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use voltex_market::Market;
use voltex_model::Violation;
use voltex_security::password;
use voltex_security::roles::{AuthStrength, Principal, Role};
use voltex_security::session::{self, SessionRecord};
use voltex_security::signin::{self, Factors, LoginAttempts, StoredFactors};
use voltex_security::totp::{self, TotpVerifier};
use voltex_security::users::{self, UserRefusal, UserRequest};
use voltex_store::{Entity, Record, Store};

pub use voltex_security::signin::Throttled;

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
    const SENSITIVE: bool = true; // password hash and TOTP secret
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
    const SENSITIVE: bool = true; // who signed in when
    const OWNED: bool = true;
    /// Every authenticated request reads its session: answered from memory
    /// for up to the store's `CACHE_TTL` (1 s). A logout or revocation
    /// through this process is forgotten at once; one made through another
    /// replica reaches this one within that second (docs/security.md).
    const CACHED: bool = true;
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

/// The failed sign-ins this server counts, per account and per address: in
/// this process on SQLite (one process), in the database on PostgreSQL, so
/// that a backoff or lockout holds on every replica and switching replicas
/// does not reset it.
#[derive(Debug)]
pub enum LoginGuard {
    Process(signin::MemoryLoginAttempts),
    Shared(voltex_store::StoredLoginAttempts),
}

impl Default for LoginGuard {
    /// Counters in this process, under the default policy.
    fn default() -> Self {
        Self::Process(Default::default())
    }
}

impl LoginGuard {
    /// The counters for a server on `store` (default policy).
    pub fn for_store(store: &Store) -> Self {
        match store.backend() {
            voltex_store::Backend::Sqlite => Self::default(),
            voltex_store::Backend::Postgres => Self::Shared(
                voltex_store::StoredLoginAttempts::new(store.clone(), Default::default()),
            ),
        }
    }
}

impl LoginAttempts for LoginGuard {
    async fn check(
        &self,
        keys: &signin::AttemptKeys,
        now_unix: u64,
    ) -> std::result::Result<(), Throttled> {
        match self {
            Self::Process(a) => a.check(keys, now_unix).await,
            Self::Shared(a) => a.check(keys, now_unix).await,
        }
    }

    async fn record_failure(&self, keys: &signin::AttemptKeys, now_unix: u64) {
        match self {
            Self::Process(a) => a.record_failure(keys, now_unix).await,
            Self::Shared(a) => a.record_failure(keys, now_unix).await,
        }
    }

    async fn clear(&self, key: &str) {
        match self {
            Self::Process(a) => a.clear(key).await,
            Self::Shared(a) => a.clear(key).await,
        }
    }
}

/// A user-management refusal in the API's error shape: 422
/// `validation_failed` naming the field and rule, 403 for a user the
/// creator may not create, 404 for one the caller may not manage, 409 for
/// disabling oneself.
fn user_refusal(e: UserRefusal) -> ApiError {
    let message = e.to_string();
    match (e.violation(), &e) {
        (Some((field, rule, value)), _) => {
            let mut a = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                message.clone(),
            );
            a.details = vec![Violation::new(field, rule, value, message)];
            a
        }
        (None, UserRefusal::NotYours { .. }) => {
            ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
        }
        (None, UserRefusal::DisablesSelf) => {
            ApiError::new(StatusCode::CONFLICT, "cannot_disable_self", message)
        }
        (None, _) => ApiError::new(StatusCode::NOT_FOUND, "not_found", message),
    }
}

/// Creates a user on behalf of `creator` (`None`: the platform's own
/// command line), if `voltex_security::users::check_new_user` allows it
/// (operators create anyone; a member administrator creates administrators,
/// traders and viewers of its own member only).
pub async fn create_user(
    market: &Market,
    creator: Option<&Principal>,
    req: NewUser,
) -> Result<Enrolment, ApiError> {
    // Whether the member is current (exited or unknown: refused) is asked
    // first; the rule says in which order the answers count.
    let member_is_current = match &req.member_id {
        Some(m) => market.actor(m).await.is_ok(),
        None => true,
    };
    let request = UserRequest {
        id: &req.id,
        role: req.role,
        member_id: req.member_id.as_deref(),
        password: &req.password,
    };
    users::check_new_user(creator, &request, member_is_current).map_err(user_refusal)?;
    let store = market.store();
    if store.get::<User>(&req.id).await?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_exists",
            format!("user {} already exists", req.id),
        ));
    }
    let pw = req.password;
    let phc = in_password_turn(move || password::hash_password(&pw))
        .await?
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
    let not_found = || user_refusal(UserRefusal::NotFound { id: id.to_owned() });
    let current: Record<User> = store.get::<User>(id).await?.ok_or_else(not_found)?;
    users::check_disable(by, &current.value.id, current.value.member_id.as_deref())
        .map_err(user_refusal)?;
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
        signin::SIGN_IN_REFUSED,
    )
}

/// Signs a user in under `voltex_security::signin`'s rule (throttled by
/// `attempts` per account and per `source` address; user, password and TOTP
/// checked together, so the answer does not tell which was wrong) and
/// starts a session. `Err` when throttled: the credentials were not looked at.
pub async fn login<A: LoginAttempts>(
    store: &Store,
    attempts: &A,
    req: LoginRequest,
    source: Option<std::net::IpAddr>,
    now: DateTime<Utc>,
) -> Result<Result<LoginAnswer, ApiError>, Throttled> {
    let unix = now.timestamp().max(0) as u64;
    signin::attempt(
        attempts,
        &req.user,
        source,
        unix,
        check_credentials(store, &req, now),
    )
    .await
}

/// Password hashes (argon2id, 19 MiB of memory each) computed at once: one
/// per core. A sign-in storm queues here instead of taking a blocking thread
/// and its memory per request (128 traders signing in together took 1.5 GB).
static PASSWORD_TURNS: std::sync::LazyLock<tokio::sync::Semaphore> =
    std::sync::LazyLock::new(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    });

/// Runs a password hash or check on a blocking thread, in turn.
async fn in_password_turn<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let _turn = PASSWORD_TURNS
        .acquire()
        .await
        .map_err(|e| ApiError::internal(format!("password turn: {e}")))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("password task failed: {e}")))
}

/// Reads the user, checks the factors (off the executor: argon2 is spent
/// for unknown users too), stores the accepted code's step and starts a
/// session.
async fn check_credentials(
    store: &Store,
    req: &LoginRequest,
    now: DateTime<Utc>,
) -> Result<LoginAnswer, ApiError> {
    let found = store.get::<User>(&req.user).await?;
    let pw = voltex_security::Zeroizing::new(req.password.clone());
    let code = req.totp.clone();
    let user = found.as_ref().map(|r| r.value.clone());
    let unix = now.timestamp().max(0) as u64;
    let verdict = in_password_turn(move || {
        let stored = user.as_ref().map(|u| StoredFactors {
            user_id: &u.id,
            password_phc: &u.password_phc,
            totp_secret: &u.totp_secret,
            last_totp_step: u.last_totp_step,
            disabled: u.disabled,
        });
        signin::check_factors(stored.as_ref(), &pw, &code, unix)
    })
    .await?
    .map_err(|e| ApiError::internal(e.to_string()))?;
    let (Some(current), Factors::Accepted { totp_step }) = (found, verdict) else {
        return Err(login_failed());
    };
    let user = &current.value;
    let mut used = user.clone();
    used.last_totp_step = Some(totp_step);
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
