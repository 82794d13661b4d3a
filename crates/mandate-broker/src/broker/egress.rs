//! What the egress proxy and the git credential helper ask the broker: who a token's
//! task is, whether a request may leave, which secrets go with it, and which credential
//! git gets. One token check ([`Broker::grant`]) serves both.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use mandate_secrets::{Binding, FoundPlaceholder, SecretName, SecretValue};
use mandate_types::api::{CredentialAnswer, CredentialQuery, StartTaskRequest};
use mandate_types::audit::{AuditEvent, CredentialRequest, EnforcementPoint, TaskDeviation};
use mandate_types::ip::{AddressKind, address_kind};
use mandate_types::{
    Action, ActionKind, Decision, Host, HostPattern, HttpMethod, Mandate, Reason, TaskId, Url,
    Verdict,
};

use super::{Broker, BrokerError};
use crate::engine::{Outcome, TaskState};

/// How long a DNS lookup for the proxy may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// A verified, live task: what a token stands for.
#[derive(Clone)]
pub struct TaskGrant {
    pub mandate: Arc<Mandate>,
    pub(super) state: Arc<TaskState>,
}

impl TaskGrant {
    /// The task.
    pub fn task(&self) -> &TaskId {
        &self.mandate.task
    }

    /// When the task's token expires (Unix seconds).
    pub fn expires_at(&self) -> i64 {
        self.mandate.expires_at
    }
}

/// One request (or tunnel) the proxy wants to make for a task.
#[derive(Debug, Clone)]
pub struct EgressRequest {
    /// The method; `None` for a `CONNECT` tunnel whose requests the proxy will not see.
    pub method: Option<HttpMethod>,
    /// Where to: for a tunnel, `https://host:port/`.
    pub url: Url,
    /// Placeholders found in the request line, headers and (when read) body.
    pub placeholders: Vec<FoundPlaceholder>,
}

/// A secret that goes with an allowed request.
pub struct BoundSecret {
    pub name: SecretName,
    pub binding: Binding,
    pub placeholder: String,
    pub value: SecretValue,
}

/// The broker's answer to an [`EgressRequest`].
pub struct EgressAnswer {
    pub decision: Decision,
    /// The addresses that were checked: connect to these, never resolve again.
    pub addresses: Vec<SocketAddr>,
    /// Secrets bound to this destination that the task holds (empty unless allowed).
    pub secrets: Vec<BoundSecret>,
    /// The task, when the token was good.
    pub grant: Option<TaskGrant>,
}

impl Broker {
    /// The one check of a task token for the proxy and the credential helper: genuine,
    /// not expired, not revoked. (A later binding of tokens to process trees belongs
    /// here too.)
    pub fn grant(&self, token: &str) -> Result<TaskGrant, Reason> {
        let v = self.verify(token)?;
        let state = self.task_state(&v)?;
        Ok(TaskGrant {
            mandate: v.mandate().clone(),
            state,
        })
    }

    /// Ended tasks, as they end: the proxy cuts their open tunnels.
    pub fn task_ends(&self) -> tokio::sync::broadcast::Receiver<TaskId> {
        self.task_ends.subscribe()
    }

    /// The secret store.
    pub fn secret_store(&self) -> &mandate_secrets::SecretStore {
        &self.secrets
    }

    /// The secrets a new task asks for: each must be stored, and a sub-agent's task may
    /// only hold secrets its parent holds. The hosts they are bound to join the task's
    /// hosts.
    pub(super) async fn task_secrets(
        &self,
        req: &StartTaskRequest,
        hosts: &mut Vec<HostPattern>,
    ) -> Result<Vec<SecretName>, BrokerError> {
        let parent_secrets = match &req.parent {
            Some(p) if !req.secrets.is_empty() => {
                let rec = self
                    .store
                    .get_task(p)
                    .await?
                    .ok_or_else(|| BrokerError::Invalid(format!("no parent task {p}")))?;
                Some(rec.mandate.scope.secrets)
            }
            _ => None,
        };
        let mut out = Vec::new();
        for raw in &req.secrets {
            let name = SecretName::parse(raw).map_err(|e| BrokerError::Invalid(e.to_string()))?;
            if let Some(parent) = &parent_secrets
                && !parent.iter().any(|s| s == raw)
            {
                return Err(BrokerError::Invalid(format!(
                    "the parent task does not hold the secret {raw:?}; a delegated task can only narrow its parent's secrets"
                )));
            }
            let binding = self
                .secrets
                .binding(&name)
                .map_err(|e| BrokerError::Invalid(e.to_string()))?
                .ok_or_else(|| {
                    BrokerError::Invalid(format!(
                        "no secret named {raw:?}; store it first with `mandate secret set {raw} --host HOST`"
                    ))
                })?;
            for d in &binding.hosts {
                if let Ok(p) = HostPattern::parse(d.host.as_str())
                    && !hosts.contains(&p)
                {
                    hosts.push(p);
                }
            }
            if !out.contains(&name) {
                out.push(name);
            }
        }
        Ok(out)
    }

