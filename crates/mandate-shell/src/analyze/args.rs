//! Splitting a command's arguments by its knowledge-base entry, getopt style:
//! positionals, options with a value (and that value's role), and switches.
//!
//! See the comment at the top of `data/programs.toml` for the rules in prose.

use std::collections::HashSet;

use crate::kb::{FlagRole, OtherOptions, ProgramSpec};
use crate::words::Expanded;

/// Where splitting stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Until {
    /// At the first positional (a subcommand, a wrapper's inner command, ssh's host):
    /// what follows belongs to someone else.
    FirstPositional,
    /// At the end: every argument is the program's own.
    End,
}

/// A command's arguments split by its knowledge-base entry.
#[derive(Debug, Default, Clone)]
pub(crate) struct Parsed {
    /// Arguments that are not options or option values, in order.
    pub(crate) positional: Vec<Expanded>,
    /// Options that took a value: the option as written (`--name` without `=value`),
    /// the role of its value, and the value.
    pub(crate) flags: Vec<(String, FlagRole, Expanded)>,
    /// Options without a value (`-a`, `--all`), one entry per letter of a cluster.
    pub(crate) switches: Vec<String>,
    /// Short-option letters seen (for `bash -c`, `nc -l`).
    pub(crate) letters: HashSet<char>,
    /// Options the entry does not list that may take a file, a command, code, a host or
    /// a configuration: an unlisted `--name=value` (unless the entry's other options are
    /// inert), or an unlisted option whose name says it runs or loads something or
    /// changes where data goes (`--use-compress-program`, `--proxy`).
    pub(crate) unmodelled: Vec<(String, Unmodelled)>,
}

/// Why an option the entry does not list cannot be passed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unmodelled {
    /// Its name says it runs or loads something, reads a configuration or redirects data.
    Risky,
    /// It is given a value, and what that value names is not known.
    Valued,
}

impl Parsed {
    /// Whether the switch `s` was given.
    pub(crate) fn has(&self, s: &str) -> bool {
        self.switches.iter().any(|x| x == s)
    }

    /// The value of the first of `names` given as an option with a value.
    pub(crate) fn value_of(&self, names: &[&str]) -> Option<&Expanded> {
        self.flags
            .iter()
            .find(|(f, _, _)| names.contains(&f.as_str()))
            .map(|(_, _, v)| v)
    }
}

/// Splits `args` by `spec`'s options; also returns how many arguments were used (all
/// of them with [`Until::End`]; up to and including the first positional, or `--`,
/// with [`Until::FirstPositional`]).
pub(crate) fn parse(spec: &ProgramSpec, args: &[Expanded], until: Until) -> (Parsed, usize) {
    let stop_at_positional = until == Until::FirstPositional;
    let mut out = Parsed::default();
    let mut i = 0;
    let mut only_positional = false;
    while i < args.len() {
        let a = &args[i];
        let t = a.text.as_str();
        if only_positional || t == "-" || !t.starts_with('-') || a.dynamic && !t.starts_with('-') {
            out.positional.push(a.clone());
            i += 1;
            if stop_at_positional {
                return (out, i.min(args.len()));
            }
            continue;
        }
        if t == "--" {
            only_positional = true;
            i += 1;
            if stop_at_positional {
                return (out, i);
            }
            continue;
        }
        if let Some(long) = t.strip_prefix("--") {
            i += long_option(spec, args, i, long, &mut out);
            continue;
        }
        // Single-dash long options with an attached value (`-out=FILE`, `-server=URL`).
        if t.len() > 2
            && let Some((opt, value)) = t.split_once('=')
            && opt.len() > 2
            && let Some(role) = spec.flag_role(opt)
        {
            out.flags.push((
                opt.to_owned(),
                role,
                Expanded {
                    text: value.to_owned(),
                    ..a.clone()
                },
            ));
            i += 1;
            continue;
        }
        // Single-dash long options (`openssl -engine`, `find -name`) as a whole token.
        if t.len() > 2
            && let Some(role) = spec.flag_role(t)
        {
            i += 1;
            if let Some(v) = args.get(i) {
                out.flags.push((t.to_owned(), role, v.clone()));
            }
            i += 1;
            continue;
        }
        i += short_options(spec, args, i, &mut out);
    }
    (out, i.min(args.len()))
}

