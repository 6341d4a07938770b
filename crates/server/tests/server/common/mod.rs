//! Shared by the server's end-to-end tests: a [`Platform`] set up as
//! production runs it (a store, a platform CA, the server in its only
//! identity mode), users created the way `voltex users add` does and signed
//! in over HTTP with password and TOTP, and requests that carry a user's
//! bearer token and, signed with the user's certificate key, the proof that
//! core actions need; and how an answer is read back.
//!
//! A test signs each of its users in once: password hashing is slow in a
//! debug build, so never per request.
// Each test binary uses a different part of this module.
#![allow(dead_code)]

pub mod retail_book;

use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use voltex_market::Market;
use voltex_security::{PlatformCa, Role};
use voltex_server::{ServerConfig, SigningConfig};
use voltex_store::Store;

/// Sends a request; answers the status and the body as JSON (a body that is
/// not JSON comes back as a JSON string).
pub async fn answer(req: RequestBuilder) -> (StatusCode, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A signed-in user as a client holds it: the bearer token and, for roles
/// that perform core actions, the certificate key that signs requests.
pub struct SignedInUser {
    pub user: String,
    pub token: String,
    pub signer: Option<RequestSigner>,
}

impl SignedInUser {
    /// A caller with a bearer token that no session has (invented, or of a
    /// user who never signed in).
    pub fn unknown(user: &str) -> Self {
        Self {
            user: user.to_owned(),
            token: format!("vxs_{user}-holds-no-session"),
            signer: None,
        }
    }

    /// The user's certificate and key (panics for a role without one).
    pub fn signer(&self) -> &RequestSigner {
        self.signer
            .as_ref()
            .unwrap_or_else(|| panic!("{} holds no certificate", self.user))
    }
}

/// A member (or operator) certificate and its key.
pub struct RequestSigner {
    pub member_id: String,
    pub key: voltex_security::MemberKey,
    pub certificate_pem: String,
    pub serial: String,
}

impl From<&voltex_security::IssuedCredential> for RequestSigner {
    fn from(issued: &voltex_security::IssuedCredential) -> Self {
        Self {
            member_id: issued.member_id.clone(),
            key: voltex_security::MemberKey::from_pem(&issued.key_pem).unwrap(),
            certificate_pem: issued.certificate_pem.clone(),
            serial: issued.serial.clone(),
        }
    }
}

/// The six-digit code an authenticator app shows for `secret` now.
pub fn totp_now(secret: &str, user: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    voltex_security::totp::TotpVerifier::new(secret, user)
        .unwrap()
        .code_at(now)
}

/// The password every test user gets (policy: at least 12 characters).
pub const TEST_PASSWORD: &str = "a long enough passphrase";

/// Creates a platform-staff user (operator or auditor) the way `voltex
/// users add` does, with [`TEST_PASSWORD`]; answers its TOTP secret.
pub async fn staff_user(market: &Market, id: &str, role: Role) -> String {
    voltex_server::accounts::create_user(
        market,
        None,
        voltex_server::accounts::NewUser {
            id: id.into(),
            role,
            member_id: None,
            password: TEST_PASSWORD.into(),
        },
    )
    .await
    .unwrap()
    .totp_secret
}

/// Serves `market` over plain HTTP in the production identity mode
/// (sessions, roles, certificate proofs) trusting the CA in `ca_dir`;
/// answers the base URL and the sender that stops the server.
pub async fn serve_with_sessions(
    market: Market,
    ca_dir: &Path,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let config = ServerConfig {
        signing: Some(Arc::new(SigningConfig::load(ca_dir).unwrap())),
        ..ServerConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        voltex_server::serve_on_with(market, listener, &config, async move {
            let _ = rx.await;
        })
        .await
    });
    (format!("http://{addr}"), tx)
}

