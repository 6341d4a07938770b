//! `--online N`: N members' traders hold the notification stream
//! (`GET /api/v1/notifications/stream`, Server-Sent Events) open while the
//! load runs; the operator opens a new session a few times (a session state
//! change notifies every member) and each subscriber notes when the
//! notification naming that session arrived. Reported per publication: how
//! many subscribers got it within the wait, and the p99 and maximum delay
//! from the moment the operator's request was sent.
use crate::load::{LatencySummary, Traders};
use crate::offers::{retry_after, sign_in, signed_request};
use crate::platform::BenchPlatform;
use crate::{LoadgenError, Result};
use chrono::Days;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Publications made during one load.
const PUBLICATIONS: usize = 3;
/// How long a publication is waited for after the load.
const GRACE: Duration = Duration::from_secs(2);

/// How one publication reached the subscribers.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub session_id: String,
    pub received_by: usize,
    pub delay: LatencySummary,
}

/// What `--online` measured.
#[derive(Debug, Clone, PartialEq)]
pub struct OnlineReport {
    pub subscribers: usize,
    /// Subscriptions the server accepted (answered 200 and streaming).
    pub connected: usize,
    pub deliveries: Vec<Delivery>,
}

/// A notification line a subscriber read, and when.
type Seen = (usize, String, Instant);

/// The open subscriptions.
#[derive(Debug)]
pub(crate) struct Subscriptions {
    tasks: tokio::task::JoinSet<()>,
    seen: Arc<Mutex<Vec<Seen>>>,
    connected: Arc<AtomicUsize>,
    subscribers: usize,
}

impl Subscriptions {
    /// Opens `n` subscriptions with the traders' tokens (round robin) and
    /// waits until they are streaming (or 30 s have passed).
    pub async fn open(_platform: &BenchPlatform, traders: &Traders, n: usize) -> Result<Self> {
        // No overall time-out: a stream stays open.
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connected = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..n {
            let (client, seen, connected) = (client.clone(), seen.clone(), connected.clone());
            let url = format!("{}/api/v1/notifications/stream", traders.base);
            let token = traders.any_token(i).to_owned();
            tasks.spawn(async move {
                subscribe(i, client, url, token, seen, connected).await;
            });
        }
        let started = Instant::now();
        while connected.load(Ordering::Relaxed) < n && started.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Self {
            tasks,
            seen,
            connected,
            subscribers: n,
        })
    }

    /// Has the operator open [`PUBLICATIONS`] new sessions spread over the
    /// next `seconds`; the task answers each session's id and when its
    /// opening was sent.
    pub fn publish_during(
        &self,
        platform: &BenchPlatform,
        traders: &Traders,
        seconds: f64,
    ) -> tokio::task::JoinHandle<Vec<(String, Instant)>> {
        let (account, credential) = platform.operator.clone();
        let client = traders.client.clone();
        let base = traders.base.clone();
        let first_day = platform.next_free_day;
        tokio::spawn(async move {
            let mut published = Vec::new();
            let Ok(token) = sign_in(&client, &base, &account).await else {
                return published;
            };
            for k in 0..PUBLICATIONS {
                let gap = seconds / (PUBLICATIONS as f64 + 1.0);
                tokio::time::sleep(Duration::from_secs_f64(gap)).await;
                let day = first_day + Days::new(k as u64);
                let body = json!({"market": "day_ahead_energy", "trading_day": day.to_string()});
                let created = async {
                    let resp = signed_request(
                        &client,
                        &base,
                        &token,
                        &credential,
                        reqwest::Method::POST,
                        "/api/v1/sessions",
                        Some(&body),
                    )?
                    .send()
                    .await?;
                    let v: serde_json::Value = resp.json().await?;
                    let id = v["value"]["id"]
                        .as_str()
                        .ok_or_else(|| LoadgenError::Setup(format!("creating a session: {v}")))?
                        .to_owned();
                    let sent = Instant::now();
                    signed_request(
                        &client,
                        &base,
                        &token,
                        &credential,
                        reqwest::Method::POST,
                        &format!("/api/v1/sessions/{id}/open"),
                        None,
                    )?
                    .send()
                    .await?
                    .error_for_status()?;
                    Ok::<_, LoadgenError>((id, sent))
                };
                if let Ok(p) = created.await {
                    published.push(p);
                }
            }
            published
        })
    }

    /// Waits [`GRACE`], closes the subscriptions and counts who got what.
    pub async fn report(mut self, published: Vec<(String, Instant)>) -> OnlineReport {
        tokio::time::sleep(GRACE).await;
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
        let seen = self.seen.lock().map(|s| s.clone()).unwrap_or_default();
        let deliveries = published
            .into_iter()
            .map(|(session_id, sent)| {
                let mut first: std::collections::BTreeMap<usize, Instant> = Default::default();
                for (who, line, at) in &seen {
                    if line.contains(&session_id) {
                        first.entry(*who).or_insert(*at);
                    }
                }
                let delays = first
                    .values()
                    .map(|at| {
                        u32::try_from(at.saturating_duration_since(sent).as_micros())
                            .unwrap_or(u32::MAX)
                    })
                    .collect();
                Delivery {
                    received_by: first.len(),
                    delay: LatencySummary::of(delays),
                    session_id,
                }
            })
            .collect();
        OnlineReport {
            subscribers: self.subscribers,
            connected: self.connected.load(Ordering::Relaxed),
            deliveries,
        }
    }
}

/// One subscriber: connects (waiting out 429s), then notes every `data:`
/// line of a `notification` event until aborted.
async fn subscribe(
    who: usize,
    client: reqwest::Client,
    url: String,
    token: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    connected: Arc<AtomicUsize>,
) {
    let mut resp = loop {
        match client.get(&url).bearer_auth(&token).send().await {
            Ok(r) if r.status().is_success() => break r,
            Ok(r) => tokio::time::sleep(retry_after(&r)).await,
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    connected.fetch_add(1, Ordering::Relaxed);
    let mut pending = String::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        let at = Instant::now();
        pending.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = pending.find('\n') {
            let line: String = pending.drain(..=end).collect();
            if line.starts_with("data:")
                && let Ok(mut s) = seen.lock()
            {
                s.push((who, line, at));
            }
        }
    }
}
