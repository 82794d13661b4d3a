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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testing::run;

    #[test]
    fn input_is_read_and_output_written() {
        assert_eq!(
            run(&Dd, &["dd", "if=/dev/sda", "of=disk.img", "bs=1M"]),
            ["read /dev/sda", "write disk.img"]
        );
        assert!(run(&Dd, &["dd", "count=1"]).is_empty());
    }
}
