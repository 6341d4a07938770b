//! HTTPS with optional client certificates: the server speaks only TLS when
//! given a certificate; a client certificate issued by the platform CA and
//! naming the signed-in user's member and role is the certificate proof of
//! core actions; without one, core actions still need a signed request.

use chrono::Utc;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use voltex_market::Market;
use voltex_security::{PlatformCa, Role};
use voltex_server::{ServerConfig, SigningConfig};
use voltex_store::Store;

struct Https {
    addr: std::net::SocketAddr,
    server_cert: CertificateDer<'static>,
    market: Market,
    ca: PlatformCa,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Https {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

async fn start() -> Https {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let ca = PlatformCa::init(&ca_dir, "test", Utc::now()).unwrap();
    let server = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_path = dir.path().join("server.cert.pem");
    let key_path = dir.path().join("server.key.pem");
    std::fs::write(&cert_path, server.cert.pem()).unwrap();
    std::fs::write(&key_path, server.signing_key.serialize_pem()).unwrap();
    let ca_pem = std::fs::read_to_string(ca_dir.join("ca.cert.pem")).unwrap();
    let tls = voltex_server::tls::server_config(&cert_path, &key_path, Some(&ca_pem)).unwrap();

    let store = Store::open_sqlite_dir(&dir.path().join("store"))
        .await
        .unwrap();
    let market = Market::open(store).await.unwrap();
    let config = ServerConfig {
        signing: Some(Arc::new(SigningConfig::load(&ca_dir).unwrap())),
        ..ServerConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let served = market.clone();
    tokio::spawn(async move {
        voltex_server::serve_tls_on_with(served, listener, tls, &config, async move {
            let _ = rx.await;
        })
        .await
    });
    Https {
        addr,
        server_cert: server.cert.der().clone(),
        market,
        ca,
        _dir: dir,
        stop: Some(tx),
    }
}

/// A client identity for the handshake: certificate and key PEM.
struct ClientIdentity {
    cert_pem: String,
    key_pem: String,
}

/// One HTTP/1.1 request over TLS; answers the status and the JSON body.
async fn call(
    s: &Https,
    identity: Option<&ClientIdentity>,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(s.server_cert.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match identity {
        Some(id) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(id.cert_pem.as_bytes()).unwrap()],
                PrivateKeyDer::from_pem_slice(id.key_pem.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    head.push_str("\r\n");
    tls.write_all(head.as_bytes()).await.unwrap();
    tls.write_all(body.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    // A peer closing without close_notify is fine for this test.
    let _ = tls.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw);
    let status: u16 = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let json_body = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, json_body)
}

#[tokio::test]
async fn the_client_certificate_over_tls_proves_possession_for_core_actions() {
    let mut s = start().await;
    let password = crate::common::TEST_PASSWORD;
    let secret = crate::common::staff_user(&s.market, "olga", Role::Operator).await;
    let (st, login) = call(
        &s,
        None,
        None,
        "POST",
        "/api/v1/auth/login",
        Some(json!({"user": "olga", "password": password,
            "totp": crate::common::totp_now(&secret, "olga")})),
    )
    .await;
    assert_eq!(st, 200, "{login}");
    let token = login["token"].as_str().unwrap().to_owned();
    let issued =
        s.ca.issue_member("operator", Role::Operator, 30, Utc::now())
            .unwrap();
    let operator_cert = ClientIdentity {
        cert_pem: issued.certificate_pem.clone(),
        key_pem: issued.key_pem.to_string(),
    };
    let trader =
        s.ca.issue_member("gen1", Role::MemberTrader, 30, Utc::now())
            .unwrap();
    let trader_cert = ClientIdentity {
        cert_pem: trader.certificate_pem.clone(),
        key_pem: trader.key_pem.to_string(),
    };
    let change = json!({"market": "day_ahead_energy", "trading_day": "2026-12-01"});

    // Reading needs no client certificate.
    let (st, me) = call(&s, None, Some(&token), "GET", "/api/v1/auth/me", None).await;
    assert_eq!(st, 200, "{me}");
    // A core action without a certificate (and unsigned) is refused ...
    let (st, body) = call(
        &s,
        None,
        Some(&token),
        "POST",
        "/api/v1/sessions",
        Some(change.clone()),
    )
    .await;
    assert_eq!(st, 403, "{body}");
    assert_eq!(body["error"]["code"], "certificate_required");
    // ... and so is one over a connection holding another member's certificate.
    let (st, body) = call(
        &s,
        Some(&trader_cert),
        Some(&token),
        "POST",
        "/api/v1/sessions",
        Some(change.clone()),
    )
    .await;
    assert_eq!(st, 403, "{body}");
    assert_eq!(body["error"]["code"], "signer_mismatch");
    // The operator's own certificate on the connection is the proof.
    let (st, body) = call(
        &s,
        Some(&operator_cert),
        Some(&token),
        "POST",
        "/api/v1/sessions",
        Some(change.clone()),
    )
    .await;
    assert_eq!(st, 201, "{body}");
    // Revoked: the handshake may still pass (the CRL is the API's check), the action does not.
    s.ca.revoke(
        &issued.serial,
        voltex_security::RevokeReason::KeyCompromise,
        Utc::now(),
    )
    .unwrap();
    let other_day = json!({"market": "day_ahead_energy", "trading_day": "2026-12-02"});
    let (st, body) = call(
        &s,
        Some(&operator_cert),
        Some(&token),
        "POST",
        "/api/v1/sessions",
        Some(other_day),
    )
    .await;
    assert_eq!(st, 403, "{body}");
    assert_eq!(body["error"]["code"], "certificate_refused");
}

#[tokio::test]
async fn a_tls_server_does_not_speak_plain_http() {
    let s = start().await;
    let resp = reqwest::Client::new()
        .get(format!("http://{}/health", s.addr))
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await;
    assert!(resp.is_err(), "plain HTTP was answered: {resp:?}");
}
