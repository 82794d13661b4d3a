//! The sandbox's DNS resolver: answers A and AAAA queries for names the task may reach
//! (the broker decides, as for a request through the proxy) and refuses the rest —
//! names that are not host names, names carrying data, hosts the mandate does not allow.
//! Only single-question queries are answered; everything else is refused. Nothing is
//! forwarded: the namespace has no route for an answer to be used anyway, except
//! through the proxy, which resolves names itself.

use std::net::IpAddr;

/// Header flags of an answer: QR, RD copied, RA.
const QR: u16 = 0x8000;
const RD: u16 = 0x0100;
const RA: u16 = 0x0080;
const RCODE_FORMERR: u16 = 1;
const RCODE_REFUSED: u16 = 5;
const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;
const CLASS_IN: u16 = 1;
/// Seconds an answer may be cached.
const TTL: u32 = 30;
/// Longest name the parser reads (RFC 1035: 255 octets on the wire).
const MAX_NAME_WIRE: usize = 255;

/// One parsed question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: u16,
    flags: u16,
    /// The name as text: labels joined by `.`, bytes outside printable ASCII written
    /// `\xNN` so nothing in the record is raw.
    pub name: String,
    pub qtype: u16,
    pub qclass: u16,
    /// The question section as received (echoed in the answer).
    raw_question: Vec<u8>,
}

/// Why a packet is not a question we answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Malformed {
    /// Too short to hold a header; nothing can be answered.
    NoHeader,
    /// A header, but not one question we can read: answered FORMERR.
    Unreadable { id: u16, flags: u16 },
}

/// Reads a query.
pub fn parse(packet: &[u8]) -> Result<Question, Malformed> {
    let u16_at = |i: usize| -> Option<u16> {
        Some(u16::from_be_bytes([*packet.get(i)?, *packet.get(i + 1)?]))
    };
    let (Some(id), Some(flags)) = (u16_at(0), u16_at(2)) else {
        return Err(Malformed::NoHeader);
    };
    let bad = Malformed::Unreadable { id, flags };
    let is_query = flags & QR == 0 && (flags >> 11) & 0xf == 0;
    if !is_query || u16_at(4) != Some(1) || u16_at(6) != Some(0) || u16_at(8) != Some(0) {
        return Err(bad);
    }
    let mut i = 12;
    let mut name = String::new();
    loop {
        let Some(&len) = packet.get(i) else {
            return Err(bad);
        };
        i += 1;
        if len == 0 {
            break;
        }
        // Compression pointers (and the reserved label types) have no place in a
        // question.
        if len & 0xc0 != 0 || i + usize::from(len) > packet.len() || i > MAX_NAME_WIRE {
            return Err(bad);
        }
        if !name.is_empty() {
            name.push('.');
        }
        for &b in &packet[i..i + usize::from(len)] {
            if b.is_ascii_graphic() && b != b'\\' && b != b'.' {
                name.push(char::from(b));
            } else {
                name.push_str(&format!("\\x{b:02x}"));
            }
        }
        i += usize::from(len);
    }
    let (Some(qtype), Some(qclass)) = (u16_at(i), u16_at(i + 2)) else {
        return Err(bad);
    };
    Ok(Question {
        id,
        flags,
        name,
        qtype,
        qclass,
        raw_question: packet[12..i + 4].to_vec(),
    })
}

/// The answer to `q`: its addresses of the asked family, or `REFUSED` when `addresses`
/// is `None`.
pub fn answer(q: &Question, addresses: Option<&[IpAddr]>) -> Vec<u8> {
    let Some(addresses) = addresses else {
        return header_only(q.id, q.flags, RCODE_REFUSED, Some(&q.raw_question));
    };
    let records: Vec<&IpAddr> = addresses
        .iter()
        .filter(|a| {
            matches!(
                (q.qclass, q.qtype, a),
                (CLASS_IN, TYPE_A, IpAddr::V4(_)) | (CLASS_IN, TYPE_AAAA, IpAddr::V6(_))
            )
        })
        .collect();
    let mut out = header(q.id, q.flags, 0, 1, records.len());
    out.extend_from_slice(&q.raw_question);
    for a in records {
        // The name by a pointer to the question's (offset 12).
        out.extend_from_slice(&[0xc0, 12]);
        out.extend_from_slice(&q.qtype.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out.extend_from_slice(&TTL.to_be_bytes());
        match a {
            IpAddr::V4(v4) => {
                out.extend_from_slice(&4u16.to_be_bytes());
                out.extend_from_slice(&v4.octets());
            }
            IpAddr::V6(v6) => {
                out.extend_from_slice(&16u16.to_be_bytes());
                out.extend_from_slice(&v6.octets());
            }
        }
    }
    out
}

/// The answer to a packet that is not a readable question, if it can have one.
pub fn answer_malformed(m: &Malformed) -> Option<Vec<u8>> {
    match m {
        Malformed::NoHeader => None,
        Malformed::Unreadable { id, flags } => Some(header_only(*id, *flags, RCODE_FORMERR, None)),
    }
}

fn header_only(id: u16, flags: u16, rcode: u16, question: Option<&[u8]>) -> Vec<u8> {
    let mut out = header(id, flags, rcode, usize::from(question.is_some()), 0);
    if let Some(q) = question {
        out.extend_from_slice(q);
    }
    out
}

fn header(id: u16, flags: u16, rcode: u16, questions: usize, answers: usize) -> Vec<u8> {
    let flags = QR | (flags & RD) | RA | rcode;
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    for n in [questions, answers, 0, 0] {
        out.extend_from_slice(&u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &[&[u8]], qtype: u16) -> Vec<u8> {
        let mut p = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in name {
            p.push(u8::try_from(l.len()).unwrap());
            p.extend_from_slice(l);
        }
        p.push(0);
        p.extend_from_slice(&qtype.to_be_bytes());
        p.extend_from_slice(&1u16.to_be_bytes());
        p
    }

    #[test]
    fn a_question_reads_back_and_is_answered() {
        let q = parse(&query(&[b"crates", b"io"], TYPE_A)).unwrap();
        assert_eq!(q.name, "crates.io");
        assert_eq!(q.id, 0x1234);
        let ips = ["1.2.3.4".parse().unwrap(), "::1".parse().unwrap()];
        let a = answer(&q, Some(&ips));
        assert_eq!(&a[6..8], &[0, 1], "one A record");
        assert_eq!(&a[a.len() - 4..], &[1, 2, 3, 4]);
        let refused = answer(&q, None);
        assert_eq!(refused[3] & 0x0f, 5);
    }

    #[test]
    fn bytes_that_are_not_a_name_are_escaped_and_odd_packets_refused() {
        let q = parse(&query(&[b"a.b\x00c", b"example"], TYPE_A)).unwrap();
        assert_eq!(q.name, "a\\x2eb\\x00c.example");
        assert_eq!(parse(&[1, 2, 3]), Err(Malformed::NoHeader));
        let mut pointer = query(&[b"x"], TYPE_A);
        pointer[12] = 0xc0;
        assert!(matches!(parse(&pointer), Err(Malformed::Unreadable { .. })));
        let mut truncated = query(&[b"example", b"com"], TYPE_A);
        truncated.truncate(20);
        assert!(matches!(
            parse(&truncated),
            Err(Malformed::Unreadable { .. })
        ));
        let mut response = query(&[b"x"], TYPE_A);
        response[2] |= 0x80;
        assert!(parse(&response).is_err());
    }
}
