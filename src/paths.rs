//! Where things are: the data directory and paths given on the command line.

use std::path::{Path, PathBuf};

use mandate_types::AbsPath;

use crate::exit::{CliError, CliResult};

/// `--data-dir`, else `$MANDATE_HOME`, else `$XDG_DATA_HOME/mandate`, else
/// `~/.local/share/mandate`.
pub fn data_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(d) = flag {
        return absolute(d);
    }
    if let Some(d) = std::env::var_os("MANDATE_HOME").filter(|d| !d.is_empty()) {
        return absolute(Path::new(&d));
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("mandate");
    }
    home().join(".local/share/mandate")
}

/// `$HOME`, else `/`.
pub fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// `p` made absolute against the current directory.
pub fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|c| c.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

/// `p` made absolute and validated as the named field.
pub fn abs_path(field: &'static str, p: &Path) -> CliResult<AbsPath> {
    let p = absolute(p);
    let text = p
        .to_str()
        .ok_or_else(|| CliError::Failed(format!("{field}: path is not valid UTF-8")))?;
    Ok(AbsPath::parse(field, text)?)
}
