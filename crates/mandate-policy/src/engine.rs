//! Deciding: effects → Cedar requests → the combining rule.
//!
//! | per effect, Cedar says                           | effect outcome |
//! |--------------------------------------------------|----------------|
//! | any evaluation error                             | deny (the error is the reason) |
//! | a forbid without `@ask` matched                  | deny |
//! | only `@ask` forbids matched                      | ask |
//! | a permit matched, no forbid                      | allow |
//! | nothing matched                                  | deny ("nothing permits") |
//!
//! | over the action's effects                        | decision |
//! |--------------------------------------------------|----------|
//! | any effect denied                                | deny |
//! | else any effect asked                            | ask |
//! | else every effect allowed (and at least one)     | allow |
//! | no effects                                       | deny |
//!
//! Evaluation is memoised per task: a Cedar request is a pure function of the principal,
//! action, resource and context, and the cache key holds every part of the request that
//! any policy of the profile reads (raw strings such as the path only when a policy
//! mentions them), so a cached outcome is exactly what Cedar would say again.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{
    Authorizer, Context, Decision as CedarDecision, Entities, Entity, EntityId, EntityTypeName,
    EntityUid, PolicyId, Request, RestrictedExpression,
};
use mandate_cache::BoundedCache;
use mandate_types::{Effect, Labels, Mandate, PathZone, Reason, Verdict};

use crate::load::{CompiledPolicy, CompiledProfile};

/// Most cached outcomes kept per task.
const MAX_CACHE: usize = 4096;

/// A context value, in a hashable form for cache keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Val {
    Str(String),
    Bool(bool),
    Long(i64),
    Set(Vec<&'static str>),
}

impl Val {
    fn to_cedar(&self) -> RestrictedExpression {
        match self {
            Val::Str(s) => RestrictedExpression::new_string(s.clone()),
            Val::Bool(b) => RestrictedExpression::new_bool(*b),
            Val::Long(n) => RestrictedExpression::new_long(*n),
            Val::Set(v) => RestrictedExpression::new_set(
                v.iter()
                    .map(|s| RestrictedExpression::new_string((*s).to_owned())),
            ),
        }
    }
}

fn labels(l: Labels) -> Val {
    Val::Set(l.iter().map(|x| x.as_str()).collect())
}

/// One effect as a Cedar request, before it is built.
struct Parts {
    action: &'static str,
    resource_type: &'static str,
    resource_id: String,
    context: Vec<(&'static str, Val)>,
}

/// What the task's value provenance says about one action (see
/// `mandate_analysis::values`): facts for the policies of sinks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowFacts {
    /// Kinds of the action's values (`url`, `host`, `email`, `account`, `phone`, `path`,
    /// `token`, `name`) found only in content outsiders can write, never in a trusted
    /// source: an injected recipient, URL, account or tool.
    pub injected: Vec<&'static str>,
    /// The action carries (verbatim or encoded) a secret value the task has seen.
    pub carries_secret: bool,
    /// The action is an HTTP GET whose URL carries no value of the task's data and no
    /// secret: reading a public page.
    pub public_fetch: bool,
}

impl FlowFacts {
    /// No facts: nothing seen, nothing carried.
    pub const NONE: Self = Self {
        injected: Vec::new(),
        carries_secret: false,
        public_fetch: false,
    };
}

