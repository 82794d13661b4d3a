//! Static expansion of shell words: quoting, ANSI-C escapes, tilde, known variables,
//! brace expansion; anything computed at run time is marked `dynamic`.

use brush_parser::ParserOptions;
use brush_parser::word::{Parameter, ParameterExpr, WordPiece, WordPieceWithSource};

/// Most words one brace expansion may produce.
const MAX_BRACE_WORDS: usize = 256;

/// One word after static expansion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expanded {
    /// The text (`~` kept; unknown variables as written).
    pub text: String,
    /// Part of the word is computed at run time.
    pub dynamic: bool,
    /// The word has unquoted glob characters.
    pub glob: bool,
    /// Command substitutions inside the word, in order.
    pub substitutions: Vec<String>,
    /// The word came from an ANSI-C quoted string with escapes or a decoded form.
    pub escaped: bool,
}

/// A value a variable holds during analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarValue {
    /// Known text.
    Static(String),
    /// Computed at run time.
    Dynamic,
    /// A glob pattern the shell expanded where the value was set (`for f in *.py`): the
    /// files it names, whether or not the use is quoted.
    Glob(String),
}

/// Looks up a variable for expansion.
pub trait VarLookup {
    /// The value of `name`, or `None` if unknown.
    fn lookup(&self, name: &str) -> Option<VarValue>;
}

/// Builder for one word: text plus a per-byte "unquoted" mask for brace and glob rules.
#[derive(Default)]
struct Builder {
    text: String,
    unquoted: Vec<bool>,
    dynamic: bool,
    substitutions: Vec<String>,
    escaped: bool,
}

impl Builder {
    fn push(&mut self, s: &str, unquoted: bool) {
        self.text.push_str(s);
        self.unquoted.extend(std::iter::repeat_n(unquoted, s.len()));
    }

    /// A glob pattern that names files even where the word is quoted.
    fn push_glob(&mut self, s: &str) {
        self.push(s, true);
    }
}

/// Most brackets (`(`, `{`, `[`, including those of `$(`, `${`) a word or here-document
/// body may leave unclosed before it is refused unparsed: brush-parser 0.4's word parser
/// backtracks exponentially on each (found by fuzzing), and bash rejects them anyway.
const MAX_UNCLOSED: usize = 6;

/// How many brackets in `s` are never closed, or are closed out of order (`${a[}`).
fn unclosed_brackets(s: &str) -> usize {
    let mut stack: Vec<u8> = Vec::new();
    let mut unclosed = 0;
    for b in s.bytes() {
        let want = match b {
            b'(' | b'{' | b'[' => {
                stack.push(b);
                continue;
            }
            b')' => b'(',
            b'}' => b'{',
            b']' => b'[',
            _ => continue,
        };
        if let Some(at) = stack.iter().rposition(|&o| o == want) {
            unclosed += stack.len() - at - 1;
            stack.truncate(at);
        }
    }
    unclosed + stack.len()
}

/// Runs one of brush-parser's word parsers on `text`, guarded: text with more than
/// `MAX_UNCLOSED` unclosed brackets is refused before the parser sees it, and the
/// parser's errors and panics (it unwraps in places, e.g. on `~99999999999999999999`)
/// become an error for this text.
pub fn parse_pieces<E: std::fmt::Display>(
    text: &str,
    parse: impl FnOnce(&str) -> Result<Vec<brush_parser::word::WordPieceWithSource>, E>,
) -> Result<Vec<brush_parser::word::WordPieceWithSource>, String> {
    if unclosed_brackets(text) > MAX_UNCLOSED {
        return Err("too many unclosed brackets to analyse".into());
    }
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse(text))) {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err("the shell parser failed on it".into()),
    }
}

/// Parses and statically expands one word. `split` enables brace expansion (argument
/// words); assignments and here-strings pass `false`.
pub fn expand_word(
    raw: &str,
    options: &ParserOptions,
    vars: &dyn VarLookup,
    split: bool,
) -> Result<Vec<Expanded>, String> {
    let pieces = parse_pieces(raw, |t| brush_parser::word::parse(t, options))?;
    let mut b = Builder::default();
    pieces_into(&pieces, &mut b, vars, false);
    let words = if split
        && b.unquoted
            .iter()
            .zip(b.text.bytes())
            .any(|(u, c)| *u && c == b'{')
    {
        brace_expand(&b.text, &b.unquoted)?
    } else {
        vec![(b.text.clone(), b.unquoted.clone())]
    };
    Ok(words
        .into_iter()
        .map(|(text, mask)| {
            let glob = text
                .bytes()
                .zip(mask.iter())
                .any(|(c, u)| *u && matches!(c, b'*' | b'?' | b'['));
            Expanded {
                text,
                dynamic: b.dynamic,
                glob,
                substitutions: b.substitutions.clone(),
                escaped: b.escaped,
            }
        })
        .collect())
}

