//! The sign-in rule: which attempts are looked at, what is checked, what a
//! failure costs, and the one answer a refused attempt gets.
//!
//! A sign-in presents a user name, a password and the authenticator's
//! current code, all at once. [`attempt`] orders it:
//!
//! 1. The failure counters of the account (`user:<name>`) and of the client
//!    address (`addr:<ip>`) are asked first ([`LoginAttempts::check`]); if
//!    either is throttled ([`crate::throttle`]: backoff, then lockout) the
//!    attempt is refused with the wait and its credentials are not looked at,
//!    so a right password during a lockout still fails.
//! 2. The caller's check runs: it reads the user, calls [`check_factors`],
//!    stores the accepted code's step and starts a session.
//! 3. A failure counts against the account and the address; a success clears
//!    the account's counter (the address keeps its count: one address trying
//!    many accounts stays slowed down).
//!
//! [`check_factors`] checks the password (argon2id; the same work is spent
//! for an unknown user, so the time taken does not tell which names exist)
//! and the one-time code (each step accepted once: the caller stores the
//! returned step and a concurrent use of the same code must lose), and
//! refuses a disabled user. Whatever was wrong, the answer is the same
//! [`Factors::Refused`], shown as [`SIGN_IN_REFUSED`].
//!
//! The counters sit behind [`LoginAttempts`] so that several server replicas
//! can share them through the store; [`MemoryLoginAttempts`] keeps them in
//! this process. This module does no I/O: it does not read users, store
//! sessions or speak HTTP.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use crate::error::{Result, SecurityError};
use crate::password;
use crate::throttle::{LoginThrottle, ThrottlePolicy};
use crate::totp::TotpVerifier;

/// The one message of a refused sign-in, whichever factor was wrong.
pub const SIGN_IN_REFUSED: &str = "user, password or one-time password not accepted";

/// A sign-in that was not looked at: the account or the address must wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Seconds until the next attempt is allowed.
    pub retry_after_s: u64,
}

/// The counters a sign-in is throttled by: one for the account, one for the
/// client address (when known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptKeys {
    account: String,
    address: Option<String>,
}

impl AttemptKeys {
    pub fn new(user: &str, address: Option<IpAddr>) -> Self {
        AttemptKeys {
            account: format!("user:{user}"),
            address: address.map(|a| format!("addr:{a}")),
        }
    }

    /// The account's key.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// Every key: the account's, then the address's.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.account.as_str()).chain(self.address.as_deref())
    }
}

/// Where failed sign-ins are counted. Each key's history is a
/// [`LoginThrottle`] under the implementation's [`ThrottlePolicy`]; an
/// implementation only keeps them (in memory, or in a store that several
/// server replicas share) and must apply each call to a key atomically.
pub trait LoginAttempts: Send + Sync {
    /// `Err` with the longest wait when any of `keys` is throttled at `now`
    /// (Unix seconds).
    fn check(
        &self,
        keys: &AttemptKeys,
        now_unix: u64,
    ) -> impl Future<Output = std::result::Result<(), Throttled>> + Send;

    /// Counts a failure at `now` against every key.
    fn record_failure(&self, keys: &AttemptKeys, now_unix: u64) -> impl Future<Output = ()> + Send;

    /// Forgets the failures of one key (a successful sign-in's account).
    fn clear(&self, key: &str) -> impl Future<Output = ()> + Send;
}

/// Counters shared behind an `Arc` (as a server's handlers hold them).
impl<A: LoginAttempts> LoginAttempts for std::sync::Arc<A> {
    fn check(
        &self,
        keys: &AttemptKeys,
        now_unix: u64,
    ) -> impl Future<Output = std::result::Result<(), Throttled>> + Send {
        A::check(self, keys, now_unix)
    }

    fn record_failure(&self, keys: &AttemptKeys, now_unix: u64) -> impl Future<Output = ()> + Send {
        A::record_failure(self, keys, now_unix)
    }

    fn clear(&self, key: &str) -> impl Future<Output = ()> + Send {
        A::clear(self, key)
    }
}

/// Runs one sign-in under the rule (see the module documentation): refused
/// with the wait when throttled, otherwise `check`'s answer, counted as a
/// failure or clearing the account.
pub async fn attempt<A, T, E>(
    attempts: &A,
    user: &str,
    address: Option<IpAddr>,
    now_unix: u64,
    check: impl Future<Output = std::result::Result<T, E>>,
) -> std::result::Result<std::result::Result<T, E>, Throttled>
where
    A: LoginAttempts,
{
    let keys = AttemptKeys::new(user, address);
    attempts.check(&keys, now_unix).await?;
    let answer = check.await;
    match &answer {
        Ok(_) => attempts.clear(keys.account()).await,
        Err(_) => attempts.record_failure(&keys, now_unix).await,
    }
    Ok(answer)
}

