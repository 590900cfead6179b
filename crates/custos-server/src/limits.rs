//! Rate limits on the public endpoints (those a browser reaches without a token), per
//! network: an IPv4 /24 or an IPv6 /48, the same truncation the consent ledger keeps, so that
//! a visitor cannot escape the limit by hopping addresses inside their own network.
//!
//! Requests that name a person (a rights request, a sign-in, a password reset) are also
//! counted per identifier, whatever network they come from, so that one address cannot be
//! flooded with codes or have its password guessed from many networks. The identifier is
//! kept only as a keyed hash under a key drawn when the process starts, never in clear; the
//! count is the same whether or not custos knows the identifier, so the limit tells nothing
//! about who has an account or a request.
//!
//! Counts are kept in this process in fixed one-minute windows. With several custos
//! processes behind a load balancer each process counts on its own, which multiplies the
//! effective limit by the number of processes; the limits exist against floods and spam,
//! not as a quota.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde::Deserialize;

use crate::ApiError;

/// Requests one network may make per minute on each public endpoint; the `[limits]`
/// section of the configuration. `0` turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimits {
    /// `POST /v1/forms/*` (contact and sign-up forms): people send a few at most.
    pub forms_per_minute: u32,
    /// `POST /v1/banner/consent`: choices made in the banner.
    pub banner_per_minute: u32,
    /// Account sign-up, sign-in, verification and password-reset requests.
    pub accounts_per_minute: u32,
    /// `POST /v1/events`: tracker requests (page views, clicks, time on page). A busy
    /// office behind one address sends many; the default allows about 50 people browsing.
    pub events_per_minute: u32,
    /// Rights requests and their verification codes: few for people, too few to guess.
    pub rights_per_minute: u32,
    /// Rights requests, sign-ins and password-reset requests naming one email address, per
    /// hour, from anywhere.
    pub per_identifier_per_hour: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            forms_per_minute: 10,
            banner_per_minute: 60,
            accounts_per_minute: 20,
            events_per_minute: 1_200,
            rights_per_minute: 10,
            per_identifier_per_hour: 10,
        }
    }
}

impl RateLimits {
    /// No limit anywhere: for benchmarks that send everything from one address.
    pub fn off() -> Self {
        Self {
            forms_per_minute: 0,
            banner_per_minute: 0,
            accounts_per_minute: 0,
            events_per_minute: 0,
            rights_per_minute: 0,
            per_identifier_per_hour: 0,
        }
    }
}

/// One limiter per public endpoint group.
#[derive(Debug)]
pub(crate) struct Limiters {
    pub(crate) forms: RateLimiter,
    pub(crate) banner: RateLimiter,
    pub(crate) accounts: RateLimiter,
    pub(crate) events: RateLimiter,
    pub(crate) rights: RateLimiter,
    pub(crate) identifiers: IdentifierLimiter,
}

impl Limiters {
    pub(crate) fn new(limits: RateLimits) -> Self {
        Self {
            forms: RateLimiter::new(limits.forms_per_minute),
            banner: RateLimiter::new(limits.banner_per_minute),
            accounts: RateLimiter::new(limits.accounts_per_minute),
            events: RateLimiter::new(limits.events_per_minute),
            rights: RateLimiter::new(limits.rights_per_minute),
            identifiers: IdentifierLimiter::new(limits.per_identifier_per_hour),
        }
    }
}

/// Requests per network per minute, in this process.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<u128, (Instant, u32)>>,
}

/// Beyond this many networks tracked, windows that have ended are dropped.
const PRUNE_ABOVE: usize = 100_000;
const WINDOW: Duration = Duration::from_secs(60);

impl RateLimiter {
    /// A limiter allowing `per_minute` requests a minute per network; `0` allows all.
    pub(crate) fn new(per_minute: u32) -> Self {
        Self { per_minute, windows: Mutex::new(HashMap::new()) }
    }

    /// Counts a request from `ip`, refusing it with `429 too_many_requests` when its network
    /// is over the limit; `what` names the requests in the message ("forms", "events").
    pub(crate) fn check(&self, ip: IpAddr, what: &str) -> Result<(), ApiError> {
        if self.allow(ip) {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!("at most {} {what} a minute from one network; try again in a minute", self.per_minute),
        ))
    }

    /// Counts a request from `ip`; false when its network is over the limit.
    pub(crate) fn allow(&self, ip: IpAddr) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let key = network(ip);
        let now = Instant::now();
        // A poisoned lock means a panic elsewhere while counting; counting is not worth
        // refusing people over.
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 <= self.per_minute
    }
}

