//! Every refusal answers in the API's one error shape,
//! `{"error": {"code", "message", "details"}}`, including those axum or the
//! HTTP layer would otherwise answer in plain text or empty: a body over
//! the limit, a text body that is not UTF-8, a URI too long, JSON that does
//! not parse or comes without its content type, an unknown route, a method
//! the route does not have, a path or query that does not parse. Each is
//! sent to a real server, by a caller the access rule admits, so that what
//! refuses is the layer under test.

use crate::common::{Platform, SignedInUser, answer};
use reqwest::StatusCode;
use serde_json::{Value, json};
use voltex_server::ServerConfig;

const BODY_LIMIT: usize = 64 * 1024;

/// Asserts the status and that the body is the error shape with `code`
/// and a message.
fn assert_refusal(what: &str, status: StatusCode, body: &Value, want: StatusCode, code: &str) {
    assert_eq!(status, want, "{what}: {body}");
    assert_eq!(body["error"]["code"], code, "{what}: {body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{what}: no message in {body}");
    assert!(body["error"]["details"].is_array(), "{what}: {body}");
}

/// A platform with a small body limit, its operator, and member `gen1`
/// (approved) with its trader.
async fn platform() -> (Platform, SignedInUser, SignedInUser) {
    let p = Platform::start_with(ServerConfig {
        body_limit_bytes: BODY_LIMIT,
        ..ServerConfig::default()
    })
    .await;
    let op = p.operator().await;
    let (st, body) = p
        .call(
            "POST",
            "/api/v1/members",
            None,
            Some(json!({"id": "gen1", "name": "Member gen1", "kind": "generator"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    p.ok(
        "POST",
        "/api/v1/members/gen1/status",
        Some(&op),
        Some(json!({"status": "active"})),
    )
    .await;
    let trader = p.staff_of("gen1").await.trader;
    (p, op, trader)
}

#[tokio::test]
async fn a_signed_declaration_over_the_body_limit_is_refused_as_413_in_the_error_shape() {
    let (p, _, trader) = platform().await;
    let (st, body) = p
        .call_raw(
            "POST",
            "/api/v1/sessions/DA-2030-01-01/declarations/signed",
            Some(&trader),
            "application/json",
            vec![b' '; BODY_LIMIT + 1],
        )
        .await;
    assert_refusal(
        "signed declaration",
        st,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
    );
}

#[tokio::test]
async fn a_matpower_case_that_is_not_utf8_is_refused_in_the_error_shape() {
    let (p, op, _) = platform().await;
    let (st, body) = p
        .call_raw(
            "POST",
            "/api/v1/networks/matpower?name=broken",
            Some(&op),
            "text/plain",
            vec![b'm', b'p', 0xff, 0xfe, b'\n'],
        )
        .await;
    assert_refusal(
        "matpower",
        st,
        &body,
        StatusCode::BAD_REQUEST,
        "malformed_text",
    );
    let (st, body) = p
        .call_raw(
            "POST",
            "/api/v1/networks/matpower?name=big",
            Some(&op),
            "text/plain",
            vec![b'%'; BODY_LIMIT + 1],
        )
        .await;
    assert_refusal(
        "matpower",
        st,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
    );
}

#[tokio::test]
async fn a_declaration_file_over_the_body_limit_is_refused_in_the_error_shape() {
    let (p, _, trader) = platform().await;
    let (st, body) = p
        .call_raw(
            "POST",
            "/api/v1/sessions/DA-2030-01-01/declarations/import?kind=energy_offer&format=csv",
            Some(&trader),
            "text/csv",
            vec![b','; BODY_LIMIT + 1],
        )
        .await;
    assert_refusal(
        "import",
        st,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
    );
}

#[tokio::test]
async fn a_uri_over_the_limit_is_refused_as_414_in_the_error_shape() {
    let (p, _, _) = platform().await;
    let long = format!(
        "/api/v1/sessions?{}",
        "a".repeat(voltex_server::limits::MAX_URI_BYTES)
    );
    let (st, body) = answer(p.client.get(format!("{}{long}", p.base))).await;
    assert_refusal(
        "long uri",
        st,
        &body,
        StatusCode::URI_TOO_LONG,
        "uri_too_long",
    );
}

#[tokio::test]
async fn axum_rejections_answer_in_the_error_shape() {
    let (p, op, _) = platform().await;
    let url = |path: &str| format!("{}{path}", p.base);

    let (st, body) = answer(
        p.client
            .post(url("/api/v1/members"))
            .header("content-type", "application/json")
            .body("{\"id\": "),
    )
    .await;
    assert_refusal(
        "json syntax",
        st,
        &body,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    );

    let (st, body) = answer(
        p.client
            .post(url("/api/v1/members"))
            .body(r#"{"id": "gen2", "name": "Member gen2", "kind": "generator"}"#),
    )
    .await;
    assert_refusal(
        "no content type",
        st,
        &body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );

    let (st, body) = answer(p.client.get(url("/api/v1/no-such-thing"))).await;
    assert_refusal(
        "unknown route",
        st,
        &body,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    let resp = p
        .client
        .delete(url("/api/v1/sessions"))
        .send()
        .await
        .unwrap();
    let allow = resp.headers().get("allow").cloned();
    let (st, body) = (resp.status(), resp.json::<Value>().await.unwrap());
    assert_refusal(
        "unknown method",
        st,
        &body,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
    let allow = allow.expect("405 keeps its Allow header");
    assert!(allow.to_str().unwrap().contains("GET"), "{allow:?}");

    let (st, body) = answer(
        p.client
            .get(url("/api/v1/market-parameters/no_such_market")),
    )
    .await;
    assert_refusal(
        "path that does not parse",
        st,
        &body,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );

    let (st, body) = p
        .call("GET", "/api/v1/units?colour=red", Some(&op), None)
        .await;
    assert_refusal(
        "query that does not parse",
        st,
        &body,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
}
