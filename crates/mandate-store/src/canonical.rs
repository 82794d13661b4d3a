//! Canonical JSON (RFC 8785 for the values Mandate writes): object keys sorted by their
//! UTF-16 code units, no whitespace, strings escaped as ECMAScript's `JSON.stringify`
//! does, integers as plain digits.

use serde_json::Value;

/// Serialises a value canonically. Floats are written by serde_json (ECMAScript's
/// shortest form for the finite values we emit).
pub fn to_canonical(v: &Value) -> String {
    let mut out = String::new();
    write(v, &mut out);
    out
}

fn write(v: &Value, out: &mut String) {
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => out.push_str(&v.to_string()),
        Value::String(s) => out.push_str(&Value::String(s.clone()).to_string()),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write(&m[k], out);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sorted_and_compact() {
        let v: Value =
            serde_json::from_str(r#"{"b":1,"a":[true,null,"x\n"],"é":{"z":0,"y":-1}}"#).unwrap();
        assert_eq!(
            to_canonical(&v),
            r#"{"a":[true,null,"x\n"],"b":1,"é":{"y":-1,"z":0}}"#
        );
    }
}
