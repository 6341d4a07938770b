//! Which language a text is in: Simplified Chinese when it holds any CJK
//! ideograph, English otherwise. Answers are given in the question's language.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Lang {
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-CN")]
    Zh,
}

impl Lang {
    /// The short code used in entry ids (`en`, `zh`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// The language tag (`en`, `zh-CN`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    pub fn detect(text: &str) -> Lang {
        if text.chars().any(is_han) {
            Lang::Zh
        } else {
            Lang::En
        }
    }
}

/// A CJK unified ideograph (basic block and extension A).
pub fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_with_any_chinese_character_is_chinese() {
        assert_eq!(Lang::detect("LMP 是什么"), Lang::Zh);
        assert_eq!(Lang::detect("what is an LMP?"), Lang::En);
        assert_eq!(Lang::detect("为什么"), Lang::Zh);
    }
}
