//! Hostile requests to every endpoint of the OpenAPI document, as the
//! running server publishes it at `/openapi.json`: path parameters of the
//! wrong type, huge, with `../`, percent-encoded NUL or bytes that are not
//! UTF-8, or naming another member's objects; query parameters likewise;
//! bodies of the wrong JSON types, nested 10,000 deep, near and over the
//! body limit, not UTF-8, with duplicate keys or numbers like `1e999`;
//! signed requests with a bad signature, an untrusted or another member's
//! certificate, a stale time, a short or replayed nonce; signed
//! declarations tampered, misaddressed or replayed; no token, an invented
//! token, another member's token.
//!
//! The cases come from a seeded generator (SplitMix64; set
//! `VOLTEX_FUZZ_SEED` and `VOLTEX_FUZZ_CASES` to explore further), so a
//! failure names the seed and the request and reproduces. Every case must
//! be answered (no panic killed the connection or the server), never with
//! a 5xx (a 503 only where the operation documents it), a refusal in the
//! error shape; a state-changing request must be refused, a read of another
//! member's private object too; and the store's rows are the same before
//! and after the whole batch.

use crate::common::{Platform, RequestSigner, SignedInUser};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::time::Duration;
use voltex_security::declaration::RequestToSign;
use voltex_security::{DeclarationEnvelope, PlatformCa, Role, SignedDeclaration};
use voltex_server::ServerConfig;
use voltex_server::limits::RateLimit;

const SESSION: &str = "DA-2026-11-22";
const DAY: &str = "2026-11-22";
/// Small enough that bodies near and over it are cheap to send.
const BODY_LIMIT: usize = 64 * 1024;
const DEFAULT_SEED: u64 = 0x766f_6c74_6578_2025;
/// Cases per operation; 62 operations make about 2,000 requests, which the
/// test build on two cores answers in a few seconds.
const DEFAULT_CASES: usize = 30;

/// SplitMix64: a seeded generator small enough to need no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One operation of the document.
#[derive(Debug, Clone)]
struct Operation {
    method: String,
    route: String,
    path_params: Vec<String>,
    /// (name, required)
    query_params: Vec<(String, bool)>,
    /// The request body's content type and schema (references resolved
    /// one level), if the operation takes one.
    body: Option<(String, Value)>,
    documents_503: bool,
    public: bool,
}

impl Operation {
    fn is_read(&self) -> bool {
        self.method == "GET"
    }
}

fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => doc.pointer(pointer).unwrap_or(v),
        None => v,
    }
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (route, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let mut path_params = Vec::new();
            let mut query_params = Vec::new();
            for p in op["parameters"].as_array().into_iter().flatten() {
                let p = resolve(doc, p);
                let name = p["name"].as_str().unwrap().to_owned();
                match p["in"].as_str() {
                    Some("path") => path_params.push(name),
                    Some("query") => {
                        query_params.push((name, p["required"].as_bool().unwrap_or(false)))
                    }
                    _ => {}
                }
            }
            let body = op["requestBody"]["content"]
                .as_object()
                .and_then(|c| c.iter().next())
                .map(|(ct, media)| (ct.clone(), resolve(doc, &media["schema"]).clone()));
            let responses = op["responses"].as_object().unwrap();
            out.push(Operation {
                method: method.to_ascii_uppercase(),
                route: route.clone(),
                path_params,
                query_params,
                body,
                documents_503: responses.contains_key("503"),
                public: op["security"].as_array().is_none_or(|s| s.is_empty()),
            });
        }
    }
    out
}

