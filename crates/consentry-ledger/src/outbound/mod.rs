//! Outbound requests a tenant can aim — webhooks today, any later one tomorrow — go
//! through one guarded client, [`Outbound`], so that no tenant can use the service to
//! reach the operator's own network (server-side request forgery).
//!
//! - **Addresses** are judged by [`policy`]: loopback, private, link-local, multicast,
//!   unspecified and the other special-purpose ranges are refused unless the operator
//!   allowed them (`--outbound-allow CIDR`).
//! - **The address checked is the address connected to.** Names are resolved by the
//!   client's own resolver, which hands the connector only the addresses that passed
//!   (no DNS rebinding between a check and the connection); an address written in the
//!   URL is checked before the request. Connections are not pooled, so every request
//!   resolves and checks again (DNS can change between deliveries).
//! - **No redirects, no proxies** (a redirect is an answer like any other; an
//!   environment proxy would resolve the name instead of us), and bounded timeouts for
//!   the name, the connection and the whole request.
//! - **One text for the tenant.** Whatever failed before an answer — a refused address,
//!   a name that does not resolve, a closed, filtered or silent port, TLS — the tenant
//!   reads [`OutboundError::UNREACHABLE`], so a webhook cannot be used to map which
//!   ports or names exist; the precise reason is in [`OutboundError`]'s `Display`, for
//!   the operator's traces (it names the address and rule, never the URL).
//!
//! [`Outbound::check_url`] is the part that needs no network: the webhook's
//! configuration answers 422 at once for an address written in the URL.

pub mod policy;

pub use policy::{AddressPolicy, Cidr, CidrError, Rule};

use std::error::Error as StdError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// How long each step of a request may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Resolving the host name.
    pub resolve: Duration,
    /// Resolving and connecting (TCP and TLS).
    pub connect: Duration,
    /// The whole request, up to the response's status line and headers.
    pub total: Duration,
}

impl Default for Timeouts {
    /// 5 s to resolve, 5 s to connect, 10 s in all: an endpoint that is up answers a
    /// webhook in well under a second, and a worker waits no longer than this on one.
    fn default() -> Timeouts {
        Timeouts {
            resolve: Duration::from_secs(5),
            connect: Duration::from_secs(5),
            total: Duration::from_secs(10),
        }
    }
}

/// Why a URL is not acceptable, known from its text alone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not an absolute URL.
    #[error("not an absolute URL")]
    Syntax,
    /// Not `http` or `https`.
    #[error("the URL's scheme must be http or https")]
    Scheme,
    /// No host to connect to.
    #[error("the URL has no host")]
    NoHost,
    /// The host is an address (or `localhost`) in a refused range.
    #[error(
        "the URL names {} ({address}); outbound requests reach public addresses only",
        rule.describe()
    )]
    Forbidden {
        /// The address.
        address: IpAddr,
        /// The range it is in.
        rule: Rule,
    },
}

/// Why an outbound request got no answer. The `Display` is for the operator's traces;
/// the tenant reads [`OutboundError::tenant_text`].
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The URL itself is refused.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The name resolved to refused addresses only.
    #[error("the name resolves to {address}, {}", rule.describe())]
    Refused {
        /// The first address refused.
        address: IpAddr,
        /// Its range.
        rule: Rule,
    },
    /// The name did not resolve (in time).
    #[error("name resolution failed: {0}")]
    Resolve(String),
    /// No answer within the timeouts.
    #[error("timed out")]
    Timeout,
    /// The connection (TCP or TLS) failed.
    #[error("connection failed: {0}")]
    Connect(String),
    /// The request failed after connecting.
    #[error("request failed: {0}")]
    Request(String),
    /// The client could not be built.
    #[error("the outbound HTTP client: {0}")]
    Build(String),
}

impl OutboundError {
    /// What a tenant reads when its endpoint gave no answer, whatever the reason.
    pub const UNREACHABLE: &'static str =
        "the endpoint could not be reached or did not answer in time";