/// What the store holds about the user signing in.
#[derive(Clone, Copy)]
pub struct StoredFactors<'a> {
    pub user_id: &'a str,
    /// argon2id PHC string.
    pub password_phc: &'a str,
    /// TOTP secret (base32).
    pub totp_secret: &'a str,
    /// The last accepted TOTP step: that code and earlier ones are refused.
    pub last_totp_step: Option<u64>,
    pub disabled: bool,
}

impl std::fmt::Debug for StoredFactors<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredFactors")
            .field("user_id", &self.user_id)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// The verdict on the presented factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factors {
    /// Both right: store `totp_step` as the user's last accepted step before
    /// the session starts (a concurrent sign-in with the same code must lose).
    Accepted { totp_step: u64 },
    /// Something was wrong; which is not said.
    Refused,
}

/// Checks a presented password and one-time code against the stored user
/// (`None`: no such user) at `now` (Unix seconds). Spends the argon2 work
/// whether or not the user exists, so this blocks for tens of milliseconds:
/// call it off an async executor. `Err` only when the stored TOTP secret is
/// unusable (a defect of the stored user, not of the attempt).
pub fn check_factors(
    stored: Option<&StoredFactors<'_>>,
    password: &str,
    totp_code: &str,
    now_unix: u64,
) -> Result<Factors> {
    let password_ok = match stored {
        // A corrupt stored hash refuses the attempt like a wrong password.
        Some(s) => password::verify_password(password, s.password_phc).unwrap_or(false),
        None => password::verify_against_dummy(password),
    };
    let Some(s) = stored else {
        return Ok(Factors::Refused);
    };
    let step =
        TotpVerifier::new(s.totp_secret, s.user_id)?.verify(totp_code, now_unix, s.last_totp_step);
    Ok(match (password_ok, step, s.disabled) {
        (true, Ok(totp_step), false) => Factors::Accepted { totp_step },
        _ => Factors::Refused,
    })
}

/// Counters past this many are swept of expired ones before a failure is
/// recorded, so invented user names cannot grow memory without bound.
pub const PRUNE_AT: usize = 10_000;

/// The failure counters of this process, per account and per address.
#[derive(Debug, Default)]
pub struct MemoryLoginAttempts {
    policy: ThrottlePolicy,
    throttles: Mutex<HashMap<String, LoginThrottle>>,
}

impl MemoryLoginAttempts {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            throttles: Mutex::default(),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, LoginThrottle>) -> R) -> R {
        let mut map = self
            .throttles
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        f(&mut map)
    }

    /// A name or address with no failures gets no entry, and one whose
    /// failures have expired loses it: invented user names cost memory only
    /// while their failures count.
    fn check_now(&self, keys: &AttemptKeys, now: u64) -> std::result::Result<(), Throttled> {
        self.with(|m| {
            let mut wait = 0;
            for k in keys.all() {
                let Some(t) = m.get_mut(k) else { continue };
                if let Err(SecurityError::LoginThrottled { retry_after_s }) =
                    t.check(&self.policy, now)
                {
                    wait = wait.max(retry_after_s);
                } else if *t == LoginThrottle::default() {
                    m.remove(k);
                }
            }
            if wait > 0 {
                Err(Throttled {
                    retry_after_s: wait,
                })
            } else {
                Ok(())
            }
        })
    }

    fn failed_now(&self, keys: &AttemptKeys, now: u64) {
        self.with(|m| {
            if m.len() >= PRUNE_AT {
                let window = self.policy.failure_window_s;
                m.retain(|_, t| {
                    t.locked_until_unix.is_some_and(|u| u > now)
                        || t.last_failure_unix
                            .is_some_and(|l| now.saturating_sub(l) <= window)
                });
            }
            for k in keys.all() {
                m.entry(k.to_owned())
                    .or_default()
                    .record_failure(&self.policy, now);
            }
        });
    }
}

impl LoginAttempts for MemoryLoginAttempts {
    async fn check(&self, keys: &AttemptKeys, now_unix: u64) -> std::result::Result<(), Throttled> {
        self.check_now(keys, now_unix)
    }

    async fn record_failure(&self, keys: &AttemptKeys, now_unix: u64) {
        self.failed_now(keys, now_unix);
    }

