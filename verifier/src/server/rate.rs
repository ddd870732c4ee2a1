//! Who a client is, and how fast it may go: a token bucket per client (`rate` requests per
//! second, bursts of twice that) in a table of bounded size.
//!
//! This module owns three decisions:
//! - **the client's address**: the TCP peer, unless the peer is a configured trusted proxy and
//!   the request carries the configured header (`X-Forwarded-For` style: comma-separated hops,
//!   each proxy appending the address it saw). Then the client is the right-most hop that is
//!   not itself a trusted proxy: everything left of it was written by the client and can be
//!   anything. A header from any other peer is ignored, so it cannot buy a fresh budget.
//! - **the client key**: an IPv4 address, or an IPv6 /64 (one subscriber's network: a host
//!   picks any of its 2^64 addresses at will, so counting them apart would let it buy a
//!   fresh budget per request).
//! - **the table's bound**: at most [`MAX_CLIENTS`] buckets, least recently used evicted first
//!   (an [`lru::LruCache`]: O(1) per request, whatever the table holds). A sweep of cheap
//!   addresses costs memory no larger than the bound and never a scan of the table; what it
//!   evicts is the least recently seen clients, which come back with a full bucket (the
//!   limiter then errs towards letting a client through, never towards refusing one).
//!
//! Why not `governor`: its keyed limiter keeps one entry per key in an unbounded map until
//! the caller runs `retain_recent()`, which is a full scan — the very growth and pause this
//! bound exists to prevent. `lru` (already compiled in for the QR decoder) gives the bound
//! directly.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::Instant;

use axum::http::{HeaderMap, HeaderName};

/// Most clients tracked at once (each costs well under 100 bytes, so ~10 MB at the bound).
pub const MAX_CLIENTS: usize = 100_000;

/// Most hops read from the forwarding header, right to left: a proxy chain is a few hops;
/// the rest of a longer header was written by the client.
const MAX_HOPS: usize = 16;

/// The key one budget is kept under: an IPv4 address or an IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// An IPv4 address (also IPv4-mapped IPv6).
    V4(u32),
    /// The first 64 bits of an IPv6 address.
    V6(u64),
}

