//! Offers and bids from files (JSON or CSV) applied to a clearing input.
//! Schemas (also in docs/clearing.md):
//!
//! JSON: `{"units": [Unit, ...], "demand_bids": [DemandBid, ...]}` with the
//! field names of [`crate::Unit`] and [`crate::DemandBid`]. A unit whose `id`
//! matches an existing unit (e.g. `gen3` from a case) replaces it; others are
//! added. Demand bids are added.
//!
//! CSV: header `kind,id,bus,interval,quantity_mw,price_per_mwh`; `kind` is
//! `offer` or `bid`; rows of one id are its segments in file order; an empty
//! `interval` means every interval, otherwise 1..T. An offer for an existing
//! unit id replaces that unit's step offer (its pmin, pmax and ramps stay);
//! an offer for a new id creates a unit with pmin 0 and pmax = the largest
//! per-interval sum of its segments. This module does not solve.

use serde::Deserialize;

use crate::error::{ClearingError, InputProblem};
use crate::input::{BidSegment, ClearingInput, DemandBid, OfferSegment, Unit};

#[derive(Debug, Deserialize)]
struct OffersJson {
    #[serde(default)]
    units: Vec<Unit>,
    #[serde(default)]
    demand_bids: Vec<DemandBid>,
}

fn refused(element: &str, rule: String) -> ClearingError {
    ClearingError::InvalidInput(vec![InputProblem::new(element, rule)])
}

/// Apply a JSON offers document.
pub fn apply_offers_json(input: &mut ClearingInput, text: &str) -> Result<(), ClearingError> {
    let doc: OffersJson = serde_json::from_str(text)
        .map_err(|e| refused("offers file", format!("invalid JSON: {e}")))?;
    for unit in doc.units {
        match input.units.iter_mut().find(|u| u.id == unit.id) {
            Some(existing) => *existing = unit,
            None => input.units.push(unit),
        }
    }
    input.demand_bids.extend(doc.demand_bids);
    Ok(())
}

#[derive(Debug)]
struct CsvRow {
    line: usize,
    kind: String,
    id: String,
    bus: u32,
    interval: Option<usize>,
    quantity_mw: f64,
    price_per_mwh: f64,
}

/// Apply a CSV offers document.
pub fn apply_offers_csv(input: &mut ClearingInput, text: &str) -> Result<(), ClearingError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| refused("offers CSV", e.to_string()))?
        .clone();
    let want = [
        "kind",
        "id",
        "bus",
        "interval",
        "quantity_mw",
        "price_per_mwh",
    ];
    let col = |name: &str| headers.iter().position(|h| h == name);
    let idx: Vec<usize> = want
        .iter()
        .map(|n| {
            col(n).ok_or_else(|| {
                refused(
                    "offers CSV header",
                    format!("missing column {n:?} (need {})", want.join(",")),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let t_count = input.intervals;
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| refused(&format!("offers CSV line {line}"), e.to_string()))?;
        let get = |k: usize| rec.get(idx[k]).unwrap_or("");
        let num = |k: usize| -> Result<f64, ClearingError> {
            get(k).parse::<f64>().map_err(|_| {
                refused(
                    &format!("offers CSV line {line}"),
                    format!("{} = {:?} is not a number", want[k], get(k)),
                )
            })
        };
        let kind = get(0).to_ascii_lowercase();
        if kind != "offer" && kind != "bid" {
            return Err(refused(
                &format!("offers CSV line {line}"),
                format!("kind must be offer or bid, got {:?}", get(0)),
            ));
        }
        let bus = get(2).parse::<u32>().map_err(|_| {
            refused(
                &format!("offers CSV line {line}"),
                format!("bus = {:?} is not a bus number", get(2)),
            )
        })?;
        let interval = if get(3).is_empty() {
            None
        } else {
            let v = get(3)
                .parse::<usize>()
                .ok()
                .filter(|v| (1..=t_count).contains(v));
            Some(v.ok_or_else(|| {
                refused(
                    &format!("offers CSV line {line}"),
                    format!("interval = {:?} must be empty or 1..{t_count}", get(3)),
                )
            })?)
        };
        rows.push(CsvRow {
            line,
            kind,
            id: get(1).to_string(),
            bus,
            interval,
            quantity_mw: num(4)?,
            price_per_mwh: num(5)?,
        });
    }
    let mut ids: Vec<(String, String)> = Vec::new();
    for r in &rows {
        if !ids.iter().any(|(k, i)| *k == r.kind && *i == r.id) {
            ids.push((r.kind.clone(), r.id.clone()));
        }
    }
    for (kind, id) in ids {
        let mine: Vec<&CsvRow> = rows
            .iter()
            .filter(|r| r.kind == kind && r.id == id)
            .collect();
        let bus = mine[0].bus;
        if let Some(r) = mine.iter().find(|r| r.bus != bus) {
            return Err(refused(
                &format!("offers CSV line {}", r.line),
                format!(
                    "{kind} {id} is at bus {bus} on an earlier line, here at bus {}",
                    r.bus
                ),
            ));
        }
        let per_interval: Vec<Vec<(f64, f64)>> = (1..=t_count)
            .map(|t| {
                mine.iter()
                    .filter(|r| r.interval.is_none_or(|i| i == t))
                    .map(|r| (r.quantity_mw, r.price_per_mwh))
                    .collect()
            })
            .collect();
        let uniform = per_interval.windows(2).all(|w| w[0] == w[1]);
        if kind == "offer" {
            let segs: Vec<Vec<OfferSegment>> = per_interval
                .iter()
                .map(|v| {
                    v.iter()
                        .map(|&(q, p)| OfferSegment {
                            quantity_mw: q,
                            price_per_mwh: p,
                        })
                        .collect()
                })
                .collect();
            let (offer, by_interval) = if uniform {
                (segs[0].clone(), None)
            } else {
                (vec![], Some(segs.clone()))
            };
            match input.units.iter_mut().find(|u| u.id == id) {
                Some(u) => {
                    if u.bus != bus {
                        return Err(refused(
                            &format!("offers CSV, offer {id}"),
                            format!("unit {id} is at bus {}, the file says bus {bus}", u.bus),
                        ));
                    }
                    u.offer = offer;
                    u.offer_by_interval = by_interval;
                }
                None => {
                    let pmax = segs
                        .iter()
                        .map(|s| s.iter().map(|x| x.quantity_mw).sum::<f64>())
                        .fold(0.0, f64::max);
                    input.units.push(Unit {
                        id: id.clone(),
                        bus,
                        pmin_mw: 0.0,
                        pmax_mw: pmax,
                        ramp_up_mw: None,
                        ramp_down_mw: None,
                        initial_output_mw: None,
                        status: vec![],
                        must_run: false,
                        offer,
                        offer_by_interval: by_interval,
                        quadratic_cost: None,
                    });
                }
            }
        } else {
            let segs: Vec<Vec<BidSegment>> = per_interval
                .iter()
                .map(|v| {
                    v.iter()
                        .map(|&(q, p)| BidSegment {
                            quantity_mw: q,
                            price_per_mwh: p,
                        })
                        .collect()
                })
                .collect();
            let (segments, by_interval) = if uniform {
                (segs[0].clone(), None)
            } else {
                (vec![], Some(segs))
            };
            input.demand_bids.push(DemandBid {
                id,
                bus,
                segments,
                segments_by_interval: by_interval,
            });
        }
    }
    Ok(())
}
