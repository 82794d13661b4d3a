//! Container engines (`docker`, `podman`, `nerdctl`): `run`/`create` fetch an image (code
//! from a registry that is not a package index) and run it; what they mount from the host
//! is read and written by it; `--privileged`, host namespaces, devices and the engine's
//! own socket hand the container the machine. `exec` runs a command Mandate cannot see;
//! `build` runs the Dockerfile's steps. Other subcommands are as the entry describes.

use crate::effect::{NetTarget, ShellEffect};
use crate::kb::ProgramSpec;
use crate::words::Expanded;

use crate::analyze::args::Until;
use crate::analyze::context::{ProgramModel, WalkCx};
use crate::analyze::roles::{self, ByRoles};

/// Container engines (`args = "container"`).
pub(crate) struct Container;

/// Options of `run`/`create` that take a value (the image is the first word after them).
const RUN_VALUE_OPTIONS: &[&str] = &[
    "-v",
    "--volume",
    "--mount",
    "-e",
    "--env",
    "--env-file",
    "-p",
    "--publish",
    "--name",
    "-w",
    "--workdir",
    "-u",
    "--user",
    "--entrypoint",
    "--network",
    "--net",
    "--platform",
    "-l",
    "--label",
    "--label-file",
    "-m",
    "--memory",
    "--cpus",
    "--gpus",
    "--restart",
    "--add-host",
    "--cap-add",
    "--cap-drop",
    "--device",
    "--security-opt",
    "--pid",
    "--ipc",
    "--uts",
    "--userns",
    "--hostname",
    "-h",
    "--ulimit",
    "--tmpfs",
    "--runtime",
    "--log-driver",
    "--log-opt",
    "--dns",
    "--stop-signal",
    "--shm-size",
    "--cidfile",
    "--pull",
    "--volumes-from",
    "--group-add",
    "--health-cmd",
    "--mac-address",
    "--ip",
    "--ip6",
    "--cgroupns",
    "--expose",
    "--link",
    "--device-cgroup-rule",
    "--init-path",
    "--storage-opt",
    "--sysctl",
    "-a",
    "--attach",
    "--detach-keys",
    "--cpu-shares",
    "--cpuset-cpus",
    "--memory-swap",
];

impl ProgramModel for Container {
    fn run(&self, cx: &mut WalkCx<'_>, name: &str, spec: &ProgramSpec, args: &[Expanded]) {
        let (global, consumed) = cx.parse_args(name, spec, args, Until::FirstPositional);
        roles::option_effects(cx, name, &global);
        let Some(sub) = global.positional.first() else {
            return;
        };
        let rest = &args[consumed..];
        match sub.text.as_str() {
            "run" | "create" => run(cx, name, rest),
            "container" if rest.first().is_some_and(|w| matches!(w.text.as_str(), "run" | "create")) => {
                run(cx, name, &rest[1..])
            }
            "exec" => cx.unparseable(format!(
                "`{name} exec` runs a command inside a container, which Mandate cannot see"
            )),
            "build" | "buildx" | "image" if sub.text != "image" || rest.first().is_some_and(|w| w.text == "build") => {
                cx.unparseable(format!(
                    "`{name} build` runs the steps of a Dockerfile (and fetches its base images), which Mandate does not analyse"
                ))
            }
            other => match spec.subcommands.get(other) {
                Some(s) => cx.walk.model_for(s.args).run(cx, name, s, rest),
                None => ByRoles.run(cx, name, spec, &args[consumed - 1..]),
            },
        }
    }
}

