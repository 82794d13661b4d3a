//! Printing command output.

/// `println!` for command output that a closed pipe (`mandate audit tail | head`) ends
/// quietly, with the shell's SIGPIPE status, instead of a panic.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*)
            && e.kind() == std::io::ErrorKind::BrokenPipe
        {
            std::process::exit(141);
        }
    }};
}

/// Pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(v: &T) -> crate::exit::CliResult<()> {
    out!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}
