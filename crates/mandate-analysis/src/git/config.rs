//! Git configuration files: parsed as git does (sections, subsections, quoting, escapes,
//! continuation lines, comments), cached per file ([`FileCache`]), with
//! `include.path` and `includeIf.*.path` followed (every condition taken as true, so the
//! rules any of them could add are applied).

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::files::FileCache;

/// Most nested includes followed.
const MAX_INCLUDE_DEPTH: usize = 5;

/// A configuration entry: the key (section and name in lower case, the subsection as
/// written) and its value.
pub type Entry = (String, String);

fn cache() -> &'static FileCache<Vec<Entry>> {
    static CACHE: OnceLock<FileCache<Vec<Entry>>> = OnceLock::new();
    CACHE.get_or_init(FileCache::default)
}

/// The entries of the file at `path` (without its includes), read again only when its
/// modification time or size changed, checked at most once per `ttl`; empty when it
/// cannot be read.
pub fn file_entries(path: &Path, ttl: Duration) -> Arc<Vec<Entry>> {
    cache().get(path, ttl, parse)
}

/// Appends the entries of `path` to `out`, each include in its place (included files
/// are checked as often as `path`).
pub fn load_into(path: &Path, home: &Path, ttl: Duration, out: &mut Vec<Entry>) {
    load(path, home, ttl, 0, out);
}

fn load(path: &Path, home: &Path, ttl: Duration, depth: usize, out: &mut Vec<Entry>) {
    for (k, v) in file_entries(path, ttl).iter() {
        out.push((k.clone(), v.clone()));
        let include = k == "include.path" || k.starts_with("includeif.") && k.ends_with(".path");
        if include && depth < MAX_INCLUDE_DEPTH {
            let target = if let Some(rest) = v.strip_prefix("~/") {
                home.join(rest)
            } else {
                let p = Path::new(v);
                match path.parent() {
                    Some(dir) if p.is_relative() => dir.join(p),
                    _ => p.to_path_buf(),
                }
            };
            load(&target, home, ttl, depth + 1, out);
        }
    }
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// The entries of a configuration file's text, in order. Lines git would reject are
/// skipped.
pub fn parse(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&c) = chars.peek() else {
            return out;
        };
        match c {
            '#' | ';' => skip_line(&mut chars),
            '[' => {
                chars.next();
                match header(&mut chars) {
                    Some(s) => section = s,
                    None => {
                        section.clear();
                        skip_line(&mut chars);
                    }
                }
            }
            _ => {
                let mut name = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        name.push(c.to_ascii_lowercase());
                        chars.next();
                    } else {
                        break;
                    }
                }
                while matches!(chars.peek(), Some(' ' | '\t')) {
                    chars.next();
                }
                let value = match chars.peek() {
                    Some('=') => {
                        chars.next();
                        value(&mut chars)
                    }
                    _ => {
                        skip_line(&mut chars);
                        "true".to_owned()
                    }
                };
                if !name.is_empty() && !section.is_empty() {
                    out.push((format!("{section}.{name}"), value));
                }
            }
        }
    }
}

fn skip_line(chars: &mut Chars<'_>) {
    for c in chars.by_ref() {
        if c == '\n' {
            break;
        }
    }
}

/// `section]`, `section "subsection"]` or the old `section.subsection]` (after `[`).
fn header(chars: &mut Chars<'_>) -> Option<String> {
    let mut name = String::new();
    loop {
        match chars.next()? {
            ']' => return Some(name.to_ascii_lowercase()),
            ' ' | '\t' => break,
            c if c.is_ascii_alphanumeric() || matches!(c, '-' | '.') => name.push(c),
            _ => return None,
        }
    }
    while matches!(chars.peek(), Some(' ' | '\t')) {
        chars.next();
    }
    if chars.next()? != '"' {
        return None;
    }
    let mut sub = String::new();
    loop {
        match chars.next()? {
            '"' => break,
            '\\' => sub.push(chars.next()?),
            '\n' => return None,
            c => sub.push(c),
        }
    }
    (chars.next()? == ']').then(|| format!("{}.{sub}", name.to_ascii_lowercase()))
}

/// A value after `=`: quotes removed, escapes decoded, comments and trailing blanks
/// outside quotes dropped, `\` at a line's end joining the next line.
fn value(chars: &mut Chars<'_>) -> String {
    while matches!(chars.peek(), Some(' ' | '\t')) {
        chars.next();
    }
    let mut out = String::new();
    let mut keep = 0;
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '\n' => break,
            '\\' => match chars.next() {
                Some('\n') => continue,
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('b') => {
                    out.pop();
                }
                Some(c) => out.push(c),
                None => break,
            },
            '"' => quoted = !quoted,
            '#' | ';' if !quoted => {
                skip_line(chars);
                break;
            }
            ' ' | '\t' if !quoted => {
                out.push(c);
                continue;
            }
            c => out.push(c),
        }
        keep = out.len();
    }
    out.truncate(keep);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text)
    }

    #[test]
    fn sections_subsections_and_values() {
        let got = pairs(
            "# comment\n[Core]\n\tBare = false\n[remote \"Origin\"]\n\turl = git@github.com:a/b.git ; c\n\
             [url \"https://evil.example/\"]\n\tinsteadOf = https://github.com/\n[branch.Main]\nremote=origin\n\
             [x]\nflag\n",
        );
        let want = [
            ("core.bare", "false"),
            ("remote.Origin.url", "git@github.com:a/b.git"),
            ("url.https://evil.example/.insteadof", "https://github.com/"),
            ("branch.main.remote", "origin"),
            ("x.flag", "true"),
        ];
        let got: Vec<(&str, &str)> = got.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn quotes_escapes_and_continuations() {
        let got = pairs("[a]\nb = \"x ; y\" # z\nc = one \\\n two\nd = \"q\\\"t\\\\\"\ne = s  \n");
        let values: Vec<&str> = got.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(values, ["x ; y", "one  two", "q\"t\\", "s"]);
    }

    #[test]
    fn a_bad_header_drops_its_entries() {
        let got = pairs("[bad header]\nurl = x\n[ok]\nk = v\n");
        assert_eq!(got, vec![("ok.k".to_owned(), "v".to_owned())]);
    }

    #[test]
    fn files_are_cached_until_they_change_and_includes_are_followed() {
        let d = tempfile::tempdir().unwrap();
        let main = d.path().join("config");
        let inc = d.path().join("inc.cfg");
        std::fs::write(&main, "[include]\n\tpath = inc.cfg\n[a]\n\tb = 1\n").unwrap();
        std::fs::write(&inc, "[url \"ssh://e/\"]\n\tinsteadOf = https://h/\n").unwrap();
        let mut out = Vec::new();
        load_into(&main, d.path(), Duration::ZERO, &mut out);
        let keys: Vec<&str> = out.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["include.path", "url.ssh://e/.insteadof", "a.b"]);
        let first = file_entries(&main, Duration::ZERO);
        assert!(
            Arc::ptr_eq(&first, &file_entries(&main, Duration::ZERO)),
            "cached"
        );
        std::fs::write(&main, "[a]\n\tb = 22\n").unwrap();
        assert_eq!(
            file_entries(&main, Duration::ZERO)[0].1,
            "22",
            "re-read after a change"
        );
        assert!(file_entries(&d.path().join("missing"), Duration::ZERO).is_empty());
    }
}
