//! The assistant as the server and the command line use it: the store, the
//! index of its approved entries, and one call per thing a user or an
//! operator does. Personal intents are tried first (`personal`), then the
//! knowledge base; every question is recorded for the unknown-question loop.
use serde::Serialize;
use voltex_market::Market;
use voltex_retail::Retail;
use voltex_store::Store;

use crate::error::AssistError;
use crate::knowledge::{FaqEntry, all_entries, ensure_seeded};
use crate::language::Lang;
use crate::personal::{self, Asker, PersonalAnswer, Sources};
use crate::questions::{self, OperatorAnswer, Outcome};
use crate::retrieval::{Hit, Retriever};

/// What a question got.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// The recorded question's id (to down-vote it), when it was recorded.
    pub question_id: Option<String>,
    /// The question's language; the answer is in it.
    pub lang: Lang,
    /// `answer`, `personal` or `not_known`.
    pub kind: &'static str,
    /// The knowledge-base entry that answers, if one does.
    pub best: Option<Hit>,
    /// The answer from the asker's own data, if a personal intent matched.
    pub personal: Option<PersonalAnswer>,
    /// The closest entries, best first.
    pub closest: Vec<Hit>,
}

/// The knowledge base over one store, indexed, and the market and retail
/// services personal intents are answered through.
#[derive(Debug)]
pub struct Assistant {
    sources: Sources,
    retriever: Retriever,
}

impl Assistant {
    /// Seeds the market's store with the shipped entries it lacks and
    /// indexes every approved entry.
    pub async fn open(market: Market) -> Result<Assistant, AssistError> {
        let store = market.store().clone();
        ensure_seeded(&store).await?;
        let entries: Vec<FaqEntry> = all_entries(&store)
            .await?
            .into_iter()
            .map(|r| r.value)
            .collect();
        let retriever = Retriever::build(&entries)?;
        let sources = Sources {
            market,
            retail: Retail::new(store),
        };
        Ok(Assistant { sources, retriever })
    }

    pub fn retriever(&self) -> &Retriever {
        &self.retriever
    }

    pub fn store(&self) -> &Store {
        self.sources.store()
    }

    /// The market service personal intents are answered through.
    pub fn market(&self) -> &Market {
        &self.sources.market
    }

    /// Answers `question` for `asker`: from their own data when a personal
    /// intent matches, else from the knowledge base, else "not known" with
    /// the closest entries. Recorded when `asker.record`.
    pub async fn ask(&self, question: &str, asker: &Asker) -> Result<Answer, AssistError> {
        check_question(question)?;
        let found = self.retriever.search(question)?;
        let personal = personal::answer(&self.sources, question, found.lang, asker).await?;
        let (kind, outcome) = match (&personal, &found.best) {
            (Some(p), _) => (
                "personal",
                Outcome::Personal {
                    intent: p.intent.to_owned(),
                },
            ),
            (None, Some(h)) => (
                "answer",
                Outcome::Answered {
                    entry_id: h.id.clone(),
                    score: h.score,
                },
            ),
            (None, None) => ("not_known", Outcome::NotKnown),
        };
        let question_id = if asker.record {
            let closest = found
                .closest
                .iter()
                .map(|h| (h.id.clone(), h.score))
                .collect();
            let q = questions::record(
                self.store(),
                question,
                &asker.user,
                asker.member_id.as_deref(),
                outcome,
                closest,
            )
            .await?;
            Some(q.id)
        } else {
            None
        };
        Ok(Answer {
            question_id,
            lang: found.lang,
            kind,
            best: if personal.is_some() { None } else { found.best },
            personal,
            closest: found.closest,
        })
    }

    /// The personal answer to `question` as of `now`, if a personal intent
    /// matches and the asker has the identity it needs (nothing recorded).
    pub async fn personal_answer_at(
        &self,
        question: &str,
        asker: &Asker,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<PersonalAnswer>, AssistError> {
        check_question(question)?;
        personal::answer_at(&self.sources, question, Lang::detect(question), asker, now).await
    }

    /// An operator's answer to a queued question becomes a draft entry.
    pub async fn answer_queued(
        &self,
        question_id: &str,
        operator: &str,
        answer: &OperatorAnswer,
    ) -> Result<FaqEntry, AssistError> {
        questions::draft_from_answer(self.store(), question_id, operator, answer).await
    }

    /// Approves a draft; it is answered from the next question on.
    pub async fn approve(&self, entry_id: &str, approver: &str) -> Result<FaqEntry, AssistError> {
        let e = questions::approve(self.store(), entry_id, approver).await?;
        self.retriever.upsert(&e)?;
        Ok(e)
    }
}

/// The longest question the assistant takes, in characters: a question is
/// a sentence or two; a page of text is not a question and is not recorded.
pub const MAX_QUESTION_CHARS: usize = 500;

/// A question must hold a letter or digit and be at most
/// [`MAX_QUESTION_CHARS`] characters long.
pub fn check_question(question: &str) -> Result<(), AssistError> {
    let invalid = |rule: &str| AssistError::Invalid {
        field: "question".into(),
        rule: rule.into(),
        id: "-".into(),
    };
    if question.chars().count() > MAX_QUESTION_CHARS {
        return Err(invalid("at_most_500_characters"));
    }
    if !question.chars().any(char::is_alphanumeric) {
        return Err(invalid("not_blank"));
    }
    Ok(())
}

#[cfg(test)]
mod question_rules {
    use super::*;

    #[test]
    fn a_question_over_500_characters_or_without_a_word_is_refused_naming_the_field() {
        assert!(check_question("when does the gate close?").is_ok());
        assert!(check_question(&"问".repeat(500)).is_ok());
        for bad in ["x".repeat(501), "  ?! ".to_string(), String::new()] {
            match check_question(&bad) {
                Err(AssistError::Invalid { field, .. }) => assert_eq!(field, "question"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
