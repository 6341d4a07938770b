//! Why a bill differs from the month before: the two latest bills of a
//! customer compared line by line (by line code), with the energy, the
//! average price and the deviation charge. What the customer service says
//! to "why is my bill higher than last month" is written from this; the
//! figures are the bills' own (integer fen and Wh), nothing is re-rated.
use serde::Serialize;

use crate::money::{Fen, PricePerKwh, Wh, div_round};
use crate::month::Month;
use crate::rating::Invoice;

/// One line code on either bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineChange {
    /// The line's stable code (`energy`, `deviation`, `td`, ...).
    pub code: String,
    /// The latest bill's description of it (else the earlier one's).
    pub description: String,
    pub previous: Fen,
    pub now: Fen,
    pub previous_wh: Option<Wh>,
    pub now_wh: Option<Wh>,
}

impl LineChange {
    pub fn difference(&self) -> Fen {
        self.now - self.previous
    }
}

/// A bill against the one of the month before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BillChange {
    pub customer_id: String,
    pub month: Month,
    pub previous_month: Month,
    pub total: Fen,
    pub previous_total: Fen,
    pub energy_wh: Wh,
    pub previous_energy_wh: Wh,
    /// Total over energy, in 0.01 fen/kWh (none without energy).
    pub average_price: Option<PricePerKwh>,
    pub previous_average_price: Option<PricePerKwh>,
    /// VAT of each month (not a line of the bill).
    pub vat: Fen,
    pub previous_vat: Fen,
    /// The deviation charge of each month (energy outside the band).
    pub deviation_charge: Fen,
    pub previous_deviation_charge: Fen,
    /// Every line code on either bill, the largest change first; with the
    /// change of VAT they add up to the change of the total.
    pub lines: Vec<LineChange>,
}

impl BillChange {
    pub fn difference(&self) -> Fen {
        self.total - self.previous_total
    }
}

/// Total per kWh: `total × 100 000 / Wh` in 0.01 fen/kWh.
fn average(total: Fen, wh: Wh) -> Option<PricePerKwh> {
    (wh > 0).then(|| PricePerKwh(div_round(total.0 as i128 * 100_000, wh as i128) as i64))
}

/// Compares `now` with `previous` (the same customer's earlier bill).
pub fn compare(previous: &Invoice, now: &Invoice) -> BillChange {
    let mut lines: Vec<LineChange> = Vec::new();
    for (is_now, inv) in [(false, previous), (true, now)] {
        for l in &inv.lines {
            let i = match lines.iter().position(|c| c.code == l.code) {
                Some(i) => i,
                None => {
                    lines.push(LineChange {
                        code: l.code.clone(),
                        description: l.description.clone(),
                        previous: Fen(0),
                        now: Fen(0),
                        previous_wh: None,
                        now_wh: None,
                    });
                    lines.len() - 1
                }
            };
            let c = &mut lines[i];
            let add_wh = |acc: Option<Wh>| match (acc, l.quantity_wh) {
                (None, q) => q,
                (Some(a), q) => Some(a + q.unwrap_or(0)),
            };
            if is_now {
                c.description = l.description.clone();
                c.now += l.amount;
                c.now_wh = add_wh(c.now_wh);
            } else {
                c.previous += l.amount;
                c.previous_wh = add_wh(c.previous_wh);
            }
        }
    }
    lines.sort_by_key(|c| (std::cmp::Reverse(c.difference().0.abs()), c.code.clone()));
    BillChange {
        customer_id: now.customer_id.clone(),
        month: now.month,
        previous_month: previous.month,
        total: now.total,
        previous_total: previous.total,
        energy_wh: now.energy_wh,
        previous_energy_wh: previous.energy_wh,
        average_price: average(now.total, now.energy_wh),
        previous_average_price: average(previous.total, previous.energy_wh),
        vat: now.vat,
        previous_vat: previous.vat,
        deviation_charge: now.deviation.charge,
        previous_deviation_charge: previous.deviation.charge,
        lines,
    }
}
