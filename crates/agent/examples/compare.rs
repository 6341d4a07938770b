//! The same study as `voltex agent compare`, runnable without building the
//! whole platform CLI: `cargo run -p voltex-agent --example compare -- <market> <seeds> <updates> [out]`.

use voltex_agent::compare::{CompareConfig, CompareEvent, compare};
use voltex_agent::{
    EnvConfig, ExtractorKind, Market, MarketSeries, PreparedMarket, Split, default_device,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let market: Market = args.get(1).map_or("isone", String::as_str).parse()?;
    let seeds: u64 = args.get(2).map_or(Ok(5), |s| s.parse())?;
    let updates: usize = args.get(3).map_or(Ok(3000), |s| s.parse())?;
    let out = args
        .get(4)
        .cloned()
        .unwrap_or_else(|| format!("docs/agent/{}", market.name()));
    let extractors: Vec<ExtractorKind> = match args.get(5) {
        Some(list) => list.split(',').map(str::parse).collect::<Result<_, _>>()?,
        None => ExtractorKind::ALL.to_vec(),
    };
    let series = MarketSeries::load_shared(market)?;
    let prepared = PreparedMarket::new(series, EnvConfig::for_market(market), Split::Train)?;
    let cfg = CompareConfig {
        seeds: (0..seeds).collect(),
        updates,
        extractors,
        checkpoint_dir: None,
    };
    let t0 = std::time::Instant::now();
    let report = compare(&prepared, &cfg, &default_device(), &mut |e| match e {
        CompareEvent::RunStarted {
            extractor,
            seed,
            run,
            runs,
        } => {
            eprintln!(
                "[{run}/{runs}] {} seed {seed} ({:.0} s elapsed)",
                extractor.label(),
                t0.elapsed().as_secs_f64()
            )
        }
        CompareEvent::Training(p) => {
            if let Some(v) = p.validation_profit {
                eprintln!(
                    "  update {:>6}: validation profit {v:.0} (best {:.0})",
                    p.updates_done, p.best_validation_profit
                )
            }
        }
        CompareEvent::RunFinished {
            extractor,
            seed,
            test_profit,
        } => {
            eprintln!(
                "  {} seed {seed}: test profit {test_profit:.0}",
                extractor.label()
            )
        }
    })?;
    let files = report.write(std::path::Path::new(&out))?;
    println!("{}", report.markdown_table());
    for f in files {
        println!("wrote {}", f.display());
    }
    Ok(())
}
