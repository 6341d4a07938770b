//! E-files: the "E language" text format (E 语言) used for power-system data
//! exchange in China. This is a generic reader and writer of its structure —
//! a header and blocks of named columns and rows of text — and knows nothing
//! about what the blocks mean; `declaration_io` maps declarations onto it.
//! Nothing here touches the file system.
//!
//! The layout, line by line:
//!
//! ```text
//! <! System=Voltex Version=1.0 Code=UTF-8 Data=2026-11-22 !>   // header, first
//! <Declaration::EnergyOffer session='DA-2026-11-22'>          // opens a block
//! @   session_id      member_id  unit_id  interval            // column names
//! #   DA-2026-11-22   'Huadian 1'  u1     1                   // one data row
//! </Declaration::EnergyOffer>                                 // closes it
//! ```
//!
//! - The header `<! key=value ... !>` is the first line that is not blank or a
//!   comment, and stands on a line of its own.
//! - A block opens with `<Class::Entity key='value' ...>` (attributes optional;
//!   `<Class>` alone is read with an empty entity) and closes with
//!   `</Class::Entity>`. Blocks do not nest.
//! - Inside a block, one `@` row names the columns and each `#` row holds as
//!   many fields as there are columns.
//! - Fields are separated by blanks (spaces, tabs, any Unicode white space).
//!   A field that is empty, contains white space, `'`, `>` or `//` is written in
//!   single quotes: `''` is the empty field, and a quote inside a quoted field
//!   is doubled (`'it''s'`). Header and attribute values quote the same way.
//! - `//` starts a comment (whole line, or trailing outside quotes; inside the
//!   header, before `!>`, it is text). Blank lines are ignored.
//! - Vertical blocks, read only: a block may instead hold one `@@` row of at
//!   least two headings and `##` rows of as many fields, whose last two fields
//!   are a name and a value (`@@ name value` / `## capacity 300`, or with a
//!   leading sequence number `@@ seq name value` / `## 1 capacity 300`). It is
//!   read as a block whose columns are the names and whose single row holds
//!   the values. The writer always writes the `@`/`#` layout.
//!
//! Encodings: UTF-8 and GBK. The reader takes the encoding from the header's
//! `Code=` or `Charset=` entry (case-insensitive: `UTF-8`, `UTF8`, `GBK`,
//! `GB2312`, `GB18030`, `CP936`; the GB names read as GBK); without one it
//! tries UTF-8 and falls back to GBK on bytes that are not UTF-8. A UTF-8
//! byte-order mark is skipped. The writer encodes in the encoding it is
//! given and writes the header as it is: put `Code=GBK` in the header of a
//! GBK file so that no reader has to guess.
//!
//! Errors name the 1-based line and column (in characters) and the rule that
//! was broken.

use std::fmt::Write as _;

/// The text encodings an E-file may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    Utf8,
    Gbk,
}

impl Encoding {
    /// The name written in a header's `Code=` entry.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Gbk => "GBK",
        }
    }

    /// Reads an encoding name as it appears in `Code=`/`Charset=`
    /// (case-insensitive); `GB2312`, `GB18030` and `CP936` read as GBK.
    pub fn from_name(name: &str) -> Option<Encoding> {
        match name.trim().to_ascii_uppercase().as_str() {
            "UTF-8" | "UTF8" => Some(Encoding::Utf8),
            "GBK" | "GB2312" | "GB18030" | "CP936" => Some(Encoding::Gbk),
            _ => None,
        }
    }
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A whole E-file: the header entries in order, then the blocks in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EFile {
    pub header: Vec<(String, String)>,
    pub blocks: Vec<EBlock>,
}

