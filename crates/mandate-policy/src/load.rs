//! Loading policies: schema, profiles and organisation policies, validated as a whole.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use cedar_policy::{
    ActionConstraint, Effect as CedarEffect, EntityUid, Policy, PolicyId, PolicySet, Schema,
    ValidationMode, Validator,
};
use sha2::{Digest, Sha256};

/// The schema shipped with Mandate.
pub const BUILTIN_SCHEMA: &str = include_str!("../../../policies/mandate.cedarschema");

/// The shipped profiles, as (name, file name, text).
pub const BUILTIN_PROFILES: &[(&str, &str, &str)] = &[
    (
        "read-only",
        "policies/profiles/read-only.cedar",
        include_str!("../../../policies/profiles/read-only.cedar"),
    ),
    (
        "develop",
        "policies/profiles/develop.cedar",
        include_str!("../../../policies/profiles/develop.cedar"),
    ),
    (
        "build",
        "policies/profiles/build.cedar",
        include_str!("../../../policies/profiles/build.cedar"),
    ),
    (
        "release",
        "policies/profiles/release.cedar",
        include_str!("../../../policies/profiles/release.cedar"),
    ),
];

/// Every Cedar action of the schema; effects map one-to-one onto these.
pub const ACTIONS: &[&str] = &[
    "read",
    "write",
    "delete",
    "exec",
    "privilege",
    "connect",
    "run_remote",
    "send",
    "push",
    "call_tool",
    "unparseable",
    "obfuscated_exec",
    "schedule",
    "delegate",
    "bookkeeping",
];

/// A policy file: its name (a path, for messages) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySource {
    /// Where it came from, e.g. `policies/profiles/develop.cedar`.
    pub name: String,
    /// The Cedar text.
    pub text: String,
}

impl PolicySource {
    /// A source from a name and text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }
}

/// Everything that makes up the policy: the schema, the profiles, and organisation
/// policies layered on every profile.
#[derive(Debug, Clone)]
pub struct PolicyBundle {
    /// The Cedar schema.
    pub schema: PolicySource,
    /// Profiles by name.
    pub profiles: BTreeMap<String, PolicySource>,
    /// Organisation policies added to every profile.
    pub org: Vec<PolicySource>,
}

impl PolicyBundle {
    /// The shipped schema and profiles, without organisation policies.
    pub fn builtin() -> Self {
        Self {
            schema: PolicySource::new("policies/mandate.cedarschema", BUILTIN_SCHEMA),
            profiles: BUILTIN_PROFILES
                .iter()
                .map(|(n, f, t)| ((*n).to_owned(), PolicySource::new(*f, *t)))
                .collect(),
            org: Vec::new(),
        }
    }

    /// A digest of every source, recorded with each decision so an auditor knows which
    /// policy decided.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        let mut feed = |s: &PolicySource| {
            h.update(s.name.as_bytes());
            h.update([0]);
            h.update(s.text.as_bytes());
            h.update([0]);
        };
        feed(&self.schema);
        for s in self.profiles.values() {
            feed(s);
        }
        for s in &self.org {
            feed(s);
        }
        let digest = h.finalize();
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A problem in a policy file, located by file, line and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyError {
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

/// Several policy errors, all reported at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Renders a miette diagnostic located in `src` as policy errors.
fn diag_errors(
    src: &PolicySource,
    d: &dyn miette::Diagnostic,
    fallback_offset: usize,
) -> PolicyError {
    let offset = d
        .labels()
        .and_then(|mut l| l.next())
        .map(|l| l.offset())
        .unwrap_or(fallback_offset);
    let (line, column) = line_col(&src.text, offset);
    let mut message = d.to_string();
    if let Some(help) = d.help() {
        message.push_str(&format!(" (help: {help})"));
    }
    PolicyError {
        file: src.name.clone(),
        line,
        column,
        message,
    }
}

/// What Mandate reads from one policy's annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyMeta {
    /// The `@id`.
    pub id: String,
    /// The `@reason` (for forbids, required).
    pub reason: String,
    /// A forbid annotated `@ask`.
    pub ask: bool,
    /// A forbid (rather than a permit).
    pub forbid: bool,
}

