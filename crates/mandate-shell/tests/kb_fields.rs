//! What each knowledge-base field makes of a command, through the public analyser.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed expectation is the test failing"
)]

use mandate_shell::kb::KnowledgeBase;
use mandate_shell::{NetTarget, ShellAnalyzer, ShellEffect};

fn analyzer(toml: &str) -> ShellAnalyzer {
    let mut kb = KnowledgeBase::builtin();
    kb.extend_from_toml(toml).unwrap();
    ShellAnalyzer::new(kb)
}

fn render(e: &ShellEffect) -> String {
    match e {
        ShellEffect::Exec { program, class } => format!("exec {program} {}", class.as_str()),
        ShellEffect::Read(p) => format!("read {}", p.path),
        ShellEffect::Write(p) => format!("write {}", p.path),
        ShellEffect::Connect { target, sends, .. } => {
            let t = match target {
                NetTarget::Url { url } => url.clone(),
                NetTarget::Host { host, .. } => host.clone(),
                NetTarget::Dynamic { text } => format!("? ({text})"),
                NetTarget::GitRemote { name, .. } => name.clone(),
            };
            format!("{} {t}", if *sends { "send" } else { "connect" })
        }
        ShellEffect::Unparseable { reason } => format!("unparseable: {reason}"),
        ShellEffect::Privilege { program } => format!("privilege {program}"),
        other => format!("{other:?}"),
    }
}

fn effects(a: &ShellAnalyzer, cmd: &str) -> Vec<String> {
    a.analyze(cmd).effects.iter().map(render).collect()
}

#[test]
fn nested_subcommands_decide_and_inherit_what_they_do_not_say() {
    let a = analyzer(
        r#"
[[program]]
names = ["tkb"]
class = "build"
value_flags = ["--profile"]
flags = { "-C" = "dir" }
[program.subcommands.admin]
class = "system"
[program.subcommands.pkg]
[program.subcommands.pkg.subcommands.publish]
connects = ["registry.tkb.example"]
uploads = true
[program.subcommands.pkg.subcommands.list]
"#,
    );
    assert_eq!(effects(&a, "tkb admin reset"), ["exec tkb system"]);
    assert_eq!(effects(&a, "tkb pkg list"), ["exec tkb build"]);
    let e = effects(&a, "tkb --profile x pkg publish");
    assert!(e.contains(&"send registry.tkb.example".to_owned()), "{e:?}");
    assert_eq!(
        effects(&a, "tkb pkg list --profile=dev"),
        ["exec tkb build"]
    );
}

#[test]
fn fixed_files_opaque_programs_urls_known_switches_and_single_dash_values() {
    let a = analyzer(
        r#"
[[program]]
names = ["journal"]
class = "edit"
writes = ["~/.journal"]
reads = [".env"]
[[program]]
names = ["agentx"]
class = "network"
unparseable = "it runs whatever its model decides"
[[program]]
names = ["viewer"]
class = "inspect"
args = "read_or_url"
[[program]]
names = ["cfgtool"]
class = "inspect"
known_switches = ["--init"]
[[program]]
names = ["scanx"]
class = "inspect"
flags = { "-out" = "write" }
[[program]]
names = ["retryx"]
class = "unknown"
args = "command"
skip = 1
flags = { "-o" = "write" }
"#,
    );
    assert_eq!(
        effects(&a, "journal add"),
        ["exec journal edit", "read .env", "write ~/.journal"]
    );
    let e = effects(&a, "agentx run");
    assert!(
        e.iter()
            .any(|x| x.contains("runs whatever its model decides")),
        "{e:?}"
    );
    assert_eq!(
        effects(&a, "viewer notes.md https://x.example/a"),
        [
            "exec viewer inspect",
            "read notes.md",
            "connect https://x.example/a"
        ]
    );
    assert_eq!(effects(&a, "cfgtool --init"), ["exec cfgtool inspect"]);
    assert_eq!(
        effects(&a, "scanx -out=/tmp/r.txt"),
        ["exec scanx inspect", "write /tmp/r.txt"]
    );
    assert_eq!(
        effects(&a, "retryx -o log.txt 3 cat .env"),
        [
            "exec retryx unknown",
            "write log.txt",
            "exec cat inspect",
            "read .env"
        ]
    );
}
