//! Rendering an [`EFile`] as text: quoting fields that need it, and in
//! strict mode refusing what would not read back as the same file (line
//! breaks in fields, ill-formed names, rows of the wrong width). The writer
//! always uses the `@`/`#` layout; encoding is `encoding`'s job.

use std::fmt::Write as _;

use super::{EFile, EFileError};

/// Whether a field or value must be quoted to read back as itself.
fn needs_quotes(s: &str) -> bool {
    s.is_empty()
        || s.chars().any(char::is_whitespace)
        || s.contains('\'')
        || s.contains("//")
        || s.contains('>')
}

fn has_line_break(s: &str) -> bool {
    s.contains(['\n', '\r'])
}

/// Quotes `s` if it needs it; in lossy mode line breaks become spaces, in
/// strict mode they are an error naming `what`.
fn field_text(s: &str, strict: bool, what: impl FnOnce() -> String) -> Result<String, EFileError> {
    let s = if has_line_break(s) {
        if strict {
            return Err(EFileError::Unwritable {
                what: what(),
                rule: "a line break cannot be written inside a field".into(),
            });
        }
        s.replace(['\n', '\r'], " ")
    } else {
        s.to_string()
    };
    Ok(if needs_quotes(&s) {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        s
    })
}

fn quoted_value(
    s: &str,
    strict: bool,
    what: impl FnOnce() -> String,
) -> Result<String, EFileError> {
    let q = field_text(s, strict, what)?;
    Ok(if q.starts_with('\'') {
        q
    } else {
        format!("'{q}'")
    })
}

/// Checks a name written bare (class, entity, header or attribute key).
fn check_name(
    name: &str,
    forbidden: &[char],
    what: impl FnOnce() -> String,
) -> Result<(), EFileError> {
    let bad = name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == '>' || forbidden.contains(&c))
        || name.contains("//");
    if bad {
        return Err(EFileError::Unwritable {
            what: what(),
            rule: format!(
                "names are non-empty, without blanks, quotes, '>', '//' or any of {forbidden:?}"
            ),
        });
    }
    Ok(())
}

pub(super) fn render(file: &EFile, strict: bool) -> Result<String, EFileError> {
    let mut s = String::from("<!");
    for (k, v) in &file.header {
        if strict {
            check_name(k, &['=', '!'], || format!("header key {k:?}"))?;
        }
        let v = field_text(v, strict, || format!("header value {k}={v:?}"))?;
        let _ = write!(s, " {k}={v}");
    }
    s.push_str(" !>\n");
    for b in &file.blocks {
        let tag = b.tag();
        if strict {
            check_name(&b.class, &[':', '=', '<', '/', '!'], || {
                format!("class {:?}", b.class)
            })?;
            if !b.entity.is_empty() {
                check_name(&b.entity, &['='], || format!("entity {:?}", b.entity))?;
            }
        }
        let _ = write!(s, "<{tag}");
        for (k, v) in &b.attributes {
            if strict {
                check_name(k, &['='], || format!("attribute key {k:?} of <{tag}>"))?;
            }
            let v = quoted_value(v, strict, || format!("attribute {k} of <{tag}>"))?;
            let _ = write!(s, " {k}={v}");
        }
        s.push_str(">\n@");
        for c in &b.columns {
            let c = field_text(c, strict, || format!("column {c:?} of <{tag}>"))?;
            let _ = write!(s, "\t{c}");
        }
        s.push('\n');
        for (r, row) in b.rows.iter().enumerate() {
            if strict && row.len() != b.columns.len() {
                return Err(EFileError::Unwritable {
                    what: format!("row {} of <{tag}>", r + 1),
                    rule: format!(
                        "it has {} fields and the block {} columns",
                        row.len(),
                        b.columns.len()
                    ),
                });
            }
            s.push('#');
            for (c, v) in row.iter().enumerate() {
                let v = field_text(v, strict, || {
                    format!("row {}, field {} of <{tag}>", r + 1, c + 1)
                })?;
                let _ = write!(s, "\t{v}");
            }
            s.push('\n');
        }
        let _ = writeln!(s, "</{tag}>");
    }
    Ok(s)
}
