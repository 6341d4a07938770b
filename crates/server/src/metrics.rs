//! Prometheus metrics: request counts and latencies by route and status, and
//! declaration outcomes. The recorder is process-global (the `metrics`
//! facade), installed once however many routers a process builds.
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                LATENCY_BUCKETS,
            )
            .expect("static bucket list is not empty")
            .install_recorder()
            .expect("no other metrics recorder is installed in this process")
    })
}

/// Middleware: times every request and labels it by its route template
/// (`/api/v1/members/{id}`, not the concrete path, to keep cardinality bounded).
pub async fn track(req: Request, next: Next) -> Response {
    handle();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    response
}

pub fn declaration_outcome(accepted: bool) {
    let result = if accepted { "accepted" } else { "rejected" };
    metrics::counter!("voltex_declarations_total", "result" => result).increment(1);
}
