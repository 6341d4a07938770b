//! The unknown-question loop. Every question asked is recorded
//! (`assist_questions`, migrations/0011) with what it got; the ones not known
//! and the ones the asker marked unhelpful are the operators' queue, with the
//! closest entries as context. An operator's answer becomes a draft entry;
//! another operator's approval makes it searchable at once (the caller puts
//! it into the [`Retriever`](crate::Retriever)). Statistics: hit rate and
//! the most asked unknown questions.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use voltex_store::{Entity, Record, Store};

use crate::error::AssistError;
use crate::knowledge::{Approval, FaqEntry, check_entry};
use crate::language::Lang;

/// What a recorded question got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// An entry answered it.
    Answered { entry_id: String, score: f32 },
    /// No entry was sure enough (or a personal intent could not answer it).
    NotKnown,
    /// A personal intent answered it from the asker's own data.
    Personal { intent: String },
}

/// Where a recorded question stands for the operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueState {
    /// Answered well enough: not in the queue.
    Closed,
    /// Waiting for an operator.
    Open,
    /// An operator wrote a draft entry for it.
    Drafted,
}

/// One question asked, with its context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AskedQuestion {
    pub id: String,
    pub question: String,
    pub lang: Lang,
    /// The signed-in user, or `cli` for `voltex ask`.
    pub asked_by: String,
    pub member_id: Option<String>,
    pub asked_at: DateTime<Utc>,
    pub outcome: Outcome,
    /// The closest entries and their scores, for the operator.
    pub closest: Vec<(String, f32)>,
    /// The asker said the answer did not help.
    pub down_voted: bool,
    pub state: QueueState,
    /// The draft entry an operator wrote for it.
    pub draft_entry: Option<String>,
}

impl Entity for AskedQuestion {
    const TABLE: &'static str = "assist_questions";
    const NAME: &'static str = "asked question";
    // Free text a user typed: may hold personal data.
    const SENSITIVE: bool = true;
    fn entity_id(&self) -> String {
        self.id.clone()
    }
}

/// The id of a question asked at `at`: time, process and a counter, unique
/// within a process and ordered by time across processes.
fn question_id(at: DateTime<Utc>) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "q-{}-{}-{n:06}",
        at.format("%Y%m%dT%H%M%S%6f"),
        std::process::id()
    )
}

/// Records a question and what it got; an unknown question opens in the
/// queue.
pub async fn record(
    store: &Store,
    question: &str,
    asked_by: &str,
    member_id: Option<&str>,
    outcome: Outcome,
    closest: Vec<(String, f32)>,
) -> Result<AskedQuestion, AssistError> {
    let asked_at = Utc::now();
    let state = if outcome == Outcome::NotKnown {
        QueueState::Open
    } else {
        QueueState::Closed
    };
    let q = AskedQuestion {
        id: question_id(asked_at),
        question: question.trim().to_owned(),
        lang: Lang::detect(question),
        asked_by: asked_by.to_owned(),
        member_id: member_id.map(str::to_owned),
        asked_at,
        outcome,
        closest,
        down_voted: false,
        state,
        draft_entry: None,
    };
    store.insert(&q).await?;
    Ok(q)
}

async fn latest(store: &Store, id: &str) -> Result<Record<AskedQuestion>, AssistError> {
    store
        .get::<AskedQuestion>(id)
        .await?
        .ok_or_else(|| AssistError::NotFound {
            what: "asked question",
            id: id.to_owned(),
        })
}

/// The asker says the answer did not help: the question joins the queue.
/// Only the asker may vote on their question.
pub async fn down_vote(store: &Store, id: &str, voter: &str) -> Result<AskedQuestion, AssistError> {
    let rec = latest(store, id).await?;
    if rec.value.asked_by != voter {
        // Another user's question answers as if it did not exist.
        return Err(AssistError::NotFound {
            what: "asked question",
            id: id.to_owned(),
        });
    }
    let mut q = rec.value;
    q.down_voted = true;
    if q.state == QueueState::Closed {
        q.state = QueueState::Open;
    }
    store.append(&q, rec.version).await?;
    Ok(q)
}

/// The operators' queue: open questions, oldest first.
pub async fn queue(store: &Store) -> Result<Vec<AskedQuestion>, AssistError> {
    let mut open: Vec<AskedQuestion> = store
        .list::<AskedQuestion>()
        .await?
        .into_iter()
        .map(|r| r.value)
        .filter(|q| q.state == QueueState::Open)
        .collect();
    open.sort_by(|a, b| a.asked_at.cmp(&b.asked_at).then_with(|| a.id.cmp(&b.id)));
    Ok(open)
}

