//! Text analysis: a question or an entry becomes the list of terms the index
//! and the variant matcher compare. Three steps, the same for indexing and
//! for asking:
//!
//! 1. **Synonyms.** Domain terms with several names (日前 / day-ahead / DA,
//!    关闸 / 截止, bill / statement, sign in / log in, ...) are replaced by one
//!    canonical term: Chinese runs by substring, English by whole words
//!    (so `rt` never matches inside `start`).
//! 2. **Segmentation.** jieba (`jieba-rs`, search mode, with the canonical
//!    terms and market words added to its dictionary) splits Chinese; English
//!    words are split on anything that is not a letter or a digit.
//! 3. **Normalisation.** Lower case, then the Snowball English stemmer
//!    (tantivy's `Stemmer`), which leaves Chinese words as they are.
use std::sync::{Arc, OnceLock};

use jieba_rs::Jieba;
use tantivy::tokenizer::{
    Language, LowerCaser, Stemmer, TextAnalyzer, TokenStream, WhitespaceTokenizer,
};

use crate::language::{Lang, is_han};

/// Domain synonyms: the canonical term first, then the other names. English
/// phrases are matched as whole words, case-insensitively; hyphens count as
/// blanks (`day-ahead` = `day ahead`).
const EN_SYNONYMS: &[(&str, &[&str])] = &[
    ("dayahead", &["day ahead", "da", "next day", "day before"]),
    ("realtime", &["real time", "rt", "intraday"]),
    (
        "gateclosure",
        &[
            "gate closure",
            "gate close",
            "gate closes",
            "gate closed",
            "gate closing",
            "deadline",
            "cut off",
            "cutoff",
            "window closes",
            "window close",
            "window closing",
        ],
    ),
    (
        "statement",
        &["bill", "bills", "invoice", "invoices", "statements"],
    ),
    (
        "signin",
        &[
            "sign in",
            "signin",
            "log in",
            "login",
            "logon",
            "log on",
            "signing in",
            "logging in",
        ],
    ),
    (
        "totp",
        &[
            "one time password",
            "one time code",
            "otp",
            "2fa",
            "two factor",
            "authenticator",
            "verification code",
        ],
    ),
    ("certificate", &["cert", "certs", "certificates"]),
    (
        "lmp",
        &[
            "locational marginal price",
            "locational marginal prices",
            "nodal price",
            "nodal prices",
            "lmps",
        ],
    ),
    ("deviation", &["imbalance", "deviations", "imbalances"]),
    ("offer", &["offers", "quote", "quotes"]),
    (
        "refuse",
        &[
            "refused",
            "rejected",
            "reject",
            "rejection",
            "denied",
            "declined",
        ],
    ),
    ("efile", &["e file", "e language", "e-file"]),
    (
        "pricecap",
        &["price cap", "price ceiling", "maximum price", "max price"],
    ),
    ("pricefloor", &["price floor", "minimum price", "min price"]),
    ("mw", &["megawatt", "megawatts"]),
    ("password", &["passwords", "passphrase", "pass word"]),
];

/// Chinese synonyms: canonical first; matched as substrings of Chinese runs.
const ZH_SYNONYMS: &[(&str, &[&str])] = &[
    ("日前", &["日前市场", "次日", "前一天"]),
    ("实时", &["实时市场", "现货实时"]),
    (
        "关闸",
        &[
            "申报截止",
            "截止时间",
            "截止",
            "关门",
            "关窗",
            "窗口关闭",
            "闸门关闭",
        ],
    ),
    ("出清", &["撮合", "清算价格计算"]),
    ("结算单", &["账单", "电费单", "对账单", "结算单据"]),
    ("登录", &["登陆", "签到", "登入", "登錄"]),
    (
        "动态口令",
        &[
            "一次性密码",
            "验证码",
            "双因素",
            "双因子",
            "两步验证",
            "二次验证",
        ],
    ),
    ("证书", &["数字证书", "CA证书", "ca证书"]),
    ("节点电价", &["节点边际电价", "边际电价", "LMP", "lmp"]),
    ("偏差", &["偏离", "不平衡"]),
    ("报价", &["报价单", "发电报价"]),
    ("拒绝", &["驳回", "被拒", "不通过", "退回"]),
    ("限价", &["价格上限", "最高价", "上限价", "封顶价"]),
    ("申报", &["提交申报", "报送"]),
    ("机组", &["发电机组", "电机组"]),
];

/// Words added to jieba's dictionary so that they stay whole.
const ZH_WORDS: &[&str] = &[
    "关闸",
    "出清",
    "日前",
    "实时",
    "结算单",
    "动态口令",
    "节点电价",
    "偏差",
    "申报",
    "报价",
    "限价",
    "调频",
    "调峰",
    "断面",
    "联络线",
    "售电公司",
    "默认申报",
    "里程价格",
    "分段",
    "时段",
    "运行日",
    "市场成员",
    "吊销",
    "峰谷",
    "分时电价",
    "套餐",
    "审核",
    "阻塞",
    "需求申报",
    "日附加",
];

/// The analyser: cheap to share, safe to use from many threads.
#[derive(Clone)]
pub struct Analyzer {
    jieba: Arc<Jieba>,
    normaliser: TextAnalyzer,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Analyzer")
    }
}

impl Analyzer {
    /// The process's analyser (jieba's dictionary is loaded once).
    pub fn shared() -> Analyzer {
        static SHARED: OnceLock<Analyzer> = OnceLock::new();
        SHARED.get_or_init(Analyzer::new).clone()
    }

