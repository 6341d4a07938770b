//! The retail service: the one place retail rules meet the store. Every
//! method takes the [`Viewer`] and enforces whose records it may see or
//! change: a retailer's staff its own retailer's book, a retail customer
//! only the accounts that name it as a portal user. Which staff role may
//! call which operation is the server's access table (permissions in
//! `voltex-security`); this layer enforces the tenant and the account.
//! Every refusal happens before anything is written.
//!
//! Must not: speak HTTP or print.
use std::collections::HashMap;

use chrono::NaiveDate;

use voltex_model::{Violation, Violations};
use voltex_store::{Record, Store};

use crate::comparison::{self, BillChange};
use crate::contract::Contract;
use crate::customer::{Customer, CustomerStatus, MeteringPoint};
use crate::decide::forecast::{self, LoadHistory, PortfolioForecast};
use crate::decide::history::{complete_history, last_complete_day};
use crate::efficiency::Study;
use crate::error::{Result, RetailError};
use crate::money::Wh;
use crate::month::{Month, SLOTS_PER_DAY};
use crate::package::PricePackage;
use crate::rating::{
    self, CustomerSeries, DeviationAssessment, Invoice, MarketPrices, RatingInput,
};
use crate::readings::{self, ImportKind, ImportReport, MeterMonth, Quality, QualityCounts};

/// Who is looking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// Staff of a retailer (account manager, billing, trader, retail admin).
    Staff { retailer_id: String },
    /// A retail customer's user: sees the accounts naming it, nothing else.
    Customer {
        retailer_id: String,
        user_id: String,
    },
}

impl Viewer {
    pub fn retailer_id(&self) -> &str {
        match self {
            Viewer::Staff { retailer_id } | Viewer::Customer { retailer_id, .. } => retailer_id,
        }
    }

    /// The retailer, if the viewer is its staff.
    fn staff(&self, action: &str) -> Result<&str> {
        match self {
            Viewer::Staff { retailer_id } => Ok(retailer_id),
            Viewer::Customer { user_id, .. } => Err(RetailError::Forbidden(format!(
                "a retail customer ({user_id}) may not {action}"
            ))),
        }
    }

    /// Whether the viewer may see this customer's records.
    fn sees(&self, c: &Customer) -> bool {
        match self {
            Viewer::Staff { retailer_id } => &c.retailer_id == retailer_id,
            Viewer::Customer {
                retailer_id,
                user_id,
            } => &c.retailer_id == retailer_id && c.portal_users.iter().any(|u| u == user_id),
        }
    }
}

/// A customer projected to leave its tolerance band this month.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeviationWarning {
    pub customer_id: String,
    pub so_far_wh: Wh,
    pub intervals_read: usize,
    pub projected_wh: Wh,
    pub assessment: DeviationAssessment,
}

/// Back-test days of the day-ahead forecast over stored readings.
pub const DAY_AHEAD_WINDOW: usize = 28;
/// Days of history read for it: the back-test, the regression's fit and
/// the lags it needs (`forecast::FIT_DAYS` + 9), and a little more.
pub const HISTORY_DAYS: usize = DAY_AHEAD_WINDOW + forecast::FIT_DAYS + 14;

/// A day-ahead forecast of the retailer's portfolio from stored readings.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DayAhead {
    pub target: NaiveDate,
    /// Customers whose contract covers the target's month.
    pub customers_in_book: usize,
    pub forecast: PortfolioForecast,
    /// Customers not in the forecast: too few complete days of readings.
    pub left_out: Vec<LeftOut>,
}

/// A customer the forecast leaves out, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LeftOut {
    pub customer_id: String,
    /// Complete days of readings ending the day (or two) before the target.
    pub complete_days: usize,
    /// Days a forecast needs: the back-test window and a week before it.
    pub needed_days: usize,
}

/// What a batch rating did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RatingRun {
    /// New invoices (first version).
    pub rated: usize,
    /// New versions of existing invoices.
    pub rerated: usize,
    /// Existing invoices the inputs did not change.
    pub unchanged: usize,
    /// Customers skipped: no contract covering the month.
    pub without_contract: Vec<String>,
}

/// The retail service over a store.
#[derive(Debug, Clone)]
pub struct Retail {
    store: Store,
}

