//! The only door to brush-parser's program parser: pre-checks that refuse the inputs on
//! which brush-parser 0.4 panics, hangs or backtracks exponentially (most found by
//! fuzzing), then the parse itself with its panics contained.
//!
//! Each refusal is a reason for an [`Unparseable`](crate::ShellEffect::Unparseable)
//! effect. Bash rejects almost all of these inputs too, so refusing them loses nothing.

use std::panic::{AssertUnwindSafe, catch_unwind};

use brush_parser::{Parser, ParserOptions, ast};

/// Longest command line analysed; longer ones are unparseable.
pub const MAX_ANALYSED: usize = 256 * 1024;
/// Deepest bracket nesting accepted before parsing (protects the parser's stack).
pub(crate) const MAX_BRACKETS: usize = 64;
/// Deepest `(` nesting accepted: brush-parser's backtracking doubles in cost with each
/// level (16 levels ≈ 1.5 ms, 22 ≈ 94 ms; found by fuzzing).
pub(crate) const MAX_PARENS: usize = 16;
/// Most `<<` operators accepted in one command line.
pub(crate) const MAX_HEREDOCS: usize = 8;
/// Most `${name[` expansions with an unclosed subscript accepted in one command line
/// (each one multiplies brush-parser's backtracking).
pub(crate) const MAX_OPEN_SUBSCRIPTS: usize = 2;

/// Parses `text` as a bash program, or says why it is not analysed: a refusal by the
/// pre-checks, a syntax error, or a panic inside the parser.
pub(crate) fn parse_program(text: &str, options: &ParserOptions) -> Result<ast::Program, String> {
    if let Some(reason) = refusal(text) {
        return Err(reason);
    }
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        Parser::new(std::io::BufReader::new(text.as_bytes()), options).parse_program()
    }));
    match parsed {
        Ok(Ok(p)) => Ok(p),
        Ok(Err(e)) => Err(format!("cannot parse the command: {e}")),
        Err(_) => Err("the shell parser failed on this command".into()),
    }
}

/// Why `text` must not reach the parser, if it must not.
fn refusal(text: &str) -> Option<String> {
    if text.len() > MAX_ANALYSED {
        return Some(format!(
            "command is {} bytes; longer than the {} bytes Mandate analyses",
            text.len(),
            MAX_ANALYSED
        ));
    }
    if max_bracket_depth(text) > MAX_BRACKETS || max_paren_depth(text) > MAX_PARENS {
        return Some("brackets nested too deeply to analyse".into());
    }
    if unterminated_test(text) {
        // brush-parser 0.4 backtracks exponentially (or hangs) on an unterminated
        // `[[` after a command substitution; bash rejects it as a syntax error anyway.
        return Some("a [[ test is not closed with ]]".into());
    }
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Some(format!("the command contains the control character {c:?}"));
    }
    if text.matches("<<").count() > MAX_HEREDOCS {
        // brush-parser backtracks badly on many here-document operators (found by
        // fuzzing); real command lines have a few at most.
        return Some("too many here-document operators to analyse".into());
    }
    if open_subscripts(text) > MAX_OPEN_SUBSCRIPTS {
        // brush-parser 0.4's word parser backtracks exponentially on `${a[}` in
        // double quotes and here-documents (found by fuzzing).
        return Some("several ${name[ expansions leave their subscript open".into());
    }
    if odd_heredoc(text) {
        // brush-parser 0.4 hangs on a here-document whose delimiter starts with a
        // carriage return (found by fuzzing).
        return Some("a here-document delimiter starts with a control character".into());
    }
    if unterminated_heredoc(text) {
        return Some("a here-document is never closed by its delimiter line".into());
    }
    if missing_heredoc_delimiter(text) {
        return Some("a here-document operator has no delimiter word after it".into());
    }
    if expanding_heredoc_delimiter(text) {
        // brush-parser 0.4's tokenizer grows a token without end (gigabytes in a second)
        // on a delimiter holding an open expansion such as `<<$[` (found by fuzzing);
        // bash takes such a delimiter literally, and real scripts use EOF, 'EOF', END.
        return Some("a here-document delimiter contains `$` or a backquote".into());
    }
    if has_huge_io_number(text) {
        // brush-parser 0.4 panics on redirection fds that overflow an i32.
        return Some("a redirection names a file descriptor number too large to be real".into());
    }
    None
}

