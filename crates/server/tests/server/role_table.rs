//! Every endpoint of the OpenAPI document, called by every role, by an
//! anonymous client, and by a foreign member's staff, on a market that has
//! run a whole demo day (so there are real sessions, declarations,
//! publications and statements to reach for).
//!
//! The expected table below is written out by hand, independently of the
//! server's route table (`routes::api`, which declares each endpoint's
//! access rule once and from it builds the router's access check and the
//! OpenAPI document's `security`), so a change to who may call what must
//! change both: the table is checked against the document's security
//! requirements and against the running server. A call is "admitted" when
//! the authentication layer let it through (the handler may still refuse the
//! dummy body: 404, 409, 422 are fine).

use crate::common::{SignedInUser, answer, enrol, request_as};
use chrono::Utc;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use voltex_demo::{DemoOptions, DemoSummary};
use voltex_market::Market;
use voltex_security::{PlatformCa, Role};
use voltex_store::Store;

/// (method, route, who is admitted). Letters: O operator, A member
/// administrator, T member trader, V member viewer, U auditor, `*` anyone
/// including anonymous callers. A `!` after a letter: that role needs the
/// certificate proof (a signed request) here; unsigned it gets
/// `certificate_required`.
const EXPECTED: &[(&str, &str, &str)] = &[
    ("GET", "/health", "*"),
    ("GET", "/metrics", "*"),
    ("GET", "/openapi.json", "*"),
    ("POST", "/api/v1/auth/login", "*"),
    ("GET", "/api/v1/auth/me", "OATVU"),
    ("POST", "/api/v1/users", "O!A"),
    ("GET", "/api/v1/users", "O!A"),
    ("POST", "/api/v1/users/{id}/disable", "O!A"),
    ("GET", "/api/v1/audit", "OU"),
    ("GET", "/api/v1/audit/verify", "OU"),
    ("POST", "/api/v1/members", "*"),
    ("GET", "/api/v1/members", "OATVU"),
    ("GET", "/api/v1/members/{id}", "OATVU"),
    ("PATCH", "/api/v1/members/{id}", "O!A"),
    ("GET", "/api/v1/members/{id}/history", "OATVU"),
    ("POST", "/api/v1/members/{id}/status", "O!A"),
    ("GET", "/api/v1/members/{id}/export", "OATVU"),
    ("POST", "/api/v1/units", "O!A"),
    ("GET", "/api/v1/units", "OATVU"),
    ("GET", "/api/v1/units/{id}", "OATVU"),
    ("PUT", "/api/v1/units/{id}", "O!A"),
    ("POST", "/api/v1/load-resources", "O!A"),
    ("GET", "/api/v1/load-resources", "OATVU"),
    ("POST", "/api/v1/networks", "O!"),
    ("GET", "/api/v1/networks", "*"),
    ("POST", "/api/v1/networks/matpower", "O!"),
    ("GET", "/api/v1/networks/{name}", "*"),
    ("GET", "/api/v1/market-parameters", "*"),
    ("GET", "/api/v1/market-parameters/{market}", "*"),
    ("PUT", "/api/v1/market-parameters/{market}", "O!"),
    ("POST", "/api/v1/sessions", "O!"),
    ("GET", "/api/v1/sessions", "*"),
    ("GET", "/api/v1/sessions/{id}", "*"),
    ("POST", "/api/v1/sessions/{id}/open", "O!"),
    ("POST", "/api/v1/sessions/{id}/close", "O!"),
    ("POST", "/api/v1/sessions/{id}/declarations", "T!"),
    ("GET", "/api/v1/sessions/{id}/declarations", "OATVU"),
    ("POST", "/api/v1/sessions/{id}/declarations/signed", "T"),
    ("GET", "/api/v1/declarations/{key}", "OATVU"),
    (
        "GET",
        "/api/v1/declarations/{key}/versions/{version}/receipt",
        "OATVU",
    ),
    ("POST", "/api/v1/sessions/{id}/declarations/import", "T!"),
    ("GET", "/api/v1/sessions/{id}/declarations/export", "OATVU"),
    ("GET", "/api/v1/sessions/{id}/grid-information", "*"),
    ("GET", "/api/v1/sessions/{id}/gate", "OU"),
    ("POST", "/api/v1/sessions/{id}/clear", "O!"),
    ("GET", "/api/v1/sessions/{id}/clearing-run", "OU"),
    ("GET", "/api/v1/sessions/{id}/regulation-run", "OU"),
    ("POST", "/api/v1/sessions/{id}/publish", "O!"),
    ("GET", "/api/v1/sessions/{id}/publications", "*"),
    ("GET", "/api/v1/publications/{id}", "*"),
    ("POST", "/api/v1/publications/{id}/corrections", "O!"),
    ("GET", "/api/v1/reviews", "OU"),
    (
        "POST",
        "/api/v1/declarations/{key}/versions/{version}/review",
        "O!",
    ),
    (
        "GET",
        "/api/v1/declarations/{key}/versions/{version}/copy",
        "OATVU",
    ),
    ("PUT", "/api/v1/metered-load", "O!"),
    ("POST", "/api/v1/days/{day}/settle", "O!"),
    ("GET", "/api/v1/days/{day}/statements", "OATVU"),
    ("GET", "/api/v1/days/{day}/statements/{member}", "OATVU"),
    ("GET", "/api/v1/notifications", "O!ATV"),
    ("GET", "/api/v1/notifications/stream", "O!ATV"),
    ("POST", "/api/v1/notifications/{id}/read", "O!ATV"),
    ("POST", "/api/v1/days/{day}/evaluation", "O!"),
    ("GET", "/api/v1/days/{day}/alerts", "OU"),
    ("GET", "/api/v1/days/{day}/portraits/{member}", "OATVU"),
    ("GET", "/api/v1/days/{day}/statistics", "OATVU"),
    ("GET", "/api/v1/months/{month}/statistics", "OATVU"),
    ("PUT", "/api/v1/units/{id}/reference-level", "O!"),
    ("POST", "/api/v1/units/{id}/outages", "O!T!"),
    // The retail book: only the retail roles (none of the letters here;
    // they are tested in retail.rs).
    ("GET", "/api/v1/retail/customers", ""),
    ("GET", "/api/v1/retail/customers/{id}", ""),
    ("GET", "/api/v1/retail/customers/{id}/history", ""),
    ("GET", "/api/v1/retail/customers/{id}/contracts", ""),
    ("GET", "/api/v1/retail/customers/{id}/invoices/{month}", ""),
    (
        "GET",
        "/api/v1/retail/customers/{id}/invoices/{month}/versions",
        "",
    ),
    ("GET", "/api/v1/retail/months/{month}/invoices", ""),
    (
        "GET",
        "/api/v1/retail/months/{month}/deviation-warnings",
        "",
    ),
    ("GET", "/api/v1/retail/packages", ""),
    ("GET", "/api/v1/retail/forecasts/{day}", ""),
    ("GET", "/api/v1/retail/customers/{id}/energy-report", ""),
    ("POST", "/api/v1/retail/meter-data", ""),
    ("POST", "/api/v1/assist/ask", "OATVU"),
    ("POST", "/api/v1/assist/questions/{id}/down-vote", "OATVU"),
    ("GET", "/api/v1/assist/queue", "OU"),
    ("GET", "/api/v1/assist/statistics", "OU"),
    ("POST", "/api/v1/assist/queue/{id}/answer", "O!"),
    ("POST", "/api/v1/assist/entries/{id}/approve", "O!"),
    // Last: it ends the caller's session.
    ("POST", "/api/v1/auth/logout", "OATVU"),
];