fn strings(v: &[&'static str]) -> Val {
    Val::Set(v.to_vec())
}

fn parts(effect: &Effect, cwd_zone: PathZone, task_labels: Labels, facts: &FlowFacts) -> Parts {
    let mut context: Vec<(&'static str, Val)> = Vec::with_capacity(12);
    let (action, resource_type, resource_id) = match effect {
        Effect::Read(f) | Effect::Write(f) | Effect::Delete(f) => {
            // Only a write puts the action's text (its command, its content) into a file.
            let carries = facts.carries_secret && matches!(effect, Effect::Write(_));
            context.extend([
                ("path", Val::Str(f.path.clone())),
                ("zone", Val::Str(f.zone.as_str().into())),
                ("labels", labels(f.labels)),
                ("special", Val::Str(f.special.as_str().into())),
                ("in_scope", Val::Bool(f.in_scope)),
                ("carries_secret", Val::Bool(carries)),
            ]);
            (effect.kind(), "File", f.path.clone())
        }
        Effect::Exec { program, class } => {
            context.extend([
                ("program", Val::Str(program.clone())),
                ("class", Val::Str(class.as_str().into())),
            ]);
            ("exec", "Program", program.clone())
        }
        Effect::Privilege { program } => {
            context.extend([
                ("program", Val::Str(program.clone())),
                ("class", Val::Str("privilege".into())),
            ]);
            ("privilege", "Program", program.clone())
        }
        Effect::Connect(h) | Effect::Send { to: h, .. } | Effect::RunRemote(h) => {
            let l = match effect {
                Effect::Send { labels: l, .. } => *l,
                _ => Labels::NONE,
            };
            context.extend([
                ("host", Val::Str(h.host.clone())),
                ("port", Val::Long(i64::from(h.port))),
                ("in_scope", Val::Bool(h.in_scope)),
                ("registry", Val::Bool(h.registry)),
                ("loopback", Val::Bool(h.loopback)),
                ("labels", labels(l)),
                ("injected", strings(&facts.injected)),
                ("carries_secret", Val::Bool(facts.carries_secret)),
                ("public_fetch", Val::Bool(facts.public_fetch)),
            ]);
            (effect.kind(), "Host", h.host.clone())
        }
        Effect::Push(p) => {
            context.extend([
                ("remote", Val::Str(p.remote.clone())),
                ("branch", Val::Str(p.branch.clone().unwrap_or_default())),
                ("branch_known", Val::Bool(p.branch.is_some())),
                ("branch_in_scope", Val::Bool(p.branch_in_scope)),
                ("force", Val::Bool(p.force)),
                ("tag", Val::Bool(p.tag)),
                ("remote_in_scope", Val::Bool(p.remote_in_scope)),
                ("injected", strings(&facts.injected)),
            ]);
            ("push", "Host", p.remote.clone())
        }
        Effect::CallTool {
            server,
            tool,
            in_scope,
            annotation,
        } => {
            context.extend([
                ("server", Val::Str(server.clone())),
                ("tool", Val::Str(tool.clone())),
                ("in_scope", Val::Bool(*in_scope)),
                (
                    "annotation",
                    Val::Str(annotation.map_or("unknown", |a| a.as_str()).into()),
                ),
                ("injected", strings(&facts.injected)),
                ("carries_secret", Val::Bool(facts.carries_secret)),
            ]);
            ("call_tool", "Tool", format!("{server}/{tool}"))
        }
        Effect::Unparseable { reason } => {
            context.push(("reason", Val::Str(reason.clone())));
            ("unparseable", "Command", reason.clone())
        }
        Effect::Obfuscated { reason } => {
            context.push(("reason", Val::Str(reason.clone())));
            ("obfuscated_exec", "Command", reason.clone())
        }
        Effect::Schedule { assistant, tool }
        | Effect::Delegate { assistant, tool }
        | Effect::Bookkeeping { assistant, tool } => {
            context.extend([
                ("assistant", Val::Str(assistant.clone())),
                ("tool", Val::Str(tool.clone())),
            ]);
            (effect.kind(), "Tool", format!("{assistant}/{tool}"))
        }
    };
    context.push(("cwd_zone", Val::Str(cwd_zone.as_str().into())));
    context.push(("task_labels", labels(task_labels)));
    Parts {
        action,
        resource_type,
        resource_id,
        context,
    }
}

/// The cache key: a 128-bit keyed hash (two SipHash-1-3 with independent random keys)
/// of the action and every request part the profile's policies read, fed straight from
/// the parts: a lookup copies no string, and an entry costs 16 bytes. With keys no one
/// outside the process knows, two different requests share a key with a probability
/// near 2⁻¹²⁸ per pair, which no input can raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key(u64, u64);

impl Key {
    fn of(parts: &Parts, referenced: &crate::load::Referenced) -> Key {
        use std::hash::{BuildHasher, Hash, Hasher};
        static STATES: std::sync::OnceLock<(
            std::collections::hash_map::RandomState,
            std::collections::hash_map::RandomState,
        )> = std::sync::OnceLock::new();
        let (a, b) = STATES.get_or_init(|| {
            (
                std::collections::hash_map::RandomState::new(),
                std::collections::hash_map::RandomState::new(),
            )
        });
        let all = referenced.attrs.contains("*");
        let feed = |h: &mut std::collections::hash_map::DefaultHasher| {
            parts.action.hash(h);
            if referenced.resource {
                Some((parts.resource_type, parts.resource_id.as_str())).hash(h);
            } else {
                None::<(&str, &str)>.hash(h);
            }
            for (k, v) in &parts.context {
                if all || referenced.attrs.contains(*k) {
                    k.hash(h);
                    v.hash(h);
                }
            }
        };
        let (mut ha, mut hb) = (a.build_hasher(), b.build_hasher());
        feed(&mut ha);
        feed(&mut hb);
        Key(ha.finish(), hb.finish())
    }
}

/// How policy classified one effect (cacheable: no effect-specific text).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Classified {
    Allow(Vec<PolicyId>),
    Ask(Vec<PolicyId>),
    Deny(Vec<PolicyId>),
    NothingPermits,
    Error(String),
}

/// The outcome for one effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectOutcome {
    /// The verdict for this effect.
    pub verdict: Verdict,
    /// The policies that decided, with their reasons.
    pub reasons: Vec<Reason>,
}

