//! Sign-in over the real server: password + TOTP give a session token that
//! is stored only hashed; logout ends it; wrong factors and replayed codes
//! fail without saying which; repeated failures are slowed and locked out;
//! core actions need a request signed with the user's certificate, which is
//! bound to the method, path, body and a fresh nonce.

use crate::common::{SignedInUser, answer, enrol, request_as, totp_now};
use chrono::Utc;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use voltex_market::Market;
use voltex_security::{PlatformCa, Role};
use voltex_server::accounts::StoredSession;
use voltex_store::Store;

struct Running {
    base: String,
    market: Market,
    store: Store,
    client: Client,
    ca: PlatformCa,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Running {
    /// A server in its production identity mode (sessions), trusting a fresh CA.
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca_dir = dir.path().join("ca");
        let ca = PlatformCa::init(&ca_dir, "test", Utc::now()).unwrap();
        let store = Store::open_sqlite_dir(&dir.path().join("store"))
            .await
            .unwrap();
        let market = Market::open(store.clone()).await.unwrap();
        let (base, stop) = crate::common::serve_with_sessions(market.clone(), &ca_dir).await;
        Self {
            base,
            market,
            store,
            client: Client::new(),
            ca,
            _dir: dir,
            stop: Some(stop),
        }
    }

    async fn call(
        &self,
        who: Option<&SignedInUser>,
        sign: bool,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        answer(request_as(
            &self.client,
            &self.base,
            who,
            sign,
            method,
            path,
            body.as_ref(),
        ))
        .await
    }

