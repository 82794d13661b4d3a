//! What the shell analyser reports: effects with paths as written, before resolution.

use mandate_types::ProgramClass;
use serde::Serialize;

/// A path as the command names it, with the directory the command runs in at that
/// point of the script (after any `cd`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ShellPath {
    /// The directory the path is relative to: `None` is the action's cwd, `Some(d)` is
    /// `d` (absolute, or relative to the action's cwd) after a `cd`.
    pub dir: Option<String>,
    /// The path text after expansion (`~` kept for the resolver).
    pub path: String,
    /// Part of the path is computed at run time (an unknown variable, a command
    /// substitution), so `path` is not the real path.
    pub dynamic: bool,
    /// The path contains unquoted glob characters.
    pub glob: bool,
    /// An earlier `cd` went somewhere we cannot know, so `dir` is meaningless.
    pub unknown_dir: bool,
}

/// Where a network effect goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NetTarget {
    /// A URL (`https://host/...`, `git@host:repo`).
    Url {
        /// The URL text.
        url: String,
    },
    /// A host and maybe a port (`nc host 80`, `ssh host`).
    Host {
        host: String,
        /// The port, when given.
        port: Option<u16>,
    },
    /// A git remote: a name configured in the repository (`origin`), or the URL or path
    /// git takes in its place, resolved by the analysis layer through git's
    /// configuration. Two names are not git's: `""` is the remote git picks when none is
    /// named (the branch's, `remote.pushDefault`, `origin`), `"*"` is every configured
    /// remote (`fetch --all`), `"*submodules"` the URLs of the repository's submodules,
    /// and `"*lfs"` (`"*lfs REMOTE"`) the Git LFS server of the default remote (of REMOTE).
    GitRemote {
        /// The remote's name, URL or path (or one of the names above).
        name: String,
        /// The repository directory (`git -C`, `--git-dir`), if not the cwd.
        dir: Option<ShellPath>,
        /// Configuration the command line gives git (`-c`, `--config-env`, `GIT_CONFIG_*`)
        /// that changes where remotes point or what is pushed (`remote.NAME.url`,
        /// `url.BASE.insteadOf`, `push.default`, ...): `(key, value)`, with the key's
        /// section and name in lower case.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        config: Vec<(String, String)>,
    },
    /// Computed at run time.
    Dynamic {
        /// The text as written.
        text: String,
    },
}

/// What the content of a file that runs is taken as.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "as", rename_all = "snake_case")]
pub enum RunAs {
    /// A program run by its path (`./tool`, `/tmp/x`, `/usr/bin/cu?l`): which program it
    /// is depends on the file.
    Program,
    /// A shell script (`bash s.sh`, `source s.sh`, `sh < s.sh`).
    ShellScript,
    /// A script for an interpreter (`python3 s.py`, `node s.js`).
    Script {
        /// The interpreter's program name.
        interpreter: String,
    },
    /// A module run by its name (`python3 -m pkg.mod`): the path is the module's, without
    /// its suffix; the analysis layer looks for `pkg/mod.py` or `pkg/mod/__main__.py`.
    Module {
        /// The interpreter's program name.
        interpreter: String,
    },
    /// A patch whose diff names the files it writes (`patch -p1 < fix.patch`), relative to
    /// `dir` (`-d`) or the current directory.
    Patch {
        /// Leading path components removed from the names (`-p N`).
        strip: usize,
        /// The directory the names are relative to.
        dir: Option<ShellPath>,
    },
    /// A build file whose recipes or scripts run (`make` reads `Makefile`, `npm run x`
    /// reads `package.json`).
    BuildFile {
        /// The build tool.
        tool: String,
        /// The targets or scripts asked for (empty: the tool's default).
        targets: Vec<String>,
    },
    /// A module imported by name (`import json` in `python3 -c`): a file of that name in
    /// the directory (`json.py`, `json/__init__.py`) is imported before the installed one;
    /// with none there, the installed module is.
    Import {
        /// The interpreter's program name.
        interpreter: String,
    },
    /// A package installed from this machine (`pip install ./pkg`, `npm i ../lib.tgz`): its
    /// build code (`setup.py`, install scripts) runs.
    Package {
        /// The installing program.
        tool: String,
    },
}

/// Whether a command line writes a file before it runs it (`cat > t.py <<EOF … EOF;
/// python3 t.py`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "written", content = "text", rename_all = "snake_case")]
pub enum WrittenFirst {
    /// No: what runs is on disk.
    No,
    /// Yes, with content the analysis cannot know (a download, a copy, a compiler's output).
    Unknown,
    /// Yes, with this text (a here-document, `echo`, `printf`).
    Text(String),
    /// Yes, from other content plus text the command added (`sed -i 's/a/b/' f`,
    /// `echo x >> f`, `cp a f`): the content is the base's, with `added` somewhere in it.
    Derived {
        /// What the file started from.
        base: Base,
        /// Text the command put into it (an editor's script, appended lines).
        added: String,
    },
}

/// What a file written by the same command line started from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "base", content = "of", rename_all = "snake_case")]
pub enum Base {
    /// The file as it is on disk now.
    Disk,
    /// A copy of this other file as it is on disk now.
    CopyOf(ShellPath),
    /// This text, written earlier in the command line.
    Text(String),
    /// A program a compiler or build tool made from these sources (as they are on disk now).
    BuiltFrom(Vec<ShellPath>),
}

/// One effect found in a command line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum ShellEffect {
    /// A program runs.
    Exec {
        /// The program's name (basename).
        program: String,
        /// Its class in the knowledge base.
        class: ProgramClass,
    },
    /// A file is read.
    Read(ShellPath),
    /// A file is written.
    Write(ShellPath),
    /// A file is deleted.
    Delete(ShellPath),
    /// A directory is read whole, with everything under it (`cp -r`, `tar c`, `zip -r`).
    ReadTree(ShellPath),
    /// A connection is made; `sends` lists the files whose content goes with it.
    Connect {
        /// The destination.
        target: NetTarget,
        /// Whether data leaves in the request (upload, POST body, stdin piped in).
        sends: bool,
        /// Files whose contents are sent.
        data_from: Vec<ShellPath>,
    },
    /// A file runs whose content decides what happens: the analysis layer, which can
    /// read files, looks at it (a copy of a known program, a script, a build file).
    RunsFile {
        /// The file.
        path: ShellPath,
        /// What its content is taken as.
        run_as: RunAs,
        /// The arguments it is given.
        argv: Vec<String>,
        /// Whether the same command line writes the file before it runs, and with what.
        written: WrittenFirst,
    },
    /// Code is fetched from `target` and run (an install from a URL or a repository, a
    /// remote module, a container image).
    RunRemote {
        /// Where the code comes from.
        target: NetTarget,
    },
    /// `git push`.
    Push {
        /// The remote (name or URL); `None` for the default.
        remote: Option<NetTarget>,
        /// The refspecs as written.
        refspecs: Vec<String>,
        /// A destructive push (`--force`, `+ref`, `--delete`, `--mirror`).
        force: bool,
        /// Pushes every branch (`--all`, `--mirror`).
        all: bool,
        /// The repository directory (`git -C`), if not the cwd.
        dir: Option<ShellPath>,
    },
    /// Privileges change.
    Privilege {
        /// The program (`sudo`, `su`, `doas`, ...).
        program: String,
    },
    /// Code is decoded or assembled at run time and executed (base64 into a shell,
    /// hex escapes in the command name, IFS tricks).
    Obfuscated {
        /// How, in words.
        reason: String,
    },
    /// Part of the command could not be analysed.
    Unparseable {
        /// Why, in words.
        reason: String,
    },
}