/// Requests per identifier (an email address) per hour, in this process.
#[derive(Debug)]
pub(crate) struct IdentifierLimiter {
    per_hour: u32,
    /// Drawn at start: the counts' keys cannot be matched to addresses offline.
    key: [u8; 32],
    windows: Mutex<HashMap<[u8; 32], (Instant, u32)>>,
}

const HOUR: Duration = Duration::from_secs(3600);

impl IdentifierLimiter {
    /// A limiter allowing `per_hour` requests an hour per identifier; `0` allows all.
    pub(crate) fn new(per_hour: u32) -> Self {
        let mut key = [0u8; 32];
        key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        Self { per_hour, key, windows: Mutex::new(HashMap::new()) }
    }

    /// Counts a request naming `identifier` (compared trimmed and case-folded), refusing it
    /// with `429 too_many_requests` (field `field`) when over the limit.
    pub(crate) fn check(&self, identifier: &str, field: &str) -> Result<(), ApiError> {
        if self.allow(identifier) {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!("at most {} requests an hour may name one {field}; try again later", self.per_hour),
        )
        .with_field(field.to_owned()))
    }

    /// Counts a request naming `identifier`; false when it is over the limit.
    pub(crate) fn allow(&self, identifier: &str) -> bool {
        use sha2::Digest;
        if self.per_hour == 0 {
            return true;
        }
        let mut hash = sha2::Sha256::new();
        hash.update(self.key);
        hash.update(identifier.trim().to_lowercase().as_bytes());
        let key: [u8; 32] = hash.finalize().into();
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, (start, _)| now.duration_since(*start) < HOUR);
        }
        let entry = windows.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= HOUR {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 <= self.per_hour
    }
}

/// The network `ip` belongs to, as a number: IPv4 /24 (IPv4-mapped IPv6 too) or IPv6 /48.
fn network(ip: IpAddr) -> u128 {
    let v4 = match ip {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => v6.to_ipv4_mapped(),
    };
    match (v4, ip) {
        // Bit 32 marks IPv4: an IPv6 /48 has its low 80 bits clear, so the two never meet.
        (Some(v4), _) => u128::from(u32::from(v4) & 0xffff_ff00) | (1 << 32),
        (None, IpAddr::V6(v6)) => u128::from(v6) & !((1u128 << 80) - 1),
        (None, IpAddr::V4(_)) => unreachable!("an IPv4 address always has its IPv4 form"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn a_network_is_limited_as_one() {
        let limiter = RateLimiter::new(3);
        assert!(limiter.allow(ip("192.0.2.1")));
        assert!(limiter.allow(ip("192.0.2.200")));
        assert!(limiter.allow(ip("::ffff:192.0.2.9")));
        assert!(!limiter.allow(ip("192.0.2.7")), "the fourth request from one /24 is over the limit");
        assert!(limiter.allow(ip("192.0.3.1")), "another network has its own count");
        assert!(limiter.allow(ip("2001:db8:1:ffff::1")));
        assert!(limiter.allow(ip("2001:db8:1:0::2")));
        assert!(limiter.allow(ip("2001:db8:1:1234::3")));
        assert!(!limiter.allow(ip("2001:db8:1::4")), "the fourth request from one /48 is over the limit");
        assert!(limiter.allow(ip("2001:db8:2::1")));
    }

    #[test]
    fn an_identifier_is_limited_whatever_its_case_and_spaces() {
        let limiter = IdentifierLimiter::new(2);
        assert!(limiter.allow("ada@example.org"));
        assert!(limiter.allow(" Ada@Example.ORG "));
        assert!(!limiter.allow("ADA@example.org"), "the third request naming one address is over the limit");
        assert!(limiter.allow("bob@example.org"), "another address has its own count");
        let err = limiter.check("ada@example.org", "email").expect_err("over");
        assert_eq!((err.status().as_u16(), err.body().field.as_deref()), (429, Some("email")));
        assert!(!err.body().message.contains("ada"), "the message holds no address");
        assert!((0..100).all(|_| IdentifierLimiter::new(0).allow("x@example.org")));
    }

    #[test]
    fn zero_means_no_limit() {
        let limiter = RateLimiter::new(0);
        assert!((0..10_000).all(|_| limiter.allow(ip("192.0.2.1"))));
    }

    #[test]
    fn ipv4_and_ipv6_networks_never_collide() {
        assert_ne!(network(ip("0.0.0.1")), network(ip("::1")));
        assert_ne!(network(ip("10.0.0.1")), network(ip("::a00:1")));
        assert_ne!(network(ip("0.0.0.1")), network(ip("8000::")));
    }
}
