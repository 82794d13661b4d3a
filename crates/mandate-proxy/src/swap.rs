//! Swapping a placeholder for its secret, in the bound header or query parameter only.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hyper::Uri;
use hyper::header::{HeaderMap, HeaderValue};
use mandate_broker::BoundSecret;
use mandate_secrets::Location;

/// Puts each secret's value where its placeholder stands in the secret's bound place.
/// Returns how many places were changed.
pub fn swap(headers: &mut HeaderMap, uri: &mut Uri, secrets: &[BoundSecret]) -> usize {
    let mut changed = 0;
    for s in secrets {
        match &s.binding.location {
            Location::Header(name) => {
                let Ok(name) = hyper::header::HeaderName::from_bytes(name.as_bytes()) else {
                    continue;
                };
                let values: Vec<HeaderValue> = headers.get_all(&name).iter().cloned().collect();
                if values.is_empty() {
                    continue;
                }
                headers.remove(&name);
                for v in values {
                    let new = v
                        .to_str()
                        .ok()
                        .and_then(|text| swap_header_value(text, s))
                        .and_then(|t| HeaderValue::from_str(&t).ok());
                    match new {
                        Some(n) => {
                            changed += 1;
                            headers.append(&name, n);
                        }
                        None => {
                            headers.append(&name, v);
                        }
                    }
                }
            }
            Location::Query(param) => {
                if let Some(new) = swap_query(uri, param, s) {
                    *uri = new;
                    changed += 1;
                }
            }
        }
    }
    changed
}

/// The header value with the secret in place of the placeholder, or `None` if the
/// placeholder is not in it. With a format, the whole value becomes the format.
fn swap_header_value(text: &str, s: &BoundSecret) -> Option<String> {
    let value = s.value.expose();
    let direct = text.contains(&s.placeholder);
    let basic = basic_credentials(text).filter(|d| d.contains(&s.placeholder));
    if !direct && basic.is_none() {
        return None;
    }
    if let Some(format) = &s.binding.format {
        return Some(format.replace("{}", value));
    }
    if let Some(decoded) = basic {
        let swapped = decoded.replace(&s.placeholder, value);
        return Some(format!("Basic {}", STANDARD.encode(swapped)));
    }
    Some(text.replace(&s.placeholder, value))
}

/// The decoded `user:password` of a `Basic` credential (the scheme in any case).
pub fn basic_credentials(value: &str) -> Option<String> {
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    String::from_utf8(STANDARD.decode(rest.trim()).ok()?).ok()
}

fn swap_query(uri: &Uri, param: &str, s: &BoundSecret) -> Option<Uri> {
    let query = uri.query()?;
    let mut hit = false;
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if k == param && v == s.placeholder => {
                hit = true;
                format!("{k}={}", percent_encode(s.value.expose()))
            }
            _ => pair.to_owned(),
        })
        .collect();
    if !hit {
        return None;
    }
    let path = uri.path();
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = format!("{path}?{}", pairs.join("&")).parse().ok();
    Uri::from_parts(parts).ok()
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mandate_secrets::{Binding, Destination, SecretName, SecretValue};

    fn secret(header: Option<&str>, query: Option<&str>, format: Option<&str>) -> BoundSecret {
        BoundSecret {
            name: SecretName::parse("TOK").unwrap(),
            binding: Binding::new(
                vec![Destination::parse("api.example.com").unwrap()],
                header,
                query,
                format,
                None,
            )
            .unwrap(),
            placeholder: "mandate_ph_TOK_0123456789abcdef0123456789abcdef01234567".into(),
            value: SecretValue::from_input("s3cr=t/v".into()).unwrap(),
        }
    }

    fn run(headers: &[(&str, &str)], uri: &str, s: &BoundSecret) -> (HeaderMap, Uri, usize) {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.append(
                hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        let mut u: Uri = uri.parse().unwrap();
        let n = swap(&mut h, &mut u, std::slice::from_ref(s));
        (h, u, n)
    }

    #[test]
    fn the_placeholder_is_swapped_in_the_bound_header_only() {
        let s = secret(None, None, None);
        let ph = s.placeholder.clone();
        let (h, _, n) = run(
            &[("authorization", &format!("Bearer {ph}")), ("x-other", &ph)],
            "/x",
            &s,
        );
        assert_eq!(n, 1);
        assert_eq!(h["authorization"], "Bearer s3cr=t/v");
        assert_eq!(h["x-other"], ph.as_str());
    }

    #[test]
    fn basic_credentials_are_swapped_inside_and_a_format_replaces_the_whole_value() {
        let s = secret(None, None, None);
        let basic = format!(
            "Basic {}",
            STANDARD.encode(format!("x-access-token:{}", s.placeholder))
        );
        let (h, _, _) = run(&[("authorization", &basic)], "/", &s);
        assert_eq!(
            h["authorization"],
            format!("Basic {}", STANDARD.encode("x-access-token:s3cr=t/v")).as_str()
        );
        let s = secret(Some("X-Api-Key"), None, Some("Key {}"));
        let (h, _, _) = run(&[("x-api-key", &s.placeholder.clone())], "/", &s);
        assert_eq!(h["x-api-key"], "Key s3cr=t/v");
    }

    #[test]
    fn the_placeholder_is_swapped_in_the_bound_query_parameter_only() {
        let s = secret(None, Some("key"), None);
        let ph = s.placeholder.clone();
        let (_, u, n) = run(&[], &format!("/v1?key={ph}&other={ph}"), &s);
        assert_eq!(n, 1);
        assert_eq!(u.query().unwrap(), format!("key=s3cr%3Dt%2Fv&other={ph}"));
        let (_, u, n) = run(&[], "/v1?key=plain", &s);
        assert_eq!((n, u.query().unwrap()), (0, "key=plain"));
    }
}