/// The decision over all effects of one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDecision {
    /// The combined verdict.
    pub verdict: Verdict,
    /// Reasons: for deny the denying policies, for ask the asking ones, for allow the
    /// permitting ones.
    pub reasons: Vec<Reason>,
    /// Per effect, in the order given.
    pub per_effect: Vec<EffectOutcome>,
}

/// A task's view of the policy: its profile, its entities (built once) and a memo of
/// outcomes. Cheap to share between threads.
#[derive(Debug)]
pub struct TaskPolicy {
    profile: Arc<CompiledProfile>,
    entities: Entities,
    principal: EntityUid,
    types: Arc<TypeNames>,
    cache: BoundedCache<Key, Classified>,
}

#[derive(Debug)]
struct TypeNames {
    actions: HashMap<&'static str, EntityUid>,
    resources: HashMap<&'static str, EntityTypeName>,
}

impl TypeNames {
    /// The one set of names every task shares.
    fn shared() -> Arc<Self> {
        static NAMES: std::sync::OnceLock<Arc<TypeNames>> = std::sync::OnceLock::new();
        NAMES.get_or_init(|| Arc::new(Self::new())).clone()
    }

    #[expect(
        clippy::expect_used,
        reason = "the names are our schema's own, fixed at compile time and tested"
    )]
    fn new() -> Self {
        let actions = crate::load::ACTIONS
            .iter()
            .map(|a| {
                let uid = EntityUid::from_str(&format!("Mandate::Action::\"{a}\""))
                    .expect("valid action uid");
                (*a, uid)
            })
            .collect();
        let resources = ["File", "Program", "Host", "Tool", "Command"]
            .into_iter()
            .map(|t| {
                (
                    t,
                    EntityTypeName::from_str(&format!("Mandate::{t}")).expect("valid type"),
                )
            })
            .collect();
        Self { actions, resources }
    }
}

/// Why a task could not get a policy view.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaskPolicyError {
    /// The mandate names a profile the policy does not have.
    #[error("unknown profile {name:?}; known profiles: {known}")]
    UnknownProfile {
        /// The profile asked for.
        name: String,
        /// The profiles there are.
        known: String,
    },
    /// The task's entities did not build (a bug, or a mandate with odd values).
    #[error("cannot build the task's policy entities: {0}")]
    Entities(String),
}

