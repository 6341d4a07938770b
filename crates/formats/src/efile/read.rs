//! Parsing the decoded text of an E-file into an [`EFile`]: the header,
//! the blocks with their `@`/`#` (or vertical `@@`/`##`) rows, quoting and
//! comments, with the line and column of every error. Knows nothing of
//! bytes (see `encoding`) or of what the blocks mean.

use super::{BlockLines, EBlock, EFile, EFileError};

/// A field of a line and the 1-based column where it starts.
#[derive(Debug)]
struct Field {
    column: usize,
    text: String,
}

/// A `key=value` entry of the header or of an opening tag.
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) key: String,
    pub(super) value: String,
    pub(super) value_column: usize,
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
pub(super) fn header_entries(
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
pub(super) struct Parser {
    header: Option<Vec<(String, String)>>,
    blocks: Vec<EBlock>,
    lines: Vec<BlockLines>,
    open: Option<OpenBlock>,
}

impl Parser {
    pub(super) fn run(mut self, text: &str) -> Result<(EFile, Vec<BlockLines>), EFileError> {
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
