//! Where things are: the data directory and paths given on the command line.

use std::path::{Path, PathBuf};

use mandate_types::AbsPath;

use crate::exit::{CliError, CliResult};

/// `--data-dir`, else `$MANDATE_HOME`, else `$XDG_DATA_HOME/mandate`, else
/// `~/.local/share/mandate`.
pub fn data_dir(flag: Option<&Path>) -> PathBuf {
    mandate_client::data_dir(flag)
}

/// The program the assistants' hook configuration runs: `mandate-hook` beside `exe`
/// when it is installed (a small binary that starts faster), else `exe` itself (both
/// answer `[--data-dir D] hook NAME [EVENT]`).
pub fn hook_binary(exe: &Path) -> PathBuf {
    let small = exe.with_file_name("mandate-hook");
    if small.is_file() {
        small
    } else {
        exe.to_path_buf()
    }
}

/// `$HOME`, else `/`.
pub fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// `p` made absolute against the current directory.
pub fn absolute(p: &Path) -> PathBuf {
    mandate_client::absolute(p)
}

/// `p` made absolute and validated as the named field.
pub fn abs_path(field: &'static str, p: &Path) -> CliResult<AbsPath> {
    let p = absolute(p);
    let text = p
        .to_str()
        .ok_or_else(|| CliError::Failed(format!("{field}: path is not valid UTF-8")))?;
    Ok(AbsPath::parse(field, text)?)
}