    fn new() -> Analyzer {
        let mut jieba = Jieba::new();
        for w in ZH_WORDS.iter().chain(ZH_SYNONYMS.iter().map(|(c, _)| c)) {
            jieba.add_word(w, Some(100_000), None);
        }
        let normaliser = TextAnalyzer::builder(WhitespaceTokenizer::default())
            .filter(LowerCaser)
            .filter(Stemmer::new(Language::English))
            .build();
        Analyzer {
            jieba: Arc::new(jieba),
            normaliser,
        }
    }

    /// The terms of `text`, in order (repeats kept).
    pub fn terms(&self, text: &str) -> Vec<String> {
        let canonical = canonicalise(text);
        let mut words = String::with_capacity(canonical.len() + 16);
        for t in self.jieba.cut_for_search(&canonical, true) {
            let w = t.word;
            if w.chars().any(|c| c.is_alphanumeric()) {
                words.push_str(w.trim());
                words.push(' ');
            }
        }
        let mut normaliser = self.normaliser.clone();
        let mut stream = normaliser.token_stream(&words);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }
}

/// Step 1: synonyms replaced by their canonical term; punctuation becomes a
/// blank. Chinese runs and other text are handled apart.
pub fn canonicalise(text: &str) -> String {
    let lang = Lang::detect(text);
    let mut out = String::with_capacity(text.len() + 8);
    let mut run = String::new();
    let mut run_is_han = false;
    for c in text.chars() {
        let han = is_han(c);
        if !run.is_empty() && han != run_is_han {
            flush(&mut out, &run, run_is_han, lang);
            run.clear();
        }
        run_is_han = han;
        run.push(c);
    }
    if !run.is_empty() {
        flush(&mut out, &run, run_is_han, lang);
    }
    out
}

fn flush(out: &mut String, run: &str, han: bool, lang: Lang) {
    if han {
        out.push_str(&zh_synonyms(run));
    } else {
        out.push_str(&en_synonyms(run, lang));
    }
    out.push(' ');
}

fn zh_synonyms(run: &str) -> String {
    let mut s = run.to_owned();
    let mut pairs: Vec<(&str, &str)> = ZH_SYNONYMS
        .iter()
        .flat_map(|(c, vs)| vs.iter().map(move |v| (*v, *c)))
        .filter(|(v, _)| v.chars().all(is_han))
        .collect();
    // Longest first, so 申报截止 wins over 截止.
    pairs.sort_by_key(|(v, _)| std::cmp::Reverse(v.chars().count()));
    for (v, c) in pairs {
        if s.contains(v) {
            s = s.replace(v, c);
        }
    }
    s
}

/// Latin words inside a Chinese question take the Chinese canonical term
/// (`LMP是什么` → 节点电价), elsewhere the English one.
fn en_synonyms(run: &str, lang: Lang) -> String {
    let tables: [&[(&str, &[&str])]; 2] = match lang {
        Lang::Zh => [ZH_SYNONYMS, EN_SYNONYMS],
        Lang::En => [EN_SYNONYMS, ZH_SYNONYMS],
    };
    let lowered = run.to_lowercase();
    let words: Vec<&str> = lowered
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut out: Vec<&str> = Vec::with_capacity(words.len());
    let mut i = 0;
    'words: while i < words.len() {
        // Longest phrase first (at most four words).
        for len in (1..=4.min(words.len() - i)).rev() {
            let window = &words[i..i + len];
            for (canonical, names) in tables.iter().flat_map(|t| t.iter()) {
                let hit = names.iter().any(|n| phrase_eq(n, window))
                    || (len == 1 && window[0] == *canonical);
                if hit {
                    out.push(*canonical);
                    i += len;
                    continue 'words;
                }
            }
        }
        out.push(words[i]);
        i += 1;
    }
    out.join(" ")
}

/// Whether the synonym `name` spells the words of `window`.
fn phrase_eq(name: &str, window: &[&str]) -> bool {
    let mut parts = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty());
    for w in window {
        match parts.next() {
            Some(p) if p.eq_ignore_ascii_case(w) => {}
            _ => return false,
        }
    }
    parts.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_synonyms_become_one_canonical_term() {
        let a = Analyzer::shared();
        assert_eq!(a.terms("day-ahead"), a.terms("DA"));
        assert_eq!(
            a.terms("When is the deadline?"),
            a.terms("when is the gate closure")
        );
        assert!(a.terms("log in").contains(&"signin".to_owned()));
    }

    #[test]
    fn short_synonyms_match_only_whole_words() {
        let a = Analyzer::shared();
        assert!(a.terms("start").contains(&"start".to_owned()));
        assert!(!a.terms("start").contains(&"realtim".to_owned()));
    }

    #[test]
    fn chinese_is_segmented_and_synonyms_unified() {
        let a = Analyzer::shared();
        let t = a.terms("今天的申报截止时间是几点？");
        assert!(t.contains(&"关闸".to_owned()), "{t:?}");
        assert!(a.terms("账单").contains(&"结算单".to_owned()));
        assert!(a.terms("LMP是什么").contains(&"节点电价".to_owned()));
    }

    #[test]
    fn english_words_are_stemmed() {
        let a = Analyzer::shared();
        assert_eq!(a.terms("settlements"), a.terms("settlement"));
        assert_eq!(a.terms("declaring"), a.terms("declare"));
    }
}