    /// The text for the tenant: a refused URL says why (it is known from the URL's text,
    /// which the tenant wrote); everything else is [`OutboundError::UNREACHABLE`].
    pub fn tenant_text(&self) -> String {
        match self {
            OutboundError::Url(e) => e.to_string(),
            _ => OutboundError::UNREACHABLE.to_owned(),
        }
    }

    /// A short name of the reason, for traces and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            OutboundError::Url(UrlError::Forbidden { .. }) | OutboundError::Refused { .. } => {
                "refused-address"
            }
            OutboundError::Url(_) => "bad-url",
            OutboundError::Resolve(_) => "resolve",
            OutboundError::Timeout => "timeout",
            OutboundError::Connect(_) => "connect",
            OutboundError::Request(_) => "request",
            OutboundError::Build(_) => "client",
        }
    }
}

/// The guarded client.
#[derive(Clone)]
pub struct Outbound {
    policy: Arc<AddressPolicy>,
    client: reqwest::Client,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Outbound {
    /// A client under `policy` with the default [`Timeouts`].
    pub fn new(policy: AddressPolicy) -> Result<Outbound, OutboundError> {
        Outbound::with_timeouts(policy, Timeouts::default())
    }

    /// A client under `policy` with `timeouts`.
    pub fn with_timeouts(
        policy: AddressPolicy,
        timeouts: Timeouts,
    ) -> Result<Outbound, OutboundError> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
                timeout: timeouts.resolve,
            }))
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(0)
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.total)
            .build()
            .map_err(|e| OutboundError::Build(chain(&e)))?;
        Ok(Outbound { policy, client })
    }

    /// The address policy.
    pub fn policy(&self) -> &AddressPolicy {
        &self.policy
    }

    /// What can be said of `url` before any network access (at configuration time): an
    /// absolute http(s) URL with a host that is neither an address nor `localhost` in a
    /// refused range. A name is resolved and checked at each request only.
    pub fn check_url(&self, url: &str) -> Result<(), UrlError> {
        let parsed = self.parse(url)?;
        let host = parsed.host_str().unwrap_or("").to_ascii_lowercase();
        let host = host.trim_end_matches('.');
        // RFC 6761: `localhost` and its subdomains are loopback whatever DNS says.
        if host == "localhost" || host.ends_with(".localhost") {
            let v4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
            if let (Err(rule), Err(_)) = (
                self.policy.check(v4),
                self.policy.check(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            ) {
                return Err(UrlError::Forbidden { address: v4, rule });
            }
        }
        Ok(())
    }

    /// Parses `url` and checks an address written in it.
    fn parse(&self, url: &str) -> Result<reqwest::Url, UrlError> {
        let parsed = reqwest::Url::parse(url).map_err(|_| UrlError::Syntax)?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(UrlError::Scheme);
        }
        let host = parsed.host_str().filter(|h| !h.is_empty());
        let host = host.ok_or(UrlError::NoHost)?;
        // The URL parser writes every IPv4 form (`2130706433`, `0x7f.1`) as dotted
        // decimal and IPv6 in brackets: what parses here is what the connector would
        // connect to without asking the resolver.
        let literal = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            Some(v6) => v6.parse::<Ipv6Addr>().ok().map(IpAddr::V6),
            None => host.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
        };
        if let Some(address) = literal {
            self.policy
                .check(address)
                .map_err(|rule| UrlError::Forbidden { address, rule })?;
        }
        Ok(parsed)
    }

    /// POSTs `body` to `url` with `headers`; the response's status once its headers
    /// arrived (the body is not read). Redirects are answers (3xx), never followed.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<u16, OutboundError> {
        let parsed = self.parse(url)?;
        let mut req = self.client.post(parsed).body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        match req.send().await {
            Ok(res) => Ok(res.status().as_u16()),
            Err(e) => Err(classify(e)),
        }
    }
}