impl EFile {
    /// The value of the first header entry named `key` (case-insensitive).
    pub fn header_value(&self, key: &str) -> Option<&str> {
        self.header
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// One `<Class::Entity ...>` block: its attributes, column names and rows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EBlock {
    pub class: String,
    /// Empty for a block opened as `<Class>`.
    pub entity: String,
    pub attributes: Vec<(String, String)>,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl EBlock {
    /// The tag name, `Class::Entity` (or `Class` when the entity is empty).
    pub fn tag(&self) -> String {
        tag_name(&self.class, &self.entity)
    }

    /// The value of the first attribute named `key` (case-sensitive).
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn tag_name(class: &str, entity: &str) -> String {
    if entity.is_empty() {
        class.to_string()
    } else {
        format!("{class}::{entity}")
    }
}

/// Why an E-file could not be read (or, from `try_write`, written).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EFileError {
    #[error("line {line}, column {column}: the bytes are not valid {encoding}")]
    Encoding {
        line: usize,
        column: usize,
        encoding: &'static str,
    },
    #[error(
        "line {line}, column {column}: unknown encoding {name:?} (UTF-8 and GBK are supported)"
    )]
    UnknownEncoding {
        line: usize,
        column: usize,
        name: String,
    },
    #[error(
        "line {line}, column {column}: missing header; the file must start with `<! key=value ... !>`"
    )]
    MissingHeader { line: usize, column: usize },
    #[error("line {line}, column {column}: the quote opened here is not closed on its line")]
    UnterminatedQuote { line: usize, column: usize },
    #[error(
        "line {line}, column {column}: the row has {found} fields but block <{tag}> has {expected} columns"
    )]
    RowWidth {
        line: usize,
        column: usize,
        tag: String,
        expected: usize,
        found: usize,
    },
    #[error(
        "line {line}, column {column}: data row before the column row ('@' must come before '#' in block <{tag}>)"
    )]
    RowBeforeColumns {
        line: usize,
        column: usize,
        tag: String,
    },
    #[error("line {line}, column {column}: block <{tag}> already has its column row")]
    DuplicateColumns {
        line: usize,
        column: usize,
        tag: String,
    },
    #[error("line {line}, column {column}: block <{tag}> is not closed before the end of the file")]
    UnclosedBlock {
        line: usize,
        column: usize,
        tag: String,
    },
    #[error(
        "line {line}, column {column}: block <{open}> opened at line {opened_at} must be closed before <{tag}> opens (blocks do not nest)"
    )]
    NestedBlock {
        line: usize,
        column: usize,
        tag: String,
        open: String,
        opened_at: usize,
    },
    #[error(
        "line {line}, column {column}: closing tag </{found}> does not match the open block <{expected}>"
    )]
    MismatchedClosingTag {
        line: usize,
        column: usize,
        expected: String,
        found: String,
    },
    #[error("line {line}, column {column}: closing tag </{found}> but no block is open")]
    UnexpectedClosingTag {
        line: usize,
        column: usize,
        found: String,
    },
    #[error("line {line}, column {column}: {rule}")]
    Syntax {
        line: usize,
        column: usize,
        rule: String,
    },
    #[error("cannot write {what}: {rule}")]
    Unwritable { what: String, rule: String },
}

/// Reads an E-file from its bytes (UTF-8 or GBK, see the module doc).
pub fn parse(bytes: &[u8]) -> Result<EFile, EFileError> {
    parse_located(bytes).map(|(file, _)| file)
}

/// Where a parsed block's parts came from (1-based lines), for readers that
/// report errors in the meaning of the rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlockLines {
    /// The opening tag.
    pub open: usize,
    /// The `@` (or `@@`) row; the opening tag's line when there is none.
    pub columns: usize,
    /// One line per row.
    pub rows: Vec<usize>,
}

/// Like `parse`, with the line of every block's tag, column row and rows.
pub(crate) fn parse_located(bytes: &[u8]) -> Result<(EFile, Vec<BlockLines>), EFileError> {
    let text = decode(bytes)?;
    Parser::default().run(&text)
}

/// Writes `file` in `encoding`. Never fails: a line break inside a field,
/// name or value is written as a space, and a character GBK cannot encode
/// as an HTML numeric character reference (`&#8364;`). Use `try_write` to
/// be told instead.
pub fn write(file: &EFile, encoding: Encoding) -> Vec<u8> {
    let text = render(file, false).unwrap_or_default();
    encode_lossy(&text, encoding)
}