/// An operator's answer to a queued question.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OperatorAnswer {
    /// The new entry's topic (lowercase ASCII and dashes).
    pub topic: String,
    pub answer: String,
    /// More ways to ask it, besides the queued question itself.
    #[serde(default)]
    pub more_questions: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Turns an operator's answer into a draft entry in the question's language
/// and takes the question out of the queue. A topic that exists in that
/// language is refused (edit it instead).
pub async fn draft_from_answer(
    store: &Store,
    question_id: &str,
    operator: &str,
    answer: &OperatorAnswer,
) -> Result<FaqEntry, AssistError> {
    let rec = latest(store, question_id).await?;
    let mut q = rec.value;
    if q.state != QueueState::Open {
        return Err(AssistError::Conflict(format!(
            "question {question_id} is not in the queue"
        )));
    }
    let mut questions = vec![q.question.clone()];
    questions.extend(answer.more_questions.iter().cloned());
    let entry = FaqEntry {
        id: FaqEntry::id_of(&answer.topic, q.lang),
        topic: answer.topic.clone(),
        lang: q.lang,
        questions,
        answer: answer.answer.trim().to_owned(),
        tags: answer.tags.clone(),
        source: format!("operator answer to {question_id}"),
        author: operator.to_owned(),
        approval: Approval::Draft,
        approved_by: None,
    };
    check_entry(&entry)?;
    if store.get::<FaqEntry>(&entry.id).await?.is_some() {
        return Err(AssistError::Conflict(format!(
            "entry {} exists already",
            entry.id
        )));
    }
    store.insert(&entry).await?;
    q.state = QueueState::Drafted;
    q.draft_entry = Some(entry.id.clone());
    store.append(&q, rec.version).await?;
    Ok(entry)
}

/// Approves a draft entry (a new version). The approver must not be its
/// author: an answer goes out only after a second operator read it.
pub async fn approve(
    store: &Store,
    entry_id: &str,
    approver: &str,
) -> Result<FaqEntry, AssistError> {
    let rec = store
        .get::<FaqEntry>(entry_id)
        .await?
        .ok_or_else(|| AssistError::NotFound {
            what: "FAQ entry",
            id: entry_id.to_owned(),
        })?;
    let mut e = rec.value;
    if e.approval != Approval::Draft {
        return Err(AssistError::Conflict(format!(
            "entry {entry_id} is {}, not a draft",
            e.approval.as_str()
        )));
    }
    if e.author == approver {
        return Err(AssistError::Invalid {
            field: "approved_by".into(),
            rule: "not_the_author".into(),
            id: entry_id.to_owned(),
        });
    }
    e.approval = Approval::Approved;
    e.approved_by = Some(approver.to_owned());
    store.append(&e, rec.version).await?;
    Ok(e)
}

/// How the assistant is doing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statistics {
    pub asked: usize,
    /// Answered from the knowledge base or the asker's data.
    pub answered: usize,
    pub not_known: usize,
    pub down_voted: usize,
    /// answered / asked (0 when nothing was asked).
    pub hit_rate: f64,
    pub open_in_queue: usize,
    /// The most asked unknown questions (normalised text, times asked).
    pub top_unknown: Vec<(String, usize)>,
}

/// Statistics over every recorded question.
pub async fn statistics(store: &Store, top: usize) -> Result<Statistics, AssistError> {
    let all: Vec<AskedQuestion> = store
        .list::<AskedQuestion>()
        .await?
        .into_iter()
        .map(|r| r.value)
        .collect();
    let not_known = all
        .iter()
        .filter(|q| q.outcome == Outcome::NotKnown)
        .count();
    let mut unknown: BTreeMap<String, usize> = BTreeMap::new();
    for q in all.iter().filter(|q| q.outcome == Outcome::NotKnown) {
        *unknown.entry(normalised(&q.question)).or_default() += 1;
    }
    let mut top_unknown: Vec<(String, usize)> = unknown.into_iter().collect();
    top_unknown.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top_unknown.truncate(top);
    let asked = all.len();
    Ok(Statistics {
        asked,
        answered: asked - not_known,
        not_known,
        down_voted: all.iter().filter(|q| q.down_voted).count(),
        hit_rate: if asked == 0 {
            0.0
        } else {
            (asked - not_known) as f64 / asked as f64
        },
        open_in_queue: all.iter().filter(|q| q.state == QueueState::Open).count(),
        top_unknown,
    })
}

/// Lower case, punctuation dropped, blanks collapsed: the same question
/// typed twice counts once in the top list.
fn normalised(q: &str) -> String {
    q.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
