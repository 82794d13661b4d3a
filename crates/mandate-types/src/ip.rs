//! IP literals in every spelling a resolver accepts, normalised: `inet_aton` forms
//! (`127.1`, `2130706433`, `0x7f000001`, `0177.0.0.1`, `0x7f.1`), bracketed and
//! IPv4-mapped IPv6 (`[::ffff:127.0.0.1]` is 127.0.0.1), trailing dots. A decision about
//! an address must see the address the connection will reach, whatever it was called.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The address `s` spells, if it is an IP literal in any accepted form.
pub fn parse_ip_literal(s: &str) -> Option<IpAddr> {
    let s = s.trim_end_matches('.');
    let inner = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(s);
    // A zone index (`fe80::1%eth0`) names an interface, not another address.
    let inner = inner.split_once('%').map_or(inner, |(a, _)| a);
    if let Ok(v6) = inner.parse::<Ipv6Addr>() {
        return Some(match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        });
    }
    inet_aton(inner).map(IpAddr::V4)
}

/// The BSD `inet_aton` reading of `a`, `a.b`, `a.b.c` and `a.b.c.d`, each part decimal,
/// octal (leading `0`) or hex (`0x`); the last part fills the remaining bytes.
fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    let parts: Vec<u64> = s.split('.').map(number).collect::<Option<_>>()?;
    let (last, init) = parts.split_last()?;
    if init.len() > 3 || init.iter().any(|p| *p > 0xff) {
        return None;
    }
    let last_bits = 8 * (4 - init.len() as u32);
    if *last >= 1u64 << last_bits {
        return None;
    }
    let mut value: u64 = 0;
    for p in init {
        value = (value << 8) | p;
    }
    value = (value << last_bits) | last;
    u32::try_from(value).ok().map(Ipv4Addr::from)
}

fn number(part: &str) -> Option<u64> {
    let (digits, radix) =
        if let Some(h) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (h, 16)
        } else if part.len() > 1 && part.starts_with('0') {
            (&part[1..], 8)
        } else {
            (part, 10)
        };
    if digits.is_empty() && radix == 16 {
        return Some(0);
    }
    if digits.is_empty() || digits.len() > 12 || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// Where an address points, as far as a decision cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    /// The machine itself (`127.0.0.0/8`, `::1`, `0.0.0.0`, `::`).
    Loopback,
    /// Cloud instance metadata (`169.254.169.254`, `fd00:ec2::254`, `100.100.100.200`).
    Metadata,
    /// Link-local (`169.254.0.0/16`, `fe80::/10`).
    LinkLocal,
    /// Private networks (`10/8`, `172.16/12`, `192.168/16`, `100.64/10`, `fc00::/7`).
    Private,
    /// Anything else.
    Public,
}

/// The kind of `ip`.
pub fn address_kind(ip: IpAddr) -> AddressKind {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_loopback() || v4.is_unspecified() {
                AddressKind::Loopback
            } else if o == [169, 254, 169, 254] || o == [100, 100, 100, 200] {
                AddressKind::Metadata
            } else if v4.is_link_local() {
                AddressKind::LinkLocal
            } else if v4.is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64) || o[0] == 0 {
                AddressKind::Private
            } else {
                AddressKind::Public
            }
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            if v6.is_loopback() || v6.is_unspecified() {
                AddressKind::Loopback
            } else if s == [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254] {
                AddressKind::Metadata
            } else if (s[0] & 0xffc0) == 0xfe80 {
                AddressKind::LinkLocal
            } else if (s[0] & 0xfe00) == 0xfc00 {
                AddressKind::Private
            } else {
                AddressKind::Public
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> Option<String> {
        parse_ip_literal(s).map(|a| a.to_string())
    }

    #[test]
    fn every_spelling_of_loopback_is_loopback() {
        for s in [
            "127.0.0.1",
            "127.1",
            "127.0.1",
            "2130706433",
            "0x7f000001",
            "0X7F000001",
            "0x7f.1",
            "0177.0.0.1",
            "0177.1",
            "017700000001",
            "127.0.0.1.",
            "[::ffff:127.0.0.1]",
            "::ffff:7f00:1",
        ] {
            assert_eq!(v4(s).as_deref(), Some("127.0.0.1"), "{s}");
        }
        assert_eq!(v4("0x.0x.0x.0x").as_deref(), Some("0.0.0.0"));
        assert_eq!(v4("[::1]").as_deref(), Some("::1"));
        assert_eq!(v4("fe80::1%eth0").as_deref(), Some("fe80::1"));
    }

    #[test]
    fn names_and_out_of_range_parts_are_not_addresses() {
        for s in [
            "example.com",
            "1.2.3.4.5",
            "256.1.1.1",
            "1.2.3.256",
            "127.16777216",
            "4294967296",
            "08.1.1.1",
            "0xg.1",
            "",
            "a.b",
            "1..2",
        ] {
            assert_eq!(v4(s), None, "{s}");
        }
    }

    #[test]
    fn kinds_of_addresses() {
        let k = |s: &str| address_kind(parse_ip_literal(s).unwrap());
        assert_eq!(k("169.254.169.254"), AddressKind::Metadata);
        assert_eq!(k("0xa9fea9fe"), AddressKind::Metadata);
        assert_eq!(k("169.254.1.1"), AddressKind::LinkLocal);
        assert_eq!(k("10.1.2.3"), AddressKind::Private);
        assert_eq!(k("100.64.0.1"), AddressKind::Private);
        assert_eq!(k("fd12::1"), AddressKind::Private);
        assert_eq!(k("0.0.0.0"), AddressKind::Loopback);
        assert_eq!(k("8.8.8.8"), AddressKind::Public);
        assert_eq!(k("fe80::1"), AddressKind::LinkLocal);
    }
}
