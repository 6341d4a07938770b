//! `--flood`: the legitimate members declare at a moderate rate (100 a
//! second in all), first alone and then while one extra client — its own
//! member, its own user, its own source address 127.0.0.2 — sends the same
//! signed declaration as fast as 64 connections allow. The server runs with
//! its default rate limits here. Reported: the legitimate p99 unloaded and
//! under flood, and what the flooder got.
use crate::load::{
    Acknowledged, LatencySummary, LoadOptions, Owned, Tally, Traders, declarers, timed,
};
use crate::offers::{energy_offer, sign_in, signed_submission};
use crate::platform::BenchPlatform;
use crate::{LoadgenError, Result};
use indicatif::ProgressBar;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Connections of the flooder.
const FLOOD_CONNECTIONS: usize = 64;
/// The legitimate rate during the flood measurement, all connections.
const LEGITIMATE_PER_SECOND: f64 = 100.0;

/// What the flood measurement found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FloodReport {
    pub unloaded: LatencySummary,
    pub flooded: LatencySummary,
    pub flood_sent: u64,
    /// The flooder's answers by code (`accepted` for a 201).
    pub flood_answers: BTreeMap<String, u64>,
}

impl FloodReport {
    /// Legitimate p99 under flood over unloaded (target below 2).
    pub fn ratio(&self) -> f64 {
        self.flooded.p99_ms / self.unloaded.p99_ms.max(1e-9)
    }
}

/// Measures the legitimate load without and with the flooder, each for half
/// of `options.seconds` (at least 2 s).
pub(crate) async fn measure(
    platform: &BenchPlatform,
    traders: &Traders,
    owned: &[Owned],
    options: &LoadOptions,
    progress: &ProgressBar,
) -> Result<(FloodReport, Vec<Acknowledged>)> {
    let seconds = (options.seconds / 2.0).max(2.0);
    let interval = Duration::from_secs_f64(owned.len() as f64 / LEGITIMATE_PER_SECOND);
    let legitimate =
        |pace: crate::load::Pace| declarers(traders, owned, &pace, options.seed ^ 0xf100d);
    let (unloaded, _) = timed(seconds, progress, "unloaded", legitimate, Some(interval)).await;

    let (account, credential, subject) = &platform.flooder;
    let client = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .pool_max_idle_per_host(FLOOD_CONNECTIONS * 2)
        .timeout(Duration::from_secs(60))
        .build()?;
    let token = sign_in(&client, &traders.base, account).await?;
    let body = energy_offer(&subject.unit_id, subject.pmax_mw, subject.base_price);
    let (_, payload) = signed_submission(credential, &subject.session_id, &body, 1)?;
    let url = format!(
        "{}/api/v1/sessions/{}/declarations/signed",
        traders.base, subject.session_id
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut flooders = tokio::task::JoinSet::new();
    for _ in 0..FLOOD_CONNECTIONS {
        let (client, url, token, payload, stop) = (
            client.clone(),
            url.clone(),
            token.clone(),
            payload.clone(),
            stop.clone(),
        );
        flooders.spawn(async move {
            let mut answers: BTreeMap<String, u64> = BTreeMap::new();
            while !stop.load(Ordering::Relaxed) {
                let sent = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(payload.clone())
                    .send()
                    .await;
                let code = match sent {
                    Ok(r) if r.status() == reqwest::StatusCode::CREATED => "accepted".to_owned(),
                    Ok(r) => {
                        let status = r.status();
                        r.json::<serde_json::Value>()
                            .await
                            .ok()
                            .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
                            .unwrap_or_else(|| format!("http_{}", status.as_u16()))
                    }
                    Err(_) => "no_answer".to_owned(),
                };
                *answers.entry(code).or_default() += 1;
            }
            answers
        });
    }
    let (flooded, _) = timed(seconds, progress, "under flood", legitimate, Some(interval)).await;
    stop.store(true, Ordering::Relaxed);
    let mut flood_answers: BTreeMap<String, u64> = BTreeMap::new();
    while let Some(done) = flooders.join_next().await {
        for (code, n) in done.map_err(|e| LoadgenError::Server(e.to_string()))? {
            *flood_answers.entry(code).or_default() += n;
        }
    }
    let mut acknowledged = Vec::new();
    let mut latency = |t: Tally| {
        acknowledged.extend(t.acknowledged);
        LatencySummary::of(t.latencies_us)
    };
    let report = FloodReport {
        unloaded: latency(unloaded),
        flooded: latency(flooded),
        flood_sent: flood_answers.values().sum(),
        flood_answers,
    };
    Ok((report, acknowledged))
}
