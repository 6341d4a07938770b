//! Canonical byte form of JSON documents (RFC 8785, JSON Canonicalization Scheme).
//!
//! A signature covers bytes, not meaning; two parties that hold the "same"
//! declaration must produce the same bytes. This module turns any JSON text
//! into exactly one byte string:
//!
//! * objects: members sorted by the UTF-16 code units of their names, no
//!   duplicate names (rejected, never "last wins");
//! * no whitespace between tokens;
//! * strings: UTF-8, escaping only `"`, `\` and control characters
//!   (`\b \t \n \f \r`, others as `\u00xx` with lower-case hex);
//! * numbers: the IEEE-754 double they denote, written as ECMAScript's
//!   `Number.prototype.toString` does (`4.50` → `4.5`, `1E30` → `1e+30`,
//!   `-0` → `0`). Integers beyond ±2⁵³ are rejected instead of being rounded
//!   silently: send such values as strings.
//!
//! It must not do anything else: no schema checks, no hashing, no signing.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt::Write;

use crate::error::{Result, SecurityError};

/// Largest integer magnitude a double represents exactly (2⁵³).
const MAX_EXACT_INTEGER: u64 = 1 << 53;
const DUPLICATE_MARKER: &str = "voltex-duplicate-key:";

/// Parses JSON text strictly: syntax errors and duplicate object keys are errors.
pub fn parse_strict(text: &str) -> Result<Value> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = StrictValue::deserialize_from(&mut de).map_err(map_parse_error)?;
    de.end().map_err(map_parse_error)?;
    Ok(value)
}

/// Canonical bytes of a JSON text (parse strictly, then canonicalise).
pub fn canonicalize_str(text: &str) -> Result<Vec<u8>> {
    canonical_bytes(&parse_strict(text)?)
}

/// Canonical bytes of an already-parsed JSON value.
pub fn canonical_bytes(value: &Value) -> Result<Vec<u8>> {
    let mut out = String::with_capacity(256);
    write_value(value, &mut out)?;
    Ok(out.into_bytes())
}

/// Canonical bytes of any serialisable value (via `serde_json::Value`).
pub fn canonical_bytes_of<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    let v = serde_json::to_value(value).map_err(|e| SecurityError::JsonSyntax(e.to_string()))?;
    canonical_bytes(&v)
}

fn map_parse_error(e: serde_json::Error) -> SecurityError {
    let msg = e.to_string();
    if let Some(rest) = msg.strip_prefix(DUPLICATE_MARKER) {
        let key = rest.split('\u{0}').next().unwrap_or_default().to_string();
        return SecurityError::DuplicateJsonKey { key };
    }
    SecurityError::JsonSyntax(msg)
}

fn write_value(value: &Value, out: &mut String) -> Result<()> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(n, out)?,
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => write_object(map.iter().map(|(k, v)| (k.as_str(), v)), out)?,
    }
    Ok(())
}

/// Writes an object's members in canonical order: sorted by the UTF-16
/// code units of their names. Members that already come in that order (a
/// `serde_json` map iterates by UTF-8 bytes, which is the same order unless
/// a name holds a character at or above U+E000) are written as they come,
/// without sorting.
fn write_object<'a>(
    members: impl Iterator<Item = (&'a str, &'a Value)>,
    out: &mut String,
) -> Result<()> {
    let mut entries: Vec<(&str, &Value)> = members.collect();
    let simple = |k: &str| k.chars().all(|c| (c as u32) < 0xE000);
    let in_order = entries.iter().all(|(k, _)| simple(k))
        && entries
            .windows(2)
            .all(|w| w[0].0.as_bytes() < w[1].0.as_bytes());
    if !in_order {
        entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
    }
    out.push('{');
    for (i, (k, v)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(k, out);
        out.push(':');
        write_value(v, out)?;
    }
    out.push('}');
    Ok(())
}

/// Canonical bytes of an object given as its members (names and values),
/// in any order: what [`canonical_bytes_of`] gives for a struct with these
/// fields, without first copying the values into a new `Value`.
pub fn canonical_bytes_of_members(members: &[(&str, &Value)]) -> Result<Vec<u8>> {
    let mut out = String::with_capacity(256);
    write_object(members.iter().copied(), &mut out)?;
    Ok(out.into_bytes())
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    // Runs of characters that need no escape are copied whole; every
    // character that needs one is ASCII, so a run ends on a char boundary.
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            0x08 => Some("\\b"),
            0x09 => Some("\\t"),
            0x0A => Some("\\n"),
            0x0C => Some("\\f"),
            0x0D => Some("\\r"),
            _ if b < 0x20 => None,
            _ => continue,
        };
        out.push_str(&s[run..i]);
        run = i + 1;
        match short {
            Some(escape) => out.push_str(escape),
            None => {
                // Writing into a String cannot fail.
                let _ = write!(out, "\\u{b:04x}");
            }
        }
    }
    out.push_str(&s[run..]);
    out.push('"');
}