/// The deepest nesting of `(`, `{`, `[` and backquotes (a backquote only ever opens:
/// it counts against the limit without being closed).
fn max_bracket_depth(s: &str) -> usize {
    let (mut d, mut max) = (0usize, 0usize);
    // A backquote closes the one before it (bash nests backquotes only when escaped, and
    // each level doubles the backslashes, so the length limit bounds that nesting).
    let mut in_backquote = false;
    for b in s.bytes() {
        match b {
            b'`' if in_backquote => {
                in_backquote = false;
                d = d.saturating_sub(1);
            }
            b'(' | b'{' | b'[' | b'`' => {
                in_backquote |= b == b'`';
                d += 1;
                max = max.max(d);
            }
            b')' | b'}' | b']' => d = d.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// The deepest nesting of `(` alone.
fn max_paren_depth(s: &str) -> usize {
    let (mut d, mut max) = (0usize, 0usize);
    for b in s.bytes() {
        match b {
            b'(' => {
                d += 1;
                max = max.max(d);
            }
            b')' => d = d.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Whether some `[[` in command position (at the start, or after `;`, `&`, `|`, `(`, `{`,
/// a newline or `!`, and followed by a blank, `;` or the end) has no `]]` after it.
fn unterminated_test(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(off) = s[i..].find("[[") {
        let at = i + off;
        let before = b[..at].iter().rev().find(|c| !matches!(c, b' ' | b'\t'));
        let command_position = matches!(
            before,
            None | Some(b';' | b'&' | b'|' | b'(' | b'{' | b'\n' | b'!')
        );
        let after = b.get(at + 2);
        let word_end = matches!(after, None | Some(b' ' | b'\t' | b';' | b'\n'));
        if command_position && word_end && !s[at + 2..].contains("]]") {
            return true;
        }
        i = at + 2;
    }
    false
}

/// How many `${…}` expansions leave a `[` subscript open before their `}` (`${a[}`,
/// `${a[@:1}`): bash rejects each as a bad substitution.
fn open_subscripts(s: &str) -> usize {
    let mut count = 0;
    let mut i = 0;
    while let Some(off) = s[i..].find("${") {
        let start = i + off + 2;
        // Up to the closing `}`, or to a nested `${` if one comes first.
        let rest = &s[start..];
        let end = [rest.find('}'), rest.find("${")]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(rest.len());
        let body = &rest[..end];
        if body.matches('[').count() > body.matches(']').count() {
            count += 1;
        }
        i = start;
    }
    count
}

/// What follows each `<<` (not `<<<`) operator, after an optional `-` and blanks: where
/// its delimiter word starts.
fn heredoc_delimiters(s: &str) -> impl Iterator<Item = &[u8]> {
    let b = s.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        loop {
            let off = s[i..].find("<<")?;
            let Some(j) = delimiter_start(b, i + off) else {
                i += off + 3;
                continue;
            };
            i = j;
            return Some(&b[j..]);
        }
    })
}

/// A here-document delimiter that starts with a carriage return.
fn odd_heredoc(s: &str) -> bool {
    heredoc_delimiters(s).any(|rest| rest.first() == Some(&b'\r'))
}

/// A here-document operator with no delimiter word after it: the end of the text, a
/// newline or an operator (`<< <<`, `<<|`, `<<)`; not `(`, which after `<<` is most
/// often an arithmetic shift such as `$((1 << (n)))`). Bash refuses it as a syntax error;
/// inside `$(…)` brush-parser 0.4's tokenizer instead grows one token without end
/// (2 GB within a second on 95 bytes; found by fuzzing).
fn missing_heredoc_delimiter(s: &str) -> bool {
    heredoc_delimiters(s).any(|rest| {
        matches!(
            rest.first(),
            None | Some(b'\n' | b'\r' | b'<' | b'>' | b'|' | b'&' | b';' | b')')
        )
    })
}

/// A here-document whose delimiter line never comes. Bash reads to the end with a
/// warning; brush-parser 0.4's tokenizer, inside nested `$(…)`, grows one token without
/// end (2 GB within a second on 69 bytes; found by fuzzing). A command an assistant
/// means has its closing line.
fn unterminated_heredoc(s: &str) -> bool {
    // Lines are read as bash reads them: a here-document's body starts on the line after
    // its operator and ends at its delimiter line; `<<` inside a body, in quotes, in a
    // comment or in `((…))` arithmetic is no operator.
    let mut pending: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    let mut quote: Option<u8> = None;
    let mut arithmetic = 0usize;
    for line in s.split('\n') {
        if let Some(delimiter) = pending.front() {
            if line.trim_start_matches('\t').trim_end_matches('\r') == delimiter {
                pending.pop_front();
            }
            continue;
        }
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if let Some(q) = quote {
                if c == b'\\' && q == b'"' {
                    i += 2;
                    continue;
                }
                if c == q {
                    quote = None;
                }
                i += 1;
                continue;
            }
            match c {
                b'\\' => i += 1,
                b'\'' | b'"' => quote = Some(c),
                b'#' if i == 0 || b[i - 1].is_ascii_whitespace() => break,
                b'(' if b.get(i + 1) == Some(&b'(') => {
                    arithmetic += 1;
                    i += 1;
                }
                b')' if b.get(i + 1) == Some(&b')') && arithmetic > 0 => {
                    arithmetic -= 1;
                    i += 1;
                }
                b'<' if b.get(i + 1) == Some(&b'<') && arithmetic == 0 => {
                    let Some(j) = delimiter_start(b, i) else {
                        i += 3;
                        continue;
                    };
                    // Outside arithmetic, `<< (` is a syntax error (on which brush-parser
                    // grows without end too); an empty word is another guard's.
                    if b.get(j) == Some(&b'(') {
                        return true;
                    }
                    let word = delimiter_word(&b[j..]);
                    if !word.is_empty() {
                        pending.push_back(word);
                    }
                    i = j;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
    !pending.is_empty()
}

/// Where the delimiter word of the here-document operator `<<` at `at` starts (past `-`
/// and blanks); `None` for the here-string `<<<`.
fn delimiter_start(b: &[u8], at: usize) -> Option<usize> {
    let mut j = at + 2;
    if b.get(j) == Some(&b'<') {
        return None;
    }
    if b.get(j) == Some(&b'-') {
        j += 1;
    }
    while matches!(b.get(j), Some(b' ' | b'\t')) {
        j += 1;
    }
    Some(j)
}

/// A here-document's delimiter word as its closing line spells it (quotes removed).
fn delimiter_word(rest: &[u8]) -> String {
    rest.iter()
        .take_while(|c| {
            !matches!(
                c,
                b' ' | b'\t' | b'\n' | b'\r' | b';' | b'&' | b'|' | b'<' | b'>' | b')'
            )
        })
        .filter(|c| !matches!(c, b'\'' | b'"' | b'\\'))
        .map(|&c| char::from(c))
        .collect()
}

/// A here-document delimiter word that contains `$` or a backquote.
fn expanding_heredoc_delimiter(s: &str) -> bool {
    heredoc_delimiters(s).any(|rest| {
        rest.iter()
            .take_while(|c| {
                !matches!(
                    c,
                    b' ' | b'\t' | b'\n' | b'\r' | b';' | b'&' | b'|' | b'<' | b'>'
                )
            })
            .any(|c| matches!(c, b'$' | b'`'))
    })
}

/// A run of more than 9 digits directly before `<` or `>` (an fd number bash would refuse).
fn has_huge_io_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut run = 0;
    for &c in b {
        if c.is_ascii_digit() {
            run += 1;
        } else {
            if run > 9 && (c == b'<' || c == b'>') {
                return true;
            }
            run = 0;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDINARY: &str =
        "cd src && cat <<EOF > out.txt\n${arr[0]} $(ls -la)\nEOF\n[[ -f x ]] && echo 2>err";

    #[test]
    fn an_ordinary_command_passes_every_check_and_parses() {
        assert_eq!(refusal(ORDINARY), None);
        assert!(parse_program(ORDINARY, &ParserOptions::default()).is_ok());
    }

    #[test]
    fn overlong_commands_are_refused() {
        assert!(refusal(&"a".repeat(MAX_ANALYSED)).is_none());
        let reason = refusal(&"a".repeat(MAX_ANALYSED + 1)).unwrap();
        assert!(reason.contains("longer than"), "{reason}");
    }

    #[test]
    fn deep_brackets_and_parentheses_are_refused() {
        assert_eq!(max_bracket_depth("a ${b[0]} $(c)"), 2);
        assert_eq!(max_paren_depth("((a)) (b)"), 2);
        let brackets = format!(
            "{}{}",
            "{".repeat(MAX_BRACKETS + 1),
            "}".repeat(MAX_BRACKETS + 1)
        );
        assert!(refusal(&brackets).is_some());
        let parens = |n: usize| format!("{}x{}", "(".repeat(n), ")".repeat(n));
        assert!(refusal(&parens(MAX_PARENS)).is_none());
        assert!(refusal(&parens(MAX_PARENS + 1)).is_some());
    }

    #[test]
    fn a_here_document_without_a_delimiter_is_refused() {
        // The fuzzer's input: 2 GB within a second inside brush-parser's tokenizer.
        let found = "$(@j  8|8<<                     <<     8|8<#<               (        <<                      )J";
        assert!(refusal(found).is_some());
        for bad in ["cat <<", "cat << <<x", "cat <<|x", "$(cat <<)", "cat <<\nx"] {
            assert!(missing_heredoc_delimiter(bad), "{bad:?}");
        }
        for good in [
            "cat <<EOF\nx\nEOF",
            "cat <<- 'E'\nx\nE",
            "cat <<<\"$x\"",
            "a<<b",
            "echo $((1 << (3)))",
        ] {
            assert!(!missing_heredoc_delimiter(good), "{good:?}");
        }
    }

    #[test]
    fn an_unterminated_here_document_is_refused() {
        // The fuzzer's second input: the same growth, the delimiter line never comes.
        let found =
            "time>$(!$$$$-$$M8>$(1=+S[&I$($>(S[&S <<         \t\t\t\t\t\t\t\t\tu\t\t\t\t\t|]]\t]\t";
        assert!(refusal(found).is_some());
        assert!(unterminated_heredoc("cat <<EOF\nx"));
        // The third: `<< (` inside nested `$(…)`.
        let third =
            "time>$(!$$$$-$$M8>$(1=$S[&I$($>(S[&SI]>$<<           (@j  8[&I)FF@S>$(77777777~ ";
        assert!(refusal(third).is_some());
        assert!(unterminated_heredoc("cat <<'EOF' > a\nx\nEOF2"));
        for good in [
            "cat <<EOF\nx\nEOF",
            "cat <<'EOF' > t.py\nprint(1)\nEOF\npython3 t.py",
            "cat <<-\"END\"\n\tx\n\tEND",
            "x=$(cat <<E\na\nE\n)",
            "cat <<<\"$x\"",
            "echo $((1 << (3)))",
            "echo $((1 << 2))",
            "python3 -c 'print(1 << 2)'",
            "echo \"a << b\" # x << y",
            "cat <<'EOF' > a.cpp\nint main() { std::cout << \"hi\"; }\nEOF\ng++ a.cpp",
            "cat <<A; cat <<B\n1\nA\n2\nB",
        ] {
            assert!(!unterminated_heredoc(good), "{good:?}");
        }
    }

    #[test]
    fn backquotes_close_in_pairs() {
        assert_eq!(max_bracket_depth("echo `date` `id`"), 1);
        assert_eq!(max_bracket_depth("a $(b `c`)"), 2);
        // A Python file written by a here-document, its docstrings full of ``code``.
        let docstring = format!(
            "cat <<'EOF' > m.py\n\"\"\"{}\"\"\"\nEOF",
            "Use ``x`` here. ".repeat(100)
        );
        assert!(refusal(&docstring).is_none());
        // Escaped nesting doubles the backslashes per level; the length limit bounds it.
        assert_eq!(max_bracket_depth("`a \\`b\\``"), 1);
    }

    #[test]
    fn an_unterminated_test_in_command_position_is_refused() {
        assert!(!unterminated_test("[[ -f x ]] && cat x"));
        assert!(!unterminated_test("echo [[ x"), "an argument, not a test");
        assert!(!unterminated_test("echo a[[b"));
        assert!(unterminated_test("[[ -f x"));
        assert!(unterminated_test("true; [[ $(ls) == y"));
        assert!(refusal("x $(a) ; [[ ").is_some());
    }

    #[test]
    fn control_characters_other_than_blanks_are_refused() {
        assert!(refusal("echo a\tb\r\n").is_none());
        assert!(refusal("echo \u{1}").is_some());
        assert!(refusal("echo \u{7f}").is_some());
    }

    #[test]
    fn many_here_documents_are_refused() {
        let docs = |n: usize| {
            (0..n)
                .map(|i| format!("cat <<E{i}\nx\nE{i}\n"))
                .collect::<String>()
        };
        assert!(refusal(&docs(MAX_HEREDOCS)).is_none());
        assert!(refusal(&docs(MAX_HEREDOCS + 1)).is_some());
    }

    #[test]
    fn open_subscripts_are_counted_and_refused() {
        assert_eq!(open_subscripts("${a[0]} ${b[@]} ${#c[@]} ${d:-x}"), 0);
        assert_eq!(open_subscripts("${a[} ${b[@:1} ${c[${d}]}"), 3);
        assert!(refusal("echo \"${a[} ${b[}\"").is_none());
        assert!(refusal("echo \"${a[} ${b[} ${c[}\"").is_some());
    }

    #[test]
    fn a_here_document_delimiter_starting_with_a_carriage_return_is_refused() {
        assert!(!odd_heredoc("cat <<EOF\r\nhi\r\nEOF\r\n"));
        assert!(
            !odd_heredoc("cat <<<\rx"),
            "a here-string is not a here-document"
        );
        assert!(odd_heredoc("cat <<\rEOF"));
        assert!(odd_heredoc("cat <<- \rEOF"));
    }

    #[test]
    fn a_here_document_delimiter_with_an_expansion_is_refused() {
        for bad in [
            "<<$[\t \n",
            "cat <<$X\nhi\n$X\n",
            "cat <<- `x`\n",
            "cat <<E$\n",
        ] {
            assert!(expanding_heredoc_delimiter(bad), "{bad:?}");
            assert!(refusal(bad).is_some(), "{bad:?}");
        }
        for good in [
            "cat <<EOF\n$HOME\nEOF\n",
            "cat <<'EOF'\n`x`\nEOF\n",
            "cat <<< \"$x\"",
            "a <<-END\nb\nEND\n",
        ] {
            assert!(!expanding_heredoc_delimiter(good), "{good:?}");
        }
    }

    #[test]
    fn huge_file_descriptor_numbers_are_refused() {
        assert!(!has_huge_io_number("echo 2>err 123456789>x"));
        assert!(!has_huge_io_number("echo 12345678901 x"));
        assert!(has_huge_io_number("echo 12345678901<in"));
        assert!(refusal("cat 99999999999>x").is_some());
    }

    #[test]
    fn syntax_errors_and_parser_panics_become_reasons() {
        let reason = parse_program("echo 'unterminated", &ParserOptions::default()).unwrap_err();
        assert!(reason.starts_with("cannot parse the command"), "{reason}");
    }
}
