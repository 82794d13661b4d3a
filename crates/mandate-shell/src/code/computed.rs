//! File calls whose path is not written in the code: `open('.e' + 'nv')`,
//! `readFileSync(name)`, `Path.home() / '.ssh' / 'id_ed25519'`. A path built at run time
//! could be any file, so it is never read silently: a name bound to one literal earlier in
//! the code (`f = 'data.json'; open(f)`) or an `os.path.join` of literals is resolved;
//! anything else is reported as a computed path.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;

/// How a file call uses its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Use {
    Read,
    Write,
}

/// A file call's path argument, resolved or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathArg {
    /// Known: the text of the path.
    Known(String, Use),
    /// Built at run time: the argument as written.
    Computed(String, Use),
}

struct Patterns {
    call: Regex,
    assign: Regex,
    join: Regex,
    home: Regex,
    file_api: Regex,
    writes: Regex,
    perl_open: Regex,
}

#[expect(
    clippy::expect_used,
    reason = "constant patterns, compiled by the unit tests"
)]
fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        call: Regex::new(
            r"(?x)\b(open|fopen|io\.open|codecs\.open|os\.open|File\.open|File\.read|File\.readlines|File\.foreach
            |IO\.read|IO\.readlines|File\.write|readFileSync|readFile|writeFileSync|writeFile|appendFileSync|appendFile
            |createReadStream|createWriteStream|file_get_contents|file_put_contents|readfile|file|Path
            |copyfile|shutil\.copy\w*|shutil\.move|os\.rename|os\.replace|copyFileSync)
            \s*\(",
        )
        .expect("compiles"),
        assign: Regex::new(
            r#"(?m)(?:^|[;\s{(])(?:my\s+|let\s+|const\s+|var\s+)?\$?([A-Za-z_]\w*)\s*=\s*(?:r|b|f)?(?:"([^"\\$`{}]*)"|'([^'\\]*)')\s*(?:;|$|\n)"#,
        )
        .expect("compiles"),
        join: Regex::new(r#"^(?:os\.path\.join|path\.join|File\.join)\s*\((.*)\)$"#).expect("compiles"),
        home: Regex::new(
            r"(?x)(?:\bPath\.home|\bexpanduser|\bos\.environ|\bgetenv|\bos\.homedir|\bprocess\.env|\bENV\[|\$ENV\{|\$_SERVER|\bgetcwd|\bglob\.glob|\bglob\(|\bDir\.glob|\breaddirSync|\blistdir|\bscandir|\bwalk\()",
        )
        .expect("compiles"),
        file_api: Regex::new(
            r"(?x)\b(?:open|fopen|read_text|read_bytes|write_text|write_bytes|readFileSync|writeFileSync|readFile|writeFile
            |File\.(?:read|write|open)|file_get_contents|file_put_contents|shutil\.|copyfile|touch|unlink)\s*\(",
        )
        .expect("compiles"),
        writes: Regex::new(
            r#"(?x)(?:\.write_text|\.write_bytes|\.touch|\.unlink|\.rename|\.replace|\.symlink_to|writeFileSync|appendFileSync
            |writeFile|File\.write|file_put_contents|shutil\.|open\s*\([^)]*,\s*['"][wax+])"#,
        )
        .expect("compiles"),
        perl_open: Regex::new(r"\bopen\s+\$?\w+\s*,\s*([^;]+?)\s*(?:;|$|\)|or\b|\|\|)").expect("compiles"),
    })
}

fn uses(call: &str) -> Use {
    let writes = [
        "write",
        "Write",
        "append",
        "copy",
        "move",
        "rename",
        "replace",
        "createWriteStream",
        "file_put_contents",
    ];
    if writes.iter().any(|w| call.contains(w)) {
        Use::Write
    } else {
        Use::Read
    }
}

/// The argument that starts `rest` (the text after a call's `(` or an argument's `,`):
/// up to the first `,` or `)` at the same depth.
fn argument(rest: &str) -> &str {
    let (mut depth, mut quote) = (0i32, None::<char>);
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') if depth == 0 => return rest[..i].trim(),
            (None, ')' | ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => return rest[..i].trim(),
            _ => {}
        }
    }
    rest.trim()
}

/// A string literal alone (`'x'`, `"x"`, `r'x'`), without interpolation.
fn literal(arg: &str) -> Option<&str> {
    let a = arg.trim_start_matches(['r', 'b']);
    let (q, rest) = (a.chars().next()?, a.get(1..)?);
    if !matches!(q, '"' | '\'') {
        return None;
    }
    let inner = rest.strip_suffix(q)?;
    let interpolates =
        q == '"' && (inner.contains('$') || inner.contains('{') || inner.contains('#'));
    (!inner.contains(q) && !inner.contains('\\') && !interpolates).then_some(inner)
}

