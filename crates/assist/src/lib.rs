//! Voltex customer service: members and customers ask in Chinese or English
//! and get an answer from the platform's own documents (a bilingual FAQ
//! knowledge base written from docs/, shipped with the binary) or from their
//! own data (personal intents, within their member), or learn that the
//! question is not known yet, which queues it for the operators.
//!
//! Modules: `knowledge` (entries, the shipped seed, the store table),
//! `language`, `analysis` (synonyms, jieba, stemming), `retrieval` (tantivy
//! BM25 and question-variant matching, the confidence threshold), `personal`
//! (intents answered from the store), `questions` (the unknown-question loop
//! and statistics), `assistant` (the one entry point the server and the CLI
//! call). The method and its measured accuracy: docs/customer-service.md.
mod analysis;
mod assistant;
mod error;
pub mod evaluation;
mod knowledge;
mod language;
mod personal;
mod questions;
mod retrieval;

pub use analysis::Analyzer;
pub use assistant::{Answer, Assistant};
pub use error::AssistError;
pub use knowledge::{
    Approval, FaqEntry, SEED_AUTHOR, all_entries, check_entry, ensure_seeded, seed_entries,
};
pub use language::Lang;
pub use personal::{Asker, PersonalAnswer};
pub use questions::{
    AskedQuestion, OperatorAnswer, Outcome, QueueState, Statistics, down_vote, queue, statistics,
};
pub use retrieval::{CLOSEST, DEFAULT_MARGIN, DEFAULT_THRESHOLD, Hit, Retrieved, Retriever};
