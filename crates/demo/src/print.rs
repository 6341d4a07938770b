//! What `voltex demo` prints: the day's summary and the signatures line.
//! Printing only; the steps that produce the figures are elsewhere.
use crate::SigningChannel;
use crate::summary::DemoSummary;
use std::path::Path;

/// The day's summary: members, units, the locked declarations, the hourly
/// balance, clearing, regulation, publications, statements and stored rows.
pub(crate) fn day(s: &DemoSummary, dir: &Path) {
    println!(
        "Voltex demo: trading day of session {} ({} intervals), now {}",
        s.session_id, s.intervals, s.session_state
    );
    println!();
    println!("Members");
    println!("  {:<14} {:<20} {:<10}", "id", "kind", "status");
    for (id, kind, status) in &s.members {
        println!(
            "  {:<14} {:<20} {:<10}",
            id,
            format!("{kind:?}"),
            status.to_string()
        );
    }
    println!();
    println!("Units");
    println!(
        "  {:<10} {:<10} {:<8} {:>5} {:>8} {:>8} {:>10}",
        "id", "owner", "tech", "bus", "pmin MW", "pmax MW", "ramp MW/m"
    );
    for u in &s.units {
        println!(
            "  {:<10} {:<10} {:<8} {:>5} {:>8.1} {:>8.1} {:>10.2}",
            u.id,
            u.member_id,
            format!("{:?}", u.technology),
            u.bus,
            u.pmin_mw,
            u.pmax_mw,
            u.ramp_up_mw_per_min
        );
    }
    println!();
    println!("Declarations locked at gate closure (latest versions)");
    println!(
        "  {:<12} {:<14} {:<20} {:>3} {:>18} {:>9}",
        "member", "kind", "subject", "ver", "price yuan/MWh", "peak MW"
    );
    for d in &s.declarations {
        let price = match (d.min_price, d.max_price) {
            (Some(a), Some(b)) => format!("{a:.1}-{b:.1}"),
            _ => "price-taking".to_owned(),
        };
        let price = if d.kind == "daily_extras" {
            "-".to_owned()
        } else {
            price
        };
        println!(
            "  {:<12} {:<14} {:<20} {:>3} {:>18} {:>9.1}",
            d.member_id, d.kind, d.subject, d.version, price, d.peak_mw
        );
    }
    if !s.refused_example.is_empty() {
        println!();
        println!("A mistaken offer was refused and nothing was stored:");
        for l in &s.refused_example {
            println!("  {l}");
        }
    }
    println!();
    println!("Hourly balance (average of the hour's intervals)");
    println!(
        "  {:<22} {:>12} {:>10} {:>8}",
        "hour starting", "offered MW", "bid MW", "margin"
    );
    for h in &s.hours {
        println!(
            "  {:<22} {:>12.1} {:>10.1} {:>7.0}%",
            h.label,
            h.offered_mw,
            h.bid_mw,
            100.0 * (h.offered_mw / h.bid_mw - 1.0)
        );
    }
    if !s.review_example.is_empty() {
        println!();
        println!("Operator review of an implausible revision:");
        for l in &s.review_example {
            println!("  {l}");
        }
    }
    for c in &s.clearing {
        println!();
        println!(
            "Clearing {} (run v{}, input sha256 {}…)",
            c.session_id,
            c.run_version,
            &c.fingerprint[..12.min(c.fingerprint.len())]
        );
        println!(
            "  LMP yuan/MWh: min {:.2}  mean {:.2}  max {:.2}   objective {:.0}",
            c.min_lmp, c.mean_lmp, c.max_lmp, c.objective
        );
        let buses: Vec<String> = c
            .bus_mean_lmp
            .iter()
            .map(|(b, p)| format!("bus {b}: {p:.2}"))
            .collect();
        println!("  mean LMP by bus: {}", buses.join(", "));
        if c.binding.is_empty() {
            println!("  binding constraints: none");
        } else {
            println!(
                "  binding constraints: {} ({} branch-intervals)",
                c.binding.join(", "),
                c.binding_intervals
            );
        }
        if !c.defaults.is_empty() {
            println!("  default offers applied: {}", c.defaults.join(", "));
        }
        for w in c.warnings.iter().take(3) {
            println!("  warning: {w}");
        }
    }
    if !s.regulation.is_empty() {
        println!();
        println!("Frequency regulation auction {}", s.regulation);
    }
    println!();
    println!(
        "Published for the day-ahead session: {} public items, {} for members or one member",
        s.publications.0, s.publications.1
    );
    println!();
    println!("Settlement statements (yuan; + received, - paid)");
    println!(
        "  {:<14} {:>14} {:>14} {:>14}",
        "member", "day-ahead", "real-time", "total"
    );
    for st in s.statements.iter().filter(|x| x.residual.is_none()) {
        println!(
            "  {:<14} {:>14.2} {:>14.2} {:>14.2}",
            st.member_id, st.da_total, st.rt_total, st.total
        );
    }
    if let Some(r) = s.statements.iter().find_map(|x| x.residual.as_ref()) {
        println!(
            "  {:<14} {:>14.2} {:>14.2} {:>14.2}",
            "operator", r.day_ahead_residual, r.real_time_residual, r.total_residual
        );
        println!(
            "  balance: members {:.2} + operator {:.2} = {:.2}; day-ahead congestion rent (shadow price x flow) {:.2}",
            r.members_total,
            r.total_residual,
            r.members_total + r.total_residual,
            r.day_ahead_congestion_rent
        );
    }
    println!("Notifications sent to members: {}", s.notifications);
    println!();
    let rows: Vec<String> = s
        .rows_stored
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    println!("Stored rows (all versions): {}", rows.join(", "));
    println!(
        "Store: {} (sensitive rows encrypted with the published demo key) — browse it with `voltex serve --demo-field-key --data-dir {}`",
        dir.display(),
        dir.display()
    );
}

/// How many members signed and how many declarations were accepted signed.
pub(crate) fn signatures(channel: &SigningChannel, ca_dir: &Path) {
    println!(
        "\nEvery declaration above was signed: {} members got trader certificates from the demo CA ({}); \
         {} declarations were accepted with their signatures stored and receipts sealed.",
        channel.members(),
        ca_dir.display(),
        channel.receipts()
    );
}