    async fn login(&self, user: &str, password: &str, totp: &str) -> (StatusCode, Value) {
        self.call(
            None,
            false,
            "POST",
            "/api/v1/auth/login",
            Some(json!({"user": user, "password": password, "totp": totp})),
        )
        .await
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn password_and_totp_sign_in_gives_a_hashed_session_that_logout_ends() {
    let s = Running::start().await;
    let password = crate::common::TEST_PASSWORD;
    let secret = crate::common::staff_user(&s.market, "olga", Role::Operator).await;

    // Without a session: 401, never the data.
    let (st, body) = s.call(None, false, "GET", "/api/v1/members", None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(code(&body), "unauthenticated");
    // The X-Member-Id header of the foundation names no one in this mode.
    let (st, _) = answer(
        s.client
            .get(format!("{}/api/v1/members", s.base))
            .header("X-Member-Id", "operator"),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    // Wrong password, wrong code, unknown user: the same answer.
    for (user, pw, totp) in [
        ("olga", "not the passphrase", totp_now(&secret, "olga")),
        ("olga", password, "000000".to_owned()),
        ("nobody", password, totp_now(&secret, "olga")),
    ] {
        let (st, body) = s.login(user, pw, &totp).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(code(&body), "login_failed");
        assert_eq!(
            body["error"]["message"],
            "user, password or one-time password not accepted"
        );
    }

    let totp = totp_now(&secret, "olga");
    let (st, body) = s.login("olga", password, &totp).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("vxs_"));
    // The same one-time code is accepted once.
    let (st, body) = s.login("olga", password, &totp).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{body}");

    // The audit log names who signed in, and records the failures as denied.
    let tail = s.store.audit_tail(5).await.unwrap();
    let login_rows: Vec<(&str, &str)> = tail
        .iter()
        .filter(|r| r.action == "POST /api/v1/auth/login")
        .map(|r| (r.actor.as_str(), r.outcome.as_str()))
        .collect();
    assert_eq!(
        login_rows,
        [
            ("anonymous", "denied"),
            ("anonymous", "denied"),
            ("anonymous", "denied"),
            ("olga", "success"),
            ("anonymous", "denied"),
        ]
    );

    let olga = SignedInUser {
        user: "olga".into(),
        token: token.clone(),
        signer: None,
    };
    let (st, me) = s
        .call(Some(&olga), false, "GET", "/api/v1/auth/me", None)
        .await;
    assert_eq!(st, StatusCode::OK, "{me}");
    assert_eq!(me["role"], "operator");
    assert_eq!(me["acts_as"], "operator");
    let (st, _) = s
        .call(Some(&olga), false, "GET", "/api/v1/members", None)
        .await;
    assert_eq!(st, StatusCode::OK);

    // The store holds the token's hash, never the token.
    let sessions = s.store.list::<StoredSession>().await.unwrap();
    assert_eq!(sessions.len(), 1);
    let stored = serde_json::to_string(&sessions[0].value).unwrap();
    assert!(!stored.contains(&token));
    assert_eq!(
        sessions[0].value.record.token_sha256,
        voltex_security::session::token_sha256(&token)
    );
    let users = serde_json::to_string(
        &s.store
            .list::<voltex_server::accounts::User>()
            .await
            .unwrap()[0]
            .value,
    )
    .unwrap();
    assert!(
        !users.contains(password),
        "the password is stored only as its argon2id hash"
    );
    assert!(users.contains("$argon2id$"));

    let (st, _) = s
        .call(Some(&olga), false, "POST", "/api/v1/auth/logout", None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, body) = s
        .call(Some(&olga), false, "GET", "/api/v1/members", None)
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "session_invalid");
    // An invented token is refused the same way.
    let forged = SignedInUser {
        user: "olga".into(),
        token: "vxs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
        signer: None,
    };
    let (st, _) = s
        .call(Some(&forged), false, "GET", "/api/v1/auth/me", None)
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn repeated_failures_slow_the_account_down_and_even_the_right_password_waits() {
    let s = Running::start().await;
    let password = crate::common::TEST_PASSWORD;
    let secret = crate::common::staff_user(&s.market, "auditor1", Role::Auditor).await;
    // Three free failures, then the fourth is refused before any check.
    for _ in 0..3 {
        let (st, _) = s.login("auditor1", "wrong wrong wrong", "123456").await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    let (st, _) = s.login("auditor1", "wrong wrong wrong", "123456").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let resp = s
        .client
        .post(format!("{}/api/v1/auth/login", s.base))
        .json(&json!({"user": "auditor1", "password": password,
            "totp": totp_now(&secret, "auditor1")}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "first backoff is 2 s, got {wait}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(code(&body), "login_throttled");
    // After the wait the right factors work again.
    tokio::time::sleep(std::time::Duration::from_secs(wait + 1)).await;
    let (st, body) = s
        .login("auditor1", password, &totp_now(&secret, "auditor1"))
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
}

/// Registers `gen1` (active) with a unit and opens the day-ahead session,
/// as a signed-in operator with a certificate; answers the session id.
async fn market_with_open_session(s: &mut Running, operator: &SignedInUser) -> String {
    let (st, body) = s
        .call(
            None,
            false,
            "POST",
            "/api/v1/members",
            Some(json!({"id": "gen1", "name": "Gen One", "kind": "generator"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let (st, body) = s
        .call(
            Some(operator),
            true,
            "POST",
            "/api/v1/members/gen1/status",
            Some(json!({"status": "active"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let case = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/cases/pglib_opf_case5_pjm.m"),
    )
    .unwrap();
    // The network is not what this test is about: imported directly.
    let op = s.market.operator().await.unwrap();
    s.market
        .import_matpower(&op, &case, Some("pjm5"))
        .await
        .unwrap();
    let day = (Utc::now() + chrono::Duration::days(2)).date_naive();
    let (st, body) = s
        .call(
            Some(operator),
            true,
            "POST",
            "/api/v1/sessions",
            Some(json!({"market": "day_ahead_energy", "trading_day": day})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let id = body["value"]["id"].as_str().unwrap().to_owned();
    let (st, body) = s
        .call(
            Some(operator),
            true,
            "POST",
            &format!("/api/v1/sessions/{id}/open"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    id
}

#[tokio::test]
async fn core_actions_need_a_request_signed_with_the_users_certificate() {
    let mut s = Running::start().await;
    let mut ca = PlatformCa::open(&s._dir.path().join("ca")).unwrap();
    let operator = enrol(
        &s.market,
        &s.client,
        &s.base,
        "olga",
        Role::Operator,
        None,
        Some(&mut ca),
    )
    .await;

    // A valid session alone does not operate the market.
    let (st, body) = s
        .call(
            Some(&operator),
            false,
            "POST",
            "/api/v1/members/operator/status",
            Some(json!({"status": "active"})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(code(&body), "certificate_required");

    let session = market_with_open_session(&mut s, &operator).await;
    let trader = enrol(
        &s.market,
        &s.client,
        &s.base,
        "tom",
        Role::MemberTrader,
        Some("gen1"),
        Some(&mut ca),
    )
    .await;
    let viewer = enrol(
        &s.market,
        &s.client,
        &s.base,
        "vera",
        Role::MemberViewer,
        Some("gen1"),
        Some(&mut ca),
    )
    .await;
    s.ca = ca;

    let path = format!("/api/v1/sessions/{session}/declarations");
    let offer = json!({"kind": "daily_extras", "unit_id": "nonexistent"});
    // Unsigned: refused before the market sees it.
    let (st, body) = s
        .call(Some(&trader), false, "POST", &path, Some(offer.clone()))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(code(&body), "certificate_required");
    // A viewer may not declare even with a certificate.
    let (st, body) = s
        .call(Some(&viewer), true, "POST", &path, Some(offer.clone()))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(code(&body), "role_forbidden");
    // Signed by the trader: past authentication (the market then judges the body).
    let (st, body) = s
        .call(Some(&trader), true, "POST", &path, Some(offer.clone()))
        .await;
    assert!(
        !matches!(
            code(&body),
            "certificate_required" | "role_forbidden" | "request_signature_invalid"
        ),
        "{st} {body}"
    );

    // The signature binds the body: a signed request with a changed body fails.
    let signed = request_as(
        &s.client,
        &s.base,
        Some(&trader),
        true,
        "POST",
        &path,
        Some(&offer),
    );
    let mut tampered = signed.build().unwrap();
    *tampered.body_mut() = Some(
        serde_json::to_vec(&json!({"kind": "daily_extras", "unit_id": "other"}))
            .unwrap()
            .into(),
    );
    let resp = s.client.execute(tampered).await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(code(&body), "request_signature_invalid");

    // ... and is accepted once: the same signed request replayed is refused.
    let once = request_as(
        &s.client,
        &s.base,
        Some(&trader),
        true,
        "POST",
        &path,
        Some(&offer),
    )
    .build()
    .unwrap();
    let again = once.try_clone().unwrap();
    let first = s.client.execute(once).await.unwrap();
    assert_ne!(first.status(), StatusCode::FORBIDDEN);
    let second = s.client.execute(again).await.unwrap();
    assert_eq!(second.status(), StatusCode::FORBIDDEN);
    let body: Value = second.json().await.unwrap();
    assert_eq!(code(&body), "request_signature_invalid");

    // Another member's certificate does not prove this session's identity.
    let mut ca = PlatformCa::open(&s._dir.path().join("ca")).unwrap();
    let other = ca
        .issue_member("gen2", Role::MemberTrader, 30, Utc::now())
        .unwrap();
    let borrowed = SignedInUser {
        user: "tom".into(),
        token: trader.token.clone(),
        signer: Some(crate::common::RequestSigner::from(&other)),
    };
    let (st, body) = s
        .call(Some(&borrowed), true, "POST", &path, Some(offer.clone()))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(code(&body), "signer_mismatch");

    // A revoked certificate stops proving anything at once.
    let serial = voltex_security::trust::certificate_serial(
        &trader.signer.as_ref().unwrap().certificate_pem,
    )
    .unwrap();
    ca.revoke(
        &serial,
        voltex_security::RevokeReason::KeyCompromise,
        Utc::now(),
    )
    .unwrap();
    let (st, body) = s
        .call(Some(&trader), true, "POST", &path, Some(offer))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(code(&body), "certificate_refused");
}
