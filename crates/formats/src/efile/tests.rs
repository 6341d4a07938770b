//! Tests of the E-file reader and writer through the public API: the
//! layout, quoting, comments, encodings, vertical blocks and every error.

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
