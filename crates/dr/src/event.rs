//! Events: a window in which a program asks its resources to move load,
//! made by the operator or retailer ([`Event::new`]) or derived from
//! day-ahead prices ([`price_windows`], [`events_from_prices`]); opt-in and
//! opt-out before the deadline ([`EventBook`]), each refusal its own error
//! and leaving the book unchanged; and the dispatch of a target across the
//! resources that opted in ([`allocate`]).
//!
//! Must not: measure performance (that is `settlement`), nor read meters.
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use voltex_model::money::{PricePerKwh, div_round};
use voltex_model::{Violation, Violations};

use crate::baseline::Window;
use crate::error::{DrError, Result};
use crate::program::Program;
use crate::resource::{Direction, Resource};

/// A resource's answer to an invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptIn {
    pub resource_id: String,
    pub at: NaiveDateTime,
    /// The price the resource asks per kWh, for merit-order dispatch.
    pub offered_price: PricePerKwh,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub program_id: String,
    pub direction: Direction,
    /// Local wall-clock start (inclusive) and end (exclusive).
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    /// When the resources were told.
    pub notified_at: NaiveDateTime,
    /// The last moment to opt in or out.
    pub opt_deadline: NaiveDateTime,
    /// The load change asked of the portfolio, kW.
    pub target_kw: i64,
    /// Resource id → opt-in.
    pub opt_ins: BTreeMap<String, OptIn>,
}

impl Event {
    /// An event of `program` with its rules checked: start before end,
    /// notified no later than the deadline, deadline no later than start,
    /// target above 0.
    pub fn new(
        id: impl Into<String>,
        program: &Program,
        start: NaiveDateTime,
        end: NaiveDateTime,
        notified_at: NaiveDateTime,
        opt_deadline: NaiveDateTime,
        target_kw: i64,
    ) -> Result<Event> {
        let mut v = Vec::new();
        if end <= start {
            v.push(Violation::new(
                "end",
                "after_start",
                end.to_string(),
                "an event ends after it starts",
            ));
        }
        if opt_deadline > start {
            v.push(Violation::new(
                "opt_deadline",
                "not_after_start",
                opt_deadline.to_string(),
                "resources must answer before the event starts",
            ));
        }
        if notified_at > opt_deadline {
            v.push(Violation::new(
                "notified_at",
                "not_after_opt_deadline",
                notified_at.to_string(),
                "resources must be told before the deadline to answer",
            ));
        }
        if target_kw <= 0 {
            v.push(Violation::new(
                "target_kw",
                "positive",
                target_kw,
                "an event asks for some kW",
            ));
        }
        if !v.is_empty() {
            return Err(Violations::from(v).into());
        }
        Ok(Event {
            id: id.into(),
            program_id: program.id.clone(),
            direction: program.kind.direction(),
            start,
            end,
            notified_at,
            opt_deadline,
            target_kw,
            opt_ins: BTreeMap::new(),
        })
    }

    pub fn duration_minutes(&self) -> i64 {
        (self.end - self.start).num_minutes()
    }

    pub fn notice_minutes(&self) -> i64 {
        (self.start - self.notified_at).num_minutes()
    }

    pub fn day(&self) -> NaiveDate {
        self.start.date()
    }

    /// The event's intervals within its day, for `interval_minutes` data;
    /// the end is clipped at midnight.
    pub fn window(&self, interval_minutes: u32) -> Window {
        let m = interval_minutes as i64;
        let from_midnight =
            |t: NaiveDateTime| (t - self.day().and_time(Default::default())).num_minutes();
        let slots = 24 * 60 / m;
        Window {
            start_slot: (from_midnight(self.start) / m) as usize,
            end_slot: ((from_midnight(self.end) + m - 1) / m).min(slots) as usize,
        }
    }
}

fn month_key(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// The events of one program owner, and who has opted in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventBook {
    pub events: BTreeMap<String, Event>,
}

impl EventBook {
    pub fn create(&mut self, event: Event) -> Result<()> {
        if self.events.contains_key(&event.id) {
            return Err(DrError::AlreadyExists {
                what: "event",
                id: event.id,
            });
        }
        self.events.insert(event.id.clone(), event);
        Ok(())
    }

    pub fn get(&self, id: &str) -> Result<&Event> {
        self.events.get(id).ok_or_else(|| DrError::NotFound {
            what: "event",
            id: id.into(),
        })
    }