/// Creates a user the way `voltex users add` does, signs it in over HTTP
/// and, when `ca` is given and the role signs, issues it a certificate.
pub async fn enrol(
    market: &Market,
    client: &reqwest::Client,
    base: &str,
    id: &str,
    role: Role,
    member: Option<&str>,
    ca: Option<&mut PlatformCa>,
) -> SignedInUser {
    let signer = ca.and_then(|ca| certificate_for(ca, role, member));
    sign_in_new_user(market, client, base, id, role, member, signer).await
}

/// Issues the certificate a user of `role` signs core requests with: its
/// member's, or the operator account's for operator staff. Auditors act on
/// nothing and get none.
fn certificate_for(ca: &mut PlatformCa, role: Role, member: Option<&str>) -> Option<RequestSigner> {
    if role == Role::Auditor {
        return None;
    }
    let signer_member = member.unwrap_or(voltex_market::OPERATOR_ID);
    let issued = ca
        .issue_member(signer_member, role, 30, chrono::Utc::now())
        .unwrap();
    Some(RequestSigner::from(&issued))
}

/// Creates the user with a password of its own and signs it in over HTTP
/// with password and the authenticator's current code.
async fn sign_in_new_user(
    market: &Market,
    client: &reqwest::Client,
    base: &str,
    id: &str,
    role: Role,
    member: Option<&str>,
    signer: Option<RequestSigner>,
) -> SignedInUser {
    let password = format!("correct horse battery {id}");
    let enrolment = voltex_server::accounts::create_user(
        market,
        None,
        voltex_server::accounts::NewUser {
            id: id.into(),
            role,
            member_id: member.map(str::to_owned),
            password: password.clone(),
        },
    )
    .await
    .unwrap();
    let (status, body) = answer(
        client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({"user": id, "password": password,
            "totp": totp_now(&enrolment.totp_secret, id)})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    SignedInUser {
        user: id.to_owned(),
        token: body["token"].as_str().unwrap().to_owned(),
        signer,
    }
}

/// Builds a request as `who` sends it: bearer token and, with `sign`, the
/// request signature headers over method, path and query, and body.
pub fn request_as(
    client: &reqwest::Client,
    base: &str,
    who: Option<&SignedInUser>,
    sign: bool,
    method: &str,
    path_and_query: &str,
    body: Option<&Value>,
) -> RequestBuilder {
    let body = body.map(|b| ("application/json", serde_json::to_vec(b).unwrap()));
    request_with_body(client, base, who, sign, method, path_and_query, body)
}

/// [`request_as`] with a body of any content type: `(content type, bytes)`.
pub fn request_with_body(
    client: &reqwest::Client,
    base: &str,
    who: Option<&SignedInUser>,
    sign: bool,
    method: &str,
    path_and_query: &str,
    body: Option<(&str, Vec<u8>)>,
) -> RequestBuilder {
    use base64::Engine;
    let mut req = client.request(method.parse().unwrap(), format!("{base}{path_and_query}"));
    let mut bytes = Vec::new();
    if let Some((content_type, b)) = body {
        req = req.header("content-type", content_type).body(b.clone());
        bytes = b;
    }
    if let Some(w) = who {
        req = req.bearer_auth(&w.token);
        if let (true, Some(s)) = (sign, &w.signer) {
            let ts = chrono::Utc::now().timestamp();
            let nonce = format!("{:032x}", rand_nonce());
            let to_sign = voltex_security::declaration::RequestToSign::new(
                &s.member_id,
                method,
                path_and_query,
                &bytes,
                ts,
                &nonce,
            );
            let sig = s.key.sign_request(&to_sign).unwrap();
            req = req
                .header("x-voltex-signature", sig)
                .header(
                    "x-voltex-certificate",
                    base64::engine::general_purpose::STANDARD.encode(&s.certificate_pem),
                )
                .header("x-voltex-timestamp", ts.to_string())
                .header("x-voltex-nonce", nonce);
        }
    }
    req
}

fn rand_nonce() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    t ^ (u128::from(COUNTER.fetch_add(1, Ordering::Relaxed)) << 64)
}

