//! `dd if=FILE of=FILE`: operands written as `key=value`, not options.

use crate::kb::ProgramSpec;
use crate::words::Expanded;

use crate::analyze::context::{ProgramModel, WalkCx};

/// `dd`: `if=` is read, `of=` is written.
pub(crate) struct Dd;

impl ProgramModel for Dd {
    fn run(&self, cx: &mut WalkCx<'_>, _name: &str, _spec: &ProgramSpec, args: &[Expanded]) {
        let operand = |a: &Expanded, v: &str| Expanded {
            text: v.into(),
            ..a.clone()
        };
        for a in args {
            if let Some(v) = a.text.strip_prefix("if=") {
                cx.read(&operand(a, v));
            } else if let Some(v) = a.text.strip_prefix("of=") {
                cx.write(&operand(a, v));
            }
        }
    }
}
