//! Bytes to text and back for E-files: UTF-8 or GBK, chosen by the
//! header's `Code=`/`Charset=` entry (read with the header parser of
//! `read`), else UTF-8 with a fall-back to GBK; a bad byte is reported at its
//! line and column. Nothing here looks past the header.

use super::read::header_entries;
use super::{EFileError, Encoding};

pub(super) fn decode(bytes: &[u8]) -> Result<String, EFileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match declared_encoding(bytes)? {
        Some(enc) => decode_as(bytes, enc).map_err(|(line, column)| EFileError::Encoding {
            line,
            column,
            encoding: enc.as_str(),
        }),
        None => decode_as(bytes, Encoding::Utf8).or_else(|(line, column)| {
            decode_as(bytes, Encoding::Gbk).map_err(|_| EFileError::Encoding {
                line,
                column,
                encoding: "UTF-8 or GBK",
            })
        }),
    }
}

/// The encoding named by the header's `Code=`/`Charset=`, if the header can
/// be found and names one. The header's own syntax is checked later, on the
/// decoded text.
fn declared_encoding(bytes: &[u8]) -> Result<Option<Encoding>, EFileError> {
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let trimmed = raw.trim_ascii();
        if trimmed.is_empty() || trimmed.starts_with(b"//") {
            continue;
        }
        if !trimmed.starts_with(b"<!") {
            return Ok(None);
        }
        let line = String::from_utf8_lossy(raw);
        let chars: Vec<char> = line.trim_end_matches('\r').chars().collect();
        let start = chars.iter().position(|c| !c.is_whitespace()).unwrap_or(0);
        let Ok((entries, _)) = header_entries(&chars, start + 2, i + 1) else {
            return Ok(None);
        };
        for e in entries {
            if e.key.eq_ignore_ascii_case("code") || e.key.eq_ignore_ascii_case("charset") {
                return match Encoding::from_name(&e.value) {
                    Some(enc) => Ok(Some(enc)),
                    None => Err(EFileError::UnknownEncoding {
                        line: i + 1,
                        column: e.value_column,
                        name: e.value,
                    }),
                };
            }
        }
        return Ok(None);
    }
    Ok(None)
}

/// Decodes `bytes`, or gives the (line, column) of the first bad byte.
fn decode_as(bytes: &[u8], encoding: Encoding) -> Result<String, (usize, usize)> {
    match encoding {
        Encoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_string()),
            Err(e) => {
                let good = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
                Err(position_after(good))
            }
        },
        Encoding::Gbk => {
            let mut decoder = encoding_rs::GBK.new_decoder_without_bom_handling();
            let mut out = String::with_capacity(bytes.len() * 2);
            let mut read = 0;
            loop {
                let (result, n) =
                    decoder.decode_to_string_without_replacement(&bytes[read..], &mut out, true);
                read += n;
                match result {
                    encoding_rs::DecoderResult::InputEmpty => return Ok(out),
                    encoding_rs::DecoderResult::OutputFull => out.reserve(bytes.len() + 16),
                    encoding_rs::DecoderResult::Malformed(..) => return Err(position_after(&out)),
                }
            }
        }
    }
}

/// The 1-based (line, column) just after `text`.
fn position_after(text: &str) -> (usize, usize) {
    let line = text.matches('\n').count() + 1;
    let last = text.rsplit('\n').next().unwrap_or("");
    (line, last.chars().count() + 1)
}

/// `text` in `encoding`, a character GBK cannot encode written as an HTML
/// numeric character reference (what `encoding_rs` does).
pub(super) fn encode_lossy(text: &str, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Utf8 => text.as_bytes().to_vec(),
        Encoding::Gbk => encoding_rs::GBK.encode(text).0.into_owned(),
    }
}

/// `text` in `encoding`, or the first character it cannot encode.
pub(super) fn encode_strict(text: String, encoding: Encoding) -> Result<Vec<u8>, EFileError> {
    match encoding {
        Encoding::Utf8 => Ok(text.into_bytes()),
        Encoding::Gbk => {
            let (bytes, _, had_errors) = encoding_rs::GBK.encode(&text);
            if had_errors {
                let bad = text
                    .chars()
                    .find(|c| encoding_rs::GBK.encode(c.encode_utf8(&mut [0; 4])).2)
                    .unwrap_or('\u{fffd}');
                return Err(EFileError::Unwritable {
                    what: format!("character {bad:?} (U+{:04X})", bad as u32),
                    rule: "GBK cannot encode it".into(),
                });
            }
            Ok(bytes.into_owned())
        }
    }
}
