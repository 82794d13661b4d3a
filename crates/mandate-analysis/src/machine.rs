//! Facts about the machine Mandate runs on: its host name and its user database.

use std::path::PathBuf;

/// The machine's host name (`localhost` if the kernel does not say).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into())
}

/// One `/etc/passwd` entry: name, uid and home directory.
struct PasswdEntry<'a> {
    name: &'a str,
    uid: &'a str,
    home: &'a str,
}

fn passwd_entries(text: &str) -> impl Iterator<Item = PasswdEntry<'_>> {
    text.lines().filter_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 5).then(|| PasswdEntry {
            name: f[0],
            uid: f[2],
            home: f[5],
        })
    })
}

fn passwd() -> Option<String> {
    std::fs::read_to_string("/etc/passwd").ok()
}

/// The user name of `uid`, or `uid<N>` when the user database does not name it.
pub fn user_name(uid: u32) -> String {
    let uid_text = uid.to_string();
    passwd()
        .and_then(|t| {
            passwd_entries(&t)
                .find(|e| e.uid == uid_text)
                .map(|e| e.name.to_owned())
        })
        .unwrap_or_else(|| format!("uid{uid}"))
}

/// The home directory of `user`.
pub fn home_of(user: &str) -> Option<PathBuf> {
    let text = passwd()?;
    passwd_entries(&text)
        .find(|e| e.name == user)
        .map(|e| PathBuf::from(e.home))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_lines_are_read_by_field() {
        let t =
            "root:x:0:0:root:/root:/bin/bash\nbad line\nalice:x:1000:1000::/home/alice:/bin/sh\n";
        let e: Vec<_> = passwd_entries(t).map(|e| (e.name, e.uid, e.home)).collect();
        assert_eq!(
            e,
            [("root", "0", "/root"), ("alice", "1000", "/home/alice")]
        );
    }

    #[test]
    fn root_is_known_on_this_machine() {
        assert_eq!(user_name(0), "root");
        assert_eq!(home_of("root"), Some(PathBuf::from("/root")));
        assert!(!hostname().is_empty());
    }
}
