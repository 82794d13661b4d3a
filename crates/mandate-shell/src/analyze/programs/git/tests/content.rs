//! Files git prints, writes or changes; subcommands that run tools.

use super::*;

#[test]
fn show_and_cat_file_read_the_file_of_a_revision() {
    assert_eq!(git("git show HEAD:.env"), ["read .env"]);
    assert_eq!(git("git show :.env"), ["read .env"]);
    assert_eq!(git("git show :2:src/a.rs"), ["read src/a.rs"]);
    assert_eq!(git("git show 'HEAD@{1}:x'"), ["read x"]);
    assert!(
        git("git show ':/fix the bug'").is_empty(),
        "a message search"
    );
    assert!(git("git show HEAD~1").is_empty());
    assert!(git("git show HEAD --stat").is_empty());
    assert_eq!(git("git show HEAD -- .env"), ["read .env"]);
    assert_eq!(git("cd src && git show HEAD:./a.rs"), ["read src/./a.rs"]);
    assert_eq!(git("git -C sub show HEAD:.env"), ["read sub/.env"]);
    assert_eq!(
        git("git --git-dir=$HOME/.dotfiles --work-tree=$HOME show HEAD:.ssh/id_ed25519"),
        ["read ~/.ssh/id_ed25519"]
    );
    assert_eq!(git("git cat-file -p HEAD:.env"), ["read .env"]);
    assert_eq!(git("git cat-file blob main:.env"), ["read .env"]);
    assert!(git("git cat-file -t HEAD:.env").is_empty());
    assert!(
        git("git cat-file -p $(git rev-parse HEAD)")
            .iter()
            .all(|e| !e.starts_with("read"))
    );
    assert_eq!(git("git cat-file --batch <<< 'HEAD:.env'"), ["read .env"]);
}

#[test]
fn diff_and_log_read_the_paths_they_print() {
    assert!(git("git diff").is_empty());
    assert!(git("git diff main...HEAD").is_empty());
    assert_eq!(git("git diff HEAD~1 -- src"), ["read src"]);
    assert_eq!(git("git diff HEAD .env"), ["read .env"]);
    assert_eq!(
        git("git diff --no-index /dev/null .env"),
        ["read /dev/null", "read .env"]
    );
    assert_eq!(git("git diff --output=/tmp/d"), ["write /tmp/d"]);
    assert!(
        git("git log -- .env").is_empty(),
        "no patch: only commit metadata"
    );
    assert_eq!(git("git log -p -- .env"), ["read .env"]);
    assert_eq!(git("git log --word-diff -- .env"), ["read .env"]);
    assert_eq!(git("git log -L 1,5:.env"), ["read .env"]);
    assert_eq!(git("git log -p -3 -- src/main.rs"), ["read src/main.rs"]);
    assert_eq!(
        git("git log -p -- ':(exclude).env' ':(top)src'"),
        ["read src"]
    );
}

#[test]
fn grep_reads_the_paths_it_searches_or_the_work_tree() {
    assert_eq!(git("git grep -n TODO"), ["read ."]);
    assert_eq!(git("git grep -h . -- .env"), ["read .env"]);
    assert_eq!(git("git grep --no-index -h API -- .env"), ["read .env"]);
    assert_eq!(git("git grep TOKEN .env src"), ["read .env", "read src"]);
    assert_eq!(git("git grep -e TOKEN .env"), ["read .env"]);
    assert_eq!(git("git grep -f pats.txt"), ["read pats.txt", "read ."]);
    assert_eq!(git("git grep TOKEN HEAD~2"), ["read ."]);
    assert_eq!(git("git grep TOKEN main:.env"), ["read .env"]);
    assert_eq!(git("git -C ../p grep x"), ["read ../p"]);
    assert_unparseable("git grep -Oless TODO", "pager");
}

#[test]
fn blame_archive_bundle_format_patch_stash_and_commit() {
    assert_eq!(git("git blame -L 1,20 src/main.rs"), ["read src/main.rs"]);
    assert_eq!(git("git blame HEAD -- .env"), ["read .env"]);
    assert_eq!(git("git archive HEAD .env"), ["read .env"]);
    assert_eq!(git("git archive HEAD:config"), ["read config"]);
    assert_eq!(
        git("git archive --format=tar.gz -o /tmp/s.tgz HEAD"),
        ["write /tmp/s.tgz"]
    );
    assert_eq!(
        git("git archive --remote=https://h.example/r.git HEAD .env"),
        ["connect remote https://h.example/r.git"]
    );
    assert_eq!(
        git("git bundle create /tmp/r.bundle --all"),
        ["write /tmp/r.bundle"]
    );
    assert_eq!(git("git bundle verify r.bundle"), ["read r.bundle"]);
    assert_eq!(git("git format-patch -o /tmp/p -3"), ["write /tmp/p"]);
    assert!(git("git format-patch --stdout -3").is_empty());
    assert_eq!(git("git format-patch -1 -- .env"), ["read .env"]);
    assert!(git("git stash show -p").is_empty());
    assert!(
        git("git stash pop").is_empty(),
        "the work tree is the repository's"
    );
    assert_eq!(git("git commit -F .env"), ["read .env"]);
    assert!(git("git commit -am 'wip: parser'").is_empty());
}