#[expect(
    clippy::expect_used,
    reason = "callers pass our schema's type names, fixed at compile time"
)]
fn uid(t: &str, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(
        EntityTypeName::from_str(t).expect("valid type name"),
        EntityId::new(id),
    )
}

impl CompiledPolicy {
    /// Builds a task's policy view: principal entity with its agent and delegator as
    /// parents, and an empty outcome cache.
    pub fn task(&self, mandate: &Mandate) -> Result<TaskPolicy, TaskPolicyError> {
        let profile = self
            .profiles
            .get(mandate.profile.as_str())
            .cloned()
            .ok_or_else(|| TaskPolicyError::UnknownProfile {
                name: mandate.profile.to_string(),
                known: self.profile_names().join(", "),
            })?;
        let principal = uid("Mandate::Task", mandate.task.as_str());
        let agent = uid("Mandate::Agent", mandate.agent.as_str());
        let user = uid("Mandate::User", mandate.delegator.as_str());
        let attrs = HashMap::from([
            (
                "profile".to_owned(),
                RestrictedExpression::new_string(mandate.profile.to_string()),
            ),
            (
                "purpose".to_owned(),
                RestrictedExpression::new_string(mandate.purpose.to_string()),
            ),
        ]);
        let task = Entity::new(
            principal.clone(),
            attrs,
            HashSet::from([agent.clone(), user.clone()]),
        )
        .map_err(|e| TaskPolicyError::Entities(e.to_string()))?;
        // Without the schema here: with it, Cedar copies every action entity of the
        // schema into each task's set (most of a task's memory). Our actions have no
        // groups, so `action in [...]` holds by equality alone; the three entities are
        // built by this function from validated types.
        let entities = Entities::from_entities(
            [
                task,
                Entity::new_no_attrs(agent, HashSet::new()),
                Entity::new_no_attrs(user, HashSet::new()),
            ],
            None,
        )
        .map_err(|e| TaskPolicyError::Entities(e.to_string()))?;
        Ok(TaskPolicy {
            profile,
            entities,
            principal,
            types: TypeNames::shared(),
            cache: BoundedCache::per_task("policy.decisions", MAX_CACHE),
        })
    }
}

impl TaskPolicy {
    /// The profile's name.
    pub fn profile_name(&self) -> &str {
        &self.profile.name
    }

    /// Decides the effects of one action. Never fails: errors become denials.
    pub fn decide(
        &self,
        effects: &[Effect],
        cwd_zone: PathZone,
        task_labels: Labels,
        facts: &FlowFacts,
    ) -> PolicyDecision {
        let per_effect: Vec<EffectOutcome> = effects
            .iter()
            .map(|e| self.decide_effect(e, cwd_zone, task_labels, facts))
            .collect();
        combine(&self.profile.name, per_effect)
    }

    fn decide_effect(
        &self,
        effect: &Effect,
        cwd_zone: PathZone,
        task_labels: Labels,
        facts: &FlowFacts,
    ) -> EffectOutcome {
        let parts = parts(effect, cwd_zone, task_labels, facts);
        let key = Key::of(&parts, &self.profile.referenced);
        let classified = match self.cache.get(&key) {
            Some(c) => c,
            None => {
                let c = self.evaluate(&parts);
                self.cache.insert(key, c.clone());
                c
            }
        };
        self.render(effect, classified)
    }