    /// Events in the calendar month of `day` that `resource_id` has opted in to.
    pub fn events_in_month(&self, resource_id: &str, day: NaiveDate) -> u32 {
        let key = month_key(day);
        self.events
            .values()
            .filter(|e| month_key(e.day()) == key && e.opt_ins.contains_key(resource_id))
            .count() as u32
    }

    /// The days of the events `resource_id` opted in to: the days its
    /// baselines must not use (`Exclusions::event_days`).
    pub fn event_days_of(&self, resource_id: &str) -> BTreeSet<NaiveDate> {
        self.events
            .values()
            .filter(|e| e.opt_ins.contains_key(resource_id))
            .map(Event::day)
            .collect()
    }

    fn open(&self, event_id: &str, now: NaiveDateTime) -> Result<&Event> {
        let e = self.get(event_id)?;
        if now >= e.start {
            return Err(DrError::EventInPast {
                event_id: e.id.clone(),
                start: e.start,
                now,
            });
        }
        if now > e.opt_deadline {
            return Err(DrError::AfterDeadline {
                event_id: e.id.clone(),
                deadline: e.opt_deadline,
                now,
            });
        }
        Ok(e)
    }

    /// `resource` opts in to `event_id` at `now`, asking `offered_price`.
    /// Refused, with the book unchanged, when the event has started, the
    /// deadline has passed, the direction differs, the notice is shorter
    /// than the resource's minimum, the event is longer than its maximum,
    /// or the resource already has its maximum of events that month.
    /// Opting in again replaces the offer.
    pub fn opt_in(
        &mut self,
        event_id: &str,
        resource: &Resource,
        now: NaiveDateTime,
        offered_price: PricePerKwh,
    ) -> Result<()> {
        let e = self.open(event_id, now)?;
        if e.direction != resource.direction {
            return Err(DrError::WrongDirection {
                resource_id: resource.id.clone(),
                event_id: e.id.clone(),
                resource: resource.direction,
                event: e.direction,
            });
        }
        if e.notice_minutes() < resource.min_notice_minutes {
            return Err(DrError::NoticeTooShort {
                resource_id: resource.id.clone(),
                event_id: e.id.clone(),
                notice_minutes: e.notice_minutes(),
                min_notice_minutes: resource.min_notice_minutes,
            });
        }
        if e.duration_minutes() > resource.max_duration_minutes {
            return Err(DrError::DurationTooLong {
                resource_id: resource.id.clone(),
                event_id: e.id.clone(),
                duration_minutes: e.duration_minutes(),
                max_duration_minutes: resource.max_duration_minutes,
            });
        }
        if !e.opt_ins.contains_key(&resource.id) {
            let count = self.events_in_month(&resource.id, e.day());
            if count >= resource.max_events_per_month {
                return Err(DrError::MonthlyLimit {
                    resource_id: resource.id.clone(),
                    month: month_key(e.day()),
                    count,
                    max_events_per_month: resource.max_events_per_month,
                });
            }
        }
        let e = self.events.get_mut(event_id).expect("checked above");
        e.opt_ins.insert(
            resource.id.clone(),
            OptIn {
                resource_id: resource.id.clone(),
                at: now,
                offered_price,
            },
        );
        Ok(())
    }

    /// Withdraws an opt-in; refused after the deadline or once started.
    pub fn opt_out(&mut self, event_id: &str, resource_id: &str, now: NaiveDateTime) -> Result<()> {
        let e = self.open(event_id, now)?;
        if !e.opt_ins.contains_key(resource_id) {
            return Err(DrError::NotFound {
                what: "opt-in",
                id: format!("{event_id}/{resource_id}"),
            });
        }
        self.events
            .get_mut(event_id)
            .expect("checked above")
            .opt_ins
            .remove(resource_id);
        Ok(())
    }
}

/// The runs of consecutive intervals whose price is strictly above
/// `threshold`, each as a range of interval indices (contiguous intervals
/// merged into one window).
pub fn price_windows(prices: &[PricePerKwh], threshold: PricePerKwh) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for (i, p) in prices.iter().enumerate() {
        if *p > threshold {
            match out.last_mut() {
                Some(r) if r.end == i => r.end = i + 1,
                _ => out.push(i..i + 1),
            }
        }
    }
    out
}