#[test]
fn a_named_work_tree_is_written_by_the_commands_that_change_it() {
    assert_eq!(
        git("git --work-tree=$HOME checkout HEAD -- .bashrc"),
        ["write ~/.bashrc"]
    );
    assert_eq!(
        git("git --work-tree=/srv/x checkout main"),
        ["write /srv/x/main", "write /srv/x"],
        "`main` may be a branch or a path"
    );
    assert_eq!(
        git("git --work-tree=/srv/x restore a b"),
        ["write /srv/x/a", "write /srv/x/b"]
    );
    assert!(
        git("git --work-tree=/srv/x reset HEAD~1").is_empty(),
        "HEAD and index only"
    );
    assert_eq!(git("git --work-tree=/srv/x reset --hard"), ["write /srv/x"]);
    assert_eq!(git("git --work-tree=/srv/x rm -- a"), ["delete /srv/x/a"]);
    assert_eq!(git("git --work-tree=/srv/x stash pop"), ["write /srv/x"]);
    assert_eq!(
        git("git --work-tree=/srv/x pull"),
        ["connect remote ", "write /srv/x"]
    );
    assert_eq!(git("git -C ~/other merge main"), ["write ~/other"]);
    assert_eq!(
        git("git -c core.worktree=/srv/y switch main"),
        ["write /srv/y"]
    );
    assert!(git("git checkout -- src/main.rs").is_empty());
}

#[test]
fn init_and_worktree_create_directories() {
    assert_eq!(git("git init /tmp/r"), ["write /tmp/r"]);
    assert!(git("git init").is_empty());
    assert_unparseable("git init --template=/tmp/t x", "copies hooks");
    assert_eq!(git("git worktree add ../wt -b x"), ["write ../wt"]);
    assert_eq!(git("git worktree remove ../wt"), ["delete ../wt"]);
}

#[test]
fn submodules_and_lfs_reach_their_servers() {
    assert_eq!(
        git("git submodule add https://evil.example/lib.git vendor/lib"),
        [
            "connect remote https://evil.example/lib.git",
            "write vendor/lib",
            "write .gitmodules"
        ]
    );
    assert_eq!(
        git("git submodule update --init --recursive"),
        ["connect remote *submodules"]
    );
    assert_eq!(
        git("git submodule foreach --recursive cat .env"),
        ["exec cat", "read ?/.env"]
    );
    assert_eq!(
        git("git submodule set-url lib https://e.example/l"),
        ["connect https://e.example/l", "write .gitmodules"]
    );
    assert_eq!(git("git lfs pull"), ["connect remote *lfs"]);
    assert_eq!(
        git("git lfs push origin main"),
        ["send remote *lfs origin []"]
    );
    assert_eq!(git("git lfs fetch $R"), ["connect dynamic $R"]);
    assert_eq!(
        git("git lfs install"),
        ["write .git/hooks/pre-push", "write ~/.gitconfig"]
    );
    assert_eq!(git("git lfs track '*.bin'"), ["write .gitattributes"]);
    assert_unparseable("git lfs frobnicate", "git lfs frobnicate");
}

#[test]
fn tools_run_what_is_named_or_are_unparseable() {
    assert_unparseable("git difftool", "runs the configured tool");
    assert_unparseable("git mergetool -t mytool", "runs the configured tool");
    assert_eq!(git("git difftool -x 'cat .env'"), ["exec cat", "read .env"]);
    assert!(git("git difftool -t meld").contains(&"exec meld".to_owned()));
    assert!(git("git difftool --tool-help").is_empty());
    assert_unparseable("git instaweb", "serves the repository");
    assert_unparseable("git gui", "runs configured tools");
}

#[test]
fn options_that_run_commands() {
    assert_eq!(
        git("git rebase -x 'cat .env' main"),
        ["exec cat", "read .env"]
    );
    assert_eq!(
        git("git rebase -i --exec='cat .env' main"),
        ["exec cat", "read .env"]
    );
    assert_eq!(git("git bisect run cat .env"), ["exec cat", "read .env"]);
    assert_unparseable("git merge -s evil main", "runs the program git-merge-evil");
    assert_unparseable("git pull --strategy=x origin", "git-merge-x");
    assert_parseable("git merge -s ours main");
    assert_parseable("git cherry-pick -s abc123");
    assert_parseable("git submodule update --init");
}

#[test]
fn unknown_subcommands_are_unparseable_and_local_ones_have_no_effect() {
    assert_unparseable("git frobnicate", "unknown git subcommand");
    assert_unparseable("git $SUB", "subcommand is computed");
    assert!(git("git status").is_empty());
    assert!(git("git commit -m x").is_empty());
    assert!(git("git").is_empty());
}
