//! Subcommand options that run commands: `rebase -x CMD` (`--exec`) runs shell text after
//! each commit, `bisect run CMD ARGS` runs a program, and a merge strategy other than
//! git's own (`merge -s NAME`) runs the program `git-merge-NAME`.

use crate::words::Expanded;

use crate::analyze::context::WalkCx;

use super::Sub;
use super::config::{self, Value};

/// Git's own merge strategies.
const STRATEGIES: &[&str] = &["ort", "recursive", "resolve", "octopus", "ours", "subtree"];

/// Reports what the options of `sub` make git run.
pub(super) fn commands(cx: &mut WalkCx<'_>, sub: &Sub<'_>) {
    match sub.name {
        "rebase" => {
            for cmd in option_values(sub.args, Some('x'), "--exec") {
                config::run_text(cx, "rebase --exec", &Value::of(&cmd));
            }
            strategies(cx, sub, Some('s'));
        }
        "merge" | "pull" => strategies(cx, sub, Some('s')),
        // Their `-s` is `--signoff`.
        "cherry-pick" | "revert" => strategies(cx, sub, None),
        "bisect" => {
            if let Some(i) = sub.args.iter().position(|a| a.text == "run") {
                let argv = &sub.args[i + 1..];
                if !argv.is_empty() {
                    cx.run_command(argv, &[]);
                }
            }
        }
        _ => {}
    }
}

/// `-s NAME` (`--strategy NAME`): a strategy git does not ship is a program it runs.
fn strategies(cx: &mut WalkCx<'_>, sub: &Sub<'_>, short: Option<char>) {
    for s in option_values(sub.args, short, "--strategy") {
        if s.dynamic || !STRATEGIES.contains(&s.text.as_str()) {
            cx.unparseable(format!(
                "git {} -s {} runs the program git-merge-{}",
                sub.name, s.text, s.text
            ));
        }
    }
}

/// The values of the short option `-c` (alone, attached, or ending a cluster), if there is
/// one, and of the long option `long` (`--long VALUE`, `--long=VALUE`), before any `--`.
fn option_values(args: &[Expanded], short: Option<char>, long: &str) -> Vec<Expanded> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let t = args[i].text.as_str();
        if t == "--" {
            break;
        }
        let value = |text: &str| Expanded {
            text: text.to_owned(),
            ..args[i].clone()
        };
        if t == long {
            if let Some(v) = args.get(i + 1) {
                out.push(v.clone());
                i += 1;
            }
        } else if let Some(v) = t.strip_prefix(long).and_then(|r| r.strip_prefix('=')) {
            out.push(value(v));
        } else if let Some(short) = short
            && let Some(cluster) = t.strip_prefix('-').filter(|c| !c.starts_with('-'))
            && let Some(pos) = cluster.find(short)
        {
            let rest = &cluster[pos + short.len_utf8()..];
            if !rest.is_empty() {
                out.push(value(rest));
            } else if let Some(v) = args.get(i + 1) {
                out.push(v.clone());
                i += 1;
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testing::word;

    fn values(args: &[&str]) -> Vec<String> {
        let args: Vec<Expanded> = args.iter().map(|a| word(a)).collect();
        option_values(&args, Some('x'), "--exec")
            .into_iter()
            .map(|e| e.text)
            .collect()
    }

    #[test]
    fn short_long_attached_and_clustered_values() {
        assert_eq!(
            values(&["-x", "a", "--exec", "b", "--exec=c", "-xd", "-ix", "e"]),
            ["a", "b", "c", "d", "e"]
        );
        assert!(values(&["--", "-x", "a"]).is_empty());
        assert!(values(&["--executable"]).is_empty());
    }
}