/// Codes with which the authentication layer refuses.
const AUTH_REFUSALS: &[&str] = &[
    "unauthenticated",
    "session_invalid",
    "role_forbidden",
    "certificate_required",
    "request_signature_invalid",
    "signer_mismatch",
];

struct World {
    base: String,
    client: Client,
    market: Market,
    summary: DemoSummary,
    day: chrono::NaiveDate,
    own: String,
    foreign: String,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Runs a demo day into a fresh store and serves it in the production
/// identity mode (sessions, roles, certificate proofs).
async fn world() -> (World, PlatformCa) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite_dir(&dir.path().join("store"))
        .await
        .unwrap();
    let market = Market::open(store).await.unwrap();
    let day = (Utc::now() + chrono::Duration::days(1)).date_naive();
    let summary = voltex_demo::run(&market, &DemoOptions::bundled(day))
        .await
        .unwrap();
    // Two generators that both declared: one is "ours", the other foreign.
    let declared: BTreeSet<&str> = summary
        .declarations
        .iter()
        .map(|d| d.member_id.as_str())
        .collect();
    let mut owners = summary
        .units
        .iter()
        .map(|u| u.member_id.clone())
        .filter(|m| declared.contains(m.as_str()))
        .collect::<BTreeSet<_>>()
        .into_iter();
    let own = owners.next().unwrap();
    let foreign = owners.next().unwrap();