/// `run`/`create`: the image and what the container is given of the host.
fn run(cx: &mut WalkCx<'_>, name: &str, args: &[Expanded]) {
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let (opt, attached) = match a.text.split_once('=') {
            Some((o, v)) if o.starts_with("--") => (o, Some(v.to_owned())),
            _ => (a.text.as_str(), None),
        };
        if !opt.starts_with('-') {
            break;
        }
        let takes_value = RUN_VALUE_OPTIONS.contains(&opt) && attached.is_none();
        let value = attached.or_else(|| {
            takes_value
                .then(|| args.get(i + 1).map(|v| v.text.clone()))
                .flatten()
        });
        host_access(cx, name, opt, value.as_deref(), a.dynamic);
        i += if takes_value { 2 } else { 1 };
    }
    let Some(image) = args.get(i) else {
        return;
    };
    let registry = image_registry(&image.text);
    cx.emit(ShellEffect::RunRemote {
        target: if image.dynamic {
            NetTarget::Dynamic {
                text: image.text.clone(),
            }
        } else {
            NetTarget::Host {
                host: registry,
                port: None,
            }
        },
    });
}

/// What one option of `run` gives the container of the host.
fn host_access(cx: &mut WalkCx<'_>, name: &str, opt: &str, value: Option<&str>, dynamic: bool) {
    let privilege = |cx: &mut WalkCx<'_>, what: &str| {
        cx.emit(ShellEffect::Privilege {
            program: format!("{name} run {what}"),
        })
    };
    match (opt, value) {
        ("--privileged", _) => privilege(cx, "--privileged"),
        (
            "--pid" | "--ipc" | "--uts" | "--userns" | "--net" | "--network" | "--cgroupns",
            Some("host"),
        ) => privilege(cx, &format!("{opt}=host")),
        ("--cap-add" | "--device" | "--security-opt" | "--device-cgroup-rule", _) => {
            privilege(cx, opt)
        }
        ("-v" | "--volume" | "--mount", Some(spec)) => {
            let source = if opt == "--mount" {
                spec.split(',')
                    .find_map(|kv| kv.strip_prefix("source=").or(kv.strip_prefix("src=")))
                    .unwrap_or("")
            } else {
                spec.split(':').next().unwrap_or("")
            };
            if dynamic {
                return cx.unparseable(format!(
                    "`{name} run` mounts a host path computed at run time"
                ));
            }
            if source.starts_with('/') || source.starts_with('.') || source.starts_with('~') {
                if source.contains("docker.sock") || source.contains("podman.sock") {
                    return privilege(cx, "with the engine's socket");
                }
                // The container reads and writes what is mounted.
                let p = cx.path(&Expanded {
                    text: source.to_owned(),
                    ..Default::default()
                });
                cx.emit(ShellEffect::ReadTree(p.clone()));
                if !spec.ends_with(":ro") && !spec.contains(",ro") && !spec.contains("readonly") {
                    cx.emit(ShellEffect::Write(p));
                }
            }
        }
        _ => {}
    }
}

/// The registry an image reference is pulled from (`alpine` is Docker Hub's).
fn image_registry(image: &str) -> String {
    let first = image.split('/').next().unwrap_or(image);
    if image.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost") {
        first.split(':').next().unwrap_or(first).to_owned()
    } else {
        "registry-1.docker.io".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use crate::analyze::testing::walk;

    #[test]
    fn run_fetches_an_image_and_mounts_are_host_access() {
        let e = walk("docker run --rm alpine echo hi");
        assert!(
            e.contains(&"run_remote registry-1.docker.io:?".to_owned()),
            "{e:?}"
        );
        let e = walk("docker run -v /:/host alpine chroot /host sh");
        assert!(e.contains(&"write /".to_owned()), "{e:?}");
        let e = walk("podman run --privileged ghcr.io/x/y:1");
        assert!(
            e.iter()
                .any(|x| x.starts_with("privilege podman run --privileged")),
            "{e:?}"
        );
        assert!(e.contains(&"run_remote ghcr.io:?".to_owned()), "{e:?}");
        let e = walk("docker run -v /var/run/docker.sock:/var/run/docker.sock img");
        assert!(e.iter().any(|x| x.starts_with("privilege")), "{e:?}");
        let e = walk("docker exec -it web sh");
        assert!(e.iter().any(|x| x.starts_with("unparseable")), "{e:?}");
    }
}