    async fn clear(&self, key: &str) {
        self.with(|m| {
            m.remove(key);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drives a future that never waits (the in-memory counters and the
    /// checks below) without an async runtime.
    fn ready<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("the future waited"),
        }
    }

    fn entries(g: &MemoryLoginAttempts) -> usize {
        g.with(|m| m.len())
    }

    fn keys(user: &str, addr: Option<&str>) -> AttemptKeys {
        AttemptKeys::new(user, addr.map(|a| a.parse().unwrap()))
    }

    #[test]
    fn unknown_names_cost_memory_only_while_their_failures_count() {
        let g = MemoryLoginAttempts::default();
        let k = keys("invented", None);
        assert!(ready(g.check(&k, 0)).is_ok());
        assert_eq!(entries(&g), 0, "a check alone records nothing");
        ready(g.record_failure(&k, 0));
        assert_eq!(entries(&g), 1);
        let later = ThrottlePolicy::default().failure_window_s + 1;
        assert!(ready(g.check(&k, later)).is_ok());
        assert_eq!(entries(&g), 0, "an expired failure is forgotten");
    }

    #[test]
    fn past_ten_thousand_counters_the_expired_ones_are_swept_before_a_failure_is_counted() {
        let g = MemoryLoginAttempts::default();
        for i in 0..PRUNE_AT {
            ready(g.record_failure(&keys(&format!("invented{i}"), None), 0));
        }
        assert_eq!(entries(&g), PRUNE_AT);
        let later = ThrottlePolicy::default().failure_window_s + 1;
        ready(g.record_failure(&keys("fresh", None), later));
        assert_eq!(entries(&g), 1, "only the fresh failure is left");
    }

    #[test]
    fn a_throttled_attempt_is_not_looked_at_and_failures_count_per_account_and_address() {
        let g = MemoryLoginAttempts::default();
        let policy = ThrottlePolicy::default();
        let addr = Some("10.0.0.7".parse().unwrap());
        for _ in 0..=policy.free_failures {
            let r = ready(attempt(&g, "olga", addr, 100, async { Err::<(), _>(()) }));
            assert_eq!(r, Ok(Err(())));
        }
        let mut looked_at = false;
        let r = ready(attempt(&g, "olga", addr, 100, async {
            looked_at = true;
            Ok::<_, ()>(())
        }));
        assert_eq!(r, Err(Throttled { retry_after_s: 2 }));
        assert!(
            !looked_at,
            "the credentials of a throttled attempt are not checked"
        );
        // The same address is slowed down for another account too.
        let other = ready(attempt(&g, "piet", addr, 101, async { Ok::<_, ()>(()) }));
        assert_eq!(other, Err(Throttled { retry_after_s: 1 }));
        // From another address the account waits all the same.
        let elsewhere = "10.0.0.8".parse().ok();
        let r = ready(attempt(&g, "olga", elsewhere, 101, async {
            Ok::<_, ()>(())
        }));
        assert!(r.is_err());
    }

    #[test]
    fn a_success_clears_the_account_but_not_the_address() {
        let g = MemoryLoginAttempts::default();
        let policy = ThrottlePolicy::default();
        let addr = Some("10.0.0.9".parse().unwrap());
        for _ in 0..policy.free_failures {
            let _ = ready(attempt(&g, "olga", addr, 100, async { Err::<(), _>(()) }));
        }
        assert_eq!(
            ready(attempt(&g, "olga", addr, 100, async { Ok::<_, ()>(7) })),
            Ok(Ok(7))
        );
        assert!(ready(g.check(&keys("olga", None), 100)).is_ok());
        // The address still carries its failures: one more throttles it.
        ready(g.record_failure(&keys("piet", Some("10.0.0.9")), 100));
        assert!(ready(g.check(&keys("anyone", Some("10.0.0.9")), 100)).is_err());
    }

    fn stored<'a>(phc: &'a str, secret: &'a str) -> StoredFactors<'a> {
        StoredFactors {
            user_id: "olga",
            password_phc: phc,
            totp_secret: secret,
            last_totp_step: None,
            disabled: false,
        }
    }

    #[test]
    fn both_factors_right_is_accepted_once_and_any_wrong_one_is_the_same_refusal() {
        let phc = password::hash_password("correct horse battery").unwrap();
        let secret = crate::totp::generate_secret_base32().unwrap();
        let now = 1_800_000_000;
        let code = TotpVerifier::new(&secret, "olga").unwrap().code_at(now);
        let user = stored(&phc, &secret);
        let step = match check_factors(Some(&user), "correct horse battery", &code, now).unwrap() {
            Factors::Accepted { totp_step } => totp_step,
            Factors::Refused => panic!("right factors refused"),
        };
        let used = StoredFactors {
            last_totp_step: Some(step),
            ..user
        };
        let disabled = StoredFactors {
            disabled: true,
            ..user
        };
        let refusals = [
            check_factors(Some(&user), "wrong horse battery", &code, now),
            check_factors(Some(&user), "correct horse battery", "000000", now),
            check_factors(Some(&used), "correct horse battery", &code, now),
            check_factors(Some(&disabled), "correct horse battery", &code, now),
            check_factors(None, "correct horse battery", &code, now),
            check_factors(
                Some(&stored("not-a-phc", &secret)),
                "any password",
                &code,
                now,
            ),
        ];
        for (i, r) in refusals.into_iter().enumerate() {
            assert_eq!(r.unwrap(), Factors::Refused, "case {i}");
        }
        assert!(
            check_factors(Some(&stored(&phc, "not base32!")), "x", &code, now).is_err(),
            "an unusable stored secret is a defect, not a refusal"
        );
    }
}