/// The paths of the file calls in `code`.
pub(crate) fn path_arguments(code: &str) -> Vec<PathArg> {
    let p = patterns();
    let mut out = Vec::new();
    // Paths built from the home directory or the environment (`Path.home() / '.ssh'`,
    // `os.path.expanduser('~')`) reach outside the repository, wherever they are used.
    if let Some(m) = p.home.find(code)
        && p.file_api.is_match(code)
    {
        let how = if p.writes.is_match(code) {
            Use::Write
        } else {
            Use::Read
        };
        out.push(PathArg::Computed(m.as_str().to_owned(), how));
    }
    // Perl's `open FH, EXPR` without parentheses.
    for c in p.perl_open.captures_iter(code) {
        if let Some(arg) = c.get(1).map(|m| m.as_str().trim())
            && literal(arg).is_none()
            && !arg.starts_with('"')
            && !arg.starts_with('\'')
        {
            out.push(PathArg::Computed(arg.chars().take(60).collect(), Use::Read));
        }
    }
    let mut constants: HashMap<&str, Option<&str>> = HashMap::new();
    for c in p.assign.captures_iter(code) {
        let (Some(name), Some(value)) = (c.get(1), c.get(2).or(c.get(3))) else {
            continue;
        };
        // A name bound twice may hold either value: not one known path.
        constants
            .entry(name.as_str())
            .and_modify(|v| *v = None)
            .or_insert(Some(value.as_str()));
    }
    let resolve = |arg: &str| -> Option<String> {
        if let Some(l) = literal(arg) {
            return Some(l.to_owned());
        }
        let name = arg.trim_start_matches('$');
        if name.chars().all(|c| c.is_alphanumeric() || c == '_')
            && let Some(Some(v)) = constants.get(name)
        {
            return Some((*v).to_owned());
        }
        let inner = p.join.captures(arg)?.get(1)?.as_str();
        let parts: Option<Vec<&str>> = inner.split(',').map(|x| literal(x.trim())).collect();
        Some(parts?.join("/"))
    };
    for m in p.call.captures_iter(code) {
        let (Some(whole), Some(name)) = (m.get(0), m.get(1)) else {
            continue;
        };
        let rest = &code[whole.end()..];
        let arg = argument(rest);
        // Methods on a path object (`p.read_text()`) take no path argument.
        if arg.is_empty() || name.as_str() == "file" && literal(arg).is_none() {
            continue;
        }
        // A literal path alone is read by the literal-call patterns, with its mode.
        if literal(arg).is_some() {
            continue;
        }
        let after = rest.trim_start().get(arg.len()..).unwrap_or("");
        let mode_writes = after
            .trim_start()
            .strip_prefix(',')
            .map(argument)
            .is_some_and(|m| literal(m).is_some_and(|m| m.contains(['w', 'a', 'x', '+'])));
        let how = if mode_writes {
            Use::Write
        } else {
            uses(name.as_str())
        };
        out.push(match resolve(arg) {
            Some(path) if !p.home.is_match(arg) => PathArg::Known(path, how),
            _ => PathArg::Computed(arg.chars().take(60).collect(), how),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn computed(code: &str) -> Vec<String> {
        path_arguments(code)
            .into_iter()
            .filter_map(|a| match a {
                PathArg::Computed(t, _) => Some(t),
                PathArg::Known(..) => None,
            })
            .collect()
    }

    fn known(code: &str) -> Vec<String> {
        path_arguments(code)
            .into_iter()
            .filter_map(|a| match a {
                PathArg::Known(t, _) => Some(t),
                PathArg::Computed(..) => None,
            })
            .collect()
    }

    #[test]
    fn paths_built_at_run_time_are_computed() {
        for code in [
            "print(open('.e'+'nv').read())",
            "import os; print(open(os.path.join('.', chr(46) + 'env')).read())",
            "require('fs').readFileSync(['.','env'].join(''))",
            "puts File.read(\".\" + \"env\")",
            "echo file_get_contents(\".\" . chr(101) . \"nv\");",
            "open(os.path.expanduser('~') + '/.bashrc', 'a')",
            "import sys; open(sys.argv[1]).read()",
            "import pathlib; print(pathlib.Path.home().joinpath('.ssh', 'id_ed25519').read_text())",
            "open F, join(\"\", \".\", \"env\"); print <F>",
            "f = x + '.env'; open(f)",
            "p = 'a'; p = 'b'; open(p)",
        ] {
            assert!(!computed(code).is_empty(), "{code}");
        }
    }

    #[test]
    fn literals_and_names_bound_to_one_literal_are_known() {
        assert!(
            known("open('data.json').read()").is_empty(),
            "literals are the literal patterns' job"
        );
        assert_eq!(
            known("fname = 'src/x.py'\nwith open(fname) as f: pass"),
            ["src/x.py"]
        );
        assert_eq!(known("open(os.path.join('a', 'b.txt'))"), ["a/b.txt"]);
        assert!(computed("open('data.json', 'w').write(x)").is_empty());
        assert!(computed("from pathlib import Path; Path('x').read_text()").is_empty());
        assert!(
            computed("p = Path('a/__init__.py')\np.write_text(p.read_text().replace('a', 'b'))")
                .is_empty()
        );
    }
}
