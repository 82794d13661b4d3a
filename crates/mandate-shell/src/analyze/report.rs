//! The effects one analysis reports: in the order found, each once, and at most
//! [`MAX_EFFECTS`] of them.

use std::collections::{HashMap, HashSet};

use crate::effect::{Base, ShellEffect, ShellPath, WrittenFirst};

/// Most effects reported for one command line.
pub(crate) const MAX_EFFECTS: usize = 4096;

/// The effects found so far.
#[derive(Debug, Default)]
pub(crate) struct Report {
    effects: Vec<ShellEffect>,
    seen: HashSet<ShellEffect>,
    /// Files written so far, by path, with what is known of their content.
    written: HashMap<String, WrittenFirst>,
}

/// The key of a path in [`Report::written`]: its directory and name, without `./`.
fn written_key(p: &ShellPath) -> Option<String> {
    if p.dynamic || p.unknown_dir || p.glob {
        return None;
    }
    let joined = match &p.dir {
        Some(d) if !p.path.starts_with('/') && !p.path.starts_with('~') => {
            format!("{d}/{}", p.path)
        }
        _ => p.path.clone(),
    };
    let parts: Vec<&str> = joined.split('/').filter(|c| *c != ".").collect();
    Some(parts.join("/"))
}

impl Report {
    /// Adds `e` unless it was already reported; past [`MAX_EFFECTS`], adds one
    /// unparseable effect saying the command is too large instead.
    pub(crate) fn emit(&mut self, e: ShellEffect) {
        if let ShellEffect::Write(p) = &e
            && let Some(k) = written_key(p)
        {
            self.written.insert(k, WrittenFirst::Unknown);
        }
        if self.effects.len() >= MAX_EFFECTS {
            let cap = ShellEffect::Unparseable {
                reason: format!(
                    "more than {MAX_EFFECTS} effects; the command is too large to analyse"
                ),
            };
            if self.seen.insert(cap.clone()) {
                self.effects.push(cap);
            }
            return;
        }
        if self.seen.insert(e.clone()) {
            self.effects.push(e);
        }
    }

    /// Reports that part of the command could not be analysed, and why.
    pub(crate) fn unparseable(&mut self, reason: impl Into<String>) {
        self.emit(ShellEffect::Unparseable {
            reason: reason.into(),
        });
    }

    /// Reports code that is decoded or assembled at run time, and how.
    pub(crate) fn obfuscated(&mut self, reason: impl Into<String>) {
        self.emit(ShellEffect::Obfuscated {
            reason: reason.into(),
        });
    }

    /// What is known of the files written so far (see [`Report::written_restore`]).
    pub(crate) fn written_snapshot(&self) -> HashMap<String, WrittenFirst> {
        self.written.clone()
    }

    /// Puts back what was known of files' content before a command that changed only
    /// their metadata.
    pub(crate) fn written_restore(&mut self, known: HashMap<String, WrittenFirst>) {
        self.written = known;
    }

    /// Records that the file `p`, just written, holds `text`.
    pub(crate) fn written_text(&mut self, p: &ShellPath, text: String) {
        if let Some(k) = written_key(p) {
            self.written.insert(k, WrittenFirst::Text(text));
        }
    }

    /// Records that `added` was put into the file `p` (appended, or by an in-place edit)
    /// whose content before is what was known of it (or what is on disk).
    pub(crate) fn written_added(&mut self, p: &ShellPath, added: &str, before: WrittenFirst) {
        let Some(k) = written_key(p) else { return };
        let now = match before {
            WrittenFirst::No => WrittenFirst::Derived {
                base: Base::Disk,
                added: added.to_owned(),
            },
            WrittenFirst::Text(t) => WrittenFirst::Derived {
                base: Base::Text(t),
                added: added.to_owned(),
            },
            WrittenFirst::Derived { base, added: a } => WrittenFirst::Derived {
                base,
                added: format!("{a}\n{added}"),
            },
            WrittenFirst::Unknown => WrittenFirst::Unknown,
        };
        self.written.insert(k, now);
    }

    /// Records that the file `to` was written as a copy of `from`.
    pub(crate) fn written_copy(&mut self, from: &ShellPath, to: &ShellPath) {
        let Some(k) = written_key(to) else { return };
        let now = match self.written_first(from) {
            WrittenFirst::No => WrittenFirst::Derived {
                base: Base::CopyOf(from.clone()),
                added: String::new(),
            },
            known => known,
        };
        self.written.insert(k, now);
    }

    /// Records that the files a build tool wrote since the mark `start` were made from
    /// what it read since then.
    pub(crate) fn written_built(&mut self, start: usize) {
        let sources = self.reads_since(start);
        let outputs: Vec<ShellPath> = self.effects[start..]
            .iter()
            .filter_map(|e| match e {
                ShellEffect::Write(p) => Some(p.clone()),
                _ => None,
            })
            .collect();
        for out in outputs {
            if let Some(k) = written_key(&out) {
                self.written.insert(
                    k,
                    WrittenFirst::Derived {
                        base: Base::BuiltFrom(sources.clone()),
                        added: String::new(),
                    },
                );
            }
        }
    }

    /// Whether the file `p` was written earlier in the command line, and with what.
    pub(crate) fn written_first(&self, p: &ShellPath) -> WrittenFirst {
        written_key(p)
            .and_then(|k| self.written.get(&k).cloned())
            .unwrap_or(WrittenFirst::No)
    }

    /// How many effects were reported so far: a mark for [`Report::reads_since`].
    pub(crate) fn len(&self) -> usize {
        self.effects.len()
    }

    /// The files read by the effects reported after the mark `start` (what a pipeline
    /// stage or a command substitution read).
    pub(crate) fn reads_since(&self, start: usize) -> Vec<ShellPath> {
        self.effects[start..]
            .iter()
            .filter_map(|e| match e {
                ShellEffect::Read(p) | ShellEffect::ReadTree(p) => Some(p.clone()),
                _ => None,
            })
            .collect()
    }

    /// The effects, in the order found.
    pub(crate) fn into_effects(self) -> Vec<ShellEffect> {
        self.effects
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &str) -> ShellEffect {
        ShellEffect::Read(ShellPath {
            dir: None,
            path: path.into(),
            dynamic: false,
            glob: false,
            unknown_dir: false,
        })
    }

    #[test]
    fn effects_are_kept_in_order_once_each() {
        let mut r = Report::default();
        r.emit(read("a"));
        r.emit(read("b"));
        r.emit(read("a"));
        assert_eq!(r.into_effects(), vec![read("a"), read("b")]);
    }

    #[test]
    fn reads_since_a_mark_are_the_later_reads_only() {
        let mut r = Report::default();
        r.emit(read("before"));
        let mark = r.len();
        r.emit(ShellEffect::Privilege {
            program: "sudo".into(),
        });
        r.emit(read("after"));
        let paths: Vec<String> = r.reads_since(mark).into_iter().map(|p| p.path).collect();
        assert_eq!(paths, vec!["after"]);
    }

    #[test]
    fn too_many_effects_end_in_one_unparseable_effect() {
        let mut r = Report::default();
        for i in 0..MAX_EFFECTS + 10 {
            r.emit(read(&i.to_string()));
        }
        let effects = r.into_effects();
        assert_eq!(effects.len(), MAX_EFFECTS + 1);
        assert!(matches!(
            effects.last(),
            Some(ShellEffect::Unparseable { reason }) if reason.contains("too large")
        ));
    }
}