fn pieces_into(
    pieces: &[WordPieceWithSource],
    b: &mut Builder,
    vars: &dyn VarLookup,
    quoted: bool,
) {
    for p in pieces {
        match &p.piece {
            WordPiece::Text(s) => b.push(s, !quoted),
            WordPiece::SingleQuotedText(s) => b.push(s, false),
            WordPiece::AnsiCQuotedText(s) => {
                let decoded = decode_ansi_c(s);
                if decoded != *s {
                    b.escaped = true;
                }
                b.push(&decoded, false);
            }
            WordPiece::DoubleQuotedSequence(inner)
            | WordPiece::GettextDoubleQuotedSequence(inner) => pieces_into(inner, b, vars, true),
            WordPiece::TildeExpansion(t) => {
                use brush_parser::word::TildeExpr;
                match t {
                    TildeExpr::Home => b.push("~", false),
                    TildeExpr::UserHome(u) => b.push(&format!("~{u}"), false),
                    _ => {
                        b.dynamic = true;
                        b.push("~?", false);
                    }
                }
            }
            WordPiece::ParameterExpansion(expr) => parameter_into(expr, b, vars),
            WordPiece::CommandSubstitution(s) | WordPiece::BackquotedCommandSubstitution(s) => {
                b.substitutions.push(s.clone());
                let printed = match s.trim() {
                    "pwd" | "pwd -L" | "pwd -P" => match vars.lookup("PWD") {
                        Some(VarValue::Static(d)) => Some(d),
                        _ => None,
                    },
                    _ => echoed_text(s),
                };
                match printed {
                    // `$(echo .env)`: what it prints is known.
                    Some(text) => b.push(&text, !quoted),
                    None => {
                        b.dynamic = true;
                        b.push("$(…)", false);
                    }
                }
            }
            WordPiece::EscapeSequence(s) => {
                let c = s.strip_prefix('\\').unwrap_or(s);
                // Inside double quotes a backslash only escapes $ ` " \ and newline.
                if quoted && !matches!(c, "$" | "`" | "\"" | "\\" | "\n") {
                    b.push(s, false);
                } else if c != "\n" {
                    b.push(c, false);
                }
            }
            WordPiece::ArithmeticExpression(_) => {
                b.dynamic = true;
                b.push("$((…))", false);
            }
        }
    }
}

fn parameter_into(expr: &ParameterExpr, b: &mut Builder, vars: &dyn VarLookup) {
    let positional;
    let simple = match expr {
        ParameterExpr::Parameter {
            parameter: Parameter::Named(name),
            indirect: false,
        } => Some(name),
        ParameterExpr::Parameter {
            parameter: Parameter::Positional(n),
            indirect: false,
        } => {
            positional = n.to_string();
            Some(&positional)
        }
        _ => None,
    };
    if let Some(name) = simple {
        match name.as_str() {
            "HOME" => return b.push("~", false),
            _ => match vars.lookup(name) {
                Some(VarValue::Static(v)) => return b.push(&v, false),
                Some(VarValue::Glob(v)) => return b.push_glob(&v),
                _ => {}
            },
        }
        b.dynamic = true;
        return b.push(&format!("${name}"), false);
    }
    b.dynamic = true;
    b.push("${…}", false);
}

/// What a command substitution prints when it is a plain `echo` or `printf` of literal
/// words (`$(echo .env)`), without running it.
fn echoed_text(s: &str) -> Option<String> {
    let mut words = Vec::new();
    for w in s.split_whitespace() {
        let inner = w
            .strip_prefix('\'')
            .and_then(|x| x.strip_suffix('\''))
            .or_else(|| w.strip_prefix('"').and_then(|x| x.strip_suffix('"')))
            .unwrap_or(w);
        let plain = inner
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/@:+=,~-".contains(c));
        if !plain {
            return None;
        }
        words.push(inner);
    }
    match words.split_first() {
        Some((&"echo", rest)) if rest.first() != Some(&"-e") => {
            let rest = if rest.first() == Some(&"-n") {
                &rest[1..]
            } else {
                rest
            };
            Some(rest.join(" "))
        }
        Some((&"printf", [text])) => Some((*text).to_owned()),
        _ => None,
    }
}

