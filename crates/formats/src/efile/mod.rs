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

//!
//! The module is split by direction: `encoding` turns bytes into text and
//! back (UTF-8, GBK, the header's `Code=`), `read` parses the text into an
//! [`EFile`], `write` renders an [`EFile`] as text; the types, the error and
//! the four entry points are here.

mod encoding;
mod read;
mod write;

use encoding::{decode, encode_lossy, encode_strict};
use read::Parser;
use write::render;

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
    encode_strict(render(file, true)?, encoding)
}

#[cfg(test)]
mod tests;