    fn evaluate(&self, parts: &Parts) -> Classified {
        let Some(set) = self.profile.sliced.get(parts.action) else {
            return Classified::Error(format!("no policy slice for action {}", parts.action));
        };
        let Some(action) = self.types.actions.get(parts.action) else {
            return Classified::Error(format!("unknown action {}", parts.action));
        };
        let resource = EntityUid::from_type_name_and_id(
            self.types.resources[parts.resource_type].clone(),
            EntityId::new(&parts.resource_id),
        );
        let context = match Context::from_pairs(
            parts
                .context
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.to_cedar())),
        ) {
            Ok(c) => c,
            Err(e) => return Classified::Error(format!("cannot build the request context: {e}")),
        };
        let request = match Request::new(
            self.principal.clone(),
            action.clone(),
            resource,
            context,
            None,
        ) {
            Ok(r) => r,
            Err(e) => return Classified::Error(format!("cannot build the request: {e}")),
        };
        let response = Authorizer::new().is_authorized(&request, set, &self.entities);
        let errors: Vec<String> = response
            .diagnostics()
            .errors()
            .map(|e| e.to_string())
            .collect();
        if !errors.is_empty() {
            return Classified::Error(errors.join("; "));
        }
        let mut ids: Vec<PolicyId> = response.diagnostics().reason().cloned().collect();
        ids.sort_by_key(|a| a.to_string());
        match response.decision() {
            CedarDecision::Allow => Classified::Allow(ids),
            CedarDecision::Deny if ids.is_empty() => Classified::NothingPermits,
            CedarDecision::Deny => {
                let (ask, hard): (Vec<PolicyId>, Vec<PolicyId>) = ids
                    .into_iter()
                    .partition(|id| self.profile.meta.get(id).is_some_and(|m| m.ask));
                if hard.is_empty() {
                    Classified::Ask(ask)
                } else {
                    Classified::Deny(hard)
                }
            }
        }
    }

    fn reasons(&self, ids: &[PolicyId], effect: &Effect) -> Vec<Reason> {
        ids.iter()
            .map(|id| {
                let meta = self.profile.meta.get(id);
                let id = meta.map_or_else(|| id.to_string(), |m| m.id.clone());
                let text = meta.map(|m| m.reason.as_str()).unwrap_or("");
                let message = if text.is_empty() {
                    format!("{effect}")
                } else {
                    format!("{text}: {effect}")
                };
                Reason::new(id, message)
            })
            .collect()
    }

    fn render(&self, effect: &Effect, c: Classified) -> EffectOutcome {
        match c {
            Classified::Allow(ids) => EffectOutcome {
                verdict: Verdict::Allow,
                reasons: self.reasons(&ids, effect),
            },
            Classified::Ask(ids) => EffectOutcome {
                verdict: Verdict::Ask,
                reasons: self.reasons(&ids, effect),
            },
            Classified::Deny(ids) => EffectOutcome {
                verdict: Verdict::Deny,
                reasons: self.reasons(&ids, effect),
            },
            Classified::NothingPermits => EffectOutcome {
                verdict: Verdict::Deny,
                reasons: vec![Reason::new(
                    format!("{}.default", self.profile.name),
                    format!(
                        "no policy of profile {} permits {effect}",
                        self.profile.name
                    ),
                )],
            },
            Classified::Error(e) => EffectOutcome {
                verdict: Verdict::Deny,
                reasons: vec![Reason::new(
                    "policy.error",
                    format!("policy evaluation failed on {effect}: {e}"),
                )],
            },
        }
    }

    /// How many outcomes are cached (for metrics and tests).
    pub fn cached(&self) -> usize {
        self.cache.len()
    }

    /// Turns the cache off and on (benchmarks measure both).
    pub fn clear_cache(&self) {
        self.cache.clear();
    }
}

