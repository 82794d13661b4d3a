//! Signs that a command hides what it runs: data decoded on the way into a shell or
//! interpreter, and program names written in escapes or taken from a variable.

use std::sync::OnceLock;

use brush_parser::ast::{Command, CommandPrefixOrSuffixItem};
use regex::Regex;

use crate::words::Expanded;

/// Whether a pipeline stage decodes data (so what it pipes on is a hidden payload).
pub(crate) fn is_decoder(cmd: &Command) -> bool {
    let Command::Simple(sc) = cmd else {
        return false;
    };
    let mut words: Vec<&str> = Vec::new();
    if let Some(w) = &sc.word_or_name {
        words.push(&w.value);
    }
    if let Some(s) = &sc.suffix {
        for item in &s.0 {
            if let CommandPrefixOrSuffixItem::Word(w) = item {
                words.push(&w.value);
            }
        }
    }
    decodes(&words.join(" "))
}

/// Whether shell text decodes data: `base64 -d`, `xxd -r`, `openssl enc -d`, hex escapes
/// printed with `printf`/`echo -e`, `rev`, decompression.
pub(crate) fn decodes(text: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(decoder_pattern).is_match(text)
}

#[expect(
    clippy::expect_used,
    reason = "a constant pattern, compiled by the unit tests"
)]
fn decoder_pattern() -> Regex {
    Regex::new(
        r"(?x)(?:\b(?:base64|base32|basenc)\b[^|;&]*\s(?:-d|-D|--decode)\b
          |\bxxd\b[^|;&]*\s-r|\bopenssl\b[^|;&]*\s-d\b|\buudecode\b|\b(?:gunzip|zcat|bzcat|xzcat)\b|\brev\b
          |\b(?:printf|echo)\b[^|;&]*\\x[0-9a-fA-F]{2}|\bperl\b[^|;&]*\bpack\b|\bpython3?\b[^|;&]*(?:b64decode|fromhex))",
    )
    .expect("decoder pattern compiles")
}

/// Why a program name written in escapes (`$'\x63at'`) is obfuscated, if it is.
pub(crate) fn escaped_program_name(name: &Expanded) -> Option<String> {
    name.escaped.then(|| {
        format!(
            "the program name {:?} is hidden in escape sequences",
            name.text
        )
    })
}

/// Why a program name taken from a variable's expansion (`${!c}`, `${x:1}`) is
/// obfuscated, if it is.
pub(crate) fn expanded_program_name(name: &Expanded) -> Option<String> {
    (name.dynamic && name.text.contains("${")).then(|| {
        format!(
            "the program name {:?} is taken from a variable's expansion",
            name.text
        )
    })
}

#[cfg(test)]
mod tests {
    use brush_parser::ParserOptions;

    use super::*;
    use crate::analyze::guards::parse_program;
    use crate::analyze::testing::word;

    #[test]
    fn decoding_commands_are_recognised() {
        for text in [
            "base64 -d",
            "base64 --decode x",
            "xxd -r -p",
            "openssl enc -d -aes256",
            "gunzip -c p.gz",
            "rev",
            r"printf '\x63\x61'",
            "python3 -c 'base64.b64decode(x)'",
        ] {
            assert!(decodes(text), "{text}");
        }
        for text in [
            "base64 file",
            "cat x",
            "echo hello",
            "xxd file",
            "gzip x",
            "reverse",
        ] {
            assert!(!decodes(text), "{text}");
        }
    }

    #[test]
    fn decoder_stages_of_a_pipeline_are_recognised() {
        let program =
            parse_program("echo eA== | base64 -d | sh", &ParserOptions::default()).unwrap();
        let stages = &program.complete_commands[0].0[0].0.first.seq;
        let decoders: Vec<bool> = stages.iter().map(is_decoder).collect();
        assert_eq!(decoders, vec![false, true, false]);
    }

    #[test]
    fn hidden_program_names_are_obfuscation() {
        let escaped = Expanded {
            escaped: true,
            ..word("cat")
        };
        assert!(escaped_program_name(&escaped).is_some());
        assert!(escaped_program_name(&word("cat")).is_none());
        assert!(expanded_program_name(&word("${!c}")).is_some());
        assert!(
            expanded_program_name(&word("$c")).is_none(),
            "plainly computed, not hidden"
        );
        assert!(expanded_program_name(&word("cat")).is_none());
    }
}