/// `--name`, `--name=value` or `--name value` at `args[i]` (`long` is the text after
/// `--`); returns how many arguments it used.
fn long_option(
    spec: &ProgramSpec,
    args: &[Expanded],
    i: usize,
    long: &str,
    out: &mut Parsed,
) -> usize {
    let a = &args[i];
    let (name, attached) = match long.split_once('=') {
        Some((n, v)) => (format!("--{n}"), Some(v.to_owned())),
        None => (a.text.clone(), None),
    };
    let Some(role) = spec.flag_role(&name) else {
        if spec.known_switches.contains(&name) {
            // Known to be an inert switch, whatever its name says.
        } else if may_run_or_redirect(&name) {
            out.unmodelled.push((name.clone(), Unmodelled::Risky));
        } else if attached.is_some() && spec.other_options == OtherOptions::Unknown {
            out.unmodelled.push((name.clone(), Unmodelled::Valued));
        }
        out.switches.push(name);
        return 1;
    };
    let (value, used) = match attached {
        Some(v) => (
            Some(Expanded {
                text: v,
                ..a.clone()
            }),
            1,
        ),
        None => (args.get(i + 1).cloned(), 2),
    };
    if let Some(v) = value {
        out.flags.push((name, role, v));
    }
    used
}

/// Words in an option's name that say its value runs a command, loads code, points the
/// program at a configuration or changes where its data goes.
const RISKY_OPTION_WORDS: &[&str] = &[
    "command",
    "cmd",
    "exec",
    "execute",
    "shell",
    "rsh",
    "program",
    "prog",
    "hook",
    "hooks",
    "pager",
    "editor",
    "eval",
    "script",
    "scripts",
    "helper",
    "askpass",
    "preload",
    "library",
    "plugin",
    "plugins",
    "require",
    "proxy",
    "preproxy",
    "socks",
    "socks4",
    "socks4a",
    "socks5",
    "resolve",
    "tunnel",
    "jump",
    "config",
    "rcfile",
    "init",
    "filter",
    "pre",
    "interpreter",
    "loader",
    "module",
    "agent",
    "upload",
    "pack",
];

/// Whether an unlisted long option's name says it runs, loads or redirects something.
fn may_run_or_redirect(name: &str) -> bool {
    let name = name.trim_start_matches('-');
    // `--no-pager`, `--without-config`, `--ignore-scripts` turn something off.
    let negated = [
        "no-", "without-", "disable-", "skip-", "ignore-", "dont-", "no_",
    ]
    .iter()
    .any(|p| name.starts_with(p));
    !negated
        && name
            .split(['-', '_', '.'])
            .any(|w| RISKY_OPTION_WORDS.contains(&w.to_ascii_lowercase().as_str()))
}