    let ca_dir = dir.path().join("ca");
    let ca = PlatformCa::init(&ca_dir, "test", Utc::now()).unwrap();
    let (base, stop) = crate::common::serve_with_sessions(market.clone(), &ca_dir).await;
    (
        World {
            base,
            client: Client::new(),
            market,
            summary,
            day,
            own,
            foreign,
            _dir: dir,
            stop: Some(stop),
        },
        ca,
    )
}

impl World {
    fn da_session(&self) -> &str {
        &self.summary.session_id
    }

    fn declaration_key(&self, member: &str) -> String {
        let d = self
            .summary
            .declarations
            .iter()
            .find(|d| d.member_id == member)
            .unwrap();
        format!("{}:{}:{}", self.summary.session_id, d.kind, d.subject)
    }

    fn unit_of(&self, member: &str) -> String {
        self.summary
            .units
            .iter()
            .find(|u| u.member_id == member)
            .unwrap()
            .id
            .clone()
    }

    /// A concrete path for a route, naming objects of `member`.
    fn path(&self, route: &str, member: &str) -> String {
        let id = if route.starts_with("/api/v1/members/") {
            member.to_owned()
        } else if route.starts_with("/api/v1/units/") {
            self.unit_of(member)
        } else if route.starts_with("/api/v1/users/") {
            "nobody".to_owned()
        } else if route.starts_with("/api/v1/publications/") {
            "no-such-publication".to_owned()
        } else if route.starts_with("/api/v1/notifications/") {
            "no-such-notification".to_owned()
        } else {
            self.da_session().to_owned()
        };
        route
            .replace("{id}", &id)
            .replace("{key}", &self.declaration_key(member))
            .replace("{version}", "1")
            .replace("{day}", &self.trading_day())
            .replace("{month}", &self.day.format("%Y-%m").to_string())
            .replace("{member}", member)
            .replace("{market}", "day_ahead_energy")
            .replace("{name}", "pjm5")
    }

    fn trading_day(&self) -> String {
        self.day.to_string()
    }

