//! What the kernel sandbox costs, as ratios to the same runs outside it, measured in
//! one run against one warm broker:
//! - starting a session: `mandate run --sandbox -- true` against `mandate run -- true`;
//! - starting processes inside: 500 `/bin/true` spawned by one shell (each exec and
//!   its library opens pass the supervisor's seccomp notification);
//! - `cargo test --offline` of a sample crate with a dependency, from a clean target.
//!
//! Run: `cargo bench --bench sandbox` (prints a table for docs/benchmarks.md). Needs a
//! kernel with Landlock and user namespaces, and `itoa` in the cargo cache (fetched
//! once, outside the sandbox, when missing).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark: a setup that fails is the benchmark failing"
)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SESSIONS: usize = 20;
const SPAWN_ROUNDS: usize = 5;
const SPAWNS: usize = 500;
const BUILDS: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `mandate run [--sandbox] -- bash -c script` in `repo`; its stdout.
fn session(bin: &str, data: &Path, repo: &Path, sandbox: bool, script: &str) -> (Duration, String) {
    let mut c = Command::new(bin);
    c.arg("--data-dir")
        .arg(data)
        .arg("run")
        .arg("--repo")
        .arg(repo);
    if sandbox {
        c.arg("--sandbox");
    }
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("CARGO") {
            c.env_remove(k);
        }
    }
    let t = Instant::now();
    let out = c
        .args(["--", "bash", "-c", script])
        .current_dir(repo)
        .stderr(Stdio::null())
        .output()
        .unwrap();
    let d = t.elapsed();
    assert!(out.status.success(), "{script} failed (sandbox: {sandbox})");
    (d, String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The workload's own measurement: nanoseconds it printed last.
fn inner_ms(stdout: &str) -> f64 {
    stdout
        .lines()
        .last()
        .unwrap()
        .trim()
        .parse::<f64>()
        .unwrap()
        / 1e6
}

fn row(label: &str, outside: f64, inside: f64) {
    println!(
        "| {label} | {outside:.1} | {inside:.1} | {:.2}× |",
        inside / outside
    );
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test` runs benches in test mode: nothing to do.
    }
    let bin = env!("CARGO_BIN_EXE_mandate");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(repo.join("src")).unwrap();
    // The sample crate the sandbox test builds too.
    let sample =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sandbox-crate");
    for f in ["Cargo.toml", "src/lib.rs"] {
        std::fs::copy(sample.join(f), repo.join(f)).unwrap();
    }
    let fetched = Command::new("cargo")
        .arg("fetch")
        .current_dir(&repo)
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .unwrap();
    assert!(fetched.success(), "cargo fetch of the sample's dependency");

    let mut serve = Command::new(bin)
        .arg("--data-dir")
        .arg(&data)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--proxy-listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(serve.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();

    println!("| run | outside, ms (median) | inside, ms (median) | ratio |");
    println!("|---|---:|---:|---:|");
    let mut starts = [Vec::new(), Vec::new()];
    for _ in 0..SESSIONS {
        for (i, sandbox) in [false, true].into_iter().enumerate() {
            let (d, _) = session(bin, &data, &repo, sandbox, "true");
            starts[i].push(d.as_secs_f64() * 1e3);
        }
    }
    let [a, b] = starts;
    row(
        "session start (`mandate run … -- true`)",
        median(a),
        median(b),
    );

    let spawn = format!(
        "s=$(date +%s%N); for i in $(seq {SPAWNS}); do /bin/true; done; e=$(date +%s%N); echo $((e - s))"
    );
    let mut spawns = [Vec::new(), Vec::new()];
    for _ in 0..SPAWN_ROUNDS {
        for (i, sandbox) in [false, true].into_iter().enumerate() {
            let (_, out) = session(bin, &data, &repo, sandbox, &spawn);
            spawns[i].push(inner_ms(&out) / SPAWNS as f64 * 1e3);
        }
    }
    let [a, b] = spawns;
    row(
        "one process start inside (µs, not ms)",
        median(a),
        median(b),
    );

    let build = "rm -rf target; s=$(date +%s%N); cargo test --offline -q >/dev/null 2>&1 || exit 1; e=$(date +%s%N); echo $((e - s))";
    let mut builds = [Vec::new(), Vec::new()];
    for _ in 0..BUILDS {
        for (i, sandbox) in [false, true].into_iter().enumerate() {
            let (_, out) = session(bin, &data, &repo, sandbox, build);
            builds[i].push(inner_ms(&out));
        }
    }
    let [a, b] = builds;
    row(
        "`cargo test --offline` of a sample crate, clean target",
        median(a),
        median(b),
    );

    let _ = serve.kill();
    let _ = serve.wait();
}
