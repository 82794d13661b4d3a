//! The broker: the decision pipeline (verify → analyse → decide → record), tasks,
//! revocation, the audit writer and OCSF export. The server and the CLI are thin layers
//! over this crate.

#![forbid(unsafe_code)]

pub mod audit;
mod broker;
pub mod config;
mod engine;
pub mod provenance;

pub mod ocsf;

pub use broker::{
    BoundSecret, Broker, BrokerError, EgressAnswer, EgressRequest, TaskGrant, verify_audit,
};
pub use engine::{Engine, Outcome, TaskError, TaskState};

/// Now, in Unix seconds.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Unix seconds as RFC 3339 (UTC).
pub fn rfc3339(secs: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}
