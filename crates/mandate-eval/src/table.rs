//! The evaluation report as the table `mandate eval` prints.

use std::fmt::Write as _;

use crate::corpus::EvalReport;

fn pct(a: u64, b: u64) -> String {
    if b == 0 {
        "-".to_owned()
    } else {
        format!("{:.1}%", 100.0 * a as f64 / b as f64)
    }
}

fn of(a: u64, b: u64) -> String {
    format!("{} / {b}", pct(a, b))
}

/// One line per source (and per category reported apart); with `misses`, the ids of the
/// attacks allowed and the benign actions not allowed.
pub fn render(report: &EvalReport, misses: bool) -> String {
    let mut t = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        t,
        "{:<28} {:>16} {:>16} {:>10} {:>10} {:>16} {:>16}",
        "source",
        "attacks stopped",
        "benign allowed",
        "asked",
        "denied",
        "traces stopped",
        "traces allowed"
    );
    for (name, s) in &report.sources {
        let c = &s.counts;
        let _ = writeln!(
            t,
            "{:<28} {:>16} {:>16} {:>10} {:>10} {:>16} {:>16}",
            name,
            of(c.attack_stopped, c.attack_total),
            of(c.benign_allowed, c.benign_total),
            pct(c.benign_asked, c.benign_total),
            pct(c.benign_denied, c.benign_total),
            of(c.traces_attack_stopped, c.traces_attack_total),
            of(c.traces_benign_allowed, c.traces_benign_total),
        );
        for (apart, k) in &s.reported_apart {
            let _ = writeln!(
                t,
                "  (apart) {:<18} {:>16} {:>16}",
                apart,
                of(k.attack_stopped, k.attack_total),
                of(k.benign_allowed, k.benign_total)
            );
        }
        if misses && !s.misses.is_empty() {
            let _ = writeln!(t, "  misses: {}", s.misses.join(" "));
        }
        if misses {
            for (group, n) in unparseable_groups(&s.unparseable).into_iter().take(12) {
                let _ = writeln!(t, "  not understood: {n:>6}  {group}");
            }
        }
    }
    t
}

/// Unparseable reasons grouped by their shape: what is quoted in backticks (a program, an
/// option, a variable) is replaced by `…`. Largest groups first.
pub fn unparseable_groups(reasons: &std::collections::BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut groups: std::collections::BTreeMap<String, u64> = Default::default();
    for (reason, n) in reasons {
        let mut shape = String::new();
        for (i, part) in reason.split('`').enumerate() {
            shape.push_str(if i % 2 == 1 { "`…`" } else { part });
        }
        *groups.entry(shape).or_default() += n;
    }
    let mut v: Vec<(String, u64)> = groups.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}
