//! What a read really reaches, beyond its path: a file that is another name (a hard
//! link) for a secret, and a directory copied or archived whole with secrets inside.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use mandate_types::{Label, Labels};

use crate::sensitive::SensitivePaths;

/// Most directory entries looked at to find what a directory holds.
const MAX_TREE_ENTRIES: usize = 4000;
/// Deepest level of a directory looked into.
const MAX_TREE_DEPTH: usize = 6;

/// Places under a home directory that hold credentials or a browser's logged-in
/// sessions: looked at first when a tree is copied, and out of the sandbox's reach.
pub const HOME_SECRETS: &[&str] = &[
    ".ssh",
    ".aws",
    ".gnupg",
    ".config/gh",
    ".config/gcloud",
    ".kube",
    ".docker",
    ".azure",
    ".netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    ".cargo/credentials.toml",
    ".config/rclone",
    ".pgpass",
    ".vault-token",
    ".password-store",
    ".local/share/keyrings",
    ".mozilla",
    ".config/google-chrome",
    ".config/chromium",
    ".config/BraveSoftware",
    ".config/microsoft-edge",
    "snap/firefox",
    "snap/chromium",
];

/// The labels of everything under `dir` that a recursive copy or archive reads: the
/// labels of the files found (well-known credential places first, then a bounded walk).
pub(crate) fn tree_labels(dir: &Path, home: &Path, sensitive: &SensitivePaths) -> Labels {
    let mut labels = Labels::NONE;
    if !dir.is_dir() {
        return labels;
    }
    // A tree that holds the home directory's credential places.
    for rel in HOME_SECRETS {
        let p = home.join(rel);
        if p.starts_with(dir) && p.exists() {
            labels = labels.union(sensitive.labels(&p.to_string_lossy()));
            labels.insert(Label::Secret);
        }
    }
    let mut seen = 0;
    let mut stack: Vec<(PathBuf, usize)> = vec![(dir.to_path_buf(), 0)];
    while let Some((d, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            seen += 1;
            if seen > MAX_TREE_ENTRIES {
                return labels;
            }
            let path = e.path();
            labels = labels.union(sensitive.labels(&path.to_string_lossy()));
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            if is_dir && depth + 1 < MAX_TREE_DEPTH {
                stack.push((path, depth + 1));
            }
        }
    }
    labels
}

/// The labels of a file that is a hard link to a credential: another name for the same
/// inode among the repositories' top-level files and the home directory's credential
/// places. Only files with more than one name are looked at.
pub(crate) fn hard_link_labels(
    path: &Path,
    home: &Path,
    repos: &[PathBuf],
    sensitive: &SensitivePaths,
) -> Labels {
    let Ok(meta) = std::fs::metadata(path) else {
        return Labels::NONE;
    };
    if !meta.is_file() || meta.nlink() < 2 {
        return Labels::NONE;
    }
    let same = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.dev() == meta.dev() && m.ino() == meta.ino())
    };
    let mut candidates: Vec<PathBuf> = Vec::new();
    for rel in HOME_SECRETS {
        let p = home.join(rel);
        match std::fs::read_dir(&p) {
            Ok(entries) => candidates.extend(entries.flatten().map(|e| e.path())),
            Err(_) => candidates.push(p),
        }
    }
    for repo in repos {
        if let Ok(entries) = std::fs::read_dir(repo) {
            candidates.extend(entries.flatten().map(|e| e.path()));
        }
    }
    candidates
        .iter()
        .filter(|c| c.as_path() != path && same(c))
        .map(|c| sensitive.labels(&c.to_string_lossy()))
        .fold(Labels::NONE, Labels::union)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hard_link_to_a_secret_is_a_secret_and_a_tree_holding_one_is_too() {
        let d = tempfile::tempdir().unwrap();
        let home = d.path().join("home");
        let repo = d.path().join("repo");
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        std::fs::create_dir_all(repo.join("docs")).unwrap();
        std::fs::write(home.join(".ssh/id_ed25519"), "key").unwrap();
        std::fs::write(repo.join(".env"), "TOKEN=x").unwrap();
        std::fs::write(repo.join("docs/plain.txt"), "x").unwrap();
        std::fs::hard_link(repo.join(".env"), repo.join("docs/notes.txt")).unwrap();
        std::fs::hard_link(home.join(".ssh/id_ed25519"), repo.join("k.txt")).unwrap();
        let s = SensitivePaths::builtin();
        let repos = vec![repo.clone()];
        assert!(
            hard_link_labels(&repo.join("docs/notes.txt"), &home, &repos, &s)
                .contains(Label::Secret)
        );
        assert!(hard_link_labels(&repo.join("k.txt"), &home, &repos, &s).contains(Label::Secret));
        assert!(hard_link_labels(&repo.join("docs/plain.txt"), &home, &repos, &s).is_empty());
        assert!(tree_labels(&home, &home, &s).contains(Label::Secret));
        assert!(tree_labels(&home.join(".ssh"), &home, &s).contains(Label::Secret));
        assert!(
            tree_labels(&repo, &home, &s).contains(Label::Secret),
            "the repository holds .env"
        );
        std::fs::create_dir_all(repo.join("src")).unwrap();
        std::fs::write(repo.join("src/main.rs"), "fn main() {}").unwrap();
        assert!(tree_labels(&repo.join("src"), &home, &s).is_empty());
    }
}