/// Decodes the escapes of a `$'...'` string.
pub fn decode_ansi_c(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = it.next() else {
            out.push('\\');
            break;
        };
        let num = |radix: u32, max: usize, it: &mut std::iter::Peekable<std::str::Chars<'_>>| {
            let mut v = 0u32;
            let mut n = 0;
            while n < max {
                match it.peek().and_then(|c| c.to_digit(radix)) {
                    Some(d) => {
                        v = v * radix + d;
                        it.next();
                        n += 1;
                    }
                    None => break,
                }
            }
            (v, n)
        };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'e' | 'E' => out.push('\u{1b}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            '\\' | '\'' | '"' | '?' => out.push(e),
            'x' => {
                let (v, n) = num(16, 2, &mut it);
                if n == 0 {
                    out.push_str("\\x");
                } else if let Some(ch) = char::from_u32(v) {
                    out.push(ch);
                }
            }
            'u' | 'U' => {
                let (v, n) = num(16, if e == 'u' { 4 } else { 8 }, &mut it);
                match (n, char::from_u32(v)) {
                    (0, _) | (_, None) => {
                        out.push('\\');
                        out.push(e);
                    }
                    (_, Some(ch)) => out.push(ch),
                }
            }
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                let (rest, n) = num(8, 2, &mut it);
                v = v * 8u32.pow(n as u32) + rest;
                if let Some(ch) = char::from_u32(v) {
                    out.push(ch);
                }
            }
            'c' => {
                if let Some(x) = it.next() {
                    out.push(char::from_u32((x as u32) & 0x1f).unwrap_or('?'));
                }
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    out
}

/// Most steps one brace expansion may take: braces whose matching changes with each
/// alternative (`{,,/~},,i{~/n,}…`) would otherwise explore every combination (found by
/// fuzzing: 3 s for 200 bytes).
const MAX_BRACE_STEPS: usize = 4096;

/// Bash brace expansion over unquoted `{a,b}` and `{1..3}`; quoted braces stay literal.
/// A word whose expansion would take more than [`MAX_BRACE_STEPS`] is refused.
fn brace_expand(text: &str, unquoted: &[bool]) -> Result<Vec<(String, Vec<bool>)>, String> {
    let mut budget = MAX_BRACE_STEPS;
    expand_braces(text, unquoted, &mut budget)
        .ok_or_else(|| "brace expansion too large to analyse".to_owned())
}

fn expand_braces(
    text: &str,
    unquoted: &[bool],
    budget: &mut usize,
) -> Option<Vec<(String, Vec<bool>)>> {
    *budget = budget.checked_sub(1)?;
    let bytes = text.as_bytes();
    // Find the first unquoted '{' that has a matching unquoted '}' with a top-level ',' or '..'.
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' && unquoted[i] {
            let mut depth = 0;
            let mut commas = Vec::new();
            let mut close = None;
            for j in i..bytes.len() {
                if !unquoted[j] {
                    continue;
                }
                match bytes[j] {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            close = Some(j);
                            break;
                        }
                    }
                    b',' if depth == 1 => commas.push(j),
                    _ => {}
                }
            }
            let Some(close) = close else { break };
            let prefix = (&text[..i], &unquoted[..i]);
            let suffix = (&text[close + 1..], &unquoted[close + 1..]);
            let mut alts: Vec<(String, Vec<bool>)> = Vec::new();
            if commas.is_empty() {
                let body = &text[i + 1..close];
                match sequence(body) {
                    Some(items) => {
                        alts = items
                            .into_iter()
                            .map(|s| {
                                let n = s.len();
                                (s, vec![false; n])
                            })
                            .collect()
                    }
                    None => {
                        i += 1;
                        continue;
                    }
                }
            } else {
                let mut start = i + 1;
                for &c in commas.iter().chain(std::iter::once(&close)) {
                    alts.push((text[start..c].to_owned(), unquoted[start..c].to_vec()));
                    start = c + 1;
                }
            }
            let mut out = Vec::new();
            for (alt, mask) in alts {
                let mut t = String::from(prefix.0);
                t.push_str(&alt);
                t.push_str(suffix.0);
                let mut m = prefix.1.to_vec();
                m.extend_from_slice(&mask);
                m.extend_from_slice(suffix.1);
                for w in expand_braces(&t, &m, budget)? {
                    if out.len() >= MAX_BRACE_WORDS {
                        return Some(out);
                    }
                    out.push(w);
                }
            }
            return Some(out);
        }
        i += 1;
    }
    Some(vec![(text.to_owned(), unquoted.to_vec())])
}

