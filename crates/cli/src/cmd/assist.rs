//! `voltex ask` (a question to the customer-service assistant) and `voltex
//! assist …` (the operators' side: the unknown-question queue, drafts,
//! approval, statistics, the held-out evaluation), and `voltex bench assist`.
//! This module parses, calls voltex-assist and prints, in the question's
//! language.
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use voltex_assist::evaluation::{evaluate, parse_cases, scaled_knowledge_base};
use voltex_assist::{
    Answer, Asker, Assistant, Lang, OperatorAnswer, Retriever, queue, seed_entries, statistics,
};

use voltex_market::Market;

use super::platform::{StoreArgs, runtime};

#[derive(Debug, clap::Args)]
pub struct AskArgs {
    /// The question, in Chinese or English.
    pub question: String,
    /// Print the answer as JSON.
    #[arg(long)]
    pub json: bool,
    /// Do not record the question for the operators' queue and statistics.
    #[arg(long)]
    pub no_record: bool,
    /// Ask as this market member: questions about its own data (its
    /// declarations in review, its statements) are answered from them.
    #[arg(long, value_name = "MEMBER_ID")]
    pub member: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// The assistant over a store, with the market service it answers
/// personal questions through.
async fn open_assistant(store: &StoreArgs) -> anyhow::Result<Assistant> {
    let market = Market::open(store.open().await?)
        .await
        .context("opening the market")?;
    Assistant::open(market)
        .await
        .context("opening the knowledge base")
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// The unknown and down-voted questions waiting for an operator.
    Queue {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Answer a queued question: becomes a draft entry in its language.
    Answer {
        /// The queued question's id (from `voltex assist queue`).
        #[arg(long)]
        question: String,
        /// Topic of the new entry (lowercase ASCII and dashes).
        #[arg(long)]
        topic: String,
        #[arg(long)]
        answer: String,
        /// The operator writing the answer.
        #[arg(long)]
        operator: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Approve a draft entry (by another operator than its author); it is
    /// answered from then on.
    Approve {
        #[arg(long)]
        entry: String,
        #[arg(long)]
        operator: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Hit rate and the most asked unknown questions.
    Stats {
        #[arg(long, default_value_t = 10)]
        top: usize,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Top-1, top-3 and false-answer rate of the shipped knowledge base on a
    /// labelled case file (the held-out set by default).
    Evaluate {
        /// A case file (`[[case]] q = "…" expect = "topic"`).
        #[arg(long)]
        cases: Option<PathBuf>,
        /// List every miss.
        #[arg(long)]
        verbose: bool,
        /// List every case with its best candidate and score (threshold tuning).
        #[arg(long)]
        scores: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Entries in the knowledge base (the shipped ones, then scaled copies).
    #[arg(long, default_value_t = 10_000)]
    pub entries: usize,
    /// Questions timed (the held-out set, repeated).
    #[arg(long, default_value_t = 2_000)]
    pub questions: usize,
}

const HELDOUT: &str = include_str!("../../../assist/tests/data/heldout.toml");

pub fn ask(args: AskArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let assistant = open_assistant(&args.store).await?;
        let actor = match &args.member {
            Some(m) => Some(
                assistant
                    .market()
                    .actor(m)
                    .await
                    .with_context(|| format!("--member {m}"))?,
            ),
            None => None,
        };
        let asker = Asker {
            user: "cli".into(),
            member_id: args.member.clone(),
            actor,
            retail: None,
            record: !args.no_record,
        };
        let answer = assistant.ask(&args.question, &asker).await?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&answer)?);
        } else {
            print!("{}", render(&answer));
        }
        Ok(())
    })
}

/// The answer as text, in the question's language.
fn render(a: &Answer) -> String {
    let zh = a.lang == Lang::Zh;
    let mut out = String::new();
    if let Some(p) = &a.personal {
        out.push_str(&p.text);
        out.push('\n');
    } else if let Some(h) = &a.best {
        if zh {
            out.push_str(&format!(
                "常见问题 {}（得分 {:.2}）：{}\n{}\n",
                h.id, h.score, h.question, h.answer
            ));
        } else {
            out.push_str(&format!(
                "FAQ {} (score {:.2}): {}\n{}\n",
                h.id, h.score, h.question, h.answer
            ));
        }
    } else if zh {
        out.push_str("暂时无法回答这个问题，已转交运营人员。最相近的条目：\n");
    } else {
        out.push_str(
            "I do not know the answer to this yet; the question was passed to the operators. Closest entries:\n",
        );
    }
    let others: Vec<_> = a
        .closest
        .iter()
        .filter(|h| a.best.as_ref().is_none_or(|b| b.id != h.id))
        .collect();
    if a.best.is_some() && !others.is_empty() {
        out.push_str(if zh {
            "相关条目：\n"
        } else {
            "Related entries:\n"
        });
    }
    for h in others {
        out.push_str(&format!("  - {} ({:.2}): {}\n", h.id, h.score, h.question));
    }
    if a.best.is_none() && a.personal.is_none() && a.closest.is_empty() {
        out.push_str(if zh { "  （无）\n" } else { "  (none)\n" });
    }
    out
}

pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Evaluate {
            cases,
            verbose,
            scores,
        } => evaluate_cmd(cases, verbose, scores),
        Command::Queue { json, store } => runtime()?.block_on(async {
            let store = store.open().await?;
            let open = queue(&store).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&open)?);
            } else {
                println!("{} question(s) waiting", open.len());
                for q in open {
                    let closest: Vec<String> = q
                        .closest
                        .iter()
                        .map(|(id, s)| format!("{id} {s:.2}"))
                        .collect();
                    println!(
                        "{}  [{}{}] {}  (closest: {})",
                        q.id,
                        q.lang.tag(),
                        if q.down_voted { ", down-voted" } else { "" },
                        q.question,
                        closest.join(", ")
                    );
                }
            }
            Ok(())
        }),
        Command::Answer {
            question,
            topic,
            answer,
            operator,
            store,
        } => runtime()?.block_on(async {
            let assistant = open_assistant(&store).await?;
            let e = assistant
                .answer_queued(
                    &question,
                    &operator,
                    &OperatorAnswer {
                        topic,
                        answer,
                        more_questions: vec![],
                        tags: vec![],
                    },
                )
                .await?;
            println!("draft entry {} written; another operator approves it with `voltex assist approve --entry {}`", e.id, e.id);
            Ok(())
        }),
        Command::Approve {
            entry,
            operator,
            store,
        } => runtime()?.block_on(async {
            let assistant = open_assistant(&store).await?;
            let e = assistant.approve(&entry, &operator).await?;
            println!("entry {} approved by {operator}; it is answered from now on", e.id);
            Ok(())
        }),
        Command::Stats { top, json, store } => runtime()?.block_on(async {
            let s = statistics(&store.open().await?, top).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                println!(
                    "asked {}  answered {}  not known {}  down-voted {}  hit rate {:.1} %  open in queue {}",
                    s.asked,
                    s.answered,
                    s.not_known,
                    s.down_voted,
                    100.0 * s.hit_rate,
                    s.open_in_queue
                );
                for (q, n) in s.top_unknown {
                    println!("  {n:>4}  {q}");
                }
            }
            Ok(())
        }),
    }
}

