//! The tuning set (tests/data/tuning.toml) and the entries' own non-canonical
//! variants: what the weights and the threshold were chosen on. Run with
//! `--nocapture` to see every score. Floors keep the tuned behaviour.
use voltex_assist::evaluation::{Case, evaluate, parse_cases};
use voltex_assist::{Retriever, seed_entries};

const TUNING: &str = include_str!("data/tuning.toml");

#[test]
fn the_tuning_set_and_the_entries_variants_are_answered() {
    let entries = seed_entries().unwrap();
    let r = Retriever::build(&entries).unwrap();
    let mut cases = parse_cases(TUNING).unwrap();
    for e in &entries {
        for q in e.questions.iter().skip(1) {
            cases.push(Case {
                q: q.clone(),
                expect: e.topic.clone(),
            });
        }
    }
    let report = evaluate(&r, &cases).unwrap();
    for (q, want, top, score) in &report.scored {
        let mark = if want == top { "ok" } else { "--" };
        eprintln!("{mark} {score:.3} expected {want:<28} best {top:<28} {q}");
    }
    eprintln!(
        "top1 {:.3} top3 {:.3} false {:.3} not-known-when-unknown {:.3}",
        report.top1, report.top3, report.false_answer_rate, report.not_known_when_unknown
    );
    assert!(report.top1 >= 0.95, "top-1 {}", report.top1);
    assert!(
        report.false_answer_rate <= 0.02,
        "false {}",
        report.false_answer_rate
    );
}