fn sequence(body: &str) -> Option<Vec<String>> {
    let (a, b) = body.split_once("..")?;
    let b = b.split_once("..").map_or(b, |(b, _)| b);
    if let (Ok(x), Ok(y)) = (a.parse::<i64>(), b.parse::<i64>()) {
        if (x - y).abs() > MAX_BRACE_WORDS as i64 {
            return None;
        }
        let v: Vec<String> = if x <= y {
            (x..=y).map(|n| n.to_string()).collect()
        } else {
            (y..=x).rev().map(|n| n.to_string()).collect()
        };
        return Some(v);
    }
    let (mut ca, mut cb) = (a.chars(), b.chars());
    match (ca.next(), ca.next(), cb.next(), cb.next()) {
        (Some(x), None, Some(y), None) if x.is_ascii_alphabetic() && y.is_ascii_alphabetic() => {
            let (lo, hi) = if x <= y { (x, y) } else { (y, x) };
            let mut v: Vec<String> = (lo..=hi).map(|c| c.to_string()).collect();
            if x > y {
                v.reverse();
            }
            Some(v)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unclosed_brackets_counts_what_bash_would_reject() {
        assert_eq!(unclosed_brackets("${arr[@]} $(ls) ${x:-${y}}"), 0);
        assert_eq!(unclosed_brackets("${a[}"), 1);
        assert_eq!(unclosed_brackets(") ) $( $("), 2);
        assert_eq!(unclosed_brackets("$( ${b:-"), 2);
    }

    struct NoVars;
    impl VarLookup for NoVars {
        fn lookup(&self, _: &str) -> Option<VarValue> {
            None
        }
    }

    fn exp(raw: &str) -> Vec<String> {
        expand_word(raw, &ParserOptions::default(), &NoVars, true)
            .unwrap()
            .into_iter()
            .map(|e| e.text)
            .collect()
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(exp("'.e'nv"), vec![".env"]);
        assert_eq!(exp("\".e\"nv"), vec![".env"]);
        assert_eq!(exp(r".\env"), vec![".env"]);
        assert_eq!(exp(r"$'\x2e\x65nv'"), vec![".env"]);
        assert_eq!(exp(r"$'\056env'"), vec![".env"]);
    }

    #[test]
    fn braces_expand_only_when_unquoted() {
        assert_eq!(exp("a{b,c}d"), vec!["abd", "acd"]);
        assert_eq!(exp(".e{n,}v"), vec![".env", ".ev"]);
        assert_eq!(exp("'{a,b}'"), vec!["{a,b}"]);
        assert_eq!(exp("f{1..3}"), vec!["f1", "f2", "f3"]);
        assert_eq!(exp("{x}"), vec!["{x}"]);
    }

    #[test]
    fn a_brace_expansion_that_explodes_is_refused_quickly() {
        // Found by fuzzing: braces whose matching changes with each alternative made the
        // expansion try every combination (3 s for these 200 bytes).
        let word = "/b/~},,i{~/n,},{,,/~},,i{~/n,},{,,n/b/~},,i{~/n,,},{,,/~},,i{~/n,/n,},{,,/~},,i{~/n,},{,,n/b/~},,i{~/n,,},{,,/~},,i{~/n,},{,,n/b/~},,i{~/n,},{},{,,n/b/~},,i{~/n,},{,,/~},},{,,/~},,i{~/n,},{,,n~{~{";
        let started = std::time::Instant::now();
        let e = expand_word(word, &ParserOptions::default(), &NoVars, true);
        assert!(started.elapsed() < std::time::Duration::from_millis(500));
        assert_eq!(e.unwrap_err(), "brace expansion too large to analyse");
    }

    #[test]
    fn dynamic_parts_are_marked() {
        let e = expand_word("$FOO/x", &ParserOptions::default(), &NoVars, true).unwrap();
        assert!(e[0].dynamic);
        let e = expand_word(
            "$HOME/.ssh/id_rsa",
            &ParserOptions::default(),
            &NoVars,
            true,
        )
        .unwrap();
        assert_eq!(e[0].text, "~/.ssh/id_rsa");
        assert!(!e[0].dynamic);
        let e = expand_word("\"$(cat .env)\"", &ParserOptions::default(), &NoVars, true).unwrap();
        assert_eq!(e[0].substitutions, vec!["cat .env".to_string()]);
        let e = expand_word("*.rs", &ParserOptions::default(), &NoVars, true).unwrap();
        assert!(e[0].glob);
        let e = expand_word("'*.rs'", &ParserOptions::default(), &NoVars, true).unwrap();
        assert!(!e[0].glob);
    }
}
