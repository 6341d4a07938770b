//! Property tests of the E-file reader and writer: every file written reads
//! back identically in UTF-8 and in GBK, and the reader never panics.

use proptest::prelude::*;
use voltex_formats::efile::{EBlock, EFile, Encoding, parse, try_write, write};

/// Text GBK can encode: ASCII letters, digits, punctuation including the
/// quote and `/`, blanks, and common CJK characters (U+4E00..U+9FA5).
const TEXT: &str = "[a-zA-Z0-9 \t.,:;=_/'!<>#@\\-\u{4e00}-\u{9fa5}]{0,10}";
const NAME: &str = "[A-Za-z\u{4e00}-\u{9fa5}][A-Za-z0-9_\u{4e00}-\u{9fa5}]{0,6}";

fn arb_block() -> impl Strategy<Value = EBlock> {
    let entity = prop_oneof![Just(String::new()), NAME.prop_map(String::from)];
    let attributes = proptest::collection::vec((NAME, TEXT), 0..3);
    (
        "[A-Za-z][A-Za-z0-9_]{0,8}",
        entity,
        attributes,
        proptest::collection::vec(TEXT, 0..5),
    )
        .prop_flat_map(|(class, entity, attributes, columns)| {
            let width = columns.len();
            let rows = proptest::collection::vec(proptest::collection::vec(TEXT, width), 0..4);
            (
                Just(class),
                Just(entity),
                Just(attributes),
                Just(columns),
                rows,
            )
        })
        .prop_map(|(class, entity, attributes, columns, rows)| EBlock {
            class,
            entity,
            attributes,
            columns,
            rows,
        })
}

/// A file whose header names `encoding` (or, for UTF-8, sometimes none).
fn arb_file(encoding: Encoding) -> impl Strategy<Value = EFile> {
    let header = proptest::collection::vec((NAME, TEXT), 0..4).prop_map(|entries| {
        entries
            .into_iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("code") && !k.eq_ignore_ascii_case("charset"))
            .collect::<Vec<_>>()
    });
    (
        header,
        any::<bool>(),
        proptest::collection::vec(arb_block(), 0..4),
    )
        .prop_map(move |(mut header, declare, blocks)| {
            if declare || encoding == Encoding::Gbk {
                header.push(("Code".into(), encoding.as_str().into()));
            }
            EFile { header, blocks }
        })
}

proptest! {
    #[test]
    fn utf8_file_reads_back_identically(file in arb_file(Encoding::Utf8)) {
        let bytes = try_write(&file, Encoding::Utf8).unwrap();
        prop_assert_eq!(&bytes, &write(&file, Encoding::Utf8));
        prop_assert_eq!(parse(&bytes).unwrap(), file);
    }

    #[test]
    fn gbk_file_reads_back_identically(file in arb_file(Encoding::Gbk)) {
        let bytes = try_write(&file, Encoding::Gbk).unwrap();
        prop_assert_eq!(parse(&bytes).unwrap(), file);
    }

    #[test]
    fn reader_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn reader_never_panics_on_mangled_files(
        file in arb_file(Encoding::Utf8),
        cut in 0usize..400,
        junk in "[ '<>/@#!=:\u{4e00}a\n]{0,5}",
    ) {
        let text = String::from_utf8(write(&file, Encoding::Utf8)).unwrap();
        let mut at = cut.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let mangled = format!("{}{junk}{}", &text[..at], &text[at..]);
        let _ = parse(mangled.as_bytes());
    }
}
