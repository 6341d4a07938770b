//! Run the pricing experiments and the benchmark without the full `voltex`
//! binary (useful when only this crate is built):
//! `cargo run --release -p voltex-pricing --example pricing_experiments -- <classify|convergence|comfort-sweep|risk-sweep|community|scale|bench> [out-dir]`.
//! `voltex pricing experiment NAME` and `voltex bench pricing` call the same library functions.
use std::path::PathBuf;
use std::time::Instant;

use voltex_pricing::experiments::{self, SolveOptions};
use voltex_pricing::tou::TouPrices;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map(String::as_str).unwrap_or("classify");
    let out = PathBuf::from(args.get(2).map(String::as_str).unwrap_or("pricing-output"));
    let t = Instant::now();
    if name == "extract" {
        use voltex_pricing::data;
        let household = voltex_formats::datadir::shared_data_file(data::HOUSEHOLD_SHARED_FILE)
            .ok_or("no shared household data")?;
        let prices = voltex_formats::datadir::shared_data_file(data::NSW1_SHARED_FILE)
            .ok_or("no shared NSW1 data")?;
        std::fs::create_dir_all(&out)?;
        let keep: Vec<_> = data::read_aer_survey(&household)?
            .into_iter()
            .filter(|d| {
                let s = d.date.format("%Y-%m-%d").to_string();
                ("2013-01-05".."2013-01-19").contains(&s.as_str())
                    || ("2013-07-05".."2013-07-19").contains(&s.as_str())
            })
            .collect();
        data::write_household_extract(&keep, &out.join("household_days_hourly_extract.csv"))?;
        data::write_price_extract(
            &data::read_nsw1_hourly_rrp(&prices, 2017)?,
            &out.join("nsw1_2017_hourly_rrp.csv"),
        )?;
        println!("{} household-days", keep.len());
        return Ok(());
    }
    let inputs = experiments::load_inputs(1)?;
    eprintln!(
        "inputs loaded and classified in {:.2} s ({} days, {})",
        t.elapsed().as_secs_f64(),
        inputs.days.len(),
        inputs.days_source
    );
    let progress = |done: u64, total: u64, msg: &str| eprint!("\r{done}/{total} {msg}          ");
    let opts = experiments::experiment_options(1);
    let opts = SolveOptions {
        users: std::env::var("USERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(opts.users),
        ..opts
    };
    let summary = match name {
        "classify" => {
            let c = &inputs.classification;
            println!("{:?}", c.xie_beni_by_count);
            for cl in &c.clusters {
                println!("{cl:?}");
            }
            println!("{:?}", c.validation);
            return Ok(());
        }
        "convergence" => experiments::convergence(&inputs, &opts, &out, &progress)?,
        "comfort-sweep" => experiments::comfort_sweep(&inputs, &opts, &out, &progress)?,
        "risk-sweep" => experiments::risk_sweep(&inputs, &opts, &out, &progress)?,
        "community" => experiments::community(&inputs, &opts, &out, &progress)?,
        "scale" => experiments::scale(
            &inputs,
            &experiments::scale_options(1),
            365,
            &out,
            &progress,
        )?,
        "solve" => {
            // The default market of `voltex pricing solve` (SEED, default 7).
            let seed = std::env::var("SEED")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(7);
            let opts = SolveOptions {
                seed,
                ..SolveOptions::default()
            };
            let (market, report) = experiments::solve(&inputs, &opts, &progress)?;
            eprintln!();
            for r in &report.rounds {
                println!(
                    "round {}: largest regret {:.2} yuan/day ({:.3} %), move {:.4}, GA {} + polish {} evaluations",
                    r.round,
                    r.max_regret,
                    r.max_regret_pct,
                    r.max_price_move,
                    r.responses.iter().map(|b| b.ga.evaluations).sum::<usize>(),
                    r.responses
                        .iter()
                        .map(|b| b.polish_evaluations)
                        .sum::<usize>()
                );
            }
            for (k, p) in market.prices().iter().enumerate() {
                println!(
                    "seller {k}: {:.4} {:.4} {:.4} customers {:.1} regret {:.3} %",
                    p.peak_per_kwh,
                    p.flat_per_kwh,
                    p.valley_per_kwh,
                    market.customers()[k],
                    report.certificate.regret_pct[k]
                );
            }
            println!(
                "equilibrium: converged={} rounds={} max_regret_pct={:.3} seconds={:.2}",
                report.converged,
                report.rounds.len(),
                report.certificate.max_regret_pct(),
                t.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        "bench" => {
            let market = experiments::build_market(
                &inputs,
                &SolveOptions {
                    users: 5000,
                    sellers: 1,
                    ..opts
                },
            )?;
            let mut times = Vec::new();
            for _ in 0..50 {
                let t = Instant::now();
                market.evaluate_candidate(0, &TouPrices::new(1.6, 1.2, 0.8))?;
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
            times.sort_by(f64::total_cmp);
            println!(
                "fitness 5000 users: median {:.3} ms min {:.3} ms",
                times[25], times[0]
            );
            let t = Instant::now();
            let (_, report) =
                experiments::solve(&inputs, &experiments::scale_options(1), &progress)?;
            println!(
                "\nequilibrium 5000x10: {:.2} s, rounds {}, converged {}",
                t.elapsed().as_secs_f64(),
                report.rounds.len(),
                report.converged
            );
            return Ok(());
        }
        other => return Err(format!("unknown experiment {other}").into()),
    };
    eprintln!();
    for l in summary.lines {
        println!("{l}");
    }
    for f in summary.files {
        println!("  {}", f.display());
    }
    println!("total {:.1} s", t.elapsed().as_secs_f64());
    Ok(())
}