fn evaluate_cmd(cases: Option<PathBuf>, verbose: bool, scores: bool) -> anyhow::Result<()> {
    let text = match &cases {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
        }
        None => HELDOUT.to_owned(),
    };
    let cases = parse_cases(&text)?;
    let r = Retriever::build(&seed_entries()?)?;
    let report = evaluate(&r, &cases)?;
    println!(
        "cases {} (in scope {}, out of scope {}): top-1 {:.1} %, top-3 {:.1} %, false answers {:.1} %, out-of-scope answered \"not known\" {:.1} %",
        report.cases,
        report.in_scope,
        report.out_of_scope,
        100.0 * report.top1,
        100.0 * report.top3,
        100.0 * report.false_answer_rate,
        100.0 * report.not_known_when_unknown
    );
    if verbose {
        for (q, want, got) in &report.misses {
            println!("  miss: {q}  expected {want}  answered {got}");
        }
    }
    if scores {
        for (q, want, top, score) in &report.scored {
            let mark = if want == top { "ok " } else { "-- " };
            println!(
                "  {mark}{score:.3}  expected {}  best {top}  {q}",
                if want.is_empty() { "-" } else { want }
            );
        }
    }
    Ok(())
}

/// `voltex bench assist`: retrieval latency over a knowledge base of
/// `--entries` entries (index build not timed).
pub fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let seed = seed_entries()?;
    let kb = scaled_knowledge_base(&seed, args.entries);
    let t = Instant::now();
    let r = Retriever::build(&kb)?;
    let build = t.elapsed();
    let cases = parse_cases(HELDOUT)?;
    // Warm up (jieba's dictionary, the index's first reads).
    for c in cases.iter().take(20) {
        r.search(&c.q)?;
    }
    let mut lat = Vec::with_capacity(args.questions);
    for i in 0..args.questions {
        let q = &cases[i % cases.len()].q;
        let t = Instant::now();
        r.search(q)?;
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat[((p * lat.len() as f64).ceil() as usize).clamp(1, lat.len()) - 1];
    println!(
        "assist retrieval: {} entries indexed in {:.2} s; {} questions: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        r.len(),
        build.as_secs_f64(),
        lat.len(),
        pct(0.50),
        pct(0.95),
        pct(0.99),
        lat.last().copied().unwrap_or(0.0)
    );
    Ok(())
}
