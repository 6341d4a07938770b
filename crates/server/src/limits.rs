//! Request rate and time limits, so that one client's flood cannot starve
//! the others.
//!
//! Rates are token buckets kept in memory: one per client IP address, one
//! per claimed identity (a session token), and one per member (all the
//! member's users and sessions together). Every request takes a token from
//! its address's bucket and, when it claims an identity, one from that
//! identity's bucket, before anything else is done; once authentication
//! has established the member, one from the member's bucket. An empty
//! bucket answers 429 `rate_limited` in the API's error shape with a
//! `Retry-After` header (whole seconds, at least 1) saying when the next
//! token arrives. The refusal costs a mutex and a hash lookup — no database
//! work — so refused floods stay cheap.
//!
//! The rules are configuration (`voltex serve --token-rate --token-burst
//! --member-rate --member-burst --address-rate --address-burst`; see
//! [`crate::ServerConfig`] for the defaults and why).
//!
//! The token is not checked by the first layer (authentication comes after
//! it), so a client can spread a flood across invented tokens; the
//! per-address bucket still holds it, and a real member's traders share
//! the member's bucket. Requests without a peer address (a router called in-process, as unit
//! tests do) have no address bucket.
//!
//! Buckets refill lazily when touched; buckets idle long enough to be full
//! again are pruned periodically, so memory stays bounded by the recently
//! active clients. Limits are per process: several replicas behind a load
//! balancer each apply them.
//!
//! The time limit bounds how long a handler may take to produce its answer
//! (including reading the request body, so a body that trickles in is cut
//! off); a streamed answer (the notification stream) is not cut once it has
//! started. Clearing, settlement and imports ([`LongRoutes`]) get a longer
//! limit than the rest. Body size is bounded separately
//! (`DefaultBodyLimit`, see `ServerConfig::body_limit_bytes`).
use crate::error::ApiError;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A token bucket's rule: `per_second` tokens are added each second, up to
/// `burst` (the most requests accepted at once after a quiet spell).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: u32,
}

impl RateLimit {
    pub const fn new(per_second: f64, burst: u32) -> Self {
        Self { per_second, burst }
    }
}

/// Default rule per session token (one trader's sign-in).
pub const DEFAULT_PER_TOKEN: RateLimit = RateLimit::new(200.0, 400);
/// Default rule per member, all its users and sessions together.
pub const DEFAULT_PER_MEMBER: RateLimit = RateLimit::new(1_000.0, 2_000);
/// Default rule per client IP address.
pub const DEFAULT_PER_ADDRESS: RateLimit = RateLimit::new(2_000.0, 4_000);

/// Longest member key kept; longer header values are cut (they cannot name a
/// real member anyway, and must not grow the table).
const MAX_KEY_BYTES: usize = 64;
/// How often idle buckets are dropped.
const PRUNE_EVERY: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

#[derive(Debug)]
struct Buckets<K> {
    rule: RateLimit,
    map: HashMap<K, Bucket>,
    next_prune: Instant,
}

impl<K: std::hash::Hash + Eq> Buckets<K> {
    fn new(rule: RateLimit, now: Instant) -> Self {
        Self {
            rule,
            map: HashMap::new(),
            next_prune: now + PRUNE_EVERY,
        }
    }

    /// Takes a token if one is there; `Err(wait)` until the next one.
    fn take(&mut self, key: K, now: Instant) -> Result<(), Duration> {
        if now >= self.next_prune {
            self.prune(now);
        }
        let rule = self.rule;
        let b = self.map.entry(key).or_insert(Bucket {
            tokens: f64::from(rule.burst),
            updated: now,
        });
        let dt = now.saturating_duration_since(b.updated).as_secs_f64();
        b.tokens = (b.tokens + dt * rule.per_second).min(f64::from(rule.burst));
        b.updated = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else if rule.per_second > 0.0 {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / rule.per_second))
        } else {
            Err(Duration::MAX)
        }
    }

    /// Drops buckets that have refilled completely (indistinguishable from
    /// a new one).
    fn prune(&mut self, now: Instant) {
        let rule = self.rule;
        self.map.retain(|_, b| {
            let dt = now.saturating_duration_since(b.updated).as_secs_f64();
            b.tokens + dt * rule.per_second < f64::from(rule.burst)
        });
        self.next_prune = now + PRUNE_EVERY;
    }
}

