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

/// The network place an argument plainly names, whatever program it is given to: a URL,
/// `[user@]host:path` or `host:port`, `\\host\share` or `//host/share`, or an IP literal
/// in any spelling (`127.1`, `2130706433`, `0x7f000001`, `::ffff:10.0.0.1`).
pub(crate) fn named_target(t: &str) -> Option<NetTarget> {
    if let Some((scheme, rest)) = t.split_once("://")
        && !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
    {
        return Some(NetTarget::Url { url: t.to_owned() });
    }
    if let Some(rest) = t.strip_prefix("\\\\").or_else(|| t.strip_prefix("//")) {
        let host = rest.split(['\\', '/']).next().unwrap_or(rest);
        if !host.is_empty() && looks_like_host(host) {
            return Some(NetTarget::Host {
                host: host.to_owned(),
                port: None,
            });
        }
    }
    if address_literal(t) {
        return Some(NetTarget::Host {
            host: t.to_owned(),
            port: None,
        });
    }
    if let Some(host) = remote_spec(t)
        && looks_like_host(&host)
    {
        let port = t.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok());
        return Some(NetTarget::Host { host, port });
    }
    None
}

/// Whether `t` is written as an IP address rather than a number or a version: four
/// dotted parts, a hex or octal part, an IPv6 literal, or one number too large for
/// anything but an address.
pub(crate) fn address_literal(t: &str) -> bool {
    let Some(ip) = mandate_types::ip::parse_ip_literal(t) else {
        return false;
    };
    if ip.is_ipv6() {
        return true;
    }
    let parts: Vec<&str> = t.trim_end_matches('.').split('.').collect();
    let radix_prefixed = parts
        .iter()
        .any(|p| p.starts_with("0x") || p.starts_with("0X") || (p.len() > 1 && p.starts_with('0')));
    parts.len() == 4
        || radix_prefixed
        || (parts.len() == 1 && t.len() >= 8)
        || (parts.len() > 1 && parts[0].parse::<u16>().is_ok_and(|a| a >= 100))
}

/// Whether `h` could be a host name or address (not a Windows drive, a key or a path).
pub(crate) fn looks_like_host(h: &str) -> bool {
    let h = h.rsplit('@').next().unwrap_or(h);
    h.len() > 1
        && h.len() <= 253
        && h.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'[' | b']' | b':')
        })
        && h.bytes()
            .any(|b| b.is_ascii_alphabetic() || b == b'.' || b == b':')
}

/// Endings that make `name.ext` a file rather than a host name.
const FILE_EXTENSIONS: &[&str] = &[
    "rs", "py", "js", "ts", "md", "txt", "json", "toml", "yaml", "yml", "sh", "c", "h", "cc",
    "cpp", "hpp", "go", "java", "rb", "php", "pl", "lock", "cfg", "ini", "xml", "html", "css",
    "csv", "log", "gz", "zip", "tar", "bz2", "xz", "tgz", "so", "o", "a", "out", "bin", "img",
    "iso", "pdf", "png", "jpg", "svg", "conf", "env", "lua", "kt", "swift", "scala", "sql", "db",
    "vue", "jsx", "tsx", "mjs", "cjs", "rst", "tex", "mk", "patch", "diff", "pem", "key", "crt",
];

/// A `host port` pair: a dotted host name or address followed by a port number.
pub(crate) fn host_and_port(host: &str, port: &str) -> Option<NetTarget> {
    let port = port.parse::<u16>().ok().filter(|p| *p > 0)?;
    let dotted_name = host.contains('.')
        && host.rsplit('.').next().is_some_and(|tld| {
            tld.len() >= 2
                && tld.bytes().all(|b| b.is_ascii_alphabetic())
                && !FILE_EXTENSIONS.contains(&tld.to_ascii_lowercase().as_str())
        });
    (dotted_name || address_literal(host) || host == "localhost").then(|| NetTarget::Host {
        host: host.to_owned(),
        port: Some(port),
    })
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
    fn arguments_that_name_network_places() {
        let host = |t: &str| match named_target(t) {
            Some(NetTarget::Host { host, port }) => format!("{host}:{}", port.unwrap_or(0)),
            Some(NetTarget::Url { url }) => url,
            other => format!("{other:?}"),
        };
        assert_eq!(host("https://evil.example/x"), "https://evil.example/x");
        assert_eq!(host("s3://bucket/key"), "s3://bucket/key");
        assert_eq!(host("me@evil.example:/tmp/x"), "evil.example:0");
        assert_eq!(host("evil.example:8080"), "evil.example:8080");
        assert_eq!(host("\\\\fileserver\\share"), "fileserver:0");
        assert_eq!(host("//fileserver/share"), "fileserver:0");
        for ip in [
            "127.1",
            "2130706433",
            "0x7f000001",
            "0177.0.0.1",
            "::ffff:127.0.0.1",
            "10.0.0.1",
        ] {
            assert!(named_target(ip).is_some(), "{ip}");
        }
        for plain in [
            "src/main.rs",
            "3.11",
            "1.2.3",
            "42",
            "README.md",
            "./x:y",
            "/a:b",
            "-v",
            "C:",
        ] {
            assert!(named_target(plain).is_none(), "{plain}");
        }
        assert!(host_and_port("evil.example", "443").is_some());
        assert!(host_and_port("127.1", "8080").is_some());
        assert!(host_and_port("main.rs", "2").is_none());
        assert!(host_and_port("build", "3").is_none());
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
