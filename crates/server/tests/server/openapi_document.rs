//! The OpenAPI document as an outside tool reads it: every `$ref` resolves
//! to a component, every operation has a unique operationId and its
//! answers, every operation that is not public declares its security
//! schemes (the session, and for core permissions the signed-request
//! headers or mutual TLS) and lists its 401 and 403 answers in the one
//! error schema; and every documented operation is routed by the server.
//! No validator crate for OpenAPI 3.1 works offline on crates.io, so the
//! references are resolved here.
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeSet;
use voltex_security::roles::Permission;

fn document() -> Value {
    serde_json::to_value(voltex_server::openapi_document()).unwrap()
}

/// Every operation: (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(METHODS.contains(&method.as_str()), "{path}: {method}");
            out.push((method.clone(), path.clone(), op.clone()));
        }
    }
    out
}

/// Every `$ref` in `v`, with where it was found.
fn refs(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    out.push((at.to_owned(), x.as_str().unwrap_or_default().to_owned()));
                } else {
                    refs(x, &format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                refs(x, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// A local reference (`#/components/...`) resolved as a JSON pointer.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    let pointer = pointer.replace("~1", "/").replace("~0", "~");
    doc.pointer(&pointer)
}

fn permission(scope: &str) -> Permission {
    Permission::ALL
        .into_iter()
        .find(|p| p.as_str() == scope)
        .unwrap_or_else(|| panic!("scope {scope} is not a permission"))
}

#[test]
fn the_document_is_openapi_3_1_with_paths_and_components() {
    let doc = document();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(doc["info"]["title"], "Voltex API");
    assert!(doc["info"]["version"].is_string());
    assert_eq!(operations(&doc).len(), 87);
    for path in doc["paths"].as_object().unwrap().keys() {
        assert!(path.starts_with('/'), "{path}");
    }
}

#[test]
fn every_reference_resolves_to_a_component_of_the_document() {
    let doc = document();
    let mut found = Vec::new();
    refs(&doc, "#", &mut found);
    assert!(found.len() > 100, "the document refers to its schemas");
    let broken: Vec<String> = found
        .iter()
        .filter(|(_, r)| resolve(&doc, r).is_none())
        .map(|(at, r)| format!("{at}: {r}"))
        .collect();
    assert!(
        broken.is_empty(),
        "unresolved references:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_file_operations_describe_their_format_parameter() {
    let doc = document();
    let format = &doc["components"]["schemas"]["FileFormat"];
    assert!(format.is_object(), "FileFormat is a component");
    let text = format.to_string();
    assert!(text.contains("csv") && text.contains("efile"), "{text}");
}

#[test]
fn every_operation_has_a_unique_operation_id_and_its_answers() {
    let doc = document();
    let mut ids = BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap_or_default().to_owned();
        assert!(!id.is_empty(), "{method} {path} has no operationId");
        assert!(ids.insert(id.clone()), "operationId {id} is used twice");
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{method} {path} documents no success"
        );
        for (status, r) in responses {
            assert!(
                r["description"].is_string(),
                "{method} {path} {status} has no description"
            );
        }
    }
}

#[test]
fn every_security_requirement_names_a_declared_scheme() {
    let doc = document();
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    for name in [
        "bearer",
        "voltex_signature",
        "voltex_certificate",
        "voltex_timestamp",
        "voltex_nonce",
        "mutual_tls",
    ] {
        assert!(schemes.contains_key(name), "scheme {name} is not declared");
    }
    let headers: BTreeSet<&str> = schemes
        .values()
        .filter(|s| s["type"] == "apiKey")
        .map(|s| {
            assert_eq!(s["in"], "header");
            s["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        headers,
        BTreeSet::from([
            "X-Voltex-Certificate",
            "X-Voltex-Nonce",
            "X-Voltex-Signature",
            "X-Voltex-Timestamp"
        ])
    );
    for (method, path, op) in operations(&doc) {
        for requirement in op["security"].as_array().into_iter().flatten() {
            for name in requirement.as_object().unwrap().keys() {
                assert!(schemes.contains_key(name), "{method} {path}: {name}");
            }
        }
    }
}

#[test]
fn every_operation_that_is_not_public_declares_the_session_and_its_refusals() {
    let doc = document();
    let error_body = "#/components/schemas/ErrorBody";
    let mut public = 0;
    for (method, path, op) in operations(&doc) {
        let what = format!("{method} {path}");
        let security = op["security"]
            .as_array()
            .unwrap_or_else(|| panic!("{what} declares no security"));
        assert!(!security.is_empty(), "{what}");
        let anonymous = security.iter().any(|r| r.as_object().unwrap().is_empty());
        let r401 = &op["responses"]["401"];
        assert_eq!(
            r401["content"]["application/json"]["schema"]["$ref"], error_body,
            "{what}: 401"
        );
        if anonymous {
            public += 1;
            continue;
        }
        let mut scoped = false;
        for r in security {
            let r = r.as_object().unwrap();
            assert!(r.contains_key("bearer"), "{what}: {r:?} lacks the session");
            let scopes = r["bearer"].as_array().unwrap();
            scoped |= !scopes.is_empty();
            let proved = r.contains_key("mutual_tls") || r.contains_key("voltex_signature");
            if r.contains_key("voltex_signature") {
                for h in ["voltex_certificate", "voltex_timestamp", "voltex_nonce"] {
                    assert!(r.contains_key(h), "{what}: a signature needs {h}");
                }
            }
            // A core permission always comes with its proof of possession,
            // except where the body is itself signed.
            let signed_body = path.ends_with("/declarations/signed");
            for s in scopes {
                let p = permission(s.as_str().unwrap());
                assert_eq!(
                    proved,
                    p.is_core() && !signed_body,
                    "{what}: {p:?} and proof {proved}"
                );
            }
        }
        if scoped {
            assert_eq!(
                op["responses"]["403"]["content"]["application/json"]["schema"]["$ref"], error_body,
                "{what}: 403"
            );
        }
    }
    assert_eq!(public, 14, "public operations");
}

#[tokio::test]
async fn every_documented_operation_is_routed_by_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let store = voltex_store::Store::open_sqlite_dir(&dir.path().join("store"))
        .await
        .unwrap();
    let market = voltex_market::Market::open(store).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(voltex_server::serve_on(market, listener, async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let mut unrouted = Vec::new();
    for (method, path, _) in operations(&document()) {
        let concrete = path
            .replace("{market}", "day_ahead_energy")
            .replace("{day}", "2030-01-01")
            .replace("{version}", "1");
        let concrete = fill_parameters(&concrete);
        let resp = client
            .request(
                method.to_uppercase().parse().unwrap(),
                format!("{base}{concrete}"),
            )
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let message = body["error"]["message"].as_str().unwrap_or_default();
        if status == StatusCode::METHOD_NOT_ALLOWED || message.starts_with("no endpoint at") {
            unrouted.push(format!("{method} {path}: {status} {body}"));
        }
    }
    let _ = stop.send(());
    assert!(
        unrouted.is_empty(),
        "documented but not routed:\n{}",
        unrouted.join("\n")
    );
}

/// Fills the remaining `{name}` parameters with `x`.
fn fill_parameters(path: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push('x');
            }
            '}' => inside = false,
            _ if inside => {}
            _ => out.push(c),
        }
    }
    out
}