/// The properties of an object schema (of its first variant, for a
/// `oneOf`), resolved: `(name, type)`, the type `"object"` where unknown.
fn properties(doc: &Value, schema: &Value) -> Vec<(String, String)> {
    let schema = resolve(doc, schema);
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(first) = schema[key].as_array().and_then(|v| v.first()) {
            let inner = properties(doc, first);
            if !inner.is_empty() {
                return inner;
            }
        }
    }
    schema["properties"]
        .as_object()
        .map(|props| {
            props
                .iter()
                .map(|(name, s)| {
                    let s = resolve(doc, s);
                    let ty = match &s["type"] {
                        Value::String(t) => t.clone(),
                        Value::Array(ts) => ts
                            .iter()
                            .filter_map(Value::as_str)
                            .find(|t| *t != "null")
                            .unwrap_or("object")
                            .to_owned(),
                        _ => "object".to_owned(),
                    };
                    (name.clone(), ty)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A JSON value of another type than `ty`.
fn wrong_type(ty: &str, rng: &mut Rng) -> Value {
    let choices: &[Value] = &[
        json!("a string"),
        json!(-1),
        json!(1.5),
        json!(true),
        json!([]),
        json!({"nested": {}}),
        json!(""),
        json!("\u{0}"),
    ];
    loop {
        let v = rng.pick(choices).clone();
        let same = match ty {
            "string" => v.is_string(),
            "integer" => v.is_i64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "array" => v.is_array(),
            _ => v.is_object(),
        };
        if !same {
            return v;
        }
    }
}

/// The users and the objects the cases aim at.
struct World {
    p: Platform,
    operator: SignedInUser,
    gen1_admin: SignedInUser,
    gen1_trader: SignedInUser,
    gen2_trader: SignedInUser,
    /// gen1's token, but signing with gen2's certificate and key.
    gen1_with_gen2_certificate: SignedInUser,
    /// gen1's token, signing with a certificate of a CA the platform does
    /// not trust.
    gen1_with_untrusted_certificate: SignedInUser,
    invented_token: SignedInUser,
    /// gen2's accepted signed submission, to replay.
    gen2_submission: Value,
    _untrusted_ca: tempfile::TempDir,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Anonymous,
    InventedToken,
    Operator,
    Gen1Admin,
    Gen1Trader,
    Gen2Trader,
    Gen1WithGen2Certificate,
    Gen1WithUntrustedCertificate,
}

/// How the request proves certificate possession.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Proof {
    Signed,
    Unsigned,
    BadSignature,
    StaleTimestamp,
    ShortNonce,
    GarbageCertificate,
    /// Signed correctly, then sent a second time with the same nonce.
    Replayed,
}

/// Codes with which the authentication layer refuses.
const AUTH_REFUSALS: &[&str] = &[
    "unauthenticated",
    "session_invalid",
    "role_forbidden",
    "certificate_required",
    "request_signature_invalid",
    "signer_mismatch",
];

/// What the answer must be, beyond "not a 5xx".
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// A read by someone who may read it, or a refusal.
    Any,
    /// A refusal (4xx): the request would change state, or read another
    /// member's private object.
    Refused,
}

struct Case {
    label: String,
    method: String,
    path_and_query: String,
    body: Option<(String, Vec<u8>)>,
    who: Who,
    proof: Proof,
    expect: Expect,
    documents_503: bool,
}

fn offer(unit: &str) -> Value {
    json!({"kind": "energy_offer", "unit_id": unit,
        "intervals": vec![json!({"segments": [{"quantity_mw": 40.0, "price": 300.0}]}); 96]})
}

fn sign_declaration(signer: &RequestSigner, member: &str, unit: &str) -> SignedDeclaration {
    let key = format!("{SESSION}:energy_offer:{unit}");
    signer
        .key
        .sign(
            DeclarationEnvelope::new(member, key, 1, offer(unit)),
            &signer.serial,
        )
        .unwrap()
}

impl World {
    async fn start() -> Self {
        let p = Platform::start_with(ServerConfig {
            // The batch comes from one address and a few tokens: the rate
            // limits are not what is under test here.
            per_token: RateLimit::new(1e6, 1_000_000),
            per_address: RateLimit::new(1e6, 1_000_000),
            body_limit_bytes: BODY_LIMIT,
            ..ServerConfig::default()
        })
        .await;
        let operator = p.operator().await;
        for id in ["gen1", "gen2"] {
            let (st, body) = p
                .call(
                    "POST",
                    "/api/v1/members",
                    None,
                    Some(json!({"id": id, "name": format!("Member {id}"), "kind": "generator"})),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{body}");
            p.ok(
                "POST",
                &format!("/api/v1/members/{id}/status"),
                Some(&operator),
                Some(json!({"status": "active"})),
            )
            .await;
        }
        p.import_pjm5(&operator).await;
        let gen1_admin = p
            .user("gen1-admin", Role::MemberAdministrator, Some("gen1"))
            .await;
        let gen2_admin = p
            .user("gen2-admin", Role::MemberAdministrator, Some("gen2"))
            .await;
        for (admin, member, unit, bus) in [
            (&gen1_admin, "gen1", "alta1", 1),
            (&gen2_admin, "gen2", "beta1", 3),
        ] {
            let (st, body) = p
                .call(
                    "POST",
                    "/api/v1/units",
                    Some(admin),
                    Some(unit_body(unit, member, bus)),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{body}");
        }
        let (st, body) = p
            .call(
                "POST",
                "/api/v1/sessions",
                Some(&operator),
                Some(json!({"market": "day_ahead_energy", "trading_day": DAY})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
        p.ok(
            "POST",
            &format!("/api/v1/sessions/{SESSION}/open"),
            Some(&operator),
            None,
        )
        .await;
        let gen1_trader = p
            .user("gen1-trader", Role::MemberTrader, Some("gen1"))
            .await;
        let gen2_trader = p
            .user("gen2-trader", Role::MemberTrader, Some("gen2"))
            .await;
        let signed = sign_declaration(gen2_trader.signer(), "gen2", "beta1");
        let gen2_submission = json!({"declaration": signed,
            "certificate_pem": gen2_trader.signer().certificate_pem});
        let (st, body) = p
            .call(
                "POST",
                &format!("/api/v1/sessions/{SESSION}/declarations/signed"),
                Some(&gen2_trader),
                Some(gen2_submission.clone()),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{body}");

        let untrusted_ca = tempfile::tempdir().unwrap();
        let mut evil = PlatformCa::init(
            &untrusted_ca.path().join("ca"),
            "not the platform",
            chrono::Utc::now(),
        )
        .unwrap();
        let evil_gen1 = evil
            .issue_member("gen1", Role::MemberTrader, 30, chrono::Utc::now())
            .unwrap();
        let gen2_cert = p.issue("gen2", Role::MemberTrader);
        World {
            gen1_with_gen2_certificate: SignedInUser {
                user: "gen1-trader".into(),
                token: gen1_trader.token.clone(),
                signer: Some(RequestSigner::from(&gen2_cert)),
            },
            gen1_with_untrusted_certificate: SignedInUser {
                user: "gen1-trader".into(),
                token: gen1_trader.token.clone(),
                signer: Some(RequestSigner::from(&evil_gen1)),
            },
            invented_token: SignedInUser::unknown("mallory"),
            p,
            operator,
            gen1_admin,
            gen1_trader,
            gen2_trader,
            gen2_submission,
            _untrusted_ca: untrusted_ca,
        }
    }

    fn user(&self, who: Who) -> Option<&SignedInUser> {
        match who {
            Who::Anonymous => None,
            Who::InventedToken => Some(&self.invented_token),
            Who::Operator => Some(&self.operator),
            Who::Gen1Admin => Some(&self.gen1_admin),
            Who::Gen1Trader => Some(&self.gen1_trader),
            Who::Gen2Trader => Some(&self.gen2_trader),
            Who::Gen1WithGen2Certificate => Some(&self.gen1_with_gen2_certificate),
            Who::Gen1WithUntrustedCertificate => Some(&self.gen1_with_untrusted_certificate),
        }
    }
}

fn unit_body(unit: &str, member: &str, bus: u32) -> Value {
    json!({
        "id": unit, "member_id": member, "name": unit, "technology": "coal", "bus": bus,
        "pmin_mw": 0.0, "pmax_mw": 200.0, "ramp_up_mw_per_min": 4.0, "ramp_down_mw_per_min": 4.0,
        "min_up_time_h": 4.0, "min_down_time_h": 4.0, "startup_cost": 20000.0
    })
}

/// A path parameter's value naming gen1's (own) object, or for `foreign`,
/// gen2's; `None` where the parameter names nothing a member owns.
fn param_value(route: &str, name: &str, foreign: bool) -> Option<String> {
    let (member, unit, user) = if foreign {
        ("gen2", "beta1", "gen2-trader")
    } else {
        ("gen1", "alta1", "gen1-trader")
    };
    let owned = |v: &str| Some(v.to_owned());
    match name {
        "id" if route.starts_with("/api/v1/members/") => owned(member),
        "id" if route.starts_with("/api/v1/units/") => owned(unit),
        "id" if route.starts_with("/api/v1/users/") => owned(user),
        "key" => Some(format!("{SESSION}:energy_offer:{unit}")),
        "member" => owned(member),
        _ if foreign => None,
        "id" if route.starts_with("/api/v1/sessions/") => owned(SESSION),
        "id" if route.starts_with("/api/v1/publications/") => owned("no-such-publication"),
        "id" if route.starts_with("/api/v1/notifications/") => owned("no-such-notification"),
        "version" => owned("1"),
        "day" => owned(DAY),
        "market" => owned("day_ahead_energy"),
        "name" => owned("pjm5"),
        _ => owned("x"),
    }
}

/// Percent-encodes everything but unreserved characters, so that the URL
/// is sent (and signed) exactly as built.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Hostile path segments, already encoded for the URL.
fn hostile_segment(rng: &mut Rng) -> String {
    let raw: &[&str] = &[
        "abc",
        "-1",
        "0",
        "99999999999999999999",
        "1e999",
        "0x10",
        "%00",
        "gen1%00",
        "%00%00%00",
        "%FF%FE",
        "%C0%AE%C0%AE%C0%AF",
        "..%2F..%2Fusers",
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2E%2E%2F%2E%2E%2Faudit",
        "..%5C..%5Cwindows",
        "%0D%0AX-Injected:%201",
        "%27%3BDROP%20TABLE%20members%3B--",
        "%7Bid%7D",
        "*",
        "%E8%8F%AF%E9%9B%BB",
        "%F0%9F%92%A5",
        "%20",
        "DA-2026-13-45",
        "2026-02-30",
        "9999-12-31",
        "DA-2026-11-22:energy_offer:",
        "DA-2026-11-22:%00:alta1",
        ":::",
    ];
    match rng.below(10) {
        // Long: near the URI limit, and over it.
        0 => "a".repeat(voltex_server::limits::MAX_URI_BYTES - 200),
        1 => "b".repeat(voltex_server::limits::MAX_URI_BYTES + 1),
        _ => (*rng.pick(raw)).to_owned(),
    }
}

fn hostile_query_value(rng: &mut Rng) -> String {
    let raw: &[&str] = &[
        "%00",
        "%FF",
        "1e999",
        "-1",
        "99999999999999999999",
        "energy_offer%26kind%3Ddemand_bid",
        "..%2F..%2Fetc",
        "",
        "true",
        "%5B%5D",
    ];
    if rng.chance(10) {
        "q".repeat(3000)
    } else {
        (*rng.pick(raw)).to_owned()
    }
}

/// A query string for the operation: its parameters with valid values,
/// one made hostile (or dropped, or doubled) when `hostile`.
fn query(op: &Operation, rng: &mut Rng, hostile: bool) -> String {
    fn valid(name: &str) -> &'static str {
        match name {
            "kind" => "energy_offer",
            "format" => "csv",
            "name" => "fuzzcase",
            "limit" => "10",
            _ => "gen1",
        }
    }
    let mut parts: Vec<String> = Vec::new();
    let target = if hostile && !op.query_params.is_empty() {
        Some(rng.below(op.query_params.len()))
    } else {
        None
    };
    for (i, (name, required)) in op.query_params.iter().enumerate() {
        if Some(i) == target {
            match rng.below(4) {
                0 => {} // dropped
                1 => parts.push(format!("{name}={}&{name}={}", valid(name), valid(name))),
                _ => parts.push(format!("{name}={}", hostile_query_value(rng))),
            }
        } else if *required {
            parts.push(format!("{name}={}", valid(name)));
        }
    }
    if hostile && (op.query_params.is_empty() || rng.chance(20)) {
        parts.push(format!("colour={}", hostile_query_value(rng)));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// A hostile body for `op` (schema-driven where it has a JSON schema),
/// with its content type and what it is.
fn hostile_body(doc: &Value, op: &Operation, rng: &mut Rng) -> (String, String, Vec<u8>) {
    let (content_type, schema) = op
        .body
        .clone()
        .unwrap_or_else(|| ("application/json".into(), Value::Null));
    let props = properties(doc, &schema);
    let json = |v: Value| serde_json::to_vec(&v).unwrap();
    let (what, bytes): (&str, Vec<u8>) = match rng.below(13) {
        0 => (
            "wrong top-level type",
            rng.pick(&["[]", "\"x\"", "0", "null", "true", "[{}]"])
                .as_bytes()
                .to_vec(),
        ),
        1 if !props.is_empty() => {
            let mut m = serde_json::Map::new();
            for (name, ty) in &props {
                m.insert(name.clone(), wrong_type(ty, rng));
            }
            ("every property of the wrong type", json(Value::Object(m)))
        }
        2 => ("10,000 nested arrays", "[".repeat(10_000).into_bytes()),
        3 => (
            "10,000 nested objects",
            "{\"a\":".repeat(10_000).into_bytes(),
        ),
        4 => {
            let name = props.first().map_or("id", |(n, _)| n.as_str());
            let fill = BODY_LIMIT - 64;
            (
                "a string just under the body limit",
                format!("{{\"{name}\": \"{}\"}}", "x".repeat(fill)).into_bytes(),
            )
        }
        5 => (
            "a body over the limit",
            format!("{{\"id\": \"{}\"}}", "y".repeat(BODY_LIMIT + 1)).into_bytes(),
        ),
        6 => (
            "bytes that are not UTF-8",
            b"{\"id\": \"\xff\xfe\xc0\xae\", \"name\": \"\xed\xa0\x80\"}".to_vec(),
        ),
        7 if !props.is_empty() => {
            let (name, ty) = &props[rng.below(props.len())];
            let a = serde_json::to_string(&wrong_type(ty, rng)).unwrap();
            (
                "a duplicate key",
                format!("{{\"{name}\": {a}, \"{name}\": {a}}}").into_bytes(),
            )
        }
        8 => {
            let name = props.first().map_or("price", |(n, _)| n.as_str());
            let n = rng.pick(&["1e999", "-1e999", "1e-999", "123456789012345678901234567890"]);
            (
                "an overflowing number",
                format!("{{\"{name}\": {n}, \"kind\": {n}}}").into_bytes(),
            )
        }
        9 => (
            "an empty body",
            if rng.chance(50) {
                Vec::new()
            } else {
                b"   ".to_vec()
            },
        ),
        10 => (
            "truncated JSON",
            b"{\"id\": \"gen1\", \"name\": ".to_vec(),
        ),
        11 => (
            "a JSON string with escapes that are not characters",
            b"{\"id\": \"\\ud800\\udfff\\u0000\", \"name\": \"\\uDEAD\"}".to_vec(),
        ),
        _ if content_type.starts_with("text/") => (
            "text that is no case or file",
            rng.pick(&[
                "mpc.bus = [1 2 3;\nmpc.gen = [\n];",
                "function mpc = x\nmpc.baseMVA = 1e999;\nmpc.bus = [1 3 0 0 0 0 1 1 0 230 1 1.1 0.9];",
                "session_id,member_id\n\"unterminated",
                "<! Code=GBK !>\n<Declaration::EnergyOffer>\n@ a\n# \u{0}\n",
                // Characters whose UTF-8 bytes include 0x85 or 0xA0.
                "mpc.baseMVA = 100;\nmpc.bus = [1 3 à 0;\n];",
                "session_id,member_id,unit_id\nDA-2026-11-22,gen1,\u{11b05}\n",
            ])
            .as_bytes()
            .to_vec(),
        ),
        _ => (
            "unknown fields only",
            json(json!({"unexpected": 1, "__proto__": {"admin": true}})),
        ),
    };
    let what = if what.starts_with("text") {
        format!("{what}: {:?}", String::from_utf8_lossy(&bytes))
    } else {
        what.to_owned()
    };
    // Sometimes the content type lies.
    let content_type = if rng.chance(10) {
        rng.pick(&[
            "text/plain",
            "application/json",
            "application/x-www-form-urlencoded",
        ])
        .to_string()
    } else {
        content_type
    };
    (what, content_type, bytes)
}

/// Signed-declaration submissions that must be refused.
fn hostile_submission(w: &World, rng: &mut Rng) -> (String, Who, Vec<u8>) {
    let gen1 = w.gen1_trader.signer();
    let gen2_pem = &w.gen2_trader.signer().certificate_pem;
    let body = |s: &SignedDeclaration, pem: &str| {
        serde_json::to_vec(&json!({"declaration": s, "certificate_pem": pem})).unwrap()
    };
    match rng.below(6) {
        0 => {
            let mut s = sign_declaration(gen1, "gen1", "alta1");
            s.envelope.body["intervals"][0]["segments"][0]["price"] = json!(3000.0);
            (
                "a body changed after signing".into(),
                Who::Gen1Trader,
                body(&s, &gen1.certificate_pem),
            )
        }
        1 => {
            let s = sign_declaration(gen1, "gen1", "alta1");
            (
                "gen1's signature with gen2's certificate".into(),
                Who::Gen1Trader,
                body(&s, gen2_pem),
            )
        }
        2 => {
            let evil = w.gen1_with_untrusted_certificate.signer();
            let s = sign_declaration(evil, "gen1", "alta1");
            (
                "a certificate of an untrusted CA".into(),
                Who::Gen1Trader,
                body(&s, &evil.certificate_pem),
            )
        }
        3 => (
            "gen2's signed declaration sent with gen1's token".into(),
            Who::Gen1Trader,
            serde_json::to_vec(&w.gen2_submission).unwrap(),
        ),
        4 => (
            "gen2's accepted signed declaration, replayed".into(),
            Who::Gen2Trader,
            serde_json::to_vec(&w.gen2_submission).unwrap(),
        ),
        _ => {
            let mut s = sign_declaration(gen1, "gen1", "alta1");
            s.signature = rng
                .pick(&["", "AAAA", "!!!not base64!!!", "\u{0}"])
                .to_string();
            (
                "a signature that is not one".into(),
                Who::Gen1Trader,
                body(&s, &gen1.certificate_pem),
            )
        }
    }
}

/// Who signs for a route: the operator for operator routes, gen1's staff
/// for members' ones.
fn own_signer(route: &str, method: &str, rng: &mut Rng) -> Who {
    let member_routes = [
        "/api/v1/members/{id}",
        "/api/v1/units",
        "/api/v1/load-resources",
        "/api/v1/users",
    ];
    if route.contains("declarations") && method != "GET" {
        Who::Gen1Trader
    } else if member_routes.iter().any(|r| route.starts_with(r)) && rng.chance(50) {
        Who::Gen1Admin
    } else if rng.chance(20) {
        Who::Gen1Trader
    } else {
        Who::Operator
    }
}

/// Builds the path of `op` with every parameter valid except, when
/// `hostile` is given, that one.
fn path(op: &Operation, hostile: Option<(&str, &str)>) -> String {
    let mut path = op.route.clone();
    for name in &op.path_params {
        let value = match hostile {
            Some((h, v)) if h == name => v.to_owned(),
            _ => encode(&param_value(&op.route, name, false).unwrap()),
        };
        path = path.replace(&format!("{{{name}}}"), &value);
    }
    path
}

fn cases_for(doc: &Value, w: &World, op: &Operation, rng: &mut Rng, n: usize) -> Vec<Case> {
    let mut out = Vec::new();
    let foreign_param = op
        .path_params
        .iter()
        .find(|name| param_value(&op.route, name, true).is_some())
        .cloned();
    let signed_body = op.route.ends_with("/declarations/signed");
    while out.len() < n {
        let mut case = Case {
            label: String::new(),
            method: op.method.clone(),
            path_and_query: path(op, None),
            body: None,
            who: own_signer(&op.route, &op.method, rng),
            proof: Proof::Signed,
            expect: if op.is_read() {
                Expect::Any
            } else {
                Expect::Refused
            },
            documents_503: op.documents_503,
        };
        // Every state-changing case carries at least one hostile part;
        // which parts a case has is drawn here.
        let kind = rng.below(6);
        match kind {
            0 | 1 if !op.path_params.is_empty() => {
                let name = rng.pick(&op.path_params).clone();
                let value = hostile_segment(rng);
                case.label = format!("path {{{name}}} = {value:.60}");
                case.path_and_query = path(op, Some((&name, &value)));
            }
            2 if op.body.is_some() || signed_body => {
                if signed_body {
                    let (what, who, bytes) = hostile_submission(w, rng);
                    case.label = what;
                    case.who = who;
                    case.body = Some(("application/json".into(), bytes));
                } else {
                    let (what, ct, bytes) = hostile_body(doc, op, rng);
                    case.label = format!("body: {what} ({ct})");
                    case.body = Some((ct, bytes));
                }
            }
            3 if foreign_param.is_some() => {
                // Another member's object, asked for by gen1's staff.
                let name = foreign_param.clone().unwrap();
                let value = encode(&param_value(&op.route, &name, true).unwrap());
                case.label = format!("gen2's {{{name}}} = {value}, as gen1");
                case.path_and_query = path(op, Some((&name, &value)));
                case.who = if op.route.contains("declarations") && !op.is_read() {
                    Who::Gen1Trader
                } else {
                    *rng.pick(&[Who::Gen1Admin, Who::Gen1Trader])
                };
                if !op.public {
                    case.expect = Expect::Refused;
                }
                if let Some((ct, _)) = &op.body {
                    let valid = match op.route.as_str() {
                        "/api/v1/units/{id}" => unit_body("beta1", "gen2", 3),
                        "/api/v1/members/{id}" => json!({"name": "taken over"}),
                        "/api/v1/members/{id}/status" => json!({"status": "suspended"}),
                        _ => json!({}),
                    };
                    case.body = Some((ct.clone(), serde_json::to_vec(&valid).unwrap()));
                }
            }
            // An unknown parameter is ignored where none are declared, so
            // a state-changing route gets it only with a hostile body.
            4 if !op.query_params.is_empty() || (op.is_read() && rng.chance(30)) => {
                case.path_and_query += &query(op, rng, true);
                case.label = format!("query {}", case.path_and_query);
                if !op.is_read() && op.body.is_some() {
                    let (what, ct, bytes) = hostile_body(doc, op, rng);
                    let _ = write!(case.label, ", body: {what}");
                    case.body = Some((ct, bytes));
                }
            }
            _ => {
                // The caller or its proof is wrong.
                let (who, proof) = match rng.below(9) {
                    0 => (Who::Anonymous, Proof::Unsigned),
                    1 => (Who::InventedToken, Proof::Unsigned),
                    2 => (Who::Gen1WithGen2Certificate, Proof::Signed),
                    3 => (Who::Gen1WithUntrustedCertificate, Proof::Signed),
                    4 => (case.who, Proof::BadSignature),
                    5 => (case.who, Proof::StaleTimestamp),
                    6 => (case.who, Proof::ShortNonce),
                    7 => (case.who, Proof::GarbageCertificate),
                    _ => (case.who, Proof::Unsigned),
                };
                case.label = format!("{who:?} with proof {proof:?}");
                case.who = who;
                case.proof = proof;
                // Public routes and plain sign-in routes take no proof, so
                // a state-changing case needs a hostile body there too.
                if !op.is_read() && op.body.is_some() {
                    let (what, ct, bytes) = hostile_body(doc, op, rng);
                    let _ = write!(case.label, ", body: {what}");
                    case.body = Some((ct, bytes));
                } else if !op.is_read() && (op.public || op.route == "/api/v1/auth/logout") {
                    // Nothing hostile left to add: only an anonymous or
                    // invented caller is refused for sure.
                    if !matches!(who, Who::Anonymous | Who::InventedToken) {
                        continue;
                    }
                } else if !op.is_read() && !op.path_params.is_empty() {
                    let name = rng.pick(&op.path_params).clone();
                    let value = hostile_segment(rng);
                    let _ = write!(case.label, ", path {{{name}}} = {value:.40}");
                    case.path_and_query = path(op, Some((&name, &value)));
                }
            }
        }
        if case.label.is_empty() {
            continue;
        }
        // A hostile body on a route without one rides along with a
        // hostile path (never alone: the route would ignore it).
        if case.body.is_none() && !op.is_read() && kind <= 1 && rng.chance(50) {
            let (what, ct, bytes) = hostile_body(doc, op, rng);
            let _ = write!(case.label, ", body: {what}");
            case.body = Some((ct, bytes));
        }
        // A refused signed request replayed must be refused again.
        if case.proof == Proof::Signed && case.expect == Expect::Refused && rng.chance(25) {
            case.proof = Proof::Replayed;
            case.label += ", replayed";
        }
        // The logout route ends the session of whoever calls it.
        if op.route == "/api/v1/auth/logout"
            && !matches!(case.who, Who::Anonymous | Who::InventedToken)
        {
            continue;
        }
        out.push(case);
    }
    out
}

/// One request of a case, as built: the reqwest request and, for a replay,
/// a copy to send again.
fn build(w: &World, case: &Case, rng: &mut Rng) -> reqwest::Request {
    let mut req =
        w.p.client
            .request(
                case.method.parse().unwrap(),
                format!("{}{}", w.p.base, case.path_and_query),
            )
            .timeout(Duration::from_secs(30));
    let mut bytes = Vec::new();
    if let Some((ct, b)) = &case.body {
        req = req.header("content-type", ct.as_str()).body(b.clone());
        bytes = b.clone();
    }
    let mut req = req.build().unwrap();
    let Some(user) = w.user(case.who) else {
        return req;
    };
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {}", user.token).parse().unwrap(),
    );
    let Some(signer) = &user.signer else {
        return req;
    };
    if case.proof == Proof::Unsigned {
        return req;
    }
    // What the server will see (and check the signature over).
    let path_and_query = match req.url().query() {
        Some(q) => format!("{}?{q}", req.url().path()),
        None => req.url().path().to_owned(),
    };
    let mut ts = chrono::Utc::now().timestamp();
    if case.proof == Proof::StaleTimestamp {
        ts -= 10 * 24 * 3600;
    }
    let nonce = if case.proof == Proof::ShortNonce {
        "abc".to_owned()
    } else {
        format!("{:016x}{:016x}", rng.next(), rng.next())
    };
    let to_sign = RequestToSign::new(
        &signer.member_id,
        &case.method,
        &path_and_query,
        &bytes,
        ts,
        &nonce,
    );
    let mut signature = signer.key.sign_request(&to_sign).unwrap();
    if case.proof == Proof::BadSignature {
        signature = if rng.chance(50) {
            // A valid signature of another request.
            let other = RequestToSign::new(&signer.member_id, "GET", "/", b"", ts, &nonce);
            signer.key.sign_request(&other).unwrap()
        } else {
            "AAAA".into()
        };
    }
    use base64::Engine;
    let certificate = if case.proof == Proof::GarbageCertificate {
        rng.pick(&["", "!!!", "LS0tLS1CRUdJTg==", "\u{7f}"])
            .to_string()
    } else {
        base64::engine::general_purpose::STANDARD.encode(&signer.certificate_pem)
    };
    for (name, value) in [
        ("x-voltex-signature", signature),
        ("x-voltex-certificate", certificate),
        ("x-voltex-timestamp", ts.to_string()),
        ("x-voltex-nonce", nonce),
    ] {
        if let Ok(v) = value.parse() {
            req.headers_mut().insert(name, v);
        }
    }
    req
}

/// Sends a request; answers the status and body, or why none came.
async fn send(w: &World, req: reqwest::Request) -> Result<(StatusCode, Value), String> {
    let stream = req.url().path().ends_with("/stream");
    let resp = w.p.client.execute(req).await.map_err(|e| e.to_string())?;
    let status = resp.status();
    if stream && status.is_success() {
        // The notification stream never ends; its opening is the answer.
        return Ok((status, Value::Null));
    }
    let text = resp.text().await.map_err(|e| e.to_string())?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

/// What is wrong with an answer to `case`, if anything.
fn judge(case: &Case, status: StatusCode, body: &Value) -> Option<String> {
    if status.is_server_error()
        && !(status == StatusCode::SERVICE_UNAVAILABLE && case.documents_503)
    {
        return Some(format!("answered {status}"));
    }
    if case.expect == Expect::Refused && status.is_success() {
        return Some(format!("accepted with {status}"));
    }
    if status.is_client_error() && body["error"]["code"].as_str().is_none_or(|c| c.is_empty()) {
        return Some(format!("refused with {status} outside the error shape"));
    }
    None
}

/// A request sent over a raw connection, for what an HTTP client would
/// normalise or refuse to send: literal dot segments, raw bytes that are
/// not UTF-8, a NUL in the path.
async fn raw_request(addr: std::net::SocketAddr, head: &[u8]) -> Result<u16, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    s.write_all(head).await.map_err(|e| e.to_string())?;
    // Every head asks for `connection: close`, so a server that answers also
    // closes. Half-closing at once instead would race the answer: a server
    // that sees the client's end of stream may drop a request in flight.
    let mut buf = Vec::new();
    let first = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut buf)).await;
    if first.is_err() && buf.is_empty() {
        // No answer yet: the server waits for a body that never ends. The
        // client sends nothing more; its end of stream ends the body here.
        s.shutdown().await.map_err(|e| e.to_string())?;
        let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
        if read.is_err() && buf.is_empty() {
            return Err("no answer in 10 s".into());
        }
    }
    let text = String::from_utf8_lossy(&buf);
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {text:.200}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_hostile_requests_without_5xx_or_state_change() {
    let seed = env_or("VOLTEX_FUZZ_SEED", DEFAULT_SEED);
    let per_operation = env_or("VOLTEX_FUZZ_CASES", DEFAULT_CASES);
    let w = World::start().await;
    let (status, doc) = w.p.call("GET", "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let ops = operations(&doc);
    assert!(
        ops.len() >= 60,
        "the document lists {} operations",
        ops.len()
    );

    // Rows per table, auth_sessions left out (crate::common::row_counts): any
    // request with a live token, refused or not, may note its session's
    // last use. The audit log is not among the versioned tables counted:
    // the audit middleware rightly appends a row for every refused
    // state-changing request (who tried what, and how it ended).
    // The customer-service assistant seeds its knowledge base on first use;
    // open it now so that the first hostile request to it (refused) is not
    // the one that seeds.
    let (status, _) =
        w.p.call(
            "POST",
            "/api/v1/assist/ask",
            Some(&w.gen1_trader),
            Some(serde_json::json!({"question": "when does gate closure happen"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "the assistant answers");
    let before = crate::common::row_counts(&w.p.store).await;
    let mut rng = Rng(seed);
    let mut failures: Vec<String> = Vec::new();
    let mut sent = 0usize;
    // Answers by status and error code, and how many signed cases got past
    // authentication: without those the batch would test only the
    // authentication layer.
    let mut outcomes: std::collections::BTreeMap<(u16, String), usize> = Default::default();
    let mut reached_handlers = 0usize;
    let started = std::time::Instant::now();
    for op in &ops {
        for case in cases_for(&doc, &w, op, &mut rng, per_operation) {
            let req = build(&w, &case, &mut rng);
            let replay = (case.proof == Proof::Replayed).then(|| req.try_clone().unwrap());
            let mut answers = vec![send(&w, req).await];
            if let Some(again) = replay {
                answers.push(send(&w, again).await);
            }
            sent += answers.len();
            for (i, answer) in answers.iter().enumerate() {
                let verdict = match answer {
                    Err(e) => Some(format!("no answer: {e}")),
                    Ok((status, body)) => {
                        let code = body["error"]["code"].as_str().unwrap_or_default();
                        *outcomes
                            .entry((status.as_u16(), code.to_owned()))
                            .or_default() += 1;
                        if case.proof == Proof::Signed && !AUTH_REFUSALS.contains(&code) {
                            reached_handlers += 1;
                        }
                        let replayed_accepted = i == 1 && status.is_success();
                        judge(&case, *status, body).or_else(|| {
                            replayed_accepted.then(|| format!("replay accepted with {status}"))
                        })
                    }
                };
                if let Some(v) = verdict {
                    let body = answer
                        .as_ref()
                        .map(|(_, b)| b.to_string())
                        .unwrap_or_default();
                    failures.push(format!(
                        "{} {} [{}] as {:?}: {v}\n    {:.300}",
                        case.method, case.path_and_query, case.label, case.who, body
                    ));
                }
            }
        }
        // The server still answers (no panic took it down).
        let (status, _) = w.p.call("GET", "/health", None, None).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the server stopped answering after {} {}",
            op.method,
            op.route
        );
    }

    // What no client library sends.
    for (what, head) in [
        (
            "literal dot segments",
            &b"GET /api/v1/members/../../openapi.json HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"[..],
        ),
        (
            "raw bytes that are not UTF-8 in the path",
            &b"GET /api/v1/sessions/\xff\xfe HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"[..],
        ),
        (
            "a raw NUL in the path",
            &b"GET /api/v1/sessions/a\x00b HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"[..],
        ),
        (
            "a body longer than its content-length says, on a signed route",
            &b"POST /api/v1/sessions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}{\"market\": 1}"[..],
        ),
        (
            "a chunked body that never ends",
            &b"POST /api/v1/members HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n5\r\n{\"id\"\r\nzz\r\n"[..],
        ),
    ] {
        sent += 1;
        match raw_request(w.p.addr(), head).await {
            Ok(code) if code >= 500 => failures.push(format!("raw request, {what}: answered {code}")),
            Ok(_) => {}
            Err(e) => failures.push(format!("raw request, {what}: {e}")),
        }
    }
    let (status, _) = w.p.call("GET", "/health", None, None).await;
    assert_eq!(status, StatusCode::OK, "the server stopped answering");

    let after = crate::common::row_counts(&w.p.store).await;
    let changed: Vec<String> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b != a)
        .map(|((t, b), (_, a))| format!("{t}: {b} -> {a}"))
        .collect();
    eprintln!(
        "api fuzz: seed={seed:#x} operations={} requests={sent} failures={} \
         signed_cases_past_authentication={reached_handlers} in {:.1} s",
        ops.len(),
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    for ((status, code), n) in &outcomes {
        eprintln!("  {status} {code}: {n}");
    }
    assert!(
        reached_handlers * 5 > sent,
        "only {reached_handlers} of {sent} requests passed authentication: the signing is broken"
    );
    assert!(
        failures.is_empty() && changed.is_empty(),
        "seed {seed:#x}: {} of {sent} hostile requests answered wrongly; rows changed: {changed:?}\n{}",
        failures.len(),
        failures.join("\n")
    );
}
