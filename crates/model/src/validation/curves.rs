//! The rules every price–quantity curve and capacity meets: segment count,
//! positive widths, prices within floor and cap, monotone prices, and
//! capacities within the unit's pmax. Used by [`super::validate_declaration`].
use crate::declaration::OfferSegment;
use crate::error::{Violation, Violations};
use crate::params::MarketParameters;
use crate::resource::GeneratingUnit;

#[derive(Clone, Copy)]
pub(super) enum Monotone {
    NonDecreasing,
    NonIncreasing,
}

pub(super) fn check_segments(
    v: &mut Violations,
    p: &MarketParameters,
    path: &str,
    segments: &[OfferSegment],
    monotone: Monotone,
) {
    if segments.is_empty() || segments.len() > p.max_segments {
        v.push(Violation::new(
            path,
            "segment_count",
            segments.len(),
            format!(
                "a curve has 1 to {} segments; got {}",
                p.max_segments,
                segments.len()
            ),
        ));
    }
    for (j, s) in segments.iter().enumerate() {
        if !(s.quantity_mw.is_finite() && s.quantity_mw > 0.0) {
            v.push(Violation::new(
                format!("{path}[{j}].quantity_mw"),
                "quantity_positive",
                s.quantity_mw,
                "segment width must be > 0 MW",
            ));
        }
        check_price(v, p, &format!("{path}[{j}].price"), s.price);
        if j > 0 {
            let prev = segments[j - 1].price;
            let (bad, rule, word) = match monotone {
                Monotone::NonDecreasing => (s.price < prev, "monotone_non_decreasing", "below"),
                Monotone::NonIncreasing => (s.price > prev, "monotone_non_increasing", "above"),
            };
            if bad {
                v.push(Violation::new(
                    format!("{path}[{j}].price"),
                    rule,
                    s.price,
                    format!("price {} is {word} the previous segment's {prev}", s.price),
                ));
            }
        }
    }
}

pub(super) fn check_price(v: &mut Violations, p: &MarketParameters, field: &str, price: f64) {
    if price > p.price_cap {
        v.push(Violation::new(
            field,
            "price_within_cap",
            price,
            format!("price {price} is above the cap {}", p.price_cap),
        ));
    } else if price < p.price_floor {
        v.push(Violation::new(
            field,
            "price_within_floor",
            price,
            format!("price {price} is below the floor {}", p.price_floor),
        ));
    }
}

pub(super) fn check_capacity(
    v: &mut Violations,
    unit: Option<&GeneratingUnit>,
    field: &str,
    mw: f64,
) {
    if !(mw.is_finite() && mw > 0.0) {
        v.push(Violation::new(
            field,
            "quantity_positive",
            mw,
            "capacity must be > 0 MW",
        ));
    } else if let Some(u) = unit
        && mw > u.pmax_mw + 1e-9
    {
        v.push(Violation::new(
            field,
            "within_pmax",
            mw,
            format!("capacity exceeds the unit's pmax {} MW", u.pmax_mw),
        ));
    }
}
