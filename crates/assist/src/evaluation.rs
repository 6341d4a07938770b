//! Measuring the retriever: accuracy on a labelled question set (top-1,
//! top-3, false answers) and a knowledge base scaled up to a given size for
//! the latency benchmark (`voltex bench assist`). The held-out set lives in
//! `tests/data/heldout.toml`; the figures are in docs/customer-service.md.
use serde::{Deserialize, Serialize};

use crate::error::AssistError;
use crate::knowledge::FaqEntry;
use crate::retrieval::Retriever;

/// One labelled question: the topic that answers it, or "" when none does.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Case {
    pub q: String,
    pub expect: String,
}

#[derive(Deserialize)]
struct CaseFile {
    case: Vec<Case>,
}

/// Reads a case file (`[[case]] q = "…" expect = "topic"`).
pub fn parse_cases(toml_text: &str) -> Result<Vec<Case>, AssistError> {
    let f: CaseFile = toml::from_str(toml_text).map_err(|e| AssistError::Invalid {
        field: "case".into(),
        rule: format!("case_file_syntax: {e}"),
        id: "cases".into(),
    })?;
    Ok(f.case)
}

/// The accuracy of a retriever on a case set.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub cases: usize,
    /// Cases some entry should answer.
    pub in_scope: usize,
    /// Cases no entry answers.
    pub out_of_scope: usize,
    /// In-scope cases answered with the expected topic / in_scope.
    pub top1: f64,
    /// In-scope cases whose expected topic is among the closest three.
    pub top3: f64,
    /// Answers given with a wrong topic, or to an out-of-scope case / cases.
    pub false_answer_rate: f64,
    /// Out-of-scope cases answered "not known" / out_of_scope.
    pub not_known_when_unknown: f64,
    /// Each case that was not answered with its expected topic:
    /// (question, expected, answered topic or "-").
    pub misses: Vec<(String, String, String)>,
    /// Every case with the best candidate's topic and score, answered or not
    /// (to choose a threshold on a tuning set).
    pub scored: Vec<(String, String, String, f32)>,
}

/// Runs every case through `retriever`.
pub fn evaluate(retriever: &Retriever, cases: &[Case]) -> Result<Report, AssistError> {
    let (mut in_scope, mut top1, mut top3, mut false_answers, mut oos, mut oos_ok) =
        (0, 0, 0, 0, 0, 0);
    let mut misses = Vec::new();
    let mut scored = Vec::new();
    for c in cases {
        let got = retriever.search(&c.q)?;
        if let Some(top) = got.closest.first() {
            scored.push((c.q.clone(), c.expect.clone(), top.topic.clone(), top.score));
        }
        let answered = got.best.as_ref().map(|h| h.topic.as_str());
        if c.expect.is_empty() {
            oos += 1;
            match answered {
                None => oos_ok += 1,
                Some(t) => {
                    false_answers += 1;
                    misses.push((c.q.clone(), "-".into(), t.to_owned()));
                }
            }
            continue;
        }
        in_scope += 1;
        if answered == Some(c.expect.as_str()) {
            top1 += 1;
        } else {
            if answered.is_some() {
                false_answers += 1;
            }
            misses.push((
                c.q.clone(),
                c.expect.clone(),
                answered.unwrap_or("-").to_owned(),
            ));
        }
        if got.closest.iter().any(|h| h.topic == c.expect) {
            top3 += 1;
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Ok(Report {
        cases: cases.len(),
        in_scope,
        out_of_scope: oos,
        top1: ratio(top1, in_scope),
        top3: ratio(top3, in_scope),
        false_answer_rate: ratio(false_answers, cases.len()),
        not_known_when_unknown: ratio(oos_ok, oos),
        misses,
        scored,
    })
}

/// A knowledge base of `n` entries for the latency benchmark: the shipped
/// entries, then copies of them as new topics whose questions and answers
/// carry distinct made-up words (so the index and its vocabulary grow as a
/// real one would, and no two documents are identical).
pub fn scaled_knowledge_base(seed: &[FaqEntry], n: usize) -> Vec<FaqEntry> {
    let mut out: Vec<FaqEntry> = seed.iter().take(n).cloned().collect();
    let mut k = 0usize;
    while out.len() < n {
        let base = &seed[k % seed.len()];
        let copy = k / seed.len() + 1;
        let word = synthetic_word(k);
        let topic = format!("{}-x{copy}", base.topic);
        let mut e = base.clone();
        e.id = FaqEntry::id_of(&topic, base.lang);
        e.topic = topic;
        e.questions = base
            .questions
            .iter()
            .map(|q| format!("{q} {word}"))
            .collect();
        e.answer = format!("{} {word}", base.answer);
        out.push(e);
        k += 1;
    }
    out
}

/// A pronounceable made-up word, different for every `k`.
fn synthetic_word(mut k: usize) -> String {
    const C: &[u8] = b"bcdfghjklmnprstvz";
    const V: &[u8] = b"aeiou";
    let mut w = String::from("q");
    loop {
        w.push(C[k % C.len()] as char);
        k /= C.len();
        w.push(V[k % V.len()] as char);
        k /= V.len();
        if k == 0 {
            break;
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::seed_entries;

    #[test]
    fn a_scaled_knowledge_base_has_the_size_asked_and_unique_ids() {
        let kb = scaled_knowledge_base(&seed_entries().unwrap(), 1000);
        assert_eq!(kb.len(), 1000);
        let ids: std::collections::HashSet<&str> = kb.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids.len(), 1000);
    }

    #[test]
    fn made_up_words_differ() {
        let words: std::collections::HashSet<String> = (0..5000).map(synthetic_word).collect();
        assert_eq!(words.len(), 5000);
    }
}