/// Which request parts a policy set looks at: only these go into decision-cache keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Referenced {
    /// Attribute names read anywhere (`x.attr`, `x has attr`).
    pub attrs: HashSet<String>,
    /// Whether the resource entity is constrained or mentioned.
    pub resource: bool,
    /// Whether the principal entity is constrained or mentioned.
    pub principal: bool,
}

fn walk_json(v: &serde_json::Value, r: &mut Referenced) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, val) in m {
                if (k == "." || k == "has")
                    && let Some(a) = val.get("attr").and_then(|a| a.as_str())
                {
                    r.attrs.insert(a.to_owned());
                }
                if k == "Var" {
                    match val.as_str() {
                        Some("resource") => r.resource = true,
                        Some("principal") => r.principal = true,
                        _ => {}
                    }
                }
                walk_json(val, r);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| walk_json(x, r)),
        _ => {}
    }
}

/// A profile compiled for evaluation: policies sliced per action, annotations, and what
/// they reference.
#[derive(Debug)]
pub struct CompiledProfile {
    /// The profile's name.
    pub name: String,
    pub(crate) sliced: HashMap<&'static str, PolicySet>,
    pub(crate) meta: HashMap<PolicyId, PolicyMeta>,
    pub(crate) referenced: Referenced,
    pub(crate) policy_count: usize,
}

impl CompiledProfile {
    /// How many policies the profile holds (its own and the organisation's).
    pub fn policy_count(&self) -> usize {
        self.policy_count
    }
}

/// The loaded, validated policy: every profile, ready to decide.
#[derive(Debug)]
pub struct CompiledPolicy {
    pub(crate) schema: Schema,
    pub(crate) profiles: HashMap<String, std::sync::Arc<CompiledProfile>>,
    pub(crate) hash: String,
}