    /// Status and error code of one call (the event stream is only opened).
    async fn outcome(
        &self,
        who: Option<&SignedInUser>,
        sign: bool,
        method: &str,
        path: &str,
    ) -> (StatusCode, String, Value) {
        let body = (method != "GET").then(|| json!({}));
        let req = request_as(
            &self.client,
            &self.base,
            who,
            sign,
            method,
            path,
            body.as_ref(),
        );
        if path.ends_with("/stream") {
            let resp = req.send().await.unwrap();
            let status = resp.status();
            let body: Value = if status.is_success() {
                Value::Null
            } else {
                resp.json().await.unwrap_or(Value::Null)
            };
            let code = body["error"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            return (status, code, body);
        }
        let (status, body) = answer(req).await;
        let code = body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        (status, code, body)
    }
}

fn admitted(status: StatusCode, code: &str) -> bool {
    status != StatusCode::UNAUTHORIZED && !AUTH_REFUSALS.contains(&code)
}

#[tokio::test]
async fn every_endpoint_admits_exactly_the_roles_the_table_names() {
    let (w, mut ca) = world().await;
    let own = w.own.clone();
    let roles = [
        ('O', Role::Operator, None),
        ('A', Role::MemberAdministrator, Some(own.as_str())),
        ('T', Role::MemberTrader, Some(own.as_str())),
        ('V', Role::MemberViewer, Some(own.as_str())),
        ('U', Role::Auditor, None),
    ];
    let mut users = Vec::new();
    for (letter, role, member) in roles {
        let id = format!("user-{}", role.as_str());
        users.push((
            letter,
            enrol(
                &w.market,
                &w.client,
                &w.base,
                &id,
                role,
                member,
                Some(&mut ca),
            )
            .await,
        ));
    }

    // The table covers the OpenAPI document exactly.
    let (_, doc) = answer(w.client.get(format!("{}/openapi.json", w.base))).await;
    let mut documented = BTreeSet::new();
    for (route, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), route.clone()));
        }
    }
    let listed: BTreeSet<(String, String)> = EXPECTED
        .iter()
        .map(|(m, r, _)| (m.to_string(), r.to_string()))
        .collect();
    assert_eq!(
        documented, listed,
        "the expected table and the OpenAPI document list different endpoints"
    );

    let mut wrong = Vec::new();
    for (method, route, who) in EXPECTED {
        let path = w.path(route, &own);
        let (st, code, body) = w.outcome(None, false, method, &path).await;
        let want = who.contains('*');
        if admitted(st, &code) != want {
            wrong.push(format!("{method} {route} anonymous: {st} {body}"));
        }
        for (letter, user) in &users {
            let want = who.contains('*') || who.contains(*letter);
            let (st, code, body) = w.outcome(Some(user), true, method, &path).await;
            if admitted(st, &code) != want {
                wrong.push(format!("{method} {route} {letter} signed: {st} {body}"));
            }
            if !want && st != StatusCode::FORBIDDEN {
                wrong.push(format!(
                    "{method} {route} {letter}: refused with {st}, not 403"
                ));
            }
            let needs_proof = who.contains(&format!("{letter}!"));
            if needs_proof {
                let (st, code, body) = w.outcome(Some(user), false, method, &path).await;
                if code != "certificate_required" {
                    wrong.push(format!(
                        "{method} {route} {letter} unsigned: want certificate_required, got {st} {body}"
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} mismatches:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[tokio::test]
async fn a_foreign_members_staff_reach_none_of_a_members_private_data() {
    let (w, mut ca) = world().await;
    let (own, foreign) = (w.own.clone(), w.foreign.clone());
    let mut outsiders = Vec::new();
    for role in [
        Role::MemberAdministrator,
        Role::MemberTrader,
        Role::MemberViewer,
    ] {
        let id = format!("outsider-{}", role.as_str());
        outsiders.push(
            enrol(
                &w.market,
                &w.client,
                &w.base,
                &id,
                role,
                Some(&foreign),
                Some(&mut ca),
            )
            .await,
        );
    }
    // Valid bodies, so that what refuses is the tenant rule, not the shape.
    let unit =
        serde_json::to_value(w.summary.units.iter().find(|u| u.member_id == own).unwrap()).unwrap();
    let copy_query = format!("?session={}", w.da_session());
    let targeted: Vec<(&str, &str, &str, Option<Value>)> = vec![
        ("GET", "/api/v1/members/{id}", "", None),
        (
            "PATCH",
            "/api/v1/members/{id}",
            "",
            Some(json!({"name": "taken over"})),
        ),
        ("GET", "/api/v1/members/{id}/history", "", None),
        (
            "POST",
            "/api/v1/members/{id}/status",
            "",
            Some(json!({"status": "exited"})),
        ),
        ("GET", "/api/v1/members/{id}/export", "", None),
        ("GET", "/api/v1/units/{id}", "", None),
        ("PUT", "/api/v1/units/{id}", "", Some(unit)),
        ("GET", "/api/v1/declarations/{key}", "", None),
        (
            "GET",
            "/api/v1/declarations/{key}/versions/{version}/receipt",
            "",
            None,
        ),
        (
            "GET",
            "/api/v1/declarations/{key}/versions/{version}/copy",
            &copy_query,
            None,
        ),
        ("GET", "/api/v1/days/{day}/statements/{member}", "", None),
        ("GET", "/api/v1/days/{day}/portraits/{member}", "", None),
        (
            "POST",
            "/api/v1/units/{id}/outages",
            "",
            Some(
                json!({"trading_day": w.trading_day(), "unit_id": "x", "outage_mw": 1.0, "reason": "not mine"}),
            ),
        ),
    ];
    let mut wrong = Vec::new();
    for user in &outsiders {
        for (method, route, query, body) in &targeted {
            let path = format!("{}{query}", w.path(route, &own));
            let req = request_as(
                &w.client,
                &w.base,
                Some(user),
                true,
                method,
                &path,
                body.as_ref(),
            );
            let (st, body) = answer(req).await;
            if !(st == StatusCode::FORBIDDEN || st == StatusCode::NOT_FOUND) {
                wrong.push(format!("{} {method} {path}: {st} {body}", user.user));
            }
        }
        // Lists show the caller's own member only.
        for path in [
            "/api/v1/members".to_owned(),
            "/api/v1/units".to_owned(),
            "/api/v1/load-resources".to_owned(),
            format!("/api/v1/sessions/{}/declarations", w.da_session()),
            format!("/api/v1/days/{}/statements", w.trading_day()),
            "/api/v1/notifications".to_owned(),
            "/api/v1/users".to_owned(),
        ] {
            let (st, _, body) = w.outcome(Some(user), true, "GET", &path).await;
            if body.to_string().contains(&format!("\"{own}\"")) {
                wrong.push(format!(
                    "{} GET {path}: {st} shows {own}: {body}",
                    user.user
                ));
            }
        }
    }
    // A foreign administrator cannot give itself a user at another member.
    let admin = &outsiders[0];
    let (st, _, body) = {
        let req = request_as(
            &w.client,
            &w.base,
            Some(admin),
            true,
            "POST",
            "/api/v1/users",
            Some(
                &json!({"id": "infiltrator", "role": "member-trader", "member_id": own,
                "password": "a long enough passphrase"}),
            ),
        );
        let (st, body) = answer(req).await;
        (st, (), body)
    };
    if st != StatusCode::FORBIDDEN {
        wrong.push(format!("admin created a user at {own}: {st} {body}"));
    }
    // A foreign trader's signed offer for this member's unit is refused.
    let (st, _, body) = w
        .outcome(
            Some(&outsiders[1]),
            true,
            "POST",
            &format!("/api/v1/sessions/{}/declarations", w.da_session()),
        )
        .await;
    if st.is_success() {
        wrong.push(format!("foreign declaration accepted: {st} {body}"));
    }
    assert!(
        wrong.is_empty(),
        "{} leaks:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The roles an operation's documented `security` admits, in the table's
/// letters: `*` when an anonymous caller may call; otherwise each role one
/// of the requirements admits (no `bearer` scopes: any signed-in user; else
/// a role holding one of the scopes), with `!` when every requirement that
/// admits it also needs the proof of possession (signed-request headers or
/// mutual TLS).
fn documented_letters(op: &Value) -> String {
    let requirements: Vec<&serde_json::Map<String, Value>> = op["security"]
        .as_array()
        .expect("every operation declares its security")
        .iter()
        .map(|r| r.as_object().unwrap())
        .collect();
    if requirements.iter().any(|r| r.is_empty()) {
        return "*".into();
    }
    let letters = [
        ('O', Role::Operator),
        ('A', Role::MemberAdministrator),
        ('T', Role::MemberTrader),
        ('V', Role::MemberViewer),
        ('U', Role::Auditor),
    ];
    let mut out = String::new();
    for (letter, role) in letters {
        let admitting: Vec<_> = requirements
            .iter()
            .filter(|r| {
                let scopes = r["bearer"].as_array().unwrap();
                scopes.is_empty()
                    || scopes.iter().any(|s| {
                        voltex_security::roles::Permission::ALL
                            .into_iter()
                            .any(|p| p.as_str() == s && role.permits(p))
                    })
            })
            .collect();
        if admitting.is_empty() {
            continue;
        }
        out.push(letter);
        if admitting
            .iter()
            .all(|r| r.contains_key("voltex_signature") || r.contains_key("mutual_tls"))
        {
            out.push('!');
        }
    }
    out
}

#[test]
fn the_documents_security_admits_exactly_the_roles_the_table_names() {
    let doc = serde_json::to_value(voltex_server::openapi_document()).unwrap();
    let mut wrong = Vec::new();
    for (method, route, who) in EXPECTED {
        let op = &doc["paths"][route][method.to_lowercase()];
        let documented = documented_letters(op);
        if documented != *who {
            wrong.push(format!(
                "{method} {route}: table {who}, document {documented}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
