//! Calls custos makes to other parties' endpoints: the status callbacks an authorized
//! agent asks for (Data Rights Protocol), and a portability package sent straight to the
//! controller a person names (seed 8.5; GDPR Art. 20(2)).
//!
//! A destination comes from outside (an agent's message, a person's request), so it is
//! checked before anything is sent: HTTPS only, no credentials in the address, no
//! redirects, and by default no address that is loopback, private, link-local or otherwise
//! not on the public internet, whether written as a literal or reached through DNS (the
//! resolver drops such addresses, so a name that resolves to one is refused too). An
//! operator whose recipients live on an internal network turns that last check off with
//! `[outbound] allow_private_destinations`. Certificates are checked against the Mozilla
//! roots (webpki-roots), plus any the operator adds for a private CA.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use url::Url;

/// How outbound calls are made.
#[derive(Debug, Clone)]
pub struct OutboundSettings {
    /// Allow destinations on loopback, private and link-local networks.
    pub allow_private_destinations: bool,
    /// Extra trusted root certificates, PEM (for recipients behind a private CA).
    pub extra_roots_pem: Option<Vec<u8>>,
    /// How long one call may take, connection included.
    pub timeout: Duration,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        Self { allow_private_destinations: false, extra_roots_pem: None, timeout: Duration::from_secs(30) }
    }
}

/// Why a destination is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    /// Not a URL.
    #[error("not a URL: {0}")]
    Malformed(String),
    /// Not `https://`.
    #[error("the address must start with https://")]
    NotHttps,
    /// A user name or password in the address.
    #[error("the address may not carry a user name or password")]
    Credentials,
    /// The host is not on the public internet.
    #[error("{0} is not a public internet address")]
    NotPublic(String),
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The destination is refused; trying again will not help.
    #[error(transparent)]
    Destination(#[from] DestinationError),
    /// The call did not complete (connection, TLS, timeout); it may work later.
    #[error("the call did not complete: {0}")]
    Transport(String),
    /// The settings cannot be used.
    #[error("outbound settings: {0}")]
    Settings(String),
}

/// What the other side answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
}

impl Answer {
    /// 2xx.
    pub fn accepted(self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Worth trying again: the other side is overloaded or failed (429, 5xx).
    pub fn transient(self) -> bool {
        self.status == 429 || self.status >= 500
    }
}

/// Whether `ip` is on the public internet: not loopback, private, link-local, shared
/// (100.64/10), unspecified, broadcast, multicast, documentation or unique-local.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// Checks a destination before it is stored or called; returns it parsed.
pub fn check_destination(address: &str, allow_private: bool) -> Result<Url, DestinationError> {
    let url = Url::parse(address.trim()).map_err(|e| DestinationError::Malformed(e.to_string()))?;
    if url.scheme() != "https" {
        return Err(DestinationError::NotHttps);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(DestinationError::Credentials);
    }
    let literal = match url.host() {
        None => return Err(DestinationError::Malformed("the address has no host".into())),
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => {
            if !allow_private && (name.eq_ignore_ascii_case("localhost") || name.ends_with(".localhost")) {
                return Err(DestinationError::NotPublic(name.to_owned()));
            }
            None
        }
    };
    if let Some(ip) = literal
        && !allow_private
        && !is_public(ip)
    {
        return Err(DestinationError::NotPublic(ip.to_string()));
    }
    Ok(url)
}

/// Resolves names to public addresses only.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(DestinationError::NotPublic(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The outbound HTTPS client; cheap to clone.
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    allow_private: bool,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound").field("allow_private", &self.allow_private).finish_non_exhaustive()
    }
}

impl Outbound {
    /// A client under `settings`.
    pub fn new(settings: &OutboundSettings) -> Result<Self, OutboundError> {
        let mut builder = reqwest::Client::builder()
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("custos/", env!("CARGO_PKG_VERSION")));
        if !settings.allow_private_destinations {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        if let Some(pem) = &settings.extra_roots_pem {
            let roots = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| OutboundError::Settings(format!("extra root certificates: {e}")))?;
            if roots.is_empty() {
                return Err(OutboundError::Settings("extra root certificates: no certificate in the file".into()));
            }
            for root in roots {
                builder = builder.add_root_certificate(root);
            }
        }
        let client = builder.build().map_err(|e| OutboundError::Settings(e.to_string()))?;
        Ok(Self { client, allow_private: settings.allow_private_destinations })
    }

    /// Checks `address` as this client would before calling it.
    pub fn check(&self, address: &str) -> Result<Url, DestinationError> {
        check_destination(address, self.allow_private)
    }

    /// POSTs `body` as `content_type` to `address`, with `headers`.
    pub async fn post(
        &self,
        address: &str,
        content_type: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<Answer, OutboundError> {
        let url = self.check(address)?;
        let mut request = self.client.post(url).header(reqwest::header::CONTENT_TYPE, content_type).body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.map_err(|e| {
            // The error's chain names the cause (refused address, TLS, timeout) without the
            // body; the URL is the caller's to show or not.
            OutboundError::Transport(error_chain(&e.without_url()))
        })?;
        Ok(Answer { status: response.status().as_u16() })
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_https_destinations_pass() {
        let ok = |a: &str| check_destination(a, false);
        assert!(ok("https://controller.example/import").is_ok());
        assert!(ok("https://8.8.8.8/x").is_ok());
        assert_eq!(ok("http://controller.example/"), Err(DestinationError::NotHttps));
        assert_eq!(ok("https://user:pw@controller.example/"), Err(DestinationError::Credentials));
        for private in [
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://10.1.2.3/",
            "https://172.16.0.9/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://localhost/",
            "https://api.localhost/",
            "https://0.0.0.0/",
        ] {
            assert!(matches!(ok(private), Err(DestinationError::NotPublic(_))), "{private} passed");
            assert!(check_destination(private, true).is_ok(), "{private} refused with private allowed");
        }
        assert!(matches!(ok("not a url"), Err(DestinationError::Malformed(_))));
    }

    #[test]
    fn public_addresses_are_told_apart() {
        assert!(is_public("8.8.8.8".parse().expect("ip")));
        assert!(is_public("2a00:1450:4001::1".parse().expect("ip")));
        assert!(!is_public("192.0.2.1".parse().expect("ip")));
        assert!(!is_public("2001:db8::1".parse().expect("ip")));
    }
}
