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
