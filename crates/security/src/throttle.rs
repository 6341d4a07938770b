//! Login throttling: exponential backoff after failures, then a lockout.
//!
//! A pure state machine, one [`LoginThrottle`] per account (and, separately,
//! one per client address): the server keeps them, this module only decides.
//! The first `free_failures` failures cost nothing; each further failure
//! doubles a mandatory wait from `base_delay_s` up to `max_delay_s`; after
//! `lockout_after_failures` consecutive failures the account is locked for
//! `lockout_s`. Failures older than `failure_window_s` are forgotten. A
//! success clears the state. Times are Unix seconds passed in by the caller,
//! so the policy is testable without clocks.

use serde::{Deserialize, Serialize};

use crate::error::{Result, SecurityError};

/// The rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottlePolicy {
    pub free_failures: u32,
    pub base_delay_s: u64,
    pub max_delay_s: u64,
    pub lockout_after_failures: u32,
    pub lockout_s: u64,
    pub failure_window_s: u64,
}

impl Default for ThrottlePolicy {
    /// 3 free tries; then 2, 4, 8 … s up to 5 min; locked 15 min after 10
    /// consecutive failures; failures forgotten after 1 h.
    fn default() -> Self {
        ThrottlePolicy {
            free_failures: 3,
            base_delay_s: 2,
            max_delay_s: 300,
            lockout_after_failures: 10,
            lockout_s: 900,
            failure_window_s: 3600,
        }
    }
}

/// Failure history of one account or address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginThrottle {
    pub consecutive_failures: u32,
    pub last_failure_unix: Option<u64>,
    pub locked_until_unix: Option<u64>,
}

impl LoginThrottle {
    fn expire(&mut self, policy: &ThrottlePolicy, now: u64) {
        if let Some(last) = self.last_failure_unix
            && now.saturating_sub(last) > policy.failure_window_s
            && self.locked_until_unix.is_none_or(|t| now >= t)
        {
            *self = LoginThrottle::default();
        }
    }

    /// Earliest time the next attempt is allowed (`None`: now).
    pub fn next_allowed_unix(&self, policy: &ThrottlePolicy) -> Option<u64> {
        if let Some(t) = self.locked_until_unix {
            return Some(t);
        }
        let over = self
            .consecutive_failures
            .checked_sub(policy.free_failures)?;
        if over == 0 {
            return None;
        }
        let delay = policy
            .base_delay_s
            .saturating_mul(1u64 << (over - 1).min(32))
            .min(policy.max_delay_s);
        self.last_failure_unix.map(|t| t + delay)
    }

    /// Call before checking credentials: `Err(LoginThrottled)` with the wait
    /// if an attempt is not allowed at `now` (the attempt must not be
    /// evaluated at all, so a correct password during lockout still fails).
    pub fn check(&mut self, policy: &ThrottlePolicy, now: u64) -> Result<()> {
        self.expire(policy, now);
        if let Some(t) = self.next_allowed_unix(policy)
            && now < t
        {
            return Err(SecurityError::LoginThrottled {
                retry_after_s: t - now,
            });
        }
        if self.locked_until_unix.is_some_and(|t| now >= t) {
            // lockout served: start counting afresh
            *self = LoginThrottle::default();
        }
        Ok(())
    }

    /// Records a failed attempt at `now`.
    pub fn record_failure(&mut self, policy: &ThrottlePolicy, now: u64) {
        self.expire(policy, now);
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        self.last_failure_unix = Some(now);
        if self.consecutive_failures >= policy.lockout_after_failures {
            self.locked_until_unix = Some(now + policy.lockout_s);
        }
    }

    /// Records a successful login: the history is cleared.
    pub fn record_success(&mut self) {
        *self = LoginThrottle::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_failures_cost_nothing_then_delay_doubles() {
        let p = ThrottlePolicy::default();
        let mut t = LoginThrottle::default();
        let now = 1000;
        for _ in 0..3 {
            t.check(&p, now).unwrap();
            t.record_failure(&p, now);
        }
        t.check(&p, now).unwrap();
        t.record_failure(&p, now); // 4th failure: wait 2 s
        assert!(matches!(
            t.check(&p, now + 1),
            Err(SecurityError::LoginThrottled { retry_after_s: 1 })
        ));
        t.check(&p, now + 2).unwrap();
        t.record_failure(&p, now + 2); // 5th: wait 4 s
        assert_eq!(t.next_allowed_unix(&p), Some(now + 6));
    }

    #[test]
    fn lockout_blocks_even_correct_credentials_until_it_expires() {
        let p = ThrottlePolicy::default();
        let mut t = LoginThrottle::default();
        let mut now = 10_000;
        for _ in 0..p.lockout_after_failures {
            if let Some(next) = t.next_allowed_unix(&p) {
                now = now.max(next);
            }
            t.check(&p, now).unwrap();
            t.record_failure(&p, now);
        }
        let locked_at = now;
        let err = t.check(&p, locked_at + 60).unwrap_err();
        assert!(
            matches!(err, SecurityError::LoginThrottled { retry_after_s } if retry_after_s == p.lockout_s - 60)
        );
        t.check(&p, locked_at + p.lockout_s).unwrap();
        assert_eq!(t.consecutive_failures, 0);
    }

    #[test]
    fn success_and_time_clear_the_history() {
        let p = ThrottlePolicy::default();
        let mut t = LoginThrottle::default();
        for i in 0..5 {
            t.record_failure(&p, 100 + i);
        }
        t.record_success();
        assert!(t.check(&p, 105).is_ok());
        for i in 0..5 {
            t.record_failure(&p, 100 + i);
        }
        assert!(t.check(&p, 104 + p.failure_window_s + 1).is_ok());
    }

    #[test]
    fn delay_never_exceeds_the_maximum() {
        let p = ThrottlePolicy {
            lockout_after_failures: u32::MAX,
            ..ThrottlePolicy::default()
        };
        let mut t = LoginThrottle::default();
        for i in 0..200 {
            t.record_failure(&p, 1000 + i);
        }
        assert_eq!(t.next_allowed_unix(&p), Some(1199 + p.max_delay_s));
    }
}