impl CompiledPolicy {
    /// Validates and compiles a bundle. Every problem is reported with file and line.
    pub fn compile(bundle: &PolicyBundle) -> Result<Self, PolicyErrors> {
        let (schema, _warnings) = Schema::from_cedarschema_str(&bundle.schema.text)
            .map_err(|e| PolicyErrors(vec![diag_errors(&bundle.schema, &e, 0)]))?;
        let mut errors = Vec::new();
        let mut org = Vec::new();
        for src in &bundle.org {
            match parse_file(src) {
                Ok(p) => org.extend(p),
                Err(mut e) => errors.append(&mut e),
            }
        }
        let mut profiles = HashMap::new();
        for (name, src) in &bundle.profiles {
            let mut policies = match parse_file(src) {
                Ok(p) => p,
                Err(mut e) => {
                    errors.append(&mut e);
                    continue;
                }
            };
            policies.extend(org.iter().cloned());
            match compile_profile(name, &schema, policies) {
                Ok(p) => {
                    profiles.insert(name.clone(), std::sync::Arc::new(p));
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
        if !errors.is_empty() {
            errors.dedup();
            return Err(PolicyErrors(errors));
        }
        Ok(Self {
            schema,
            profiles,
            hash: bundle.hash(),
        })
    }

    /// The digest of the sources this policy was compiled from.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    pub fn profile_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.profiles.keys().cloned().collect();
        v.sort();
        v
    }

    /// A compiled profile by name.
    pub fn profile(&self, name: &str) -> Option<&std::sync::Arc<CompiledProfile>> {
        self.profiles.get(name)
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }
}

/// A parsed policy with where it came from.
#[derive(Debug, Clone)]
struct Located {
    policy: Policy,
    meta: PolicyMeta,
    src: PolicySource,
    /// Byte offset of the policy's text in the file.
    offset: usize,
}

/// Splits Cedar text into policy statements (ending in `;` outside strings, comments and
/// brackets), with the byte offset where each starts.
fn split_statements(text: &str) -> Vec<(usize, &str)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut start, mut depth) = (0usize, 0usize, 0i32);
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' | b'{' | b'[' => depth += 1,
            b')' | b'}' | b']' => depth -= 1,
            b';' if depth == 0 => {
                out.push((start, &text[start..=i]));
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn parse_file(src: &PolicySource) -> Result<Vec<Located>, Vec<PolicyError>> {
    // Parse the whole file first: its errors carry positions in the file.
    PolicySet::from_str(&src.text).map_err(|e| vec![diag_errors(src, &e, 0)])?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (offset, chunk) in split_statements(&src.text) {
        let p = match Policy::parse(None, chunk) {
            Ok(p) => p,
            Err(e) => {
                let mut err = diag_errors(&PolicySource::new(&src.name, chunk), &e, 0);
                let local = line_col(chunk, 0);
                let (line, _) = line_col(&src.text, offset);
                err.line += line - local.0;
                errors.push(err);
                continue;
            }
        };
        // Point at the policy itself, not the comments before it.
        let offset = offset + (chunk.len() - chunk.trim_start().len());
        let offset = skip_comments(&src.text, offset);
        let at = |message: String| {
            let (line, column) = line_col(&src.text, offset);
            PolicyError {
                file: src.name.clone(),
                line,
                column,
                message,
            }
        };
        let Some(id) = p.annotation("id").map(str::to_owned) else {
            errors.push(at(
                "every policy needs an @id(\"...\") annotation so decisions can name it".into(),
            ));
            continue;
        };
        let forbid = p.effect() == CedarEffect::Forbid;
        let ask = p.annotation("ask").is_some();
        let reason = p.annotation("reason").map(str::to_owned);
        if ask && !forbid {
            errors.push(at(format!(
                "policy {id:?}: @ask only makes sense on a forbid policy"
            )));
        }
        if forbid && reason.as_deref().is_none_or(str::is_empty) {
            errors.push(at(format!(
                "policy {id:?}: forbid policies need @reason(\"...\") so a human knows why an action was refused"
            )));
        }
        out.push(Located {
            policy: p.new_id(PolicyId::new(&id)),
            meta: PolicyMeta {
                id,
                reason: reason.unwrap_or_default(),
                ask,
                forbid,
            },
            src: src.clone(),
            offset,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Moves an offset past blank lines and `//` comments.
fn skip_comments(text: &str, mut offset: usize) -> usize {
    loop {
        let rest = &text[offset..];
        let trimmed = rest.trim_start();
        offset += rest.len() - trimmed.len();
        if trimmed.starts_with("//") {
            offset += trimmed.find('\n').map_or(trimmed.len(), |n| n + 1);
        } else {
            return offset;
        }
    }
}

#[expect(
    clippy::expect_used,
    reason = "callers pass the schema's action names, which are plain identifiers"
)]
fn action_uid(name: &str) -> EntityUid {
    EntityUid::from_str(&format!("Mandate::Action::\"{name}\""))
        .expect("action uids are well formed")
}

fn compile_profile(
    name: &str,
    schema: &Schema,
    policies: Vec<Located>,
) -> Result<CompiledProfile, Vec<PolicyError>> {
    let mut errors = Vec::new();
    let mut set = PolicySet::new();
    let mut by_id: HashMap<String, &Located> = HashMap::new();
    for l in &policies {
        if let Some(prev) = by_id.get(&l.meta.id) {
            let (line, column) = line_col(&l.src.text, l.offset);
            errors.push(PolicyError {
                file: l.src.name.clone(),
                line,
                column,
                message: format!(
                    "duplicate policy id {:?} (also in {}); ids must be unique within profile {name}",
                    l.meta.id, prev.src.name
                ),
            });
            continue;
        }
        by_id.insert(l.meta.id.clone(), l);
        if let Err(e) = set.add(l.policy.clone()) {
            errors.push(PolicyError {
                file: l.src.name.clone(),
                line: 0,
                column: 0,
                message: e.to_string(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let result = Validator::new(schema.clone()).validate(&set, ValidationMode::Strict);
    for e in result.validation_errors() {
        let id = e.policy_id().to_string();
        let (src, base) = by_id
            .get(&id)
            .map(|l| (l.src.clone(), l.offset))
            .unwrap_or_else(|| (PolicySource::new(name, ""), 0));
        // Labels are relative to the policy's own text.
        let rel = miette::Diagnostic::labels(e)
            .and_then(|mut l| l.next())
            .map(|l| l.offset())
            .unwrap_or(0);
        let mut err = diag_errors(&src, e, 0);
        let (line, column) = line_col(&src.text, base + rel);
        err.line = line;
        err.column = column;
        err.message = format!(
            "policy {id:?} does not validate against the schema: {}",
            err.message
        );
        errors.push(err);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut referenced = Referenced::default();
    let mut meta = HashMap::new();
    let mut sliced: HashMap<&'static str, PolicySet> =
        ACTIONS.iter().map(|a| (*a, PolicySet::new())).collect();
    for l in &policies {
        if let Ok(json) = l.policy.to_json() {
            walk_json(&json, &mut referenced);
            let constrained = |k: &str| {
                json.get(k)
                    .and_then(|c| c.get("op"))
                    .and_then(|o| o.as_str())
                    != Some("All")
            };
            referenced.resource |= constrained("resource");
            referenced.principal |= constrained("principal");
        } else {
            // Be conservative if the policy cannot be inspected.
            referenced.resource = true;
            referenced.principal = true;
            referenced.attrs.insert("*".into());
        }
        meta.insert(l.policy.id().clone(), l.meta.clone());
        let applies: Vec<&'static str> = match l.policy.action_constraint() {
            ActionConstraint::Any => ACTIONS.to_vec(),
            ActionConstraint::Eq(uid) => ACTIONS
                .iter()
                .copied()
                .filter(|a| action_uid(a) == uid)
                .collect(),
            ActionConstraint::In(uids) => ACTIONS
                .iter()
                .copied()
                .filter(|a| uids.contains(&action_uid(a)))
                .collect(),
        };
        for a in applies {
            if let Some(s) = sliced.get_mut(a) {
                // Ids are unique (checked above), so adding cannot fail.
                let _ = s.add(l.policy.clone());
            }
        }
    }
    Ok(CompiledProfile {
        name: name.to_owned(),
        sliced,
        meta,
        referenced,
        policy_count: policies.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_policy_compiles_and_references_no_raw_attributes() {
        let p = CompiledPolicy::compile(&PolicyBundle::builtin()).unwrap();
        assert_eq!(
            p.profile_names(),
            vec!["build", "develop", "read-only", "release"]
        );
        let dev = p.profile("develop").unwrap();
        assert!(!dev.referenced.resource);
        for raw in ["path", "host", "port", "remote", "branch", "tool", "reason"] {
            assert!(!dev.referenced.attrs.contains(raw), "develop reads {raw}");
        }
        assert!(dev.referenced.attrs.contains("zone"));
    }

    #[test]
    fn syntax_error_names_file_and_line() {
        let mut b = PolicyBundle::builtin();
        b.org.push(PolicySource::new(
            "org/extra.cedar",
            "// comment\n@id(\"x\")\npermit (principal, action, resource)\nwhen { context.zone == };\n",
        ));
        let e = CompiledPolicy::compile(&b).unwrap_err();
        let first = &e.0[0];
        assert_eq!(first.file, "org/extra.cedar");
        assert_eq!(first.line, 4, "{e}");
    }

    #[test]
    fn schema_violations_and_missing_annotations_are_errors() {
        let mut b = PolicyBundle::builtin();
        b.org.push(PolicySource::new(
            "org/typo.cedar",
            "@id(\"org.typo\")\n@reason(\"x\")\nforbid (principal, action == Mandate::Action::\"read\", resource)\nwhen { context.zoen == \"repo\" };\n",
        ));
        let e = CompiledPolicy::compile(&b).unwrap_err().to_string();
        assert!(
            e.contains("org/typo.cedar:4:") && e.contains("org.typo"),
            "{e}"
        );

        let mut b = PolicyBundle::builtin();
        b.org.push(PolicySource::new(
            "org/noid.cedar",
            "forbid (principal, action, resource);\n",
        ));
        let e = CompiledPolicy::compile(&b).unwrap_err().to_string();
        assert!(e.contains("@id"), "{e}");

        let mut b = PolicyBundle::builtin();
        b.org.push(PolicySource::new(
            "org/noreason.cedar",
            "@id(\"n\")\nforbid (principal, action, resource);\n",
        ));
        let e = CompiledPolicy::compile(&b).unwrap_err().to_string();
        assert!(e.contains("@reason"), "{e}");
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