    /// Decides one request (or tunnel) leaving through the proxy, by the same pipeline
    /// as a `fetch`/`send` effect, after the checks only the network edge can make:
    /// data-carrying host names, addresses inside the machine or the network (after
    /// resolution: the answer carries the addresses that were checked), and
    /// placeholders going where their secret is not bound. Recorded in the audit.
    pub async fn egress(&self, token: &str, req: EgressRequest) -> EgressAnswer {
        // A tunnel is decided as what it is (a connection whose content is not seen),
        // never as a plain GET of a public page.
        let method = req.method.unwrap_or(HttpMethod::Connect);
        let grant = match self.grant(token) {
            Ok(g) => g,
            Err(reason) => {
                // A genuine but ended task's token is still attributed to its task.
                let mandate = self
                    .verify_signature(token)
                    .ok()
                    .map(|v| v.mandate().clone());
                let action = http_action(method, &req.url, mandate.as_deref());
                let decision = self
                    .finish(
                        Err(reason),
                        mandate.as_deref(),
                        action,
                        Some(EnforcementPoint::Proxy),
                    )
                    .await;
                return EgressAnswer {
                    decision,
                    addresses: Vec::new(),
                    secrets: Vec::new(),
                    grant: None,
                };
            }
        };
        let action = http_action(method, &req.url, Some(&grant.mandate));
        let mut addresses = Vec::new();
        let mut deviation = None;
        let outcome = match self.screen(&grant, &req) {
            Err(Screened::Refused(r)) => Err(r),
            Err(Screened::Deviation(r, signal)) => {
                deviation = Some((signal, r.message.clone()));
                Err(r)
            }
            Ok(()) => {
                // The name is looked up only once the policy would let the request
                // go: a lookup of a name nobody allowed is itself a message out.
                let outcome = self.engine.decide(&grant.state, &action);
                if outcome.verdict == Verdict::Allow {
                    self.check_addresses(&grant, &req.url, &mut addresses)
                        .await
                        .map(|()| outcome)
                        .map_err(|s| match s {
                            Screened::Refused(r) | Screened::Deviation(r, _) => r,
                        })
                } else {
                    Ok(outcome)
                }
            }
        };
        let allowed = matches!(
            &outcome,
            Ok(Outcome {
                verdict: Verdict::Allow,
                ..
            })
        );
        let host = req.url.host().map(|h| h.to_string()).unwrap_or_default();
        let destination = format!("{host}:{}", req.url.port());
        let destination_for_signal = format!("placeholder toward {destination}");
        let decision = self
            .finish(
                outcome,
                Some(&grant.mandate),
                action,
                Some(EnforcementPoint::Proxy),
            )
            .await;
        if let Some((signal, detail)) = deviation {
            // The refusal is already durable; the signal is best effort on top of it.
            let _ = self
                .record(AuditEvent::Deviation(TaskDeviation {
                    task: grant.task().clone(),
                    signal,
                    detail,
                    destination,
                    decision_id: Some(decision.decision_id.clone()),
                    sandbox: grant.mandate.sandbox,
                }))
                .await;
            metrics::counter!("mandate_deviations_total").increment(1);
            self.signal(
                grant.task(),
                grant.mandate.profile.as_str(),
                super::deviation::Signal::Placeholder,
                &destination_for_signal,
            )
            .await;
        }
        let secrets = if allowed && decision.decision == Verdict::Allow {
            self.bound_secrets(&grant, &req.url)
        } else {
            Vec::new()
        };
        EgressAnswer {
            decision,
            addresses,
            secrets,
            grant: Some(grant),
        }
    }

