//! The audit chain the server writes is the chain `voltex audit verify`
//! checks: requests answered over HTTP leave rows that verify, and a row
//! changed behind the server's back in the SQLite store is named.
use std::path::Path;
use std::process::{Command, Output};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use voltex_security::Role;
use voltex_server::accounts::{NewUser, create_user};

const PASSWORD: &str = "a long enough passphrase";

/// One HTTP/1.1 request on its own connection; the status and the body.
async fn send(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         {auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).await.unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

fn audit_verify(data_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_voltex"))
        .args(["audit", "verify", "--data-dir"])
        .arg(data_dir)
        .env_remove("DATABASE_URL")
        .env_remove("VOLTEX_STORE_DIR")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_written_by_the_server_verifies_and_a_changed_row_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let store = voltex_store::Store::open_sqlite_dir(tmp.path())
        .await
        .unwrap();
    let market = voltex_market::Market::open(store).await.unwrap();
    let enrolment = create_user(
        &market,
        None,
        NewUser {
            id: "olga".into(),
            role: Role::Operator,
            member_id: None,
            password: PASSWORD.into(),
        },
    )
    .await
    .unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = market.clone();
    let server = tokio::spawn(async move {
        let config = voltex_server::ServerConfig::default();
        voltex_server::serve_on_with(served, listener, &config, async move {
            let _ = stopped.await;
        })
        .await
    });

    let wrong = format!(r#"{{"user":"olga","password":"{PASSWORD}","totp":"000000"}}"#);
    assert_eq!(
        send(addr, "POST", "/api/v1/auth/login", None, &wrong)
            .await
            .0,
        401
    );
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    let code = voltex_security::totp::TotpVerifier::new(&enrolment.totp_secret, "olga")
        .unwrap()
        .code_at(now);
    let right = format!(r#"{{"user":"olga","password":"{PASSWORD}","totp":"{code}"}}"#);
    let (status, body) = send(addr, "POST", "/api/v1/auth/login", None, &right).await;
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let token = answer["token"].as_str().unwrap();
    let unsigned = r#"{"market":"day_ahead_energy","trading_day":"2030-01-01"}"#;
    let (status, _) = send(addr, "POST", "/api/v1/sessions", Some(token), unsigned).await;
    assert_eq!(
        status, 403,
        "a core action without its signature is refused"
    );
    assert_eq!(
        send(addr, "POST", "/api/v1/auth/logout", Some(token), "")
            .await
            .0,
        204
    );
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();

    let store = market.store();
    let rows = store.audit_count().await.unwrap();
    assert_eq!(rows, 4, "one row per state-changing request");
    let out = audit_verify(tmp.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let head = store.audit_tail(1).await.unwrap().remove(0).hash;
    assert!(
        stdout.contains(&format!("audit chain OK: {rows} records, head {head}")),
        "{stdout}"
    );

    // The successful sign-in's row, edited in its hashed body only.
    let edited = store
        .raw_execute(
            r#"UPDATE audit_log SET body = replace(body, '"status":200', '"status":201') WHERE seq = 2"#,
        )
        .await
        .unwrap();
    assert_eq!(edited, 1);
    let out = audit_verify(tmp.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("FAILED") && stderr.contains("row 2") && stderr.contains("modified"),
        "names the changed row: {stderr}"
    );
}