/// The combining rule over effects (see the module docs).
pub fn combine(profile: &str, per_effect: Vec<EffectOutcome>) -> PolicyDecision {
    if per_effect.is_empty() {
        return PolicyDecision {
            verdict: Verdict::Deny,
            reasons: vec![Reason::new(
                format!("{profile}.default"),
                "the action has no effects to decide on",
            )],
            per_effect,
        };
    }
    let verdict = per_effect
        .iter()
        .map(|o| o.verdict)
        .max()
        .unwrap_or(Verdict::Deny);
    let mut reasons: Vec<Reason> = Vec::new();
    for o in per_effect.iter().filter(|o| o.verdict == verdict) {
        for r in &o.reasons {
            if !reasons.contains(r) {
                reasons.push(r.clone());
            }
        }
    }
    PolicyDecision {
        verdict,
        reasons,
        per_effect,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{CompiledPolicy, PolicyBundle};
    use mandate_types::{FileFacts, HostFacts, ProgramClass, PushFacts, SpecialPath};

    fn every_effect_kind() -> Vec<Effect> {
        let f = FileFacts {
            path: "/r/a".into(),
            zone: PathZone::Repo,
            labels: Labels::NONE,
            special: SpecialPath::None,
            in_scope: false,
        };
        let h = HostFacts {
            host: "h.example".into(),
            port: 443,
            in_scope: false,
            registry: false,
            loopback: false,
        };
        vec![
            Effect::Read(f.clone()),
            Effect::Write(f.clone()),
            Effect::Delete(f),
            Effect::Exec {
                program: "cat".into(),
                class: ProgramClass::Inspect,
            },
            Effect::Privilege {
                program: "sudo".into(),
            },
            Effect::Connect(h.clone()),
            Effect::RunRemote(h.clone()),
            Effect::Send {
                to: h,
                labels: Labels::NONE,
            },
            Effect::Push(PushFacts {
                remote: "origin".into(),
                branch: Some("main".into()),
                branch_in_scope: false,
                force: false,
                tag: false,
                remote_in_scope: false,
            }),
            Effect::CallTool {
                server: "s".into(),
                tool: "t".into(),
                in_scope: false,
                annotation: None,
            },
            Effect::Unparseable { reason: "x".into() },
            Effect::Obfuscated { reason: "y".into() },
            Effect::Schedule {
                assistant: "claude".into(),
                tool: "CronCreate".into(),
            },
            Effect::Delegate {
                assistant: "claude".into(),
                tool: "Agent".into(),
            },
            Effect::Bookkeeping {
                assistant: "claude".into(),
                tool: "TaskCreate".into(),
            },
        ]
    }

    #[test]
    fn every_request_we_build_validates_against_the_schema() {
        let policy = CompiledPolicy::compile(&PolicyBundle::builtin()).unwrap();
        let types = TypeNames::new();
        let effects = every_effect_kind();
        assert_eq!(effects.len(), crate::load::ACTIONS.len());
        for e in &effects {
            let p = parts(e, PathZone::Repo, Labels::NONE, &FlowFacts::NONE);
            let ctx = Context::from_pairs(
                p.context
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.to_cedar())),
            )
            .unwrap();
            let resource = EntityUid::from_type_name_and_id(
                types.resources[p.resource_type].clone(),
                EntityId::new(&p.resource_id),
            );
            Request::new(
                uid("Mandate::Task", "task_1"),
                types.actions[p.action].clone(),
                resource,
                ctx,
                Some(policy.schema()),
            )
            .unwrap_or_else(|err| panic!("{e}: {err}"));
        }
    }

    #[test]
    fn combining_rule_table() {
        let o = |v| EffectOutcome {
            verdict: v,
            reasons: vec![Reason::new(format!("{v}"), "")],
        };
        assert_eq!(combine("p", vec![]).verdict, Verdict::Deny);
        assert_eq!(
            combine("p", vec![o(Verdict::Allow), o(Verdict::Allow)]).verdict,
            Verdict::Allow
        );
        assert_eq!(
            combine("p", vec![o(Verdict::Allow), o(Verdict::Ask)]).verdict,
            Verdict::Ask
        );
        let d = combine(
            "p",
            vec![o(Verdict::Ask), o(Verdict::Deny), o(Verdict::Allow)],
        );
        assert_eq!(d.verdict, Verdict::Deny);
        assert_eq!(d.reasons, vec![Reason::new("deny", "")]);
    }
}