    /// A `CONNECT` to a destination a held secret is bound to: the proxy will end the
    /// tunnel itself, and nothing leaves until a request inside it does, which is
    /// decided (and recorded) on its own. So an allowed one is answered without a
    /// record, and without a lookup; anything else (another destination, a refusal, a
    /// placeholder in the name) goes through [`Broker::egress`] and is recorded.
    pub async fn egress_connect(&self, token: &str, req: EgressRequest) -> EgressAnswer {
        let Ok(grant) = self.grant(token) else {
            return self.egress(token, req).await;
        };
        let secrets = self.bound_secrets(&grant, &req.url);
        if secrets.is_empty() || !req.placeholders.is_empty() || self.screen(&grant, &req).is_err()
        {
            return self.egress(token, req).await;
        }
        let action = http_action(HttpMethod::Connect, &req.url, Some(&grant.mandate));
        let outcome = self.engine.decide(&grant.state, &action);
        if outcome.verdict != Verdict::Allow {
            return self.egress(token, req).await;
        }
        EgressAnswer {
            decision: Decision {
                decision: Verdict::Allow,
                reasons: outcome.reasons,
                decision_id: super::generated(mandate_types::DecisionId::parse, "dec_"),
                effects: outcome.effects,
                approval: None,
            },
            addresses: Vec::new(),
            secrets,
            grant: Some(grant),
        }
    }

    /// The credential git gets for `query`: the placeholder of a secret the task holds
    /// that is bound to the host, or a refusal. Recorded either way.
    pub async fn git_credential(
        &self,
        token: &str,
        query: &CredentialQuery,
    ) -> Result<CredentialAnswer, BrokerError> {
        let grant = self
            .grant(token)
            .map_err(|r| BrokerError::Forbidden(r.message))?;
        let target = format!("{}://{}", query.protocol, query.host);
        let found = Url::parse(&format!("{target}/"))
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http"))
            .and_then(|url| {
                let host = url.host()?.clone();
                grant.mandate.scope.secrets.iter().find_map(|raw| {
                    let name = SecretName::parse(raw).ok()?;
                    let binding = self.secrets.binding(&name).ok()??;
                    binding.allows(&host, url.port()).then_some((name, binding))
                })
            });
        let (answer, reason) = match &found {
            Some((name, binding)) => (
                Ok(CredentialAnswer {
                    username: binding.git_user.clone(),
                    password: self
                        .secrets
                        .placeholders()
                        .placeholder(grant.task().as_str(), name),
                }),
                format!("placeholder of {name} (swapped for the value at the proxy)"),
            ),
            None => {
                let why = format!(
                    "the task holds no secret bound to {target}; start it with --secret NAME for a secret stored with --host {}",
                    query.host
                );
                (Err(BrokerError::Forbidden(why.clone())), why)
            }
        };
        self.record(AuditEvent::Credential(CredentialRequest {
            task: grant.task().clone(),
            target,
            secret: found.as_ref().map(|(n, _)| n.to_string()),
            granted: answer.is_ok(),
            reason,
            sandbox: grant.mandate.sandbox,
        }))
        .await?;
        answer
    }

    /// Whether the placeholders `found` may go to `host`:`port` for this task: the check
    /// [`Broker::egress`] makes on a request's line and headers, for a body the proxy
    /// reads as it streams.
    pub fn placeholders_allowed(
        &self,
        grant: &TaskGrant,
        host: &Host,
        port: u16,
        found: &[FoundPlaceholder],
    ) -> Result<(), Reason> {
        self.check_placeholders(grant, host, port, found)
            .map_err(|s| match s {
                Screened::Refused(r) | Screened::Deviation(r, _) => r,
            })
    }

    /// Records that the task sent a placeholder where it does not belong, found after
    /// the request was decided (in a streamed body).
    pub async fn record_deviation(&self, grant: &TaskGrant, reason: &Reason, destination: String) {
        let _ = self
            .record(AuditEvent::Deviation(TaskDeviation {
                task: grant.task().clone(),
                signal: reason.policy.clone(),
                detail: reason.message.clone(),
                destination,
                decision_id: None,
                sandbox: grant.mandate.sandbox,
            }))
            .await;
        metrics::counter!("mandate_deviations_total").increment(1);
        self.signal(
            grant.task(),
            grant.mandate.profile.as_str(),
            super::deviation::Signal::Placeholder,
            &reason.message,
        )
        .await;
    }

    /// [`Self::screen`] for other enforcement points: a refusal, whatever kind.
    pub(super) fn screen_request(
        &self,
        grant: &TaskGrant,
        req: &EgressRequest,
    ) -> Result<(), Reason> {
        self.screen(grant, req).map_err(|s| match s {
            Screened::Refused(r) | Screened::Deviation(r, _) => r,
        })
    }