impl ClientKey {
    /// The key of `address`.
    pub fn of(address: IpAddr) -> ClientKey {
        match address {
            IpAddr::V4(v4) => ClientKey::V4(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey::V4(u32::from(v4)),
                None => ClientKey::V6((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

/// An address block (`10.0.0.0/8`, `2001:db8::/32`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressBlock {
    network: IpAddr,
    prefix: u8,
}

impl AddressBlock {
    /// Parses `ADDRESS` or `ADDRESS/PREFIX`.
    pub fn parse(text: &str) -> Result<AddressBlock, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or ADDRESS/PREFIX"))?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("{text:?}: the prefix must be 0 to {bits}"))?,
        };
        Ok(AddressBlock { network, prefix })
    }

    /// Whether `address` is in the block.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        let (network, address, bits) = match (self.network, address) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                (u128::from(u32::from(n)), u128::from(u32::from(a)), 32)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => (u128::from(n), u128::from(a), 128),
            _ => return false,
        };
        let host_bits = bits - u32::from(self.prefix);
        if host_bits >= 128 {
            return true;
        }
        network >> host_bits == address >> host_bits
    }
}

/// A reverse proxy the service sits behind, and the header it writes the client into.
#[derive(Debug, Clone)]
pub struct TrustedProxy {
    /// The header (e.g. `X-Forwarded-For`).
    pub header: HeaderName,
    /// The proxies' addresses: only a peer among them may set the header.
    pub proxies: Vec<AddressBlock>,
}

impl TrustedProxy {
    fn is_proxy(&self, address: IpAddr) -> bool {
        self.proxies.iter().any(|block| block.contains(address))
    }
}

/// One hop of a forwarding header: an address, possibly with a port (`1.2.3.4:80`,
/// `[2001:db8::1]:443`).
fn hop_address(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// The client's address: the peer, or (if the peer is a trusted proxy) the right-most hop of
/// the proxy header that is not a trusted proxy. A hop that is not an address stops the walk
/// at the last trusted hop (the proxy that wrote it is then the client it answers for).
pub fn client_address(headers: &HeaderMap, peer: IpAddr, proxy: Option<&TrustedProxy>) -> IpAddr {
    let Some(proxy) = proxy else { return peer };
    if !proxy.is_proxy(peer) {
        return peer;
    }
    // Several header lines form one list, in order (RFC 9110 §5.3).
    let hops: Vec<&str> = headers
        .get_all(&proxy.header)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev().take(MAX_HOPS) {
        let Some(address) = hop_address(hop) else {
            return client;
        };
        client = address;
        if !proxy.is_proxy(address) {
            return client;
        }
    }
    client
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// The limiter.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<lru::LruCache<ClientKey, Bucket>>,
}

impl RateLimiter {
    /// `rate` requests per second per client (0 = unlimited), at most [`MAX_CLIENTS`] tracked.
    pub fn new(rate: u32) -> RateLimiter {
        RateLimiter::with_capacity(rate, MAX_CLIENTS)
    }

    /// Like [`RateLimiter::new`] with another bound (at least 1).
    pub fn with_capacity(rate: u32, capacity: usize) -> RateLimiter {
        RateLimiter {
            rate: f64::from(rate),
            burst: f64::from(rate) * 2.0,
            buckets: Mutex::new(lru::LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    /// Whether `client` may make a request now (and takes a token if so).
    pub fn allow(&self, client: ClientKey) -> bool {
        self.allow_at(client, Instant::now())
    }

    /// [`RateLimiter::allow`] at `now`.
    pub fn allow_at(&self, client: ClientKey, now: Instant) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        // A poisoned lock means a panic mid-update of plain numbers; the table is still
        // usable, and refusing everyone for it would turn a bug into an outage.
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let burst = self.burst;
        let bucket = buckets.get_or_insert_mut(client, || Bucket {
            tokens: burst,
            last: now,
        });
        let refill = now.saturating_duration_since(bucket.last).as_secs_f64() * self.rate;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.last = bucket.last.max(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Clients tracked now.
    pub fn tracked(&self) -> usize {
        self.buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn an_address_sweep_leaves_the_map_at_its_bound() {
        let limiter = RateLimiter::new(5);
        let start = Instant::now();
        for n in 0..1_000_000u32 {
            let client = if n % 2 == 0 {
                IpAddr::V4(Ipv4Addr::from(n))
            } else {
                IpAddr::V6(Ipv6Addr::from(u128::from(n) << 64))
            };
            limiter.allow_at(ClientKey::of(client), start);
        }
        assert_eq!(limiter.tracked(), MAX_CLIENTS);
    }

    #[test]
    fn two_addresses_in_one_ipv6_64_share_a_budget() {
        let limiter = RateLimiter::new(1);
        let now = Instant::now();
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(limiter.allow_at(ClientKey::of(a), now) && limiter.allow_at(ClientKey::of(a), now));
        assert!(
            !limiter.allow_at(ClientKey::of(b), now),
            "a second address of the same /64 got a fresh budget"
        );
        assert!(
            limiter.allow_at(ClientKey::of(other), now),
            "another /64 is another client"
        );
        // IPv4-mapped IPv6 is the IPv4 client.
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(ClientKey::of(v4), ClientKey::of(mapped));
    }

    #[test]
    fn the_budget_refills_with_time_and_the_least_recent_client_is_evicted() {
        let limiter = RateLimiter::with_capacity(1, 2);
        let now = Instant::now();
        let key = |n: u32| ClientKey::of(IpAddr::V4(Ipv4Addr::from(n)));
        assert!(limiter.allow_at(key(1), now) && limiter.allow_at(key(1), now));
        assert!(!limiter.allow_at(key(1), now));
        assert!(limiter.allow_at(key(1), now + std::time::Duration::from_secs(1)));
        limiter.allow_at(key(2), now);
        limiter.allow_at(key(3), now);
        assert_eq!(limiter.tracked(), 2);
    }

    fn proxy() -> TrustedProxy {
        TrustedProxy {
            header: HeaderName::from_static("x-forwarded-for"),
            proxies: vec![
                AddressBlock::parse("10.0.0.0/8").unwrap(),
                AddressBlock::parse("2001:db8:ffff::1").unwrap(),
            ],
        }
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    #[test]
    fn a_forwarding_header_from_an_untrusted_peer_is_ignored() {
        let peer: IpAddr = "198.51.100.9".parse().unwrap();
        let headers = forwarded(&["203.0.113.1"]);
        assert_eq!(client_address(&headers, peer, Some(&proxy())), peer);
        // Without a configured proxy, no header is believed from anyone.
        let from_proxy: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(client_address(&headers, from_proxy, None), from_proxy);
    }

    #[test]
    fn a_forwarding_header_from_a_trusted_proxy_names_the_right_most_untrusted_hop() {
        let proxy = proxy();
        let peer: IpAddr = "10.1.2.3".parse().unwrap();
        let client: IpAddr = "203.0.113.1".parse().unwrap();
        // The client's own (spoofed) entries sit left of what the proxies appended.
        let headers = forwarded(&["1.1.1.1, 2.2.2.2", "203.0.113.1, 10.9.9.9"]);
        assert_eq!(client_address(&headers, peer, Some(&proxy)), client);
        let headers = forwarded(&["[2001:db8::7]:443, 2001:db8:ffff::1"]);
        assert_eq!(
            client_address(&headers, peer, Some(&proxy)),
            "2001:db8::7".parse::<IpAddr>().unwrap()
        );
        // A hop that is not an address: the last trusted hop answers for it.
        let headers = forwarded(&["garbage, 10.9.9.9"]);
        assert_eq!(
            client_address(&headers, peer, Some(&proxy)),
            "10.9.9.9".parse::<IpAddr>().unwrap()
        );
        // No header: the proxy itself.
        assert_eq!(client_address(&HeaderMap::new(), peer, Some(&proxy)), peer);
    }

    #[test]
    fn address_blocks_parse_and_match() {
        let block = AddressBlock::parse("192.0.2.0/24").unwrap();
        assert!(block.contains("192.0.2.200".parse().unwrap()));
        assert!(block.contains("::ffff:192.0.2.1".parse().unwrap()));
        assert!(!block.contains("192.0.3.1".parse().unwrap()));
        assert!(AddressBlock::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(AddressBlock::parse("::/0")
            .unwrap()
            .contains("2001:db8::1".parse().unwrap()));
        for bad in ["", "10.0.0.0/33", "::/129", "host.example", "10.0.0.0/x"] {
            assert!(AddressBlock::parse(bad).is_err(), "{bad:?}");
        }
    }
}