/// A cluster of short options at `args[i]`: `-abc`, `-n5`, `-ofile`, `-o file`;
/// returns how many arguments it used.
fn short_options(spec: &ProgramSpec, args: &[Expanded], i: usize, out: &mut Parsed) -> usize {
    let a = &args[i];
    let body = &a.text[1..];
    for (pos, c) in body.char_indices() {
        let flag = format!("-{c}");
        out.letters.insert(c);
        if spec.attached_value.contains(&flag) {
            out.switches.push(flag);
            break;
        }
        if let Some(role) = spec.flag_role(&flag) {
            let rest = &body[pos + c.len_utf8()..];
            if !rest.is_empty() {
                let v = Expanded {
                    text: rest.to_owned(),
                    ..a.clone()
                };
                out.flags.push((flag, role, v));
                return 1;
            }
            if let Some(v) = args.get(i + 1) {
                out.flags.push((flag, role, v.clone()));
            }
            return 2;
        }
        out.switches.push(flag);
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testing::word;
    use crate::kb::KnowledgeBase;

    /// A spec from the fields of a `[[program]]` entry.
    fn spec(fields: &str) -> ProgramSpec {
        let mut kb = KnowledgeBase::default();
        kb.extend_from_toml(&format!("[[program]]\nnames = [\"t\"]\n{fields}"))
            .unwrap();
        kb.get("t").unwrap().clone()
    }

    fn split(spec: &ProgramSpec, args: &[&str], until: Until) -> (Parsed, usize) {
        let args: Vec<Expanded> = args.iter().map(|a| word(a)).collect();
        parse(spec, &args, until)
    }

    fn texts(words: &[Expanded]) -> Vec<&str> {
        words.iter().map(|w| w.text.as_str()).collect()
    }

    fn flags(p: &Parsed) -> Vec<(&str, FlagRole, &str)> {
        p.flags
            .iter()
            .map(|(f, r, v)| (f.as_str(), *r, v.text.as_str()))
            .collect()
    }

    #[test]
    fn short_options_take_their_value_attached_or_next() {
        let s = spec("value_flags = [\"-n\"]\nflags = { \"-o\" = \"write\" }");
        let (p, used) = split(&s, &["-n5", "-o", "out", "-ab", "in"], Until::End);
        assert_eq!(used, 5);
        assert_eq!(
            flags(&p),
            vec![("-n", FlagRole::Value, "5"), ("-o", FlagRole::Write, "out")]
        );
        assert_eq!(p.switches, vec!["-a", "-b"]);
        assert_eq!(texts(&p.positional), vec!["in"]);
        assert!(p.letters.contains(&'a') && p.letters.contains(&'n'));
    }

    #[test]
    fn a_value_letter_ends_a_cluster() {
        let s = spec("flags = { \"-f\" = \"read\" }");
        let (p, _) = split(&s, &["-xfconf", "a"], Until::End);
        assert_eq!(flags(&p), vec![("-f", FlagRole::Read, "conf")]);
        assert_eq!(p.switches, vec!["-x"]);
        assert_eq!(texts(&p.positional), vec!["a"]);
    }

    #[test]
    fn long_options_take_a_value_only_when_listed() {
        let s = spec("flags = { \"--output\" = \"write\" }");
        let (p, _) = split(
            &s,
            &["--output=o1", "--output", "o2", "--color", "file"],
            Until::End,
        );
        assert_eq!(
            flags(&p),
            vec![
                ("--output", FlagRole::Write, "o1"),
                ("--output", FlagRole::Write, "o2")
            ]
        );
        assert_eq!(p.switches, vec!["--color"]);
        assert!(p.has("--color") && !p.has("--output"));
        assert_eq!(texts(&p.positional), vec!["file"]);
    }

    #[test]
    fn single_dash_long_options_are_looked_up_whole() {
        let s = spec("flags = { \"-engine\" = \"library\" }");
        let (p, _) = split(&s, &["-engine", "x.so", "f"], Until::End);
        assert_eq!(flags(&p), vec![("-engine", FlagRole::Library, "x.so")]);
        assert_eq!(texts(&p.positional), vec!["f"]);
    }

    #[test]
    fn attached_value_switches_keep_their_suffix_out_of_the_arguments() {
        let s = spec("attached_value = [\"-i\"]\nswitches = { \"-i\" = \"read_write\" }");
        let (p, _) = split(&s, &["-i.bak", "s/a/b/", "f"], Until::End);
        assert_eq!(p.switches, vec!["-i"]);
        assert_eq!(texts(&p.positional), vec!["s/a/b/", "f"]);
    }

    #[test]
    fn double_dash_and_a_lone_dash_are_positional_markers() {
        let s = spec("value_flags = [\"-n\"]");
        let (p, _) = split(&s, &["-", "--", "-n", "x"], Until::End);
        assert_eq!(texts(&p.positional), vec!["-", "-n", "x"]);
        assert!(p.flags.is_empty());
    }

    #[test]
    fn splitting_can_stop_at_the_first_positional() {
        let s = spec("value_flags = [\"-u\"]");
        let (p, used) = split(
            &s,
            &["-u", "root", "cat", "-n", "f"],
            Until::FirstPositional,
        );
        assert_eq!(used, 3);
        assert_eq!(texts(&p.positional), vec!["cat"]);
        assert_eq!(
            p.value_of(&["-x", "-u"]).map(|v| v.text.as_str()),
            Some("root")
        );
        let (_, used) = split(&s, &["--", "-cmd"], Until::FirstPositional);
        assert_eq!(
            used, 1,
            "`--` ends the options; what follows is someone else's"
        );
    }

    #[test]
    fn a_missing_value_uses_no_more_than_the_arguments() {
        let s = spec("value_flags = [\"-n\", \"--depth\"]");
        for args in [&["-n"][..], &["--depth"], &["x", "-n"]] {
            let (p, used) = split(&s, args, Until::End);
            assert_eq!(used, args.len());
            assert!(p.flags.is_empty());
        }
    }
}