impl Retail {
    pub fn new(store: Store) -> Self {
        Retail { store }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    // ----- customers

    /// Registers a new customer account (status as given, normally prospect).
    pub async fn register_customer(&self, v: &Viewer, c: Customer) -> Result<Record<Customer>> {
        let retailer = v.staff("register customers")?;
        own(retailer, &c.retailer_id, "customer")?;
        c.validate()?;
        match self.store.insert(&c).await {
            Err(voltex_store::StoreError::Conflict { .. }) => Err(RetailError::AlreadyExists {
                what: "customer",
                id: c.id,
            }),
            other => Ok(other?),
        }
    }

    /// Moves a customer along its lifecycle (a new version; the history stays).
    pub async fn set_customer_status(
        &self,
        v: &Viewer,
        id: &str,
        to: CustomerStatus,
    ) -> Result<Record<Customer>> {
        v.staff("change a customer's status")?;
        let r = self.customer(v, id).await?;
        let mut c = r.value;
        c.transition(to)?;
        Ok(self.store.append(&c, r.version).await?)
    }

    /// The customers the viewer may see, by account number.
    pub async fn customers(&self, v: &Viewer) -> Result<Vec<Record<Customer>>> {
        let all = self.store.list_owned::<Customer>(v.retailer_id()).await?;
        Ok(all.into_iter().filter(|r| v.sees(&r.value)).collect())
    }

    /// One customer; another retailer's or another customer's account is
    /// answered as forbidden.
    pub async fn customer(&self, v: &Viewer, id: &str) -> Result<Record<Customer>> {
        let r = self
            .store
            .get::<Customer>(id)
            .await?
            .ok_or_else(|| RetailError::NotFound {
                what: "customer",
                id: id.to_owned(),
            })?;
        if !v.sees(&r.value) {
            return Err(RetailError::Forbidden(format!(
                "customer {id} is not an account this viewer may see"
            )));
        }
        Ok(r)
    }

    /// Every version of a customer account.
    pub async fn customer_history(&self, v: &Viewer, id: &str) -> Result<Vec<Record<Customer>>> {
        self.customer(v, id).await?;
        Ok(self.store.history::<Customer>(id).await?)
    }

    // ----- metering

    pub async fn add_metering_point(
        &self,
        v: &Viewer,
        m: MeteringPoint,
    ) -> Result<Record<MeteringPoint>> {
        let retailer = v.staff("add metering points")?;
        own(retailer, &m.retailer_id, "metering point")?;
        m.validate()?;
        self.customer(v, &m.customer_id).await?;
        match self.store.insert(&m).await {
            Err(voltex_store::StoreError::Conflict { .. }) => Err(RetailError::AlreadyExists {
                what: "metering point",
                id: m.id,
            }),
            other => Ok(other?),
        }
    }

    pub async fn metering_points(&self, v: &Viewer) -> Result<Vec<Record<MeteringPoint>>> {
        let retailer = v.staff("list metering points")?;
        Ok(self.store.list_owned::<MeteringPoint>(retailer).await?)
    }

    /// Imports a readings file (either layout). All or nothing: any
    /// refused row refuses the file, naming every row and rule; the same
    /// file twice writes nothing the second time.
    pub async fn import_readings(
        &self,
        v: &Viewer,
        file_name: &str,
        bytes: &[u8],
        kind: ImportKind,
    ) -> Result<ImportReport> {
        let retailer = v.staff("import meter data")?;
        let text = std::str::from_utf8(bytes).map_err(|e| {
            RetailError::Invalid(Violations::one("file", "utf8", file_name, e.to_string()))
        })?;
        let rows = readings::parse_csv(text)?;
        let meters: HashMap<String, MeteringPoint> = self
            .store
            .list_owned::<MeteringPoint>(retailer)
            .await?
            .into_iter()
            .map(|r| (r.id.clone(), r.value))
            .collect();
        let mut wanted: Vec<String> = rows
            .iter()
            .filter(|r| meters.contains_key(&r.meter_id))
            .map(|r| MeterMonth::id_of(&r.meter_id, Month::of(r.start.date())))
            .collect();
        wanted.sort();
        wanted.dedup();
        let mut stored = HashMap::new();
        let mut versions = HashMap::new();
        for id in &wanted {
            if let Some(r) = self.store.get::<MeterMonth>(id).await? {
                versions.insert(id.clone(), r.version);
                stored.insert(id.clone(), r.value);
            }
        }
        let source = readings::source_name(file_name, bytes);
        let (months, report) = readings::apply(&rows, &meters, &stored, kind, &source)?;
        for m in &months {
            let id = MeterMonth::id_of(&m.meter_id, m.month);
            self.store
                .append(m, versions.get(&id).copied().unwrap_or(0))
                .await?;
        }
        Ok(report)
    }

    /// A customer's energy per interval of a month: its meters summed, with
    /// quality counts (an interval counts as estimated when any meter's is).
    pub async fn customer_series(
        &self,
        v: &Viewer,
        customer_id: &str,
        month: Month,
    ) -> Result<CustomerSeries> {
        self.customer(v, customer_id).await?;
        let meters: Vec<MeteringPoint> = self
            .store
            .list_owned::<MeteringPoint>(v.retailer_id())
            .await?
            .into_iter()
            .map(|r| r.value)
            .filter(|m| m.customer_id == customer_id)
            .collect();
        let mut months = Vec::new();
        for m in &meters {
            if let Some(r) = self
                .store
                .get::<MeterMonth>(&MeterMonth::id_of(&m.id, month))
                .await?
            {
                months.push(r);
            }
        }
        Ok(series_of(month, &months))
    }

    // ----- packages and contracts

    /// Adds a package, or a new version of it.
    pub async fn put_package(&self, v: &Viewer, p: PricePackage) -> Result<Record<PricePackage>> {
        let retailer = v.staff("change the package catalogue")?;
        own(retailer, &p.retailer_id, "package")?;
        p.validate()?;
        let current = self.store.get::<PricePackage>(&p.id).await?;
        if let Some(c) = &current {
            own(retailer, &c.value.retailer_id, "package")?;
        }
        Ok(self
            .store
            .append(&p, current.map_or(0, |c| c.version))
            .await?)
    }

    pub async fn packages(&self, v: &Viewer) -> Result<Vec<Record<PricePackage>>> {
        v.staff("list the package catalogue")?;
        Ok(self
            .store
            .list_owned::<PricePackage>(v.retailer_id())
            .await?)
    }

    /// One version of a package.
    pub async fn package_version(&self, id: &str, version: i64) -> Result<Record<PricePackage>> {
        self.store
            .history::<PricePackage>(id)
            .await?
            .into_iter()
            .find(|r| r.version == version)
            .ok_or_else(|| RetailError::NotFound {
                what: "package version",
                id: format!("{id} v{version}"),
            })
    }

    /// Signs a contract or amends it (a new version).
    pub async fn put_contract(&self, v: &Viewer, c: Contract) -> Result<Record<Contract>> {
        let retailer = v.staff("sign contracts")?;
        own(retailer, &c.retailer_id, "contract")?;
        c.validate()?;
        self.customer(v, &c.customer_id).await?;
        let p = self
            .package_version(&c.package_id, c.package_version)
            .await?;
        own(retailer, &p.value.retailer_id, "package")?;
        if !c.id.starts_with(&format!("{}:", c.customer_id)) {
            return Err(RetailError::Invalid(Violations::one(
                "id",
                "customer_prefix",
                c.id.clone(),
                "a contract id is `<customer>:<anything>`",
            )));
        }
        let current = self.store.get::<Contract>(&c.id).await?;
        Ok(self
            .store
            .append(&c, current.map_or(0, |r| r.version))
            .await?)
    }

    /// The contracts of a customer the viewer may see.
    pub async fn contracts(&self, v: &Viewer, customer_id: &str) -> Result<Vec<Record<Contract>>> {
        self.customer(v, customer_id).await?;
        Ok(self
            .store
            .list_owned_prefixed::<Contract>(v.retailer_id(), &format!("{customer_id}:"))
            .await?)
    }

    // ----- rating and invoices

    /// Rates every contracted customer of the viewer's retailer for
    /// `month`; a customer whose inputs changed since its last invoice gets
    /// a new version with the adjustments (`reason` says why).
    pub async fn rate_all(
        &self,
        v: &Viewer,
        month: Month,
        prices: &MarketPrices,
        reason: &str,
    ) -> Result<RatingRun> {
        let retailer = v.staff("rate bills")?.to_owned();
        let customers = self.store.list_owned::<Customer>(&retailer).await?;
        let contracts = self.store.list_owned::<Contract>(&retailer).await?;
        let meters = self.store.list_owned::<MeteringPoint>(&retailer).await?;
        let mut months: HashMap<String, Vec<Record<MeterMonth>>> = HashMap::new();
        for m in &meters {
            if let Some(r) = self
                .store
                .get::<MeterMonth>(&MeterMonth::id_of(&m.id, month))
                .await?
            {
                months
                    .entry(m.value.customer_id.clone())
                    .or_default()
                    .push(r);
            }
        }
        let mut packages: HashMap<(String, i64), Record<PricePackage>> = HashMap::new();
        let mut run = RatingRun::default();
        for c in &customers {
            let Some(k) = contracts
                .iter()
                .find(|k| k.value.customer_id == c.id && k.value.volume_of(month).is_some())
            else {
                run.without_contract.push(c.id.clone());
                continue;
            };
            let key = (k.value.package_id.clone(), k.value.package_version);
            if !packages.contains_key(&key) {
                let p = self.package_version(&key.0, key.1).await?;
                packages.insert(key.clone(), p);
            }
            let p = &packages[&key];
            let series = series_of(month, months.get(&c.id).map_or(&[][..], Vec::as_slice));
            let fresh = rating::rate(RatingInput {
                customer: &c.value,
                contract: &k.value,
                contract_version: k.version,
                package: &p.value,
                package_version: p.version,
                month,
                series: &series,
                prices,
            });
            match self.store_invoice(fresh, reason).await? {
                Stored::New => run.rated += 1,
                Stored::Superseded => run.rerated += 1,
                Stored::Unchanged => run.unchanged += 1,
            }
        }
        Ok(run)
    }

    async fn store_invoice(&self, fresh: Invoice, reason: &str) -> Result<Stored> {
        let id = Invoice::id_of(&fresh.customer_id, fresh.month);
        match self.store.get::<Invoice>(&id).await? {
            None => {
                self.store.insert(&fresh).await?;
                Ok(Stored::New)
            }
            Some(prev) => {
                let mut same = fresh.clone();
                same.supersedes = prev.value.supersedes;
                same.adjustments = prev.value.adjustments.clone();
                same.reason = prev.value.reason.clone();
                if same == prev.value {
                    return Ok(Stored::Unchanged);
                }
                let next = rating::rerate(&prev.value, prev.version, fresh, reason);
                self.store.append(&next, prev.version).await?;
                Ok(Stored::Superseded)
            }
        }
    }

    /// The latest version of a customer's bill for a month.
    pub async fn invoice(
        &self,
        v: &Viewer,
        customer_id: &str,
        month: Month,
    ) -> Result<Record<Invoice>> {
        self.customer(v, customer_id).await?;
        self.store
            .get::<Invoice>(&Invoice::id_of(customer_id, month))
            .await?
            .ok_or_else(|| RetailError::NotFound {
                what: "invoice",
                id: Invoice::id_of(customer_id, month),
            })
    }

    /// Every version of a bill, oldest first.
    pub async fn invoice_history(
        &self,
        v: &Viewer,
        customer_id: &str,
        month: Month,
    ) -> Result<Vec<Record<Invoice>>> {
        self.customer(v, customer_id).await?;
        Ok(self
            .store
            .history::<Invoice>(&Invoice::id_of(customer_id, month))
            .await?)
    }

    /// The customer's latest bill against its bill of the month before
    /// (the two latest billed months); none until two months are billed.
    pub async fn bill_change(&self, v: &Viewer, customer_id: &str) -> Result<Option<BillChange>> {
        self.customer(v, customer_id).await?;
        let mut bills = self
            .store
            .list_prefixed::<Invoice>(&format!("{customer_id}:"))
            .await?;
        bills.retain(|r| r.value.customer_id == customer_id);
        bills.sort_by_key(|r| r.value.month);
        Ok(match bills.as_slice() {
            [.., previous, now] => Some(comparison::compare(&previous.value, &now.value)),
            _ => None,
        })
    }

    /// The latest bills of a month the viewer may see.
    pub async fn invoices(&self, v: &Viewer, month: Month) -> Result<Vec<Record<Invoice>>> {
        let visible: Vec<String> = self.customers(v).await?.into_iter().map(|r| r.id).collect();
        let all = self.store.list_owned::<Invoice>(v.retailer_id()).await?;
        Ok(all
            .into_iter()
            .filter(|r| r.value.month == month && visible.contains(&r.value.customer_id))
            .collect())
    }

    /// Customers projected to leave their band in `month`, from the
    /// intervals read so far (pro rata, `rating::project`).
    pub async fn deviation_warnings(
        &self,
        v: &Viewer,
        month: Month,
    ) -> Result<Vec<DeviationWarning>> {
        let retailer = v.staff("assess deviations")?.to_owned();
        let customers = self.store.list_owned::<Customer>(&retailer).await?;
        let contracts = self.store.list_owned::<Contract>(&retailer).await?;
        let mut out = Vec::new();
        for c in &customers {
            let Some(k) = contracts
                .iter()
                .find(|k| k.value.customer_id == c.id && k.value.volume_of(month).is_some())
            else {
                continue;
            };
            let s = self.customer_series(v, &c.id, month).await?;
            let read = s.wh.len() - s.counts.missing;
            let so_far: Wh = s.total();
            let projected = rating::project(so_far, read, month.slots());
            let a = rating::assess(
                k.value.volume_of(month).unwrap_or(0),
                projected,
                &k.value.deviation,
            );
            if read > 0 && a.is_outside() {
                out.push(DeviationWarning {
                    customer_id: c.id.clone(),
                    so_far_wh: so_far,
                    intervals_read: read,
                    projected_wh: projected,
                    assessment: a,
                });
            }
        }
        Ok(out)
    }

    // ----- decision support

    /// The stored readings of each of `customers`' meters, by meter and
    /// month, for the months from `from` to `to`.
    async fn meter_months(
        &self,
        retailer: &str,
        customers: &[&str],
        from: Month,
        to: Month,
    ) -> Result<(Vec<MeteringPoint>, HashMap<(String, Month), MeterMonth>)> {
        let meters: Vec<MeteringPoint> = self
            .store
            .list_owned::<MeteringPoint>(retailer)
            .await?
            .into_iter()
            .map(|r| r.value)
            .filter(|m| customers.contains(&m.customer_id.as_str()))
            .collect();
        let mut book = HashMap::new();
        for m in &meters {
            let mut month = from;
            while month <= to {
                if let Some(r) = self
                    .store
                    .get::<MeterMonth>(&MeterMonth::id_of(&m.id, month))
                    .await?
                {
                    book.insert((m.id.clone(), month), r.value);
                }
                month = month.next();
            }
        }
        Ok((meters, book))
    }

    /// The day-ahead forecast of the retailer's portfolio for `target`:
    /// every customer whose contract covers the target's month, forecast
    /// from its stored readings (`decide::history::complete_history`,
    /// `decide::forecast::forecast_portfolio`, a 28-day back-test), and
    /// the customers left out for want of complete days (retail staff).
    pub async fn day_ahead(&self, v: &Viewer, target: NaiveDate) -> Result<DayAhead> {
        let retailer = v.staff("forecast the portfolio")?.to_owned();
        let month = Month::of(target);
        let contracts = self.store.list_owned::<Contract>(&retailer).await?;
        let mut ids: Vec<&str> = contracts
            .iter()
            .filter(|k| k.value.volume_of(month).is_some())
            .map(|k| k.value.customer_id.as_str())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let from = Month::of(target - chrono::Days::new(HISTORY_DAYS as u64 + 2));
        let (meters, book) = self
            .meter_months(
                &retailer,
                &ids,
                from,
                Month::of(target - chrono::Days::new(1)),
            )
            .await?;
        let needed = DAY_AHEAD_WINDOW + 7;
        let mut histories = Vec::new();
        let mut left_out = Vec::new();
        for id in &ids {
            let own: Vec<&str> = meters
                .iter()
                .filter(|m| m.customer_id == *id)
                .map(|m| m.id.as_str())
                .collect();
            let get = |m: &str, mo: Month| book.get(&(m.to_owned(), mo));
            match complete_history(&own, get, target, HISTORY_DAYS) {
                Some(h) if h.days() >= needed => histories.push((id.to_string(), h)),
                h => left_out.push(LeftOut {
                    customer_id: id.to_string(),
                    complete_days: h.map_or(0, |h| h.days()),
                    needed_days: needed,
                }),
            }
        }
        // one end day for all, so that the back-test days add up by date
        if let Some(end) = histories.iter().map(|(_, h)| h.date(h.days() - 1)).min() {
            for (_, h) in &mut histories {
                let keep = h.index_of(end).map_or(0, |d| d + 1);
                h.kwh.truncate(keep * SLOTS_PER_DAY);
            }
        }
        let refs: Vec<(&str, &LoadHistory)> =
            histories.iter().map(|(id, h)| (id.as_str(), h)).collect();
        let forecast = forecast::forecast_portfolio(&refs, target, DAY_AHEAD_WINDOW);
        for (id, h) in &histories {
            if !forecast.customers.iter().any(|f| &f.customer_id == id) {
                left_out.push(LeftOut {
                    customer_id: id.clone(),
                    complete_days: h.days(),
                    needed_days: needed,
                });
            }
        }
        left_out.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
        Ok(DayAhead {
            target,
            customers_in_book: ids.len(),
            forecast,
            left_out,
        })
    }

    /// A customer's energy study over the year of complete days that ends
    /// on its last complete day before `before` (at least a week of them,
    /// readings looked for up to two years back): metrics and battery
    /// sizing under the TOU package of the contract that covers the last
    /// of them. A retail customer may ask for its own.
    pub async fn efficiency_study(
        &self,
        v: &Viewer,
        customer_id: &str,
        before: NaiveDate,
    ) -> Result<(Customer, Study)> {
        const LOOK_BACK_DAYS: u64 = 731;
        let customer = self.customer(v, customer_id).await?.value;
        let retailer = v.retailer_id().to_owned();
        let (meters, book) = self
            .meter_months(
                &retailer,
                &[customer_id],
                Month::of(before - chrono::Days::new(LOOK_BACK_DAYS)),
                Month::of(before - chrono::Days::new(1)),
            )
            .await?;
        let own: Vec<&str> = meters.iter().map(|m| m.id.as_str()).collect();
        let get = |m: &str, mo: Month| book.get(&(m.to_owned(), mo));
        let history = last_complete_day(&own, get, before, LOOK_BACK_DAYS)
            .and_then(|end| complete_history(&own, get, end + chrono::Days::new(1), 365))
            .filter(|h| h.days() >= 7)
            .ok_or_else(|| {
                RetailError::invalid(
                    "before",
                    "a_week_of_complete_readings",
                    before.to_string(),
                    format!(
                        "customer {customer_id} has no week of complete readings in the two years before {before}"
                    ),
                )
            })?;
        let last = Month::of(history.date(history.days() - 1));
        let contract = self
            .contracts(v, customer_id)
            .await?
            .into_iter()
            .find(|k| k.value.volume_of(last).is_some())
            .ok_or_else(|| {
                RetailError::invalid(
                    "customer_id",
                    "contract_covers_the_month",
                    customer_id,
                    format!("customer {customer_id} has no contract covering {last}"),
                )
            })?;
        let package = self
            .package_version(&contract.value.package_id, contract.value.package_version)
            .await?;
        let study = Study::run(&history, &package.value, customer.contracted_kva)?;
        Ok((customer, study))
    }
}

enum Stored {
    New,
    Superseded,
    Unchanged,
}

/// Sums meter-months into a customer's series. An interval is missing
/// when every meter's is, estimated when any meter's is, corrected when
/// any is corrected and none estimated.
pub fn series_of(month: Month, months: &[Record<MeterMonth>]) -> CustomerSeries {
    let n = month.slots();
    let mut wh = vec![0; n];
    let mut q = vec![Quality::Missing; n];
    let mut sources = Vec::new();
    for r in months {
        sources.push(format!("{} v{}", r.id, r.version));
        for (i, (w, c)) in r.value.wh.iter().zip(r.value.quality.chars()).enumerate() {
            wh[i] += w;
            let mq = Quality::from_code(c);
            q[i] = match (q[i], mq) {
                (_, Quality::Estimated) | (Quality::Estimated, _) => Quality::Estimated,
                (Quality::Missing, x) => x,
                (x, Quality::Missing) => x,
                (Quality::Corrected, _) | (_, Quality::Corrected) => Quality::Corrected,
                _ => Quality::Actual,
            };
        }
    }
    let mut counts = QualityCounts::default();
    for x in &q {
        match x {
            Quality::Actual => counts.actual += 1,
            Quality::Estimated => counts.estimated += 1,
            Quality::Corrected => counts.corrected += 1,
            Quality::Missing => counts.missing += 1,
        }
    }
    CustomerSeries {
        wh,
        counts,
        sources,
    }
}

fn own(retailer: &str, owner: &str, what: &str) -> Result<()> {
    if retailer == owner {
        Ok(())
    } else {
        Err(RetailError::Invalid(Violations::from(vec![
            Violation::new(
                "retailer_id",
                "own_retailer",
                owner,
                format!("a {what} belongs to the acting retailer {retailer}"),
            ),
        ])))
    }
}