/// Writes `file` in `encoding`, or says why the result would not read back
/// as `file`: a line break in a field, an ill-formed class, entity, column,
/// header or attribute name, a row whose width differs from the columns, a
/// header whose `Code=`/`Charset=` names another encoding, or a character
/// the encoding cannot represent.
pub fn try_write(file: &EFile, encoding: Encoding) -> Result<Vec<u8>, EFileError> {
    for (k, v) in &file.header {
        let is_code = k.eq_ignore_ascii_case("code") || k.eq_ignore_ascii_case("charset");
        if is_code && Encoding::from_name(v) != Some(encoding) {
            return Err(EFileError::Unwritable {
                what: format!("header entry {k}={v}"),
                rule: format!("the file is written in {encoding}"),
            });
        }
    }
    let text = render(file, true)?;
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

// ---------------------------------------------------------------- decoding

fn decode(bytes: &[u8]) -> Result<String, EFileError> {
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

// ----------------------------------------------------------------- parsing

/// A field of a line and the 1-based column where it starts.
#[derive(Debug)]
struct Field {
    column: usize,
    text: String,
}

/// A `key=value` entry of the header or of an opening tag.
#[derive(Debug)]
struct Entry {
    key: String,
    value: String,
    value_column: usize,
}

fn syntax(line: usize, column: usize, rule: impl Into<String>) -> EFileError {
    EFileError::Syntax {
        line,
        column,
        rule: rule.into(),
    }
}

fn is_comment(chars: &[char], i: usize) -> bool {
    chars.get(i) == Some(&'/') && chars.get(i + 1) == Some(&'/')
}

fn starts_with(chars: &[char], i: usize, s: &str) -> bool {
    s.chars()
        .enumerate()
        .all(|(k, c)| chars.get(i + k) == Some(&c))
}

/// Reads the quoted text that starts at `chars[i] == '\''`; returns it and
/// the index after the closing quote.
fn quoted(chars: &[char], i: usize, line: usize) -> Result<(String, usize), EFileError> {
    let mut text = String::new();
    let mut j = i + 1;
    loop {
        match chars.get(j) {
            None => {
                return Err(EFileError::UnterminatedQuote {
                    line,
                    column: i + 1,
                });
            }
            Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                text.push('\'');
                j += 2;
            }
            Some('\'') => return Ok((text, j + 1)),
            Some(&c) => {
                text.push(c);
                j += 1;
            }
        }
    }
}

/// Splits `chars[from..]` into fields, up to the end or a `//` comment.
fn fields(chars: &[char], from: usize, line: usize) -> Result<Vec<Field>, EFileError> {
    let mut out = Vec::new();
    let mut i = from;
    loop {
        while chars.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        if i >= chars.len() || is_comment(chars, i) {
            return Ok(out);
        }
        let start = i;
        let text = if chars[i] == '\'' {
            let (text, next) = quoted(chars, i, line)?;
            i = next;
            if i < chars.len() && !chars[i].is_whitespace() && !is_comment(chars, i) {
                return Err(syntax(
                    line,
                    i + 1,
                    "a quoted field must be followed by a blank or the end of the line",
                ));
            }
            text
        } else {
            while i < chars.len() && !chars[i].is_whitespace() && !is_comment(chars, i) {
                i += 1;
            }
            chars[start..i].iter().collect()
        };
        out.push(Field {
            column: start + 1,
            text,
        });
    }
}

/// Only blanks or a comment may follow a tag or the header.
fn expect_rest_empty(
    chars: &[char],
    from: usize,
    line: usize,
    what: &str,
) -> Result<(), EFileError> {
    let mut i = from;
    while chars.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    if i < chars.len() && !is_comment(chars, i) {
        return Err(syntax(
            line,
            i + 1,
            format!("only a comment may follow {what} on its line"),
        ));
    }
    Ok(())
}

/// Reads `key=value` entries from `chars[from..]` up to `close` (`!>` for
/// the header, `>` for a tag); returns them and the index after `close`.
fn entries_until(
    chars: &[char],
    from: usize,
    line: usize,
    close: &str,
    what: &str,
) -> Result<(Vec<Entry>, usize), EFileError> {
    let mut out = Vec::new();
    let mut i = from;
    loop {
        while chars.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        if i >= chars.len() {
            return Err(syntax(
                line,
                i + 1,
                format!("{what} is not closed with '{close}' on its line"),
            ));
        }
        if starts_with(chars, i, close) {
            return Ok((out, i + close.chars().count()));
        }
        let key_start = i;
        while i < chars.len()
            && chars[i] != '='
            && !chars[i].is_whitespace()
            && !starts_with(chars, i, close)
        {
            i += 1;
        }
        let key: String = chars[key_start..i].iter().collect();
        if chars.get(i) != Some(&'=') || key.is_empty() {
            return Err(syntax(
                line,
                key_start + 1,
                format!("entries of {what} are written key=value"),
            ));
        }
        i += 1;
        let value_column = i + 1;
        let value = if chars.get(i) == Some(&'\'') {
            let (v, next) = quoted(chars, i, line)?;
            i = next;
            v
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && !starts_with(chars, i, close) {
                i += 1;
            }
            chars[start..i].iter().collect()
        };
        out.push(Entry {
            key,
            value,
            value_column,
        });
    }
}

/// The header's entries; `from` is just after `<!`.
fn header_entries(
    chars: &[char],
    from: usize,
    line: usize,
) -> Result<(Vec<Entry>, usize), EFileError> {
    entries_until(chars, from, line, "!>", "the header")
}

#[derive(Debug, PartialEq)]
enum Layout {
    /// No column row yet.
    None,
    /// `@` columns, `#` rows.
    Table,
    /// `@@` headings of this width, `##` name–value rows.
    Vertical(usize),
}

#[derive(Debug)]
struct OpenBlock {
    block: EBlock,
    lines: BlockLines,
    column: usize,
    layout: Layout,
}

#[derive(Debug, Default)]
struct Parser {
    header: Option<Vec<(String, String)>>,
    blocks: Vec<EBlock>,
    lines: Vec<BlockLines>,
    open: Option<OpenBlock>,
}

impl Parser {
    fn run(mut self, text: &str) -> Result<(EFile, Vec<BlockLines>), EFileError> {
        let mut last_line = 1;
        for (i, raw) in text.split('\n').enumerate() {
            let line = i + 1;
            last_line = line;
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            let chars: Vec<char> = raw.chars().collect();
            let Some(start) = chars.iter().position(|c| !c.is_whitespace()) else {
                continue;
            };
            if is_comment(&chars, start) {
                continue;
            }
            self.line(&chars, start, line)?;
        }
        if let Some(open) = self.open {
            return Err(EFileError::UnclosedBlock {
                line: open.lines.open,
                column: open.column,
                tag: open.block.tag(),
            });
        }
        let Some(header) = self.header else {
            return Err(EFileError::MissingHeader {
                line: last_line,
                column: 1,
            });
        };
        Ok((
            EFile {
                header,
                blocks: self.blocks,
            },
            self.lines,
        ))
    }

    fn line(&mut self, chars: &[char], start: usize, line: usize) -> Result<(), EFileError> {
        let at = |s: &str| starts_with(chars, start, s);
        if self.header.is_none() {
            if !at("<!") {
                return Err(EFileError::MissingHeader {
                    line,
                    column: start + 1,
                });
            }
            let (entries, next) = header_entries(chars, start + 2, line)?;
            expect_rest_empty(chars, next, line, "the header")?;
            self.header = Some(entries.into_iter().map(|e| (e.key, e.value)).collect());
            return Ok(());
        }
        if at("<!") {
            return Err(syntax(
                line,
                start + 1,
                "a file has one header, on its first line",
            ));
        }
        if at("</") {
            return self.close(chars, start, line);
        }
        if at("<") {
            return self.open(chars, start, line);
        }
        let Some(open) = self.open.as_mut() else {
            return Err(syntax(
                line,
                start + 1,
                "text outside a block (rows belong between <Class::Entity> and </Class::Entity>)",
            ));
        };
        let tag = || open.block.tag();
        if at("@@") || at("@") {
            let vertical = at("@@");
            if open.layout != Layout::None {
                return Err(EFileError::DuplicateColumns {
                    line,
                    column: start + 1,
                    tag: tag(),
                });
            }
            let names = fields(chars, start + if vertical { 2 } else { 1 }, line)?;
            open.lines.columns = line;
            if vertical {
                if names.len() < 2 {
                    return Err(syntax(
                        line,
                        start + 1,
                        "an '@@' row needs at least two headings (name and value)",
                    ));
                }
                open.layout = Layout::Vertical(names.len());
            } else {
                open.layout = Layout::Table;
                open.block.columns = names.into_iter().map(|f| f.text).collect();
            }
            return Ok(());
        }
        if at("##") || at("#") {
            let vertical = at("##");
            let row = fields(chars, start + if vertical { 2 } else { 1 }, line)?;
            let expected = match (&open.layout, vertical) {
                (Layout::Table, false) => open.block.columns.len(),
                (Layout::Vertical(width), true) => *width,
                (Layout::None, _) => {
                    return Err(EFileError::RowBeforeColumns {
                        line,
                        column: start + 1,
                        tag: tag(),
                    });
                }
                _ => {
                    return Err(syntax(
                        line,
                        start + 1,
                        "'#' rows go with an '@' column row, '##' rows with '@@'",
                    ));
                }
            };
            if row.len() != expected {
                let column = row
                    .get(expected)
                    .map_or(chars.len() + 1, |extra| extra.column);
                return Err(EFileError::RowWidth {
                    line,
                    column,
                    tag: tag(),
                    expected,
                    found: row.len(),
                });
            }
            if vertical {
                let mut row = row.into_iter().rev();
                let value = row.next().map(|f| f.text).unwrap_or_default();
                let name = row.next().map(|f| f.text).unwrap_or_default();
                open.block.columns.push(name);
                if open.block.rows.is_empty() {
                    open.block.rows.push(Vec::new());
                    open.lines.rows.push(line);
                }
                open.block.rows[0].push(value);
            } else {
                open.block
                    .rows
                    .push(row.into_iter().map(|f| f.text).collect());
                open.lines.rows.push(line);
            }
            return Ok(());
        }
        Err(syntax(
            line,
            start + 1,
            format!(
                "unexpected text in block <{}>: rows start with '@' or '#'",
                open.block.tag()
            ),
        ))
    }

    fn open(&mut self, chars: &[char], start: usize, line: usize) -> Result<(), EFileError> {
        let mut i = start + 1;
        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '>' {
            i += 1;
        }
        let name: String = chars[start + 1..i].iter().collect();
        let (class, entity) = name.split_once("::").unwrap_or((&name, ""));
        if class.is_empty() {
            return Err(syntax(
                line,
                start + 2,
                "a block opens with <Class::Entity> and the class is missing",
            ));
        }
        if let Some(open) = &self.open {
            return Err(EFileError::NestedBlock {
                line,
                column: start + 1,
                tag: name.clone(),
                open: open.block.tag(),
                opened_at: open.lines.open,
            });
        }
        let (entries, next) = entries_until(chars, i, line, ">", "the opening tag")?;
        expect_rest_empty(chars, next, line, "an opening tag")?;
        self.open = Some(OpenBlock {
            block: EBlock {
                class: class.to_string(),
                entity: entity.to_string(),
                attributes: entries.into_iter().map(|e| (e.key, e.value)).collect(),
                columns: Vec::new(),
                rows: Vec::new(),
            },
            lines: BlockLines {
                open: line,
                columns: line,
                rows: Vec::new(),
            },
            column: start + 1,
            layout: Layout::None,
        });
        Ok(())
    }

    fn close(&mut self, chars: &[char], start: usize, line: usize) -> Result<(), EFileError> {
        let Some(end) = (start..chars.len()).find(|&j| chars[j] == '>') else {
            return Err(syntax(
                line,
                start + 1,
                "the closing tag is not closed with '>'",
            ));
        };
        let found: String = chars[start + 2..end]
            .iter()
            .collect::<String>()
            .trim()
            .to_string();
        expect_rest_empty(chars, end + 1, line, "a closing tag")?;
        let Some(open) = self.open.take() else {
            return Err(EFileError::UnexpectedClosingTag {
                line,
                column: start + 1,
                found,
            });
        };
        let expected = open.block.tag();
        if found != expected {
            return Err(EFileError::MismatchedClosingTag {
                line,
                column: start + 1,
                expected,
                found,
            });
        }
        self.blocks.push(open.block);
        self.lines.push(open.lines);
        Ok(())
    }
}

// ----------------------------------------------------------------- writing

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

fn render(file: &EFile, strict: bool) -> Result<String, EFileError> {
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

fn encode_lossy(text: &str, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Utf8 => text.as_bytes().to_vec(),
        Encoding::Gbk => encoding_rs::GBK.encode(text).0.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "// exported by hand
<! System=Voltex Version=1.0 Code=UTF-8 Data=2026-11-22 Note='two words' !>

<Unit::华东 area='east china' id=7>
@  name   capacity  remark      // trailing comment
#  '1号机'  300       ''
#  u2      250.5     'it''s ok'
</Unit::华东>
<Empty>
</Empty>
";

    fn err(text: &str) -> EFileError {
        parse(text.as_bytes()).unwrap_err()
    }

    #[test]
    fn reads_header_blocks_quotes_and_comments() {
        let f = parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!(f.header_value("system"), Some("Voltex"));
        assert_eq!(f.header_value("Note"), Some("two words"));
        assert_eq!(f.blocks.len(), 2);
        let b = &f.blocks[0];
        assert_eq!((b.class.as_str(), b.entity.as_str()), ("Unit", "华东"));
        assert_eq!(b.attribute("area"), Some("east china"));
        assert_eq!(b.attribute("id"), Some("7"));
        assert_eq!(b.columns, ["name", "capacity", "remark"]);
        assert_eq!(b.rows[0], ["1号机", "300", ""]);
        assert_eq!(b.rows[1], ["u2", "250.5", "it's ok"]);
        assert_eq!(f.blocks[1].tag(), "Empty");
        assert!(f.blocks[1].columns.is_empty() && f.blocks[1].rows.is_empty());
    }

    #[test]
    fn written_file_reads_back_identically_in_both_encodings() {
        let f = parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!(parse(&write(&f, Encoding::Utf8)).unwrap(), f);
        let mut g = f.clone();
        g.header[2].1 = "GBK".into();
        let bytes = try_write(&g, Encoding::Gbk).unwrap();
        assert!(
            std::str::from_utf8(&bytes).is_err(),
            "GBK bytes are not UTF-8"
        );
        assert_eq!(parse(&bytes).unwrap(), g);
    }

    #[test]
    fn gbk_without_a_declared_code_is_detected_by_fallback() {
        let text = "<! System=Voltex !>\n<A::B>\n@ 名称\n# 华能电厂\n</A::B>\n";
        let (bytes, _, _) = encoding_rs::GBK.encode(text);
        let f = parse(&bytes).unwrap();
        assert_eq!(f.blocks[0].columns, ["名称"]);
        assert_eq!(f.blocks[0].rows[0], ["华能电厂"]);
    }

    #[test]
    fn gb2312_in_the_header_reads_as_gbk() {
        let text = "<! charset=gb2312 !>\n<A::B>\n@ 名称\n# 电\n</A::B>\n";
        let (bytes, _, _) = encoding_rs::GBK.encode(text);
        assert_eq!(parse(&bytes).unwrap().blocks[0].rows[0], ["电"]);
    }

    #[test]
    fn declared_utf8_with_gbk_bytes_points_at_the_bad_byte() {
        let text = "<! Code=UTF-8 !>\n<A::B>\n@ x\n# ab电\n</A::B>\n";
        let (bytes, _, _) = encoding_rs::GBK.encode(text);
        assert_eq!(
            parse(&bytes).unwrap_err(),
            EFileError::Encoding {
                line: 4,
                column: 5,
                encoding: "UTF-8"
            }
        );
    }

    #[test]
    fn unknown_encoding_is_named() {
        assert!(matches!(
            err("<! Code=EBCDIC !>\n"),
            EFileError::UnknownEncoding { line: 1, column: 9, ref name } if name == "EBCDIC"
        ));
    }

    #[test]
    fn missing_header_points_at_the_first_line_with_text() {
        assert_eq!(
            err("\n// c\n  <A::B>\n</A::B>\n"),
            EFileError::MissingHeader { line: 3, column: 3 }
        );
        assert!(matches!(err(""), EFileError::MissingHeader { line: 1, .. }));
    }

    #[test]
    fn unterminated_quote_points_at_the_opening_quote() {
        assert_eq!(
            err("<! a=1 !>\n<A::B>\n@ x y\n# 1 'open\n</A::B>\n"),
            EFileError::UnterminatedQuote { line: 4, column: 5 }
        );
        assert_eq!(
            err("<! a='x !>\n"),
            EFileError::UnterminatedQuote { line: 1, column: 6 }
        );
    }

    #[test]
    fn row_width_differing_from_columns_is_rejected() {
        assert_eq!(
            err("<! a=1 !>\n<A::B>\n@ x y\n# 1 2 3\n</A::B>\n"),
            EFileError::RowWidth {
                line: 4,
                column: 7,
                tag: "A::B".into(),
                expected: 2,
                found: 3
            }
        );
        assert!(matches!(
            err("<! a=1 !>\n<A::B>\n@ x y\n# 1\n</A::B>\n"),
            EFileError::RowWidth {
                line: 4,
                column: 4,
                found: 1,
                ..
            }
        ));
    }

    #[test]
    fn data_row_before_column_row_is_rejected() {
        assert!(matches!(
            err("<! a=1 !>\n<A::B>\n# 1\n@ x\n</A::B>\n"),
            EFileError::RowBeforeColumns {
                line: 3,
                column: 1,
                ..
            }
        ));
    }

    #[test]
    fn second_column_row_is_rejected() {
        assert!(matches!(
            err("<! a=1 !>\n<A::B>\n@ x\n@ y\n</A::B>\n"),
            EFileError::DuplicateColumns { line: 4, .. }
        ));
    }

    #[test]
    fn block_left_open_at_the_end_is_reported_at_its_tag() {
        assert_eq!(
            err("<! a=1 !>\n\n<A::B>\n@ x\n# 1\n"),
            EFileError::UnclosedBlock {
                line: 3,
                column: 1,
                tag: "A::B".into()
            }
        );
    }

    #[test]
    fn block_opened_inside_another_is_rejected() {
        assert!(matches!(
            err("<! a=1 !>\n<A::B>\n<C::D>\n</C::D>\n</A::B>\n"),
            EFileError::NestedBlock {
                line: 3,
                opened_at: 2,
                ..
            }
        ));
    }

    #[test]
    fn mismatched_closing_tag_names_both_tags() {
        assert_eq!(
            err("<! a=1 !>\n<A::B>\n@ x\n</A::C>\n"),
            EFileError::MismatchedClosingTag {
                line: 4,
                column: 1,
                expected: "A::B".into(),
                found: "A::C".into()
            }
        );
        assert!(matches!(
            err("<! a=1 !>\n</A::C>\n"),
            EFileError::UnexpectedClosingTag { line: 2, .. }
        ));
    }

    #[test]
    fn text_outside_blocks_and_stray_text_inside_are_rejected() {
        assert!(matches!(
            err("<! a=1 !>\n# 1\n"),
            EFileError::Syntax {
                line: 2,
                column: 1,
                ..
            }
        ));
        assert!(matches!(
            err("<! a=1 !>\n<A::B>\n@ x\n  1\n</A::B>\n"),
            EFileError::Syntax {
                line: 4,
                column: 3,
                ..
            }
        ));
        assert!(matches!(
            err("<! a=1 !>\n<A::B> junk\n</A::B>\n"),
            EFileError::Syntax {
                line: 2,
                column: 8,
                ..
            }
        ));
        assert!(matches!(
            err("<! a 1 !>\n"),
            EFileError::Syntax {
                line: 1,
                column: 4,
                ..
            }
        ));
    }

    #[test]
    fn vertical_block_reads_as_one_record() {
        let f = parse(
            "<! a=1 !>\n<Unit::G1>\n@@ seq name value\n## 1 capacity 300\n## 2 名称 '1号 机'\n</Unit::G1>\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(f.blocks[0].columns, ["capacity", "名称"]);
        assert_eq!(f.blocks[0].rows, [["300", "1号 机"]]);
    }

    #[test]
    fn crlf_line_endings_and_bom_are_accepted() {
        let text = "\u{feff}<! a=1 !>\r\n<A::B>\r\n@ x\r\n# 1\r\n</A::B>\r\n";
        assert_eq!(parse(text.as_bytes()).unwrap().blocks[0].rows, [["1"]]);
    }

    #[test]
    fn try_write_refuses_what_would_not_read_back() {
        let mut f = EFile {
            header: vec![("Code".into(), "UTF-8".into())],
            blocks: vec![EBlock {
                class: "A".into(),
                entity: "B".into(),
                columns: vec!["x".into()],
                rows: vec![vec!["line\nbreak".into()]],
                ..EBlock::default()
            }],
        };
        assert!(try_write(&f, Encoding::Utf8).is_err());
        assert!(try_write(&f, Encoding::Gbk).is_err(), "header says UTF-8");
        f.blocks[0].rows[0][0] = "€ ok, 😀 not".into();
        f.header.clear();
        let e = try_write(&f, Encoding::Gbk).unwrap_err();
        assert!(e.to_string().contains("GBK cannot encode"), "{e}");
        f.blocks[0].rows[0].push("extra".into());
        assert!(try_write(&f, Encoding::Utf8).is_err());
    }

    #[test]
    fn lossy_write_replaces_line_breaks_with_spaces() {
        let f = EFile {
            header: vec![],
            blocks: vec![EBlock {
                class: "A".into(),
                columns: vec!["x".into()],
                rows: vec![vec!["a\nb".into()]],
                ..EBlock::default()
            }],
        };
        assert_eq!(
            parse(&write(&f, Encoding::Utf8)).unwrap().blocks[0].rows,
            [["a b"]]
        );
    }
}
