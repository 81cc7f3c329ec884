//! A token bucket for anonymous requests that write to the chain (a public verification records
//! a usage transaction), so that refreshing a public page in a loop cannot flood the mempool
//! and the ledger. Signed callers are not limited here: their accounts answer for them.
//!
//! Guarantees: over any interval of `t` seconds at most `burst + rate · t` requests pass;
//! a refused request is told how long to wait.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The bucket's arithmetic, with time passed in (pure, tested without a clock).
#[derive(Debug, Clone)]
struct Bucket {
    rate_per_s: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new(rate_per_s: u32, burst: u32, now: Instant) -> Bucket {
        let burst = f64::from(burst.max(1));
        Bucket { rate_per_s: f64::from(rate_per_s.max(1)), burst, tokens: burst, at: now }
    }

    /// Takes one token, or says how long until one is available.
    fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate_per_s).min(self.burst);
        self.at = self.at.max(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate_per_s))
        }
    }
}

/// A shared bucket: `rate` requests per second on average, `burst` at once.
#[derive(Debug)]
pub(crate) struct RateLimit(Mutex<Bucket>);

impl RateLimit {
    pub(crate) fn new(rate_per_s: u32, burst: u32) -> RateLimit {
        RateLimit(Mutex::new(Bucket::new(rate_per_s, burst, Instant::now())))
    }

    /// `Ok` to go ahead, or the wait in whole seconds (at least 1) before retrying.
    pub(crate) fn take(&self) -> Result<(), u64> {
        let mut b = self.0.lock().unwrap_or_else(|p| p.into_inner());
        b.take(Instant::now()).map_err(|wait| wait.as_secs_f64().ceil().max(1.0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refills_at_the_rate() {
        let t0 = Instant::now();
        let mut b = Bucket::new(2, 4, t0);
        for _ in 0..4 {
            assert!(b.take(t0).is_ok());
        }
        let wait = b.take(t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        // Half a second later one token is back, and only one.
        let t1 = t0 + Duration::from_millis(500);
        assert!(b.take(t1).is_ok());
        assert!(b.take(t1).is_err());
        // A long pause refills to the burst, never beyond.
        let t2 = t1 + Duration::from_secs(60);
        let passed = (0..10).filter(|_| b.take(t2).is_ok()).count();
        assert_eq!(passed, 4);
    }

    #[test]
    fn over_any_interval_at_most_burst_plus_rate_times_t_pass() {
        let t0 = Instant::now();
        let mut b = Bucket::new(5, 10, t0);
        // One attempt every 10 ms for 3 s.
        let passed = (0..300).filter(|i| b.take(t0 + Duration::from_millis(i * 10)).is_ok()).count();
        assert!(passed <= 10 + 5 * 3, "{passed}");
        assert!(passed >= 10 + 5 * 3 - 1, "{passed}");
    }
}
