//! The knowledge base: FAQ entries (question variants, answer, tags,
//! language, author, approval state) stored as versioned records in the
//! `faq_entries` table (migrations/0011). The seeded entries are written from
//! the project's own docs and ship inside the binary (`knowledge/faq.toml`);
//! [`ensure_seeded`] stores those a store does not hold yet, so a fresh data
//! directory answers at once. Operators' drafts and approvals are new
//! versions of the same records; only approved entries are searched.
use serde::{Deserialize, Serialize};
use voltex_store::{Entity, Record, Store};

use crate::error::AssistError;
use crate::language::Lang;

/// The seeded knowledge base, as shipped.
const SEED_TOML: &str = include_str!("../knowledge/faq.toml");

/// The author recorded on every seeded entry.
pub const SEED_AUTHOR: &str = "voltex-docs";

/// Where an entry stands in the operators' review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    /// Written (by an operator answering an unknown question); not searched.
    Draft,
    /// Approved: searched and answered.
    Approved,
    /// Withdrawn: kept in history, not searched.
    Retired,
}

impl Approval {
    pub fn as_str(self) -> &'static str {
        match self {
            Approval::Draft => "draft",
            Approval::Approved => "approved",
            Approval::Retired => "retired",
        }
    }
}

/// One FAQ entry in one language. The same `topic` in the other language is
/// a separate entry (`<topic>.en`, `<topic>.zh`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaqEntry {
    /// `<topic>.<lang>`.
    pub id: String,
    pub topic: String,
    pub lang: Lang,
    /// Ways people ask it; the first is the canonical question.
    pub questions: Vec<String>,
    pub answer: String,
    pub tags: Vec<String>,
    /// The document the answer was written from (path and section).
    pub source: String,
    pub author: String,
    pub approval: Approval,
    /// Who approved it (seeded entries: the docs' author).
    pub approved_by: Option<String>,
}

impl FaqEntry {
    /// The id of `topic` in `lang`.
    pub fn id_of(topic: &str, lang: Lang) -> String {
        format!("{topic}.{}", lang.code())
    }
}

impl Entity for FaqEntry {
    const TABLE: &'static str = "faq_entries";
    const NAME: &'static str = "FAQ entry";
    // Public help text written from the public docs: no prices, amounts or
    // personal data.
    const SENSITIVE: bool = false;
    fn entity_id(&self) -> String {
        self.id.clone()
    }
}

#[derive(Deserialize)]
struct SeedFile {
    entry: Vec<SeedTopic>,
}

#[derive(Deserialize)]
struct SeedTopic {
    topic: String,
    source: String,
    #[serde(default)]
    tags: Vec<String>,
    en: SeedText,
    zh: SeedText,
}

#[derive(Deserialize)]
struct SeedText {
    questions: Vec<String>,
    answer: String,
}

/// The shipped entries, both languages of every topic, approved.
pub fn seed_entries() -> Result<Vec<FaqEntry>, AssistError> {
    let file: SeedFile = toml::from_str(SEED_TOML).map_err(|e| AssistError::Seed(e.to_string()))?;
    let mut out = Vec::with_capacity(file.entry.len() * 2);
    for t in file.entry {
        for (lang, text) in [(Lang::En, t.en), (Lang::Zh, t.zh)] {
            let entry = FaqEntry {
                id: FaqEntry::id_of(&t.topic, lang),
                topic: t.topic.clone(),
                lang,
                questions: text.questions,
                answer: text.answer.trim().to_owned(),
                tags: t.tags.clone(),
                source: t.source.clone(),
                author: SEED_AUTHOR.to_owned(),
                approval: Approval::Approved,
                approved_by: Some(SEED_AUTHOR.to_owned()),
            };
            check_entry(&entry)?;
            out.push(entry);
        }
    }
    Ok(out)
}

/// The rules every entry obeys, each refusal naming the field and the rule.
pub fn check_entry(e: &FaqEntry) -> Result<(), AssistError> {
    let bad = |field: &str, rule: &str| {
        Err(AssistError::Invalid {
            field: field.to_owned(),
            rule: rule.to_owned(),
            id: e.id.clone(),
        })
    };
    let topic_ok = !e.topic.is_empty()
        && e.topic.len() <= 64
        && e.topic
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !topic_ok {
        return bad("topic", "lowercase_ascii_dashes_1_to_64");
    }
    if e.id != FaqEntry::id_of(&e.topic, e.lang) {
        return bad("id", "topic_dot_lang");
    }
    if e.questions.is_empty() || e.questions.iter().any(|q| q.trim().is_empty()) {
        return bad("questions", "at_least_one_non_empty");
    }
    if e.answer.trim().is_empty() {
        return bad("answer", "non_empty");
    }
    if e.author.trim().is_empty() {
        return bad("author", "non_empty");
    }
    Ok(())
}

/// Stores every shipped entry the store does not hold yet (first version,
/// approved); entries already there, edited by operators or not, are left
/// as they are. Answers how many were added.
pub async fn ensure_seeded(store: &Store) -> Result<usize, AssistError> {
    let mut added = 0;
    for e in seed_entries()? {
        let (_, created) = store.insert_once(&e).await?;
        added += usize::from(created);
    }
    Ok(added)
}

/// The latest version of every entry.
pub async fn all_entries(store: &Store) -> Result<Vec<Record<FaqEntry>>, AssistError> {
    Ok(store.list::<FaqEntry>().await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn the_shipped_knowledge_base_has_sixty_topics_in_both_languages() {
        let entries = seed_entries().unwrap();
        let mut by_topic: BTreeMap<&str, Vec<Lang>> = BTreeMap::new();
        for e in &entries {
            by_topic.entry(&e.topic).or_default().push(e.lang);
        }
        assert!(by_topic.len() >= 60, "{} topics", by_topic.len());
        for (topic, langs) in by_topic {
            assert_eq!(langs, vec![Lang::En, Lang::Zh], "{topic}");
        }
    }

    #[test]
    fn every_shipped_entry_is_written_in_its_own_language() {
        for e in seed_entries().unwrap() {
            for q in &e.questions {
                assert_eq!(Lang::detect(q), e.lang, "{}: {q}", e.id);
            }
            assert_eq!(Lang::detect(&e.answer), e.lang, "{}", e.id);
            assert!(
                e.source.starts_with("docs/") || e.source.starts_with("crates/"),
                "{}: {}",
                e.id,
                e.source
            );
        }
    }

    #[test]
    fn an_entry_without_questions_is_refused_naming_the_field() {
        let mut e = seed_entries().unwrap().remove(0);
        e.questions.clear();
        let err = check_entry(&e).unwrap_err().to_string();
        assert!(err.contains("questions") && err.contains("at_least_one_non_empty"));
    }
}
