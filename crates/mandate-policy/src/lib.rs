//! Mandate's policy: a Cedar schema for agent actions, the shipped profiles, organisation
//! policies layered on top, and the combining rule that turns per-effect Cedar answers
//! into one `allow`, `deny` or `ask`.
//!
//! Only this crate names Cedar types; callers see [`PolicyDecision`] and Mandate's own
//! types. Loading is strict (schema validation, `@id` and `@reason` annotations); deciding
//! never fails — an evaluation error is a denial with the error as its reason.

#![forbid(unsafe_code)]

mod engine;
mod load;

pub use engine::{EffectOutcome, FlowFacts, PolicyDecision, TaskPolicy, TaskPolicyError, combine};
pub use load::{
    ACTIONS, BUILTIN_PROFILES, BUILTIN_SCHEMA, CompiledPolicy, CompiledProfile, PolicyBundle,
    PolicyError, PolicyErrors, PolicyMeta, PolicySource, Referenced,
};