/// One event of a price-responsive `program` per window of `prices` (the
/// day-ahead prices of `day`, one per `interval_minutes`) above
/// `threshold`. Each is notified `program.notification_lead_minutes`
/// before its start, with the deadline one hour after notification (or at
/// the start when that is sooner). Ids are `<prefix>-<day>-<k>`.
pub fn events_from_prices(
    program: &Program,
    day: NaiveDate,
    interval_minutes: u32,
    prices: &[PricePerKwh],
    threshold: PricePerKwh,
    target_kw: i64,
    prefix: &str,
) -> Result<Vec<Event>> {
    let midnight = day.and_time(Default::default());
    let at = |slot: usize| midnight + Duration::minutes(slot as i64 * interval_minutes as i64);
    price_windows(prices, threshold)
        .into_iter()
        .enumerate()
        .map(|(k, r)| {
            let start = at(r.start);
            let notified = start - Duration::minutes(program.notification_lead_minutes);
            let deadline = (notified + Duration::hours(1)).min(start);
            Event::new(
                format!("{prefix}-{day}-{}", k + 1),
                program,
                start,
                at(r.end),
                notified,
                deadline,
                target_kw,
            )
        })
        .collect()
}

/// How a target is shared among the resources that opted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllocationRule {
    /// In proportion to capacity (largest remainder to whole kW).
    ProRata,
    /// Cheapest offered price first, each up to its capacity.
    MeritOrder,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub event_id: String,
    pub target_kw: i64,
    /// (resource id, kW dispatched), in resource id order.
    pub dispatched_kw: Vec<(String, i64)>,
    pub allocated_kw: i64,
    /// `target − allocated` when the opted-in capacity is short, else 0.
    pub shortfall_kw: i64,
}

impl Allocation {
    pub fn of(&self, resource_id: &str) -> i64 {
        self.dispatched_kw
            .iter()
            .find(|(id, _)| id == resource_id)
            .map_or(0, |(_, kw)| *kw)
    }
}

/// Shares `event.target_kw` among the opted-in resources found in
/// `resources`. Pro rata: `x_i = T' × c_i / C` with `T' = min(T, C)`,
/// floors then the leftover kW by largest remainder (ties by id). Merit
/// order: by offered price, then id, each `min(c_i, remaining)`.
pub fn allocate(event: &Event, resources: &[Resource], rule: AllocationRule) -> Allocation {
    let mut opted: Vec<(&Resource, PricePerKwh)> = resources
        .iter()
        .filter_map(|r| event.opt_ins.get(&r.id).map(|o| (r, o.offered_price)))
        .collect();
    opted.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    let total: i64 = opted.iter().map(|(r, _)| r.capacity_kw).sum();
    let give = event.target_kw.min(total);
    let mut kw: BTreeMap<String, i64> = BTreeMap::new();
    match rule {
        AllocationRule::ProRata if total > 0 => {
            let mut rems = Vec::new();
            for (r, _) in &opted {
                let n = give as i128 * r.capacity_kw as i128;
                kw.insert(r.id.clone(), (n / total as i128) as i64);
                rems.push((n % total as i128, r.id.clone()));
            }
            let mut left = give - kw.values().sum::<i64>();
            rems.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            for (_, id) in rems {
                if left == 0 {
                    break;
                }
                *kw.get_mut(&id).expect("inserted") += 1;
                left -= 1;
            }
        }
        AllocationRule::ProRata => {}
        AllocationRule::MeritOrder => {
            let mut order = opted.clone();
            order.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.id.cmp(&b.0.id)));
            let mut left = give;
            for (r, _) in order {
                let x = r.capacity_kw.min(left);
                kw.insert(r.id.clone(), x);
                left -= x;
            }
        }
    }
    let allocated = kw.values().sum();
    Allocation {
        event_id: event.id.clone(),
        target_kw: event.target_kw,
        dispatched_kw: kw.into_iter().collect(),
        allocated_kw: allocated,
        shortfall_kw: event.target_kw - allocated,
    }
}