    /// [`Self::check_addresses`] for other enforcement points: the addresses checked.
    pub(super) async fn checked_addresses(
        &self,
        grant: &TaskGrant,
        url: &Url,
    ) -> Result<Vec<SocketAddr>, Reason> {
        let mut addresses = Vec::new();
        self.check_addresses(grant, url, &mut addresses)
            .await
            .map(|()| addresses)
            .map_err(|s| match s {
                Screened::Refused(r) | Screened::Deviation(r, _) => r,
            })
    }

    /// What is refused before the policy is asked and before any lookup.
    fn screen(&self, grant: &TaskGrant, req: &EgressRequest) -> Result<(), Screened> {
        let scope = &grant.mandate.scope;
        let host = req.url.host().ok_or_else(|| {
            Screened::Refused(Reason::new("egress.no-host", "the request names no host"))
        })?;
        if !scope.allows_host(host)
            && let Some(label) = data_carrying_label(host)
        {
            return Err(Screened::Refused(Reason::new(
                "egress.dns-exfiltration",
                format!(
                    "the host name {host} carries a long random-looking label ({label:.24}…), the shape of data smuggled out through DNS; refused before any lookup"
                ),
            )));
        }
        self.check_placeholders(grant, host, req.url.port(), &req.placeholders)?;
        if req.method.is_none() && !self.tunnel_port_allowed(grant, req.url.port()) {
            return Err(Screened::Refused(Reason::new(
                "egress.port",
                format!(
                    "CONNECT to port {} is not allowed: the proxy tunnels to ports {:?} (proxy_tunnel_ports in config.toml) and to ports a held secret is bound to",
                    req.url.port(),
                    self.settings.proxy_tunnel_ports
                ),
            )));
        }
        Ok(())
    }

    /// Resolves the host and refuses addresses inside the machine or its network unless
    /// the task names the host; `addresses` gets what was checked.
    async fn check_addresses(
        &self,
        grant: &TaskGrant,
        url: &Url,
        addresses: &mut Vec<SocketAddr>,
    ) -> Result<(), Screened> {
        let scope = &grant.mandate.scope;
        let host = url.host().ok_or_else(|| {
            Screened::Refused(Reason::new("egress.no-host", "the request names no host"))
        })?;
        *addresses = self.resolve(host, url.port()).await?;
        for a in addresses.iter() {
            let kind = address_kind(a.ip());
            let named = scope.allows_host(host)
                || Host::parse(&a.ip().to_string()).is_ok_and(|h| scope.allows_host(&h));
            if kind != AddressKind::Public && !named {
                return Err(Screened::Refused(Reason::new(
                    "egress.internal-address",
                    format!(
                        "{host} is {} ({kind:?}), inside the machine or its network; the proxy refuses such addresses unless the task names the host (--allow-host {host})",
                        a.ip(),
                    ),
                )));
            }
        }
        Ok(())
    }

    fn tunnel_port_allowed(&self, grant: &TaskGrant, port: u16) -> bool {
        self.settings.proxy_tunnel_ports.contains(&port)
            || grant.mandate.scope.secrets.iter().any(|raw| {
                SecretName::parse(raw)
                    .ok()
                    .and_then(|n| self.secrets.binding(&n).ok().flatten())
                    .is_some_and(|b| b.hosts.iter().any(|d| d.port == Some(port)))
            })
    }

    fn check_placeholders(
        &self,
        grant: &TaskGrant,
        host: &Host,
        port: u16,
        found: &[FoundPlaceholder],
    ) -> Result<(), Screened> {
        let placeholders = self.secrets.placeholders();
        for f in found {
            let name = &f.name;
            if !placeholders.issued_to(f, grant.task().as_str()) {
                return Err(Screened::Deviation(
                    Reason::new(
                        "secret.placeholder-foreign",
                        format!(
                            "the request carries a placeholder for {name} that was not issued to this task"
                        ),
                    ),
                    "secret.placeholder-foreign".into(),
                ));
            }
            let bound = grant
                .mandate
                .scope
                .secrets
                .iter()
                .any(|s| s == name.as_str())
                && self
                    .secrets
                    .binding(name)
                    .ok()
                    .flatten()
                    .is_some_and(|b| b.allows(host, port));
            if !bound {
                return Err(Screened::Deviation(
                    Reason::new(
                        "secret.placeholder-elsewhere",
                        format!(
                            "the request carries the placeholder of the secret {name} to {host}:{port}, where that secret is not bound: a credential going somewhere else"
                        ),
                    ),
                    "secret.placeholder-elsewhere".into(),
                ));
            }
        }
        Ok(())
    }

