//! The URL rules of the trust list (SPEC §5): where status lists may come from and where a log
//! sends its checkpoints to be witnessed. Both are fetched or posted to by machines that trust
//! what answers, so both must be absolute `https://` URLs (`http://` only for a loopback host,
//! for tests and the demo), without user info, query or fragment; and no region's status
//! prefix may lie within another's.

use super::{EntryProblem, RegionEntry};

/// The `entry` name of a `status_uri_prefix` problem (such problems refuse the whole list).
pub(super) const STATUS_URI_PREFIX_ENTRY: &str = "status_uri_prefix";

/// No region's prefix may be a prefix of another's: a status-list URI must belong to one region
/// only, or one region's status signer could sign lists for another's licences.
pub(super) fn check_prefixes_disjoint(regions: &[RegionEntry], problems: &mut Vec<EntryProblem>) {
    for (i, a) in regions.iter().enumerate() {
        for (j, b) in regions.iter().enumerate() {
            if i != j && b.status_uri_prefix.starts_with(&a.status_uri_prefix) {
                problems.push(EntryProblem {
                    region: b.code.to_string(),
                    entry: STATUS_URI_PREFIX_ENTRY.into(),
                    problem: format!(
                        "{:?} lies within region {}'s prefix {:?}",
                        b.status_uri_prefix, a.code, a.status_uri_prefix
                    ),
                    x5t_s256: None,
                    weak_key: false,
                });
            }
        }
    }
}

/// SPEC §5: an absolute `https://` URL (`http://` only for a loopback host), ending in `/`,
/// without user info, query or fragment.
///
/// ```
/// use huren_crypto::trust_list::check_status_uri_prefix;
/// assert!(check_status_uri_prefix("https://issuer.zj.example/v1/status/").is_ok());
/// assert!(check_status_uri_prefix("http://127.0.0.1:8080/v1/status/").is_ok());
/// assert!(check_status_uri_prefix("http://issuer.zj.example/v1/status/").is_err());
/// assert!(check_status_uri_prefix("https://issuer.zj.example/v1/status").is_err());
/// ```
pub fn check_status_uri_prefix(prefix: &str) -> Result<(), String> {
    check_url(prefix, Slash::Required)
}

/// A witness's `url` (SPEC §12, huren extension): the same rules as a `status_uri_prefix`,
/// except that it must *not* end in `/`, because the log posts to `<url>/add-checkpoint`.
///
/// ```
/// use huren_crypto::trust_list::check_witness_url;
/// assert!(check_witness_url("https://issuer.js.example/v1/witness").is_ok());
/// assert!(check_witness_url("http://127.0.0.1:8080/v1/witness").is_ok());
/// assert!(check_witness_url("http://issuer.js.example/v1/witness").is_err());
/// assert!(check_witness_url("https://issuer.js.example/v1/witness/").is_err());
/// ```
pub fn check_witness_url(url: &str) -> Result<(), String> {
    check_url(url, Slash::Forbidden)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Slash {
    Required,
    Forbidden,
}

fn check_url(url: &str, slash: Slash) -> Result<(), String> {
    let (rest, secure) = if let Some(rest) = url.strip_prefix("https://") {
        (rest, true)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (rest, false)
    } else {
        return Err("must be an absolute https:// URL".into());
    };
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '\\'))
    {
        return Err("must not contain whitespace, '?', '#' or '\\'".into());
    }
    match slash {
        Slash::Required if !url.ends_with('/') => return Err("must end in '/'".into()),
        Slash::Forbidden if url.ends_with('/') => {
            return Err("must not end in '/' (the log appends /add-checkpoint)".into())
        }
        _ => {}
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err("must not contain user info".into());
    }
    let host = host_of(authority).ok_or("has no host")?;
    if !secure && !is_loopback_host(host) {
        return Err("must use https:// (http:// only for a loopback host)".into());
    }
    Ok(())
}

/// The host of `host[:port]` (IPv6 literals keep their brackets); `None` if empty or the
/// port is not a number.
fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let end = v6.find(']')?;
            let port = v6[end + 1..].strip_prefix(':');
            if port.is_none() && end + 1 != v6.len() {
                return None;
            }
            (&authority[..end + 2], port)
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    (!host.is_empty() && port_ok).then_some(host)
}

fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}