/// The rate limits of one server: per-token, per-member and per-address
/// buckets.
#[derive(Debug)]
pub struct RateLimiter {
    tokens: Mutex<Buckets<String>>,
    members: Mutex<Buckets<String>>,
    addresses: Mutex<Buckets<IpAddr>>,
}

/// Which bucket refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    Token,
    Member,
    Address,
}

impl RateLimiter {
    pub fn new(per_token: RateLimit, per_member: RateLimit, per_address: RateLimit) -> Self {
        let now = Instant::now();
        Self {
            tokens: Mutex::new(Buckets::new(per_token, now)),
            members: Mutex::new(Buckets::new(per_member, now)),
            addresses: Mutex::new(Buckets::new(per_address, now)),
        }
    }

    /// Takes a token for the request from `address` claiming the session
    /// `token` (its hash); the address is charged first, so a refused
    /// address costs its sessions nothing. `Err` says which bucket was
    /// empty and how long to wait.
    pub fn admit(
        &self,
        token: Option<&str>,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), (Limited, Duration)> {
        if let Some(ip) = address {
            lock(&self.addresses)
                .take(ip, now)
                .map_err(|w| (Limited::Address, w))?;
        }
        if let Some(t) = token {
            lock(&self.tokens)
                .take(truncate(t, MAX_KEY_BYTES).to_owned(), now)
                .map_err(|w| (Limited::Token, w))?;
        }
        Ok(())
    }

    /// Takes a token from the bucket of the authenticated `member`.
    pub fn admit_member(&self, member: &str, now: Instant) -> Result<(), (Limited, Duration)> {
        lock(&self.members)
            .take(truncate(member, MAX_KEY_BYTES).to_owned(), now)
            .map_err(|w| (Limited::Member, w))
    }
}

/// A poisoned bucket table is still a valid table (every update is a few
/// float assignments), so a panic elsewhere does not stop admission.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `Retry-After` in whole seconds: rounded up, at least 1, at most a day.
pub fn retry_after_secs(wait: Duration) -> u64 {
    const DAY: u64 = 86_400;
    if wait >= Duration::from_secs(DAY) {
        return DAY;
    }
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.clamp(1, DAY)
}

/// Middleware: refuses requests over their member's or address's rate.
pub async fn rate_limit(
    State(limiter): State<Arc<RateLimiter>>,
    req: Request,
    next: Next,
) -> Response {
    // The claimed identity: a session token, as its hash, so no token sits
    // in the limiter's memory. Claims are not checked here; a flood of
    // invented ones still drains the address bucket.
    let token = crate::auth::bearer(req.headers())
        .ok()
        .flatten()
        .map(voltex_security::session::token_sha256);
    let address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    match limiter.admit(token.as_deref(), address, Instant::now()) {
        Ok(()) => next.run(req).await,
        Err((which, wait)) => refused(which, wait),
    }
}

/// The 429 answer of an empty bucket, with `Retry-After`.
pub fn refused(which: Limited, wait: Duration) -> Response {
    let secs = retry_after_secs(wait);
    let whose = match which {
        Limited::Token => "this session",
        Limited::Member => "this member",
        Limited::Address => "this client address",
    };
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many requests from {whose}; retry after {secs} s"),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    response
}

/// Endpoints that may legitimately run for minutes (clearing, settlement,
/// large imports); they get [`TimeLimits::long`]. Cutting them at the
/// ordinary limit would only waste the work: clearing runs on a blocking
/// thread that finishes anyway, and the operator would start it again. The
/// route table declares which they are (`long_route`).
#[derive(Debug, Clone, Default)]
pub struct LongRoutes(HashSet<(Method, String)>);

impl LongRoutes {
    pub(crate) fn insert(&mut self, method: Method, route: &str) {
        self.0.insert((method, route.to_owned()));
    }

    /// Whether `method` on the route template `route` is a long one.
    pub fn contains(&self, method: &Method, route: &str) -> bool {
        self.0.contains(&(method.clone(), route.to_owned()))
    }

    /// Every long endpoint, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Method, &str)> {
        self.0.iter().map(|(m, r)| (m, r.as_str()))
    }
}

/// How long a handler may take: `normal` for most routes, `long` for
/// [`LongRoutes`].
#[derive(Debug, Clone)]
pub struct TimeLimits {
    pub normal: Duration,
    pub long: Duration,
    pub long_routes: Arc<LongRoutes>,
}

