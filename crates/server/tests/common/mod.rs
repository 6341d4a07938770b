//! Shared by the server's end-to-end tests: how a request names its member
//! and carries JSON, and how an answer is read back.
// Each test binary uses a different part of this module.
#![allow(dead_code)]

use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

/// Names the acting member (`X-Member-Id`) and attaches a JSON body.
pub fn prepare(mut req: RequestBuilder, who: Option<&str>, body: Option<Value>) -> RequestBuilder {
    if let Some(w) = who {
        req = req.header("X-Member-Id", w);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req
}

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

/// A member (or operator) certificate and its key.
pub struct RequestSigner {
    pub member_id: String,
    pub key: voltex_security::MemberKey,
    pub certificate_pem: String,
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
pub async fn staff_user(
    market: &voltex_market::Market,
    id: &str,
    role: voltex_security::Role,
) -> String {
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
    market: voltex_market::Market,
    ca_dir: &std::path::Path,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let config = voltex_server::ServerConfig {
        signing: Some(std::sync::Arc::new(
            voltex_server::SigningConfig::load(ca_dir).unwrap(),
        )),
        ..voltex_server::ServerConfig::default()
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
    market: &voltex_market::Market,
    client: &reqwest::Client,
    base: &str,
    id: &str,
    role: voltex_security::Role,
    member: Option<&str>,
    ca: Option<&mut voltex_security::PlatformCa>,
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
    let signer = ca
        .filter(|_| role != voltex_security::Role::Auditor)
        .map(|ca| {
            let signer_member = member.unwrap_or(voltex_market::OPERATOR_ID);
            let issued = ca
                .issue_member(signer_member, role, 30, chrono::Utc::now())
                .unwrap();
            RequestSigner {
                member_id: signer_member.to_owned(),
                key: voltex_security::MemberKey::from_pem(&issued.key_pem).unwrap(),
                certificate_pem: issued.certificate_pem.clone(),
            }
        });
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
    use base64::Engine;
    let bytes = body
        .map(|b| serde_json::to_vec(b).unwrap())
        .unwrap_or_default();
    let mut req = client.request(method.parse().unwrap(), format!("{base}{path_and_query}"));
    if body.is_some() {
        req = req
            .header("content-type", "application/json")
            .body(bytes.clone());
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
