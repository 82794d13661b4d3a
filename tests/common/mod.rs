//! Helpers for end-to-end tests that drive the real `mandate` binary.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of these helpers"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed expectation is the test failing"
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mandate")
}

/// A `mandate` command with a data directory.
pub fn mandate(data: &Path) -> Command {
    let mut c = Command::new(bin());
    c.arg("--data-dir").arg(data);
    c.env_remove("MANDATE_TOKEN");
    c
}

/// A running broker; stopped (SIGTERM, then SIGKILL) on drop.
pub struct Broker {
    pub child: Child,
    pub data: PathBuf,
    pub addr: String,
    /// The egress proxy's address, when it runs (`--proxy-listen off` stops it).
    pub proxy: Option<String>,
}

impl Broker {
    /// Starts `mandate serve --listen 127.0.0.1:0` and waits for its address line.
    pub fn start(data: &Path, extra: &[&str]) -> Broker {
        Self::start_with_env(data, extra, &[])
    }

    /// Like [`Broker::start`], with `env` set for the broker's process alone.
    pub fn start_with_env(data: &Path, extra: &[&str], env: &[(&str, &Path)]) -> Broker {
        let mut cmd = mandate(data);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.args(["serve", "--listen", "127.0.0.1:0"]);
        // A free port for the proxy: tests run in parallel.
        if !extra.contains(&"--proxy-listen") {
            cmd.args(["--proxy-listen", "127.0.0.1:0"]);
        }
        let mut child = cmd
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn mandate serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).expect("read address line");
        let proxy_off = extra.windows(2).any(|w| w == ["--proxy-listen", "off"]);
        let proxy = if proxy_off {
            None
        } else {
            let mut p = String::new();
            reader.read_line(&mut p).expect("read proxy line");
            p.split("http://")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .map(str::to_owned)
        };
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        let sock = data.join("mandate.sock");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !sock.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        Broker {
            child,
            data: data.to_path_buf(),
            addr,
            proxy,
        }
    }

    /// Stops the broker cleanly (SIGTERM) and waits for it.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}

/// Runs a command; returns its output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run command")
}

/// Runs `cmd` with `input` on its stdin; returns its output.
pub fn run_with_stdin(cmd: &mut Command, input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // A writer thread: a child that answers before reading all of its input cannot
    // block on a full pipe.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    out
}

/// Parses stdout as JSON.
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// A scratch git repository with a `.env` and a source file.
pub fn scratch_repo(root: &Path) -> PathBuf {
    let repo = root.join("repo");
    std::fs::create_dir_all(repo.join("src")).unwrap();
    let ok = Command::new("git")
        .args(["init", "-q", "-b", "mandate/fix"])
        .current_dir(&repo)
        .status()
        .unwrap();
    assert!(ok.success());
    std::fs::write(repo.join(".env"), "API_TOKEN=sk-live-123\n").unwrap();
    std::fs::write(repo.join("src/main.rs"), "fn main() {}\n").unwrap();
    repo
}

/// Starts a develop task on `repo` and returns (task id, token).
pub fn start_task(data: &Path, repo: &Path) -> (String, String) {
    let out = run(mandate(data)
        .args([
            "task",
            "start",
            "--profile",
            "develop",
            "--purpose",
            "e2e test",
            "--json",
            "--repo",
        ])
        .arg(repo));
    assert!(
        out.status.success(),
        "task start failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    (
        v["task_id"].as_str().unwrap().to_owned(),
        v["token"].as_str().unwrap().to_owned(),
    )
}

/// `mandate check --json` with a token and an action flag; returns the decision JSON.
pub fn check(data: &Path, token: &str, cwd: &Path, flag: &str, value: &str) -> serde_json::Value {
    let out = run(mandate(data)
        .args(["check", "--json", "--token", token, "--cwd"])
        .arg(cwd)
        .arg(flag)
        .arg(value));
    json(&out)
}

/// Sends raw bytes to the broker's TCP port; returns (status, body).
pub fn http_raw(addr: &str, request: &[u8]) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let _ = s.write_all(request);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|x| x.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

/// A POST with a body over TCP.
pub fn http_post(addr: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    http_raw(addr, &req)
}
pub mod assistants;
pub mod fake;
pub mod upstream;