fn write_exact_double(f: f64, exact: bool, n: &Number, out: &mut String) -> Result<()> {
    if exact && push_ecmascript(f, out) {
        return Ok(());
    }
    Err(SecurityError::UnrepresentableNumber {
        number: n.to_string(),
    })
}

/// Whether `literal` is exactly how ECMAScript prints the double `f`. The
/// canonical form of a large double is its shortest round-trip digits padded
/// with zeros (4.0988734538994106e17 prints as 409887345389941060, although
/// the double's exact value ends in ...056), so that text stands for that
/// double; an integer literal that prints differently would be rounded.
fn is_canonical_double(f: f64, literal: &str) -> bool {
    format_ecmascript(f).as_deref() == Some(literal)
}

fn write_number(n: &Number, out: &mut String) -> Result<()> {
    // Integers beyond 2^53 are accepted only when a double holds them exactly
    // or they are the canonical text of a double (as the canonical form of a
    // large double, e.g. 154665453568088320, is); anything else would be
    // silently rounded, so it is refused.
    if let Some(u) = n.as_u64() {
        if u > MAX_EXACT_INTEGER {
            return write_exact_double(
                u as f64,
                (u as f64) as u64 == u || is_canonical_double(u as f64, &u.to_string()),
                n,
                out,
            );
        }
        out.push_str(itoa::Buffer::new().format(u));
        return Ok(());
    }
    if let Some(i) = n.as_i64() {
        if i.unsigned_abs() > MAX_EXACT_INTEGER {
            return write_exact_double(
                i as f64,
                (i as f64) as i64 == i || is_canonical_double(i as f64, &i.to_string()),
                n,
                out,
            );
        }
        out.push_str(itoa::Buffer::new().format(i));
        return Ok(());
    }
    let f = n
        .as_f64()
        .ok_or_else(|| SecurityError::UnrepresentableNumber {
            number: n.to_string(),
        })?;
    write_exact_double(f, true, n, out)
}

/// Formats a finite double as ECMAScript `Number.prototype.toString` (ES2023 §6.1.6.1.20).
///
/// Returns `None` for NaN and infinities, which JSON cannot carry.
pub fn format_ecmascript(x: f64) -> Option<String> {
    let mut s = String::new();
    push_ecmascript(x, &mut s).then_some(s)
}

/// Appends `x` as ECMAScript prints it (the shortest digits that round-trip,
/// in ECMAScript's layout: `ryu-js`); `false`, and nothing appended, for NaN
/// and infinities. Negative zero prints as `0`, as in ECMAScript.
fn push_ecmascript(x: f64, out: &mut String) -> bool {
    if !x.is_finite() {
        return false;
    }
    if x == 0.0 {
        out.push('0');
        return true;
    }
    out.push_str(ryu_js::Buffer::new().format_finite(x));
    true
}

/// A JSON value whose objects were checked for duplicate keys while parsing.
struct StrictValue(Value);