/// A platform under test, set up as production runs it: a SQLite store in
/// a temporary directory, a platform CA beside it, and the server (and, if
/// asked, its scheduler) serving the store in the sessions identity mode.
///
/// Users come from [`Platform::operator`], [`Platform::staff_of`] and
/// [`Platform::user`], signed in once; [`Platform::call`] sends a request
/// as one of them, signing it with the user's certificate key, so a core
/// action carries its proof like a member's trading system sends it.
pub struct Platform {
    pub base: String,
    pub client: reqwest::Client,
    pub market: Market,
    pub store: Store,
    pub ca_dir: PathBuf,
    ca: Mutex<PlatformCa>,
    config: ServerConfig,
    trusts_ca: bool,
    scheduler_tick: Option<Duration>,
    serving: Option<Serving>,
    dir: tempfile::TempDir,
}

/// One running server of a [`Platform`].
struct Serving {
    addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
    scheduler: Option<tokio::task::JoinHandle<()>>,
}

/// A member's staff: its administrator (registration, units, users) and
/// its trader (declarations).
pub struct MemberStaff {
    pub admin: SignedInUser,
    pub trader: SignedInUser,
}

impl Platform {
    /// The default limits, no scheduler.
    pub async fn start() -> Self {
        Self::launch(ServerConfig::default(), None).await
    }

    /// `config`'s limits (its `signing` is the platform CA's), no scheduler.
    pub async fn start_with(config: ServerConfig) -> Self {
        Self::launch(config, None).await
    }

    /// The default limits and the scheduler ticking every `tick`.
    pub async fn start_scheduled(tick: Duration) -> Self {
        Self::launch(ServerConfig::default(), Some(tick)).await
    }

    async fn launch(config: ServerConfig, scheduler_tick: Option<Duration>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca_dir = dir.path().join("ca");
        let ca = PlatformCa::init(&ca_dir, "test", chrono::Utc::now()).unwrap();
        let store = Store::open_sqlite_dir(&dir.path().join("store"))
            .await
            .unwrap();
        let market = Market::open(store.clone()).await.unwrap();
        let mut p = Self {
            base: String::new(),
            client: reqwest::Client::new(),
            market,
            store,
            ca_dir,
            ca: Mutex::new(ca),
            config,
            trusts_ca: true,
            scheduler_tick,
            serving: None,
            dir,
        };
        p.serve().await;
        p
    }

