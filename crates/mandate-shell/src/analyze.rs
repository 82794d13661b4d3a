//! Shell command lines → effects.
//!
//! How the parts fit (each module's own comment says more):
//!
//! - [`guards`]: the only way to brush-parser's program parser, with the pre-checks
//!   that keep it from blowing up.
//! - [`walk`]: the walk over the syntax — lists, pipelines, compound commands,
//!   redirections, words and their command substitutions — down to simple commands.
//! - [`invoke`] and [`builtins`]: one simple command — its name, environment, shell
//!   builtins — up to the program's knowledge-base entry.
//! - [`context`]: the interface between the walk and the program models: [`WalkCx`]
//!   (what a command runs with), the [`Walk`] it may call back, and [`ProgramModel`].
//! - [`programs`]: the models registered per argument role; [`roles`] is the generic
//!   one, which turns the knowledge base's option and argument roles into effects.
//! - [`args`] (option parsing), [`state`] (shell state, stdin, paths), [`report`]
//!   (the effects found), [`targets`] (network targets), [`obfuscation`].
//!
//! Module dependencies run one way: `walk` → `invoke` → `programs` and `roles` →
//! `context` → `state`, `report`; the models reach the walker only through [`Walk`].
//!
//! [`WalkCx`]: context::WalkCx
//! [`Walk`]: context::Walk
//! [`ProgramModel`]: context::ProgramModel

use std::panic::{AssertUnwindSafe, catch_unwind};

use brush_parser::ParserOptions;

use crate::effect::ShellEffect;
use crate::kb::KnowledgeBase;

mod args;
mod builtins;
mod context;
mod environment;
mod guards;
mod invoke;
mod obfuscation;
mod programs;
mod report;
mod roles;
mod state;
mod targets;
#[cfg(test)]
mod testing;
mod unknown;
mod walk;

pub use guards::MAX_ANALYSED;
pub use walk::MAX_DEPTH;

use context::Walk;
use state::{Cwd, State, Stdin};
use walk::Walker;

/// Analyses shell command lines into effects.
#[derive(Clone)]
pub struct ShellAnalyzer {
    kb: KnowledgeBase,
    options: ParserOptions,
}

impl std::fmt::Debug for ShellAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShellAnalyzer")
            .field("programs", &self.kb.len())
            .finish()
    }
}

impl Default for ShellAnalyzer {
    fn default() -> Self {
        Self::new(KnowledgeBase::builtin())
    }
}

/// The result of analysing one command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShellAnalysis {
    /// Effects in the order found, without duplicates.
    pub effects: Vec<ShellEffect>,
}

impl ShellAnalysis {
    /// Whether any part could not be analysed.
    pub fn is_unparseable(&self) -> bool {
        self.effects
            .iter()
            .any(|e| matches!(e, ShellEffect::Unparseable { .. }))
    }
}

impl ShellAnalyzer {
    /// An analyser over a knowledge base.
    pub fn new(kb: KnowledgeBase) -> Self {
        Self {
            kb,
            options: ParserOptions::default(),
        }
    }

    /// The knowledge base in use.
    pub fn knowledge_base(&self) -> &KnowledgeBase {
        &self.kb
    }

    /// Analyses a command line as `bash -c` would run it. Never panics; input that cannot
    /// be analysed yields an [`ShellEffect::Unparseable`] effect.
    pub fn analyze(&self, command: &str) -> ShellAnalysis {
        // Defence in depth: a bug in the walker must not take the broker down or let an
        // action through; it makes the command unparseable.
        match catch_unwind(AssertUnwindSafe(|| self.walk(command))) {
            Ok(a) => a,
            Err(_) => ShellAnalysis {
                effects: vec![ShellEffect::Unparseable {
                    reason: "the analyser failed on this command".into(),
                }],
            },
        }
    }

    /// Analyses a script of an interpreted language (`python3`, `node`, `perl`, ...) as
    /// its inline code (`-c`, `-e`) would be. Never panics.
    pub fn analyze_code(&self, interpreter: &str, code: &str) -> ShellAnalysis {
        let run = || {
            let mut w = Walker::new(&self.kb, &self.options, 1);
            let mut st = State::at(Cwd::Known(None));
            let mut cx = context::WalkCx {
                walk: &mut w,
                kb: &self.kb,
                st: &mut st,
                stdin: &Stdin::Tty,
                subst_reads: &[],
                dir: None,
            };
            programs::interpreters::inline_code(&mut cx, interpreter, code);
            ShellAnalysis {
                effects: w.into_effects(),
            }
        };
        catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| ShellAnalysis {
            effects: vec![ShellEffect::Unparseable {
                reason: "the analyser failed on this code".into(),
            }],
        })
    }

    /// What the arguments of a program Mandate cannot identify plainly show: network
    /// places (connections carrying stdin), commands they name, files they may read.
    pub fn judge_arguments(&self, argv: &[String]) -> ShellAnalysis {
        let args: Vec<crate::words::Expanded> = argv
            .iter()
            .map(|a| crate::words::Expanded {
                text: a.clone(),
                ..Default::default()
            })
            .collect();
        let run = || {
            let mut w = Walker::new(&self.kb, &self.options, 1);
            let mut st = State::at(Cwd::Known(None));
            let mut cx = context::WalkCx {
                walk: &mut w,
                kb: &self.kb,
                st: &mut st,
                stdin: &Stdin::Tty,
                subst_reads: &[],
                dir: None,
            };
            unknown::judge_arguments(&mut cx, &args);
            ShellAnalysis {
                effects: w.into_effects(),
            }
        };
        catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| ShellAnalysis {
            effects: vec![ShellEffect::Unparseable {
                reason: "the analyser failed on these arguments".into(),
            }],
        })
    }

    fn walk(&self, command: &str) -> ShellAnalysis {
        let mut w = Walker::new(&self.kb, &self.options, 0);
        w.script(command, &mut State::at(Cwd::Known(None)), &Stdin::Tty);
        ShellAnalysis {
            effects: w.into_effects(),
        }
    }
}