impl StrictValue {
    fn deserialize_from<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Value, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

impl<'de> serde::Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        StrictValue::deserialize_from(d).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        let mut obj = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let StrictValue(v) = map.next_value()?;
            if obj.contains_key(&key) {
                return Err(de::Error::custom(format!("{DUPLICATE_MARKER}{key}\u{0}")));
            }
            obj.insert(key, v);
        }
        Ok(Value::Object(obj))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn canon(text: &str) -> String {
        String::from_utf8(canonicalize_str(text).unwrap()).unwrap()
    }

    #[test]
    fn matches_rfc8785_section_3_2_2_example() {
        let input = r#"{
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#;
        let expected = "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\"string\":\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
        assert_eq!(canon(input), expected);
    }

    #[test]
    fn numbers_follow_ecmascript_layout_rfc8785_appendix_b() {
        let cases: &[(u64, &str)] = &[
            (0x0000000000000000, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x41b3de4355555555, "333333333.3333333"),
        ];
        for (bits, want) in cases {
            assert_eq!(
                format_ecmascript(f64::from_bits(*bits)).unwrap(),
                *want,
                "bits {bits:#x}"
            );
        }
    }

    #[test]
    fn sorts_keys_by_utf16_code_units_not_utf8_bytes() {
        // U+FB01 (one UTF-16 unit 0xFB01) sorts after U+1F600 (surrogates 0xD83D..)
        // in UTF-16 order, but before it in UTF-8 byte order.
        let out = canon(r#"{"ﬁ":1,"😀":2,"a":3}"#);
        assert_eq!(out, r#"{"a":3,"😀":2,"ﬁ":1}"#);
    }

    #[test]
    fn rejects_duplicate_keys_at_any_depth() {
        let err = canonicalize_str(r#"{"a":{"price":1,"price":2}}"#).unwrap_err();
        assert!(
            matches!(err, SecurityError::DuplicateJsonKey { ref key } if key == "price"),
            "{err}"
        );
    }

    #[test]
    fn rejects_integers_beyond_two_to_the_53() {
        assert!(canonicalize_str("[9007199254740992]").is_ok());
        let err = canonicalize_str("[9007199254740993]").unwrap_err();
        assert!(matches!(err, SecurityError::UnrepresentableNumber { .. }));
        assert!(canonicalize_str("[-9007199254740993]").is_err());
        // The canonical form of a large double is an integer literal that a
        // double holds exactly; it must canonicalise to itself.
        assert_eq!(canon("[154665453568088320]"), "[154665453568088320]");
        assert_eq!(canon("[1.5466545356808832e17]"), "[154665453568088320]");
        // Shortest digits padded with zeros, not the double's exact value.
        assert_eq!(canon("[4.0988734538994106e17]"), "[409887345389941060]");
        assert_eq!(canon("[409887345389941060]"), "[409887345389941060]");
        // The double's exact value is accepted too and printed canonically.
        assert_eq!(canon("[409887345389941056]"), "[409887345389941060]");
    }

    #[test]
    fn rejects_trailing_garbage_and_bad_syntax() {
        assert!(matches!(
            canonicalize_str(r#"{"a":1} x"#),
            Err(SecurityError::JsonSyntax(_))
        ));
        assert!(canonicalize_str(r#"{"a":}"#).is_err());
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-(1i64 << 53)..(1i64 << 53)).prop_map(|i| Value::Number(i.into())),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| Value::Number(Number::from_f64(f).unwrap())),
            "\\PC{0,12}".prop_map(Value::String),
            "[\\x00-\\x1f\"\\\\]{0,4}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("\\PC{0,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// ECMAScript's layout of Rust's shortest round-trip digits (`{:e}`):
    /// an independent derivation of `Number.prototype.toString`, the
    /// reference the library's output is held to.
    fn ecmascript_by_rust_digits(x: f64) -> String {
        if x == 0.0 {
            return "0".into();
        }
        let sci = format!("{:e}", x.abs());
        let (mantissa, exp) = sci.split_once('e').unwrap();
        let exp: i32 = exp.parse().unwrap();
        let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
        let (k, n) = (digits.len() as i32, exp + 1);
        let sign = if x < 0.0 { "-" } else { "" };
        let body = if k <= n && n <= 21 {
            format!("{digits}{}", "0".repeat((n - k) as usize))
        } else if 0 < n && n <= 21 {
            format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
        } else if -6 < n && n <= 0 {
            format!("0.{}{digits}", "0".repeat((-n) as usize))
        } else {
            let fraction = if k > 1 {
                format!(".{}", &digits[1..])
            } else {
                String::new()
            };
            format!(
                "{}{fraction}e{}{}",
                &digits[..1],
                if n > 0 { '+' } else { '-' },
                (n - 1).abs()
            )
        };
        format!("{sign}{body}")
    }

    proptest! {
        #[test]
        fn numbers_are_printed_as_ecmascript_lays_out_the_shortest_digits(
            f in any::<f64>().prop_filter("finite", |f| f.is_finite())
        ) {
            prop_assert_eq!(format_ecmascript(f).unwrap(), ecmascript_by_rust_digits(f));
        }

        #[test]
        fn canonical_form_is_a_fixed_point(v in arb_json()) {
            let once = canonical_bytes(&v).unwrap();
            let text = std::str::from_utf8(&once).unwrap();
            let twice = canonicalize_str(text).unwrap();
            prop_assert_eq!(once, twice);
        }

        #[test]
        fn pretty_printing_and_key_order_do_not_change_canonical_form(v in arb_json()) {
            let pretty = serde_json::to_string_pretty(&v).unwrap();
            let compact = serde_json::to_string(&v).unwrap();
            prop_assert_eq!(canonicalize_str(&pretty).unwrap(), canonicalize_str(&compact).unwrap());
        }

        #[test]
        fn canonical_numbers_round_trip_to_the_same_double(f in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
            let s = format_ecmascript(f).unwrap();
            let back: f64 = s.parse().unwrap();
            prop_assert!(back == f || (back == 0.0 && f == 0.0), "{} -> {} -> {}", f, s, back);
        }

        #[test]
        fn parser_never_panics_on_arbitrary_text(s in "\\PC{0,64}") {
            let _ = canonicalize_str(&s);
        }
    }
}