    /// The addresses `host` reaches: an IP literal is itself, a name in the `[resolve]`
    /// table its addresses there, anything else what DNS says (within 5 s).
    async fn resolve(&self, host: &Host, port: u16) -> Result<Vec<SocketAddr>, Screened> {
        let refused = |why: String| {
            Screened::Refused(Reason::new(
                "egress.unresolved",
                format!("{host} could not be resolved: {why}"),
            ))
        };
        if let Ok(ip) = host.as_str().parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        if let Some(ips) = self.settings.resolve.get(host.as_str()) {
            return Ok(ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect());
        }
        let lookup = tokio::net::lookup_host((host.as_str(), port));
        match tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
            Ok(Ok(addrs)) => {
                let mut v: Vec<SocketAddr> = addrs.collect();
                v.dedup();
                if v.is_empty() {
                    Err(refused("no addresses".into()))
                } else {
                    Ok(v)
                }
            }
            Ok(Err(e)) => Err(refused(e.to_string())),
            Err(_) => Err(refused("the lookup timed out".into())),
        }
    }

    fn bound_secrets(&self, grant: &TaskGrant, url: &Url) -> Vec<BoundSecret> {
        let Some(host) = url.host() else {
            return Vec::new();
        };
        grant
            .mandate
            .scope
            .secrets
            .iter()
            .filter_map(|raw| {
                let name = SecretName::parse(raw).ok()?;
                let (binding, value) = self.secrets.reveal(&name).ok()?;
                binding.allows(host, url.port()).then(|| BoundSecret {
                    placeholder: self
                        .secrets
                        .placeholders()
                        .placeholder(grant.task().as_str(), &name),
                    name,
                    binding,
                    value,
                })
            })
            .collect()
    }
}

/// A request at the proxy as an action, in the task's repository (`/` when the token
/// names no task).
pub(super) fn http_action(method: HttpMethod, url: &Url, mandate: Option<&Mandate>) -> Action {
    Action {
        kind: ActionKind::Http {
            method,
            url: url.clone(),
        },
        cwd: mandate
            .and_then(|m| m.scope.repos.first().cloned())
            .unwrap_or_else(|| super::literal(|s| mandate_types::AbsPath::parse("cwd", s), "/")),
    }
}

enum Screened {
    Refused(Reason),
    /// Refused, and a sign the task is being steered somewhere it should not go.
    Deviation(Reason, String),
}

/// A label of `host` long and random enough to be data rather than a name: 20+
/// characters with more than 3.5 bits of entropy per character, or 40+ of anything
/// but one repeated word. Names people choose (`release-assets`, `objects`,
/// `d1a2b3c4e5f6g7.cloudfront`) stay under it.
fn data_carrying_label(host: &Host) -> Option<&str> {
    if host.as_str().parse::<IpAddr>().is_ok() {
        return None;
    }
    host.as_str().split('.').find(|label| {
        let n = label.len();
        (n >= 20 && entropy(label) > 3.5) || (n >= 40 && entropy(label) > 2.5)
    })
}

/// Shannon entropy of `s`'s bytes, in bits per byte.
fn entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = *c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flagged(h: &str) -> bool {
        data_carrying_label(&Host::parse(h).unwrap()).is_some()
    }

    #[test]
    fn data_in_host_labels_is_told_from_names() {
        for exfil in [
            "aGVsbG8gd29ybGQgc2VjcmV0IGtleQ.evil.example",
            "6d616e646174652d7365637265742d76616c7565.x.example",
            "nbswy3dpeb3w64tmmqqhg2ldojsxi.b32.example",
            "ghp-16C7e42F292c6912E7710c838347Ae178B4a.t.example",
        ] {
            assert!(flagged(exfil), "{exfil}");
        }
        for name in [
            "github.com",
            "release-assets.githubusercontent.com",
            "d1a2b3c4e5f6g7.cloudfront.net",
            "ec2-54-123-45-67.compute-1.amazonaws.com",
            "s3.dualstack.us-west-2.amazonaws.com",
            "registry.npmjs.org",
            "static.crates.io",
            "127.0.0.1",
        ] {
            assert!(!flagged(name), "{name}");
        }
    }
}