/// Energy asked of a resource dispatched `kw` for `minutes`:
/// `kW × 1000 × minutes / 60` Wh, rounded.
pub fn dispatched_wh(kw: i64, minutes: i64) -> i64 {
    div_round(kw as i128 * 1000 * minutes as i128, 60) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::example as resource;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn event(id: &str, day: &str) -> Event {
        Event::new(
            id,
            &crate::program::example(),
            t(&format!("{day} 14:00")),
            t(&format!("{day} 16:00")),
            t(&format!("{day} 08:00")),
            t(&format!("{day} 12:00")),
            100,
        )
        .unwrap()
    }

    #[test]
    fn price_windows_merge_contiguous_intervals_above_the_threshold() {
        let p: Vec<PricePerKwh> = [3, 9, 9, 4, 10, 2, 11, 12].map(PricePerKwh).to_vec();
        assert_eq!(price_windows(&p, PricePerKwh(5)), vec![1..3, 4..5, 6..8]);
        assert_eq!(
            price_windows(&p, PricePerKwh(12)),
            Vec::<Range<usize>>::new()
        );
    }

    #[test]
    fn events_from_prices_cover_each_window_with_the_program_lead() {
        let mut prog = crate::program::example();
        prog.kind = crate::program::ProgramKind::PriceResponsive;
        prog.notification_lead_minutes = 120;
        let mut p = vec![PricePerKwh(5000); 96];
        for x in &mut p[68..76] {
            *x = PricePerKwh(15_000);
        }
        let day = NaiveDate::from_ymd_opt(2026, 7, 15).unwrap();
        let ev = events_from_prices(&prog, day, 15, &p, PricePerKwh(10_000), 50, "PR").unwrap();
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].start, t("2026-07-15 17:00"));
        assert_eq!(ev[0].end, t("2026-07-15 19:00"));
        assert_eq!(ev[0].notified_at, t("2026-07-15 15:00"));
        assert_eq!(
            ev[0].window(15),
            Window {
                start_slot: 68,
                end_slot: 76
            }
        );
    }

    #[test]
    fn event_refuses_a_deadline_after_its_start() {
        let err = Event::new(
            "E",
            &crate::program::example(),
            t("2026-07-15 14:00"),
            t("2026-07-15 13:00"),
            t("2026-07-15 08:00"),
            t("2026-07-15 15:00"),
            0,
        )
        .unwrap_err();
        let DrError::Invalid(v) = err else {
            panic!("{err}")
        };
        let fields: Vec<&str> = v.0.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, ["end", "opt_deadline", "target_kw"]);
    }

    #[test]
    fn each_opt_in_refusal_is_distinct_and_leaves_the_book_unchanged() {
        let mut book = EventBook::default();
        book.create(event("E1", "2026-07-15")).unwrap();
        let r = resource("R1", 50);
        let before = book.clone();
        let p = PricePerKwh(20_000);
        assert!(matches!(
            book.opt_in("E1", &r, t("2026-07-15 12:30"), p),
            Err(DrError::AfterDeadline { .. })
        ));
        assert!(matches!(
            book.opt_in("E1", &r, t("2026-07-15 14:00"), p),
            Err(DrError::EventInPast { .. })
        ));
        let mut picky = r.clone();
        picky.min_notice_minutes = 24 * 60;
        assert!(matches!(
            book.opt_in("E1", &picky, t("2026-07-15 09:00"), p),
            Err(DrError::NoticeTooShort {
                notice_minutes: 360,
                min_notice_minutes: 1440,
                ..
            })
        ));
        let mut short = r.clone();
        short.max_duration_minutes = 60;
        assert!(matches!(
            book.opt_in("E1", &short, t("2026-07-15 09:00"), p),
            Err(DrError::DurationTooLong {
                duration_minutes: 120,
                ..
            })
        ));
        let mut up = r.clone();
        up.direction = Direction::Up;
        assert!(matches!(
            book.opt_in("E1", &up, t("2026-07-15 09:00"), p),
            Err(DrError::WrongDirection { .. })
        ));
        assert_eq!(book, before);
        book.opt_in("E1", &r, t("2026-07-15 09:00"), p).unwrap();
        assert_eq!(book.get("E1").unwrap().opt_ins.len(), 1);
    }

    #[test]
    fn opt_in_beyond_the_monthly_maximum_is_refused() {
        let mut book = EventBook::default();
        let mut r = resource("R1", 50);
        r.max_events_per_month = 2;
        for (id, day) in [
            ("E1", "2026-07-13"),
            ("E2", "2026-07-14"),
            ("E3", "2026-07-15"),
            ("A1", "2026-08-03"),
        ] {
            book.create(event(id, day)).unwrap();
        }
        let p = PricePerKwh(0);
        book.opt_in("E1", &r, t("2026-07-13 09:00"), p).unwrap();
        book.opt_in("E2", &r, t("2026-07-14 09:00"), p).unwrap();
        // answering again for an event already joined is not a new event
        book.opt_in("E2", &r, t("2026-07-14 09:30"), PricePerKwh(5))
            .unwrap();
        let before = book.clone();
        assert!(matches!(
            book.opt_in("E3", &r, t("2026-07-15 09:00"), p),
            Err(DrError::MonthlyLimit {
                count: 2,
                max_events_per_month: 2,
                ..
            })
        ));
        assert_eq!(book, before);
        // a new month starts a new count
        book.opt_in("A1", &r, t("2026-08-03 09:00"), p).unwrap();
        let days: Vec<String> = book
            .event_days_of("R1")
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(days, ["2026-07-13", "2026-07-14", "2026-08-03"]);
        assert!(book.event_days_of("R2").is_empty());
    }

    #[test]
    fn opt_out_before_the_deadline_only() {
        let mut book = EventBook::default();
        book.create(event("E1", "2026-07-15")).unwrap();
        let r = resource("R1", 50);
        book.opt_in("E1", &r, t("2026-07-15 09:00"), PricePerKwh(0))
            .unwrap();
        let before = book.clone();
        assert!(matches!(
            book.opt_out("E1", "R1", t("2026-07-15 12:01")),
            Err(DrError::AfterDeadline { .. })
        ));
        assert_eq!(book, before);
        book.opt_out("E1", "R1", t("2026-07-15 11:59")).unwrap();
        assert!(book.get("E1").unwrap().opt_ins.is_empty());
    }

    fn opted(target: i64, caps: &[(&str, i64, i64)]) -> (Event, Vec<Resource>) {
        let mut e = event("E1", "2026-07-15");
        e.target_kw = target;
        let rs: Vec<Resource> = caps.iter().map(|(id, c, _)| resource(id, *c)).collect();
        for (id, _, price) in caps {
            e.opt_ins.insert(
                (*id).into(),
                OptIn {
                    resource_id: (*id).into(),
                    at: t("2026-07-15 09:00"),
                    offered_price: PricePerKwh(*price),
                },
            );
        }
        (e, rs)
    }

    #[test]
    fn pro_rata_shares_by_capacity_with_largest_remainder() {
        // 100 kW over 50/30/20 kW of 100 available... target 70:
        // 35, 21, 14 exactly
        let (e, rs) = opted(70, &[("A", 50, 0), ("B", 30, 0), ("C", 20, 0)]);
        let a = allocate(&e, &rs, AllocationRule::ProRata);
        assert_eq!(
            a.dispatched_kw,
            vec![("A".into(), 35), ("B".into(), 21), ("C".into(), 14)]
        );
        assert_eq!(a.shortfall_kw, 0);
        // target 10 over 3 × 10 kW: 3.33 each -> 3,3,3 and the leftover kW to A (tie by id)
        let (e, rs) = opted(10, &[("A", 10, 0), ("B", 10, 0), ("C", 10, 0)]);
        let a = allocate(&e, &rs, AllocationRule::ProRata);
        assert_eq!(
            a.dispatched_kw,
            vec![("A".into(), 4), ("B".into(), 3), ("C".into(), 3)]
        );
    }

    #[test]
    fn merit_order_fills_cheapest_first_and_reports_shortfall() {
        let (e, rs) = opted(70, &[("A", 50, 300), ("B", 30, 100), ("C", 20, 200)]);
        let a = allocate(&e, &rs, AllocationRule::MeritOrder);
        assert_eq!(a.of("B"), 30);
        assert_eq!(a.of("C"), 20);
        assert_eq!(a.of("A"), 20);
        assert_eq!(a.shortfall_kw, 0);
        let (e, rs) = opted(150, &[("A", 50, 300), ("B", 30, 100)]);
        let a = allocate(&e, &rs, AllocationRule::MeritOrder);
        assert_eq!((a.allocated_kw, a.shortfall_kw), (80, 70));
        let a = allocate(&e, &rs, AllocationRule::ProRata);
        assert_eq!((a.allocated_kw, a.shortfall_kw), (80, 70));
    }

    #[test]
    fn resources_that_did_not_opt_in_get_nothing() {
        let (e, mut rs) = opted(40, &[("A", 50, 0)]);
        rs.push(resource("Z", 100));
        let a = allocate(&e, &rs, AllocationRule::ProRata);
        assert_eq!(a.dispatched_kw, vec![("A".into(), 40)]);
        assert_eq!(dispatched_wh(40, 120), 80_000);
        assert_eq!(dispatched_wh(1, 20), 333);
    }
}
