//! The documents people read: every statement as CSV and a printable HTML
//! page, the day-ahead energy offers as an E-file, and the day-ahead
//! clearing result with its LMP chart, under `<store>/reports`.
use crate::DemoSummary;
use anyhow::Context;
use std::path::Path;
use voltex_market::Market;
use voltex_market::settlement::{statement_csv, statement_html};

/// Writes what people read as documents: every statement as CSV and a
/// printable HTML page, the day-ahead energy offers as an E-file, and the
/// day-ahead LMP chart.
pub async fn write(
    market: &Market,
    summary: &DemoSummary,
    day: chrono::NaiveDate,
    dir: &Path,
) -> anyhow::Result<()> {
    let op = market.operator().await?;
    let out = dir.join("reports");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    for st in market.statements(&op, day).await? {
        let stem = out.join(format!("statement-{}", st.value.member_id));
        std::fs::write(stem.with_extension("csv"), statement_csv(&st.value))?;
        std::fs::write(stem.with_extension("html"), statement_html(&st.value))?;
    }
    let efile = market
        .export_declarations(
            &op,
            &summary.session_id,
            voltex_model::DeclarationKind::EnergyOffer,
            voltex_market::files::FileFormat::Efile,
            voltex_formats::efile::Encoding::Utf8,
        )
        .await?;
    std::fs::write(
        out.join(format!("{}-energy-offers.e", summary.session_id)),
        efile,
    )?;
    let run = market.clearing_run(&op, &summary.session_id).await?;
    run.value
        .result
        .write_to_dir(&out.join("day-ahead-clearing"))
        .context("writing the day-ahead clearing result")?;
    println!(
        "Reports (statements as HTML/CSV, the offers as an E-file, clearing results and LMP chart): {}",
        out.display()
    );
    Ok(())
}
