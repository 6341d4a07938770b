//! The short forms of the throughput benches, run against the built
//! `voltex` as a reviewer runs them: `bench crash` kills its server twice
//! during a few seconds of load and finds every acknowledged declaration
//! stored with its receipt; `bench load` ends with its one summary line.
//! The full forms (more kills, 500 connections) are `voltex bench …` runs
//! whose figures live in docs/performance.md.
use std::process::{Command, Output};

fn voltex(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_voltex"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("VOLTEX_FIELD_KEYS")
        .env_remove("VOLTEX_FIELD_KEYS_FILE")
        .output()
        .unwrap()
}

/// The last line of stdout, after checking the command succeeded.
fn last_line(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.lines().last().unwrap_or_default().to_owned()
}

/// `key=value` of a summary line, parsed.
fn field(line: &str, key: &str) -> u64 {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= in {line}"))
        .parse()
        .unwrap_or_else(|e| panic!("{key} in {line}: {e}"))
}

#[test]
fn every_acknowledged_declaration_survives_two_kills_of_the_server() {
    let out = voltex(&[
        "bench",
        "crash",
        "--kills",
        "2",
        "--backend",
        "sqlite",
        "--connections",
        "8",
        "--members",
        "2",
        "--units",
        "8",
        "--traders",
        "2",
        "--min-gap",
        "1",
        "--max-gap",
        "1.5",
    ]);
    let line = last_line(&out);
    assert!(
        line.starts_with("bench crash: kills=2 acknowledged="),
        "{line}"
    );
    assert!(field(&line, "acknowledged") > 0, "{line}");
    assert_eq!(field(&line, "lost"), 0, "{line}");
}

#[test]
fn bench_load_ends_with_its_summary_line_and_loses_nothing() {
    let out = voltex(&[
        "bench",
        "load",
        "--seconds",
        "2",
        "--connections",
        "4",
        "--backend",
        "sqlite",
        "--members",
        "2",
        "--units",
        "4",
        "--traders",
        "2",
        "--noop-seconds",
        "1",
    ]);
    let line = last_line(&out);
    assert!(
        line.starts_with("bench load: backend=sqlite accepted_per_s="),
        "{line}"
    );
    assert!(field(&line, "accepted_per_s") > 0, "{line}");
    assert!(field(&line, "noop_per_s") > 0, "{line}");
    assert_eq!(field(&line, "lost"), 0, "{line}");
}