/// The resolver the client connects through: only the addresses the policy accepts
/// reach the connector.
struct GuardedResolver {
    policy: Arc<AddressPolicy>,
    timeout: Duration,
}

/// The resolver's refusal, found again in the client's error chain.
#[derive(Debug, thiserror::Error)]
#[error("{address} is {}", rule.describe())]
struct ResolveRefused {
    address: IpAddr,
    rule: Rule,
}

/// The resolver's failure, found again in the client's error chain.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ResolveFailed(String);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let timeout = self.timeout;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = tokio::time::timeout(timeout, tokio::net::lookup_host((host.as_str(), 0)))
                .await
                .map_err(|_| ResolveFailed("timed out".into()))?
                .map_err(|e| ResolveFailed(e.to_string()))?;
            let mut passed: Vec<SocketAddr> = Vec::new();
            let mut refused = None;
            for addr in found {
                match policy.check(addr.ip()) {
                    Ok(()) => passed.push(addr),
                    Err(rule) => {
                        refused.get_or_insert(ResolveRefused {
                            address: addr.ip(),
                            rule,
                        });
                    }
                }
            }
            if passed.is_empty() {
                return Err(match refused {
                    Some(r) => Box::new(r) as Box<dyn StdError + Send + Sync>,
                    None => Box::new(ResolveFailed("no address".into())),
                });
            }
            Ok(Box::new(passed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// `e` and its sources, `: `-separated (without the URL, which is the tenant's).
fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

fn classify(e: reqwest::Error) -> OutboundError {
    let e = e.without_url();
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<ResolveRefused>() {
            return OutboundError::Refused {
                address: r.address,
                rule: r.rule,
            };
        }
        if let Some(r) = s.downcast_ref::<ResolveFailed>() {
            return OutboundError::Resolve(r.0.clone());
        }
        source = s.source();
    }
    if e.is_timeout() {
        OutboundError::Timeout
    } else if e.is_connect() {
        OutboundError::Connect(chain(&e))
    } else {
        OutboundError::Request(chain(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read as _, Write as _};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A listener on 127.0.0.1 that counts connections and answers each with `reply`
    /// (or holds it open, never answering, when `reply` is `None`).
    fn listener(reply: Option<&'static str>) -> (u16, Arc<AtomicUsize>) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = hits.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for s in l.incoming() {
                let Ok(mut s) = s else { return };
                counted.fetch_add(1, Ordering::SeqCst);
                match reply {
                    Some(r) => {
                        let mut buf = [0u8; 4096];
                        let _ = s.read(&mut buf);
                        let _ = s.write_all(r.as_bytes());
                    }
                    None => held.push(s),
                }
            }
        });
        (port, hits)
    }

    const OK: &str = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";

    fn allow(cidrs: &[&str]) -> AddressPolicy {
        AddressPolicy::new(cidrs.iter().map(|c| c.parse().unwrap()).collect())
    }

    #[tokio::test]
    async fn loopback_is_refused_by_address_and_by_name_and_nothing_connects() {
        let (port, hits) = listener(Some(OK));
        let out = Outbound::new(AddressPolicy::default()).unwrap();
        for url in [
            format!("http://127.0.0.1:{port}/hook"),
            format!("http://2130706433:{port}/hook"),
            format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        ] {
            let e = out.post(&url, &[], b"{}".to_vec()).await.unwrap_err();
            assert!(
                matches!(
                    e,
                    OutboundError::Url(UrlError::Forbidden {
                        rule: Rule::Loopback,
                        ..
                    })
                ),
                "{url}: {e:?}"
            );
            assert!(out.check_url(&url).is_err(), "{url}");
        }
        // A name is checked after resolution, by the resolver the connector uses.
        let by_name = format!("http://localhost:{port}/hook");
        let e = out.post(&by_name, &[], b"{}".to_vec()).await.unwrap_err();
        assert!(
            matches!(
                e,
                OutboundError::Refused {
                    rule: Rule::Loopback,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.tenant_text(), OutboundError::UNREACHABLE);
        assert!(!e.to_string().contains("hook"), "no URL in the trace text");
        assert_eq!(
            out.check_url(&by_name),
            Err(UrlError::Forbidden {
                address: IpAddr::V4(Ipv4Addr::LOCALHOST),
                rule: Rule::Loopback
            })
        );
        assert_eq!(
            hits.load(Ordering::SeqCst),
            0,
            "nothing reached the listener"
        );
    }

    #[tokio::test]
    async fn an_allowed_range_is_reached_by_address_and_by_name() {
        let (port, hits) = listener(Some(OK));
        let out = Outbound::new(allow(&["127.0.0.1/32"])).unwrap();
        for url in [
            format!("http://127.0.0.1:{port}/hook"),
            format!("http://localhost:{port}/hook"),
        ] {
            out.check_url(&url).unwrap();
            assert_eq!(out.post(&url, &[], b"{}".to_vec()).await.unwrap(), 204);
        }
        assert_eq!(hits.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn redirects_are_answers_never_followed() {
        let (target, reached) = listener(Some(OK));
        let redirect: &'static str = Box::leak(
            format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:{target}/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .into_boxed_str(),
        );
        let (port, _) = listener(Some(redirect));
        let out = Outbound::new(allow(&["127.0.0.1/32"])).unwrap();
        let status = out
            .post(&format!("http://127.0.0.1:{port}/"), &[], Vec::new())
            .await
            .unwrap();
        assert_eq!(status, 307);
        assert_eq!(reached.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn closed_and_silent_ports_read_the_same_for_the_tenant() {
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let (silent, hits) = listener(None);
        let out = Outbound::with_timeouts(
            allow(&["127.0.0.1/32"]),
            Timeouts {
                resolve: Duration::from_secs(1),
                connect: Duration::from_secs(1),
                total: Duration::from_millis(1500),
            },
        )
        .unwrap();
        let closed = out
            .post(&format!("http://127.0.0.1:{closed}/"), &[], Vec::new())
            .await
            .unwrap_err();
        let silent = out
            .post(&format!("http://127.0.0.1:{silent}/"), &[], Vec::new())
            .await
            .unwrap_err();
        assert!(matches!(closed, OutboundError::Connect(_)), "{closed:?}");
        assert!(matches!(silent, OutboundError::Timeout), "{silent:?}");
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        assert_eq!(closed.tenant_text(), silent.tenant_text());
        assert_ne!(
            closed.to_string(),
            silent.to_string(),
            "the operator can tell"
        );
    }

    #[test]
    fn urls_are_checked_for_scheme_and_host() {
        let out = Outbound::new(AddressPolicy::default()).unwrap();
        assert_eq!(out.check_url("ftp://example.org/"), Err(UrlError::Scheme));
        assert_eq!(out.check_url("/relative"), Err(UrlError::Syntax));
        assert_eq!(out.check_url("https://example.org/hook"), Ok(()));
        for (url, rule) in [
            ("http://169.254.169.254/latest/meta-data/", Rule::LinkLocal),
            ("http://[::1]/", Rule::Loopback),
            ("http://10.0.0.1/", Rule::Private),
            ("http://0x7f.1/", Rule::Loopback),
            ("http://0.0.0.0:5432/", Rule::Unspecified),
            ("https://[fd00::1]/", Rule::Private),
            ("http://api.localhost/", Rule::Loopback),
            ("http://LOCALHOST./", Rule::Loopback),
        ] {
            assert!(
                matches!(out.check_url(url), Err(UrlError::Forbidden { rule: r, .. }) if r == rule),
                "{url}: {:?}",
                out.check_url(url)
            );
        }
    }
}