    async fn serve(&mut self) {
        let config = ServerConfig {
            signing: self
                .trusts_ca
                .then(|| Arc::new(SigningConfig::load(&self.ca_dir).unwrap())),
            ..self.config.clone()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let market = self.market.clone();
        let served = tokio::spawn(async move {
            voltex_server::serve_on_with(market, listener, &config, async move {
                let _ = stopped.await;
            })
            .await
        });
        let scheduler = self
            .scheduler_tick
            .map(|tick| voltex_server::spawn_scheduler(self.market.clone(), tick));
        self.base = format!("http://{addr}");
        self.serving = Some(Serving {
            addr,
            stop,
            served,
            scheduler,
        });
    }

    /// The server's address (for raw connections).
    pub fn addr(&self) -> std::net::SocketAddr {
        self.serving.as_ref().expect("the platform is serving").addr
    }

    /// Stops serving and scheduling, as a process exit would.
    pub async fn stop(&mut self) {
        if let Some(s) = self.serving.take() {
            if let Some(scheduler) = s.scheduler {
                scheduler.abort();
            }
            let _ = s.stop.send(());
            let _ = s.served.await;
        }
    }

    /// Stops, reopens the store and serves it again (on a new port): a
    /// process restart. Signed-in users stay signed in (sessions are stored).
    pub async fn restart(&mut self) {
        self.stop().await;
        self.store = Store::open_sqlite_dir(&self.dir.path().join("store"))
            .await
            .unwrap();
        self.market = Market::open(self.store.clone()).await.unwrap();
        self.serve().await;
    }

    /// [`Platform::restart`] without the CA configured (`voltex serve`
    /// without `--ca-dir`): nothing that needs a certificate can be checked.
    pub async fn restart_without_ca(&mut self) {
        self.trusts_ca = false;
        self.restart().await;
    }

    /// Creates a user the way `voltex users add` does, signs it in over
    /// HTTP once and, unless it is an auditor, issues it a certificate.
    pub async fn user(&self, id: &str, role: Role, member: Option<&str>) -> SignedInUser {
        let signer = certificate_for(&mut self.ca.lock().unwrap(), role, member);
        sign_in_new_user(
            &self.market,
            &self.client,
            &self.base,
            id,
            role,
            member,
            signer,
        )
        .await
    }

    /// The market operator's staff user `operator`.
    pub async fn operator(&self) -> SignedInUser {
        self.user("operator", Role::Operator, None).await
    }

    /// Users `<member>-admin` and `<member>-trader` of a registered member.
    pub async fn staff_of(&self, member: &str) -> MemberStaff {
        MemberStaff {
            admin: self
                .user(
                    &format!("{member}-admin"),
                    Role::MemberAdministrator,
                    Some(member),
                )
                .await,
            trader: self
                .user(
                    &format!("{member}-trader"),
                    Role::MemberTrader,
                    Some(member),
                )
                .await,
        }
    }

    /// Issues a certificate and key without creating a user (a second
    /// certificate of a member, say).
    pub fn issue(&self, member: &str, role: Role) -> voltex_security::IssuedCredential {
        self.ca
            .lock()
            .unwrap()
            .issue_member(member, role, 30, chrono::Utc::now())
            .unwrap()
    }

    /// The request `who` (anonymous: `None`) sends: a JSON body, signed.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        who: Option<&SignedInUser>,
        body: Option<&Value>,
    ) -> RequestBuilder {
        request_as(&self.client, &self.base, who, true, method, path, body)
    }

    /// The request `who` sends with a body of another content type (a
    /// MATPOWER case, a declaration file), signed.
    pub fn request_raw(
        &self,
        method: &str,
        path: &str,
        who: Option<&SignedInUser>,
        content_type: &str,
        body: Vec<u8>,
    ) -> RequestBuilder {
        request_with_body(
            &self.client,
            &self.base,
            who,
            true,
            method,
            path,
            Some((content_type, body)),
        )
    }

    /// Sends a JSON request as `who`; answers status and JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        who: Option<&SignedInUser>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        answer(self.request(method, path, who, body.as_ref())).await
    }

    /// [`Platform::call`] that must succeed; answers the body.
    pub async fn ok(
        &self,
        method: &str,
        path: &str,
        who: Option<&SignedInUser>,
        body: Option<Value>,
    ) -> Value {
        let (status, v) = self.call(method, path, who, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }

    /// Sends a raw body as `who`; answers status and JSON body.
    pub async fn call_raw(
        &self,
        method: &str,
        path: &str,
        who: Option<&SignedInUser>,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        answer(self.request_raw(method, path, who, content_type, body)).await
    }

    /// Imports the bundled five-bus PJM case as network `pjm5`, as `operator`.
    pub async fn import_pjm5(&self, operator: &SignedInUser) {
        let (status, body) = self
            .call_raw(
                "POST",
                "/api/v1/networks/matpower?name=pjm5",
                Some(operator),
                "text/plain",
                std::fs::read(pjm5_case()).unwrap(),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        if let Some(s) = self.serving.take() {
            if let Some(scheduler) = s.scheduler {
                scheduler.abort();
            }
            let _ = s.stop.send(());
        }
    }
}

/// The bundled five-bus PJM case (MATPOWER).
pub fn pjm5_case() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/cases/pglib_opf_case5_pjm.m")
}

/// Counts of stored rows per table, for checks that a refusal wrote
/// nothing. Sign-in sessions are left out: any request, even a refused
/// one, may note its session's last use.
pub async fn row_counts(store: &Store) -> Vec<(&'static str, i64)> {
    let mut counts = store.row_counts().await.unwrap();
    counts.retain(|(table, _)| *table != "auth_sessions");
    counts
}