/// Middleware: answers 503 `timed_out` when the handler has not produced
/// its answer within its limit. The handler's future is dropped: database
/// transactions it held roll back.
pub async fn time_limit(State(limits): State<TimeLimits>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let limit = if route.is_some_and(|r| limits.long_routes.contains(req.method(), r)) {
        limits.long
    } else {
        limits.normal
    };
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(limit_s = limit.as_secs_f64(), "request timed out");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timed_out",
                format!(
                    "the request took longer than {} s and was abandoned; retry later",
                    limit.as_secs_f64()
                ),
            )
            .into_response()
        }
    }
}

/// Longest path and query accepted: far above any route of the API with
/// its filters, and below hyper's own limit (64 KiB), so that a long URI is
/// refused here, in the API's error shape, rather than by hyper's bare 414.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Middleware: answers 414 `uri_too_long` for a path and query over
/// [`MAX_URI_BYTES`].
pub async fn uri_limit(req: Request, next: Next) -> Response {
    let len = req
        .uri()
        .path_and_query()
        .map_or(req.uri().path().len(), |pq| pq.as_str().len());
    if len > MAX_URI_BYTES {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the path and query are {len} bytes; at most {MAX_URI_BYTES} are accepted"),
        )
        .into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: Option<&str> = Some("gen1");

    #[test]
    fn a_bucket_admits_its_burst_then_refuses_until_it_refills() {
        let l = RateLimiter::new(
            RateLimit::new(2.0, 3),
            RateLimit::new(1000.0, 1000),
            RateLimit::new(1000.0, 1000),
        );
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.admit(ME, None, t0), Ok(()));
        }
        let (which, wait) = l.admit(ME, None, t0).unwrap_err();
        assert_eq!(which, Limited::Token);
        assert_eq!(wait, Duration::from_millis(500));
        assert_eq!(l.admit(Some("gen2"), None, t0), Ok(()), "others unaffected");
        assert_eq!(l.admit(ME, None, t0 + Duration::from_millis(500)), Ok(()));
        assert!(l.admit(ME, None, t0 + Duration::from_millis(500)).is_err());
    }

    #[test]
    fn a_members_sessions_share_the_members_bucket() {
        let l = RateLimiter::new(
            RateLimit::new(100.0, 100),
            RateLimit::new(1.0, 2),
            RateLimit::new(100.0, 100),
        );
        let t0 = Instant::now();
        // Two sessions of gen1, each well within its own bucket.
        assert_eq!(l.admit(Some("s1"), None, t0), Ok(()));
        assert_eq!(l.admit_member("gen1", t0), Ok(()));
        assert_eq!(l.admit(Some("s2"), None, t0), Ok(()));
        assert_eq!(l.admit_member("gen1", t0), Ok(()));
        assert_eq!(l.admit(Some("s2"), None, t0), Ok(()));
        assert_eq!(l.admit_member("gen1", t0).unwrap_err().0, Limited::Member);
        assert_eq!(
            l.admit_member("gen2", t0),
            Ok(()),
            "other members unaffected"
        );
    }

    #[test]
    fn the_address_bucket_holds_anonymous_requests_and_invented_member_names() {
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let l = RateLimiter::new(
            RateLimit::new(100.0, 100),
            RateLimit::new(100.0, 100),
            RateLimit::new(1.0, 2),
        );
        let t0 = Instant::now();
        assert_eq!(l.admit(None, Some(ip), t0), Ok(()));
        assert_eq!(l.admit(Some("a"), Some(ip), t0), Ok(()));
        assert_eq!(
            l.admit(Some("b"), Some(ip), t0).unwrap_err().0,
            Limited::Address
        );
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        assert_eq!(l.admit(None, Some(other), t0), Ok(()));
    }

    #[test]
    fn idle_full_buckets_are_pruned() {
        let l = RateLimiter::new(
            RateLimit::new(10.0, 5),
            RateLimit::new(10.0, 5),
            RateLimit::new(10.0, 5),
        );
        let t0 = Instant::now();
        for i in 0..50 {
            l.admit(Some(&format!("m{i}")), None, t0).unwrap();
        }
        assert_eq!(lock(&l.tokens).map.len(), 50);
        l.admit(ME, None, t0 + PRUNE_EVERY).unwrap();
        assert_eq!(lock(&l.tokens).map.len(), 1);
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up_and_at_least_one() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
        assert_eq!(retry_after_secs(Duration::MAX), 86_400);
    }

    #[test]
    fn long_member_names_are_cut_on_a_character_boundary() {
        let name = "é".repeat(40);
        assert_eq!(truncate(&name, MAX_KEY_BYTES).len(), 64);
        assert_eq!(truncate("ab", 64), "ab");
    }
}
