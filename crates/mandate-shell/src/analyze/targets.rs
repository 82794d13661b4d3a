//! Words that name something other than a file: device files that go nowhere, bash's
//! `/dev/tcp` sockets, `host:path` remote paths, hosts and URLs as network targets.

use crate::effect::NetTarget;
use crate::words::Expanded;

/// Device files that are not data: reading or writing them touches no file.
pub(crate) fn is_dev_sink(p: &str) -> bool {
    matches!(
        p,
        "/dev/null"
            | "/dev/stdout"
            | "/dev/stderr"
            | "/dev/stdin"
            | "/dev/tty"
            | "/dev/zero"
            | "/dev/random"
            | "/dev/urandom"
    ) || p.starts_with("/dev/fd/")
        || p.starts_with("/proc/self/fd/")
}

/// `/dev/tcp/host/port` and `/dev/udp/host/port`, which bash turns into sockets.
pub(crate) fn dev_socket(p: &str) -> Option<(String, Option<u16>)> {
    let rest = p
        .strip_prefix("/dev/tcp/")
        .or_else(|| p.strip_prefix("/dev/udp/"))?;
    let (host, port) = rest.split_once('/').unwrap_or((rest, ""));
    Some((host.to_owned(), port.parse().ok()))
}

/// The host of `[user@]host:path` (as scp and rsync write remote paths) or of an
/// `rsync://` URL.
pub(crate) fn remote_spec(s: &str) -> Option<String> {
    if s.starts_with('/') || s.starts_with('.') || s.starts_with('~') {
        return None;
    }
    if let Some(rest) = s.strip_prefix("rsync://") {
        return Some(rest.split(['/', ':']).next().unwrap_or(rest).to_owned());
    }
    let (head, _) = s.split_once(':')?;
    if head.is_empty() || head.contains('/') {
        return None;
    }
    let host = head.rsplit('@').next().unwrap_or(head);
    Some(host.to_owned())
}

/// A host (with its port, if known) as a target; a computed one is dynamic.
pub(crate) fn host_target(h: &Expanded, port: Option<u16>) -> NetTarget {
    if h.dynamic {
        NetTarget::Dynamic {
            text: h.text.clone(),
        }
    } else {
        NetTarget::Host {
            host: h.text.clone(),
            port,
        }
    }
}

/// A URL as a target; a computed one is dynamic.
pub(crate) fn url_target(u: &Expanded) -> NetTarget {
    if u.dynamic {
        NetTarget::Dynamic {
            text: u.text.clone(),
        }
    } else {
        NetTarget::Url {
            url: u.text.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, dynamic: bool) -> Expanded {
        Expanded {
            text: text.into(),
            dynamic,
            ..Default::default()
        }
    }

    #[test]
    fn device_sinks_and_sockets() {
        assert!(is_dev_sink("/dev/null") && is_dev_sink("/dev/fd/3"));
        assert!(!is_dev_sink("/dev/sda") && !is_dev_sink("/dev/tcp/h/80"));
        assert_eq!(
            dev_socket("/dev/tcp/h.example/80"),
            Some(("h.example".into(), Some(80)))
        );
        assert_eq!(dev_socket("/dev/udp/h"), Some(("h".into(), None)));
        assert_eq!(dev_socket("/dev/null"), None);
    }

    #[test]
    fn remote_paths_name_their_host() {
        assert_eq!(
            remote_spec("user@h.example:/tmp/x").as_deref(),
            Some("h.example")
        );
        assert_eq!(remote_spec("h:"), Some("h".into()));
        assert_eq!(
            remote_spec("rsync://h.example/mod/x").as_deref(),
            Some("h.example")
        );
        for local in ["./a:b", "/abs:x", "~/x:y", "dir/a:b", ":x", "plain"] {
            assert_eq!(remote_spec(local), None, "{local}");
        }
    }

    #[test]
    fn computed_hosts_and_urls_are_dynamic() {
        assert_eq!(
            host_target(&word("h", false), Some(22)),
            NetTarget::Host {
                host: "h".into(),
                port: Some(22)
            }
        );
        assert!(matches!(
            host_target(&word("$H", true), None),
            NetTarget::Dynamic { .. }
        ));
        assert!(matches!(
            url_target(&word("https://x", false)),
            NetTarget::Url { .. }
        ));
        assert!(matches!(
            url_target(&word("$U", true),),
            NetTarget::Dynamic { .. }
        ));
    }
}
