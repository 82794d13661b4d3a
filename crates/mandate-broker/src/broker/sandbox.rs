//! What the kernel sandbox's supervisor asks and tells the broker: whether a name may
//! be answered by the sandbox's resolver, and what the kernel refused.

use std::net::IpAddr;

use mandate_types::api::LookupAnswer;
use mandate_types::audit::{AuditEvent, SandboxLayer, SandboxRefusal};
use mandate_types::{Host, HttpMethod, Reason, Url, Verdict};

use super::egress::{EgressRequest, http_action};
use super::{Broker, BrokerError};

/// Longest name the resolver passes on (RFC 1035: 255 octets on the wire).
const MAX_NAME: usize = 253;

impl Broker {
    /// A name looked up inside a task's sandbox. It is answered only when the task could
    /// reach it through the proxy (the same screen and policy as a `GET https://name/`),
    /// so a lookup carries nothing out that a request could not; a refusal is recorded.
    /// An allowed lookup is not recorded: nothing leaves until a request does, and that
    /// is decided on its own.
    pub async fn sandbox_lookup(
        &self,
        token: &str,
        name: &str,
    ) -> Result<LookupAnswer, BrokerError> {
        let grant = self
            .grant(token)
            .map_err(|r| BrokerError::Forbidden(r.message))?;
        let name = name.trim_end_matches('.');
        let parsed = (name.len() <= MAX_NAME)
            .then(|| Host::parse(name).ok())
            .flatten()
            .and_then(|h| Url::parse(&format!("https://{h}/")).ok().map(|u| (h, u)));
        let refusal = match parsed {
            None => Some(Reason::new(
                "resolver.malformed-name",
                format!(
                    "the lookup of {:.80} is not a host name; names that carry data rather than name a host are refused",
                    printable(name)
                ),
            )),
            Some((_, url)) => {
                let req = EgressRequest {
                    method: Some(HttpMethod::Get),
                    url: url.clone(),
                    placeholders: Vec::new(),
                };
                match self.screen_request(&grant, &req) {
                    Err(r) => Some(r),
                    Ok(()) => {
                        let action = http_action(HttpMethod::Get, &url, Some(&grant.mandate));
                        let outcome = self.engine.decide(&grant.state, &action);
                        if outcome.verdict == Verdict::Allow {
                            match self.checked_addresses(&grant, &url).await {
                                Ok(addrs) => {
                                    return Ok(LookupAnswer {
                                        addresses: dedup(addrs.iter().map(|a| a.ip())),
                                        refused: None,
                                    });
                                }
                                Err(r) => Some(r),
                            }
                        } else {
                            Some(outcome.reasons.into_iter().next().unwrap_or_else(|| {
                                Reason::new(
                                    "resolver.not-allowed",
                                    "the policy does not allow this host",
                                )
                            }))
                        }
                    }
                }
            }
        };
        let reason = refusal.unwrap_or_else(|| Reason::new("resolver.refused", "refused"));
        self.record(AuditEvent::SandboxRefusal(SandboxRefusal {
            task: grant.task().clone(),
            layer: SandboxLayer::Resolver,
            operation: "lookup".into(),
            target: printable(name).chars().take(255).collect(),
            detail: format!("{} ({})", reason.message, reason.policy),
            program: None,
            sandbox: grant.mandate.sandbox,
        }))
        .await?;
        metrics::counter!("mandate_sandbox_refusals_total", "layer" => "resolver").increment(1);
        self.signal(
            grant.task(),
            grant.mandate.profile.as_str(),
            super::deviation::Signal::Kernel,
            &format!("lookup {}", printable(name)),
        )
        .await;
        Ok(LookupAnswer {
            addresses: Vec::new(),
            refused: Some(reason),
        })
    }

    /// Records what the kernel sandbox refused a task's process, as its supervisor saw it.
    pub async fn sandbox_refusal(
        &self,
        token: &str,
        mut refusal: SandboxRefusal,
    ) -> Result<(), BrokerError> {
        let grant = self
            .grant(token)
            .map_err(|r| BrokerError::Forbidden(r.message))?;
        // The task is the token's, whatever the body says.
        refusal.task = grant.task().clone();
        refusal.sandbox = grant.mandate.sandbox;
        refusal.target = printable(&refusal.target).chars().take(4096).collect();
        refusal.detail = refusal.detail.chars().take(4096).collect();
        let layer = match refusal.layer {
            SandboxLayer::Landlock => "landlock",
            SandboxLayer::Network => "network",
            SandboxLayer::Resolver => "resolver",
            SandboxLayer::Seccomp => "seccomp",
        };
        // One signal per operation and directory: a program retrying under new names
        // (an atomic write's temp files) is one attempt.
        let place = std::path::Path::new(&refusal.target)
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| refusal.target.clone());
        let what = format!("{} in {place}", refusal.operation);
        self.record(AuditEvent::SandboxRefusal(refusal)).await?;
        metrics::counter!("mandate_sandbox_refusals_total", "layer" => layer).increment(1);
        self.signal(
            grant.task(),
            grant.mandate.profile.as_str(),
            super::deviation::Signal::Kernel,
            &what,
        )
        .await;
        Ok(())
    }
}

/// `s` with control characters escaped, for a record a human reads.
fn printable(s: &str) -> String {
    s.chars().flat_map(char::escape_debug).collect()
}

fn dedup(ips: impl Iterator<Item = IpAddr>) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    for ip in ips {
        if !out.contains(&ip) {
            out.push(ip);
        }
    }
    out
}
