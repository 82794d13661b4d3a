//! `mandate audit verify|tail|export`: reads the database directly, so verification
//! does not trust the running broker.

use std::io::Write as _;
use std::path::Path;

use mandate_broker::ocsf;
use mandate_store::{AuditRecord, SqliteStore, Store};
use mandate_types::audit::AuditEvent;
use tokio::runtime::Runtime;

use crate::cli::{AuditCmd, ExportFormat};
use crate::exit::{CliError, CliResult, Exit};
use crate::output::print_json;

/// Runs one audit subcommand.
pub fn audit(dir: &Path, cmd: AuditCmd, json: bool) -> CliResult {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::io("starting the async runtime"))?;
    let store = open_store(dir, &rt)?;
    match cmd {
        AuditCmd::Verify => verify(dir, &store, &rt, json),
        AuditCmd::Tail { n } => tail(&store, &rt, n, json),
        AuditCmd::Export { format, since } => export(&store, &rt, format, since),
    }
}

fn open_store(dir: &Path, rt: &Runtime) -> CliResult<SqliteStore> {
    let db = dir.join("mandate.db");
    if !db.exists() {
        return Err(CliError::Failed(format!(
            "no audit log at {} (has the broker run with this data dir?)",
            db.display()
        )));
    }
    Ok(rt.block_on(SqliteStore::open(&db))?)
}

fn verify(dir: &Path, store: &SqliteStore, rt: &Runtime, json: bool) -> CliResult {
    let key_path = dir.join("broker.key");
    let key_text =
        std::fs::read_to_string(&key_path).map_err(CliError::io(key_path.display().to_string()))?;
    let key = mandate_token::BrokerKey::from_text(&key_text)
        .map_err(|e| CliError::Failed(format!("{}: {e}", key_path.display())))?;
    let r = rt.block_on(mandate_broker::verify_audit(
        store,
        &[key.public()],
        &dir.join("audit.checkpoint"),
    ))?;
    match r {
        Ok(rep) => {
            if json {
                print_json(
                    &serde_json::json!({"ok": true, "records": rep.records, "checkpoints": rep.checkpoints, "head": rep.head}),
                )?;
            } else {
                out!(
                    "audit log OK: {} records, {} signed checkpoints, head {}",
                    rep.records,
                    rep.checkpoints,
                    rep.head
                );
            }
            Ok(Exit::Success)
        }
        Err(broken) => {
            if json {
                print_json(
                    &serde_json::json!({"ok": false, "record": broken.seq, "error": broken.message}),
                )?;
            }
            Err(CliError::Failed(format!(
                "audit log BROKEN: {}",
                broken.message
            )))
        }
    }
}

/// One line of `audit tail`: sequence, time, kind, task and, for decisions, what was decided.
fn tail_line(r: &AuditRecord) -> String {
    let what = match r.event() {
        Ok(AuditEvent::Decision(d)) => format!(
            "{} {} {}",
            d.decision,
            d.action.kind.name(),
            d.action.kind.target()
        ),
        Ok(AuditEvent::SandboxRefusal(x)) => format!(
            "{} refused {} {}: {}",
            serde_json::to_value(x.layer)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            x.operation,
            x.target,
            x.detail
        ),
        Ok(AuditEvent::Deviation(d)) => format!("{} {}", d.signal, d.destination),
        Ok(_) => String::new(),
        Err(e) => format!("(unreadable: {e})"),
    };
    format!(
        "{:>6} {} {:<10} {} {}",
        r.seq,
        r.time_ms,
        r.kind,
        r.task_id.clone().unwrap_or_default(),
        what
    )
}

fn tail(store: &SqliteStore, rt: &Runtime, n: u32, json: bool) -> CliResult {
    let head = rt.block_on(store.audit_head())?.map_or(0, |h| h.0);
    let records = rt.block_on(store.audit_range((head - i64::from(n) + 1).max(1), i64::from(n)))?;
    for r in records {
        if json {
            out!("{}", serde_json::to_string(&r)?);
        } else {
            out!("{}", tail_line(&r));
        }
    }
    Ok(Exit::Success)
}

fn export(store: &SqliteStore, rt: &Runtime, format: ExportFormat, since: i64) -> CliResult {
    const PAGE: i64 = 1000;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let write_err = CliError::io;
    let mut from = since.max(1);
    loop {
        let page = rt.block_on(store.audit_range(from, PAGE))?;
        for r in &page {
            let line = match format {
                ExportFormat::Ocsf => serde_json::to_string(&ocsf::to_ocsf(r))?,
                ExportFormat::Jsonl => serde_json::to_string(r)?,
            };
            writeln!(out, "{line}").map_err(write_err("writing the export"))?;
        }
        match page.last() {
            Some(l) if page.len() as i64 == PAGE => from = l.seq + 1,
            _ => break,
        }
    }
    out.flush().map_err(write_err("writing the export"))?;
    Ok(Exit::Success)
}
