//! The retail company's pages: the day-ahead forecast of its portfolio
//! (retail staff) and a customer's energy-efficiency report (staff, or the
//! customer's own user). Each reads through the same `voltex_retail` call
//! as the JSON endpoint (`GET /api/v1/retail/forecasts/{day}`,
//! `GET /api/v1/retail/customers/{id}/energy-report`) as the visitor's
//! retail viewer, so another customer's report is refused here as there.
use super::Locale;
use super::catalogue::{Messages, fill};
use super::format;
use super::page::{self, Chrome, ErrorPage};
use super::pages::{PageResult, signed_in_with};
use super::visit::Visit;
use crate::AppState;
use crate::routes::retail::{date, viewer};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use voltex_charts::{Colour, Figure, Panel, Series};
use voltex_retail::decide::forecast::{Method, SLOTS};
use voltex_retail::efficiency::report::ReportLang;
use voltex_retail::month::china_tomorrow;
use voltex_security::roles::Permission as P;

/// The retailer's book: the forecast page (and its navigation link).
pub(crate) const BOOK: &[P] = &[P::ReadRetailBook];
/// The book, or a customer's own account: the energy report.
const ACCOUNT: &[P] = &[P::ReadRetailBook, P::ReadOwnRetailAccount];

fn method_name(m: &'static Messages, method: Method) -> &'static str {
    match method {
        Method::SameDayLastWeek => m.method_same_day_last_week,
        Method::SimilarDays => m.method_similar_days,
        Method::Regression => m.method_regression,
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ForecastQuery {
    /// YYYY-MM-DD; default tomorrow (China Standard Time).
    #[serde(default)]
    day: Option<String>,
}

#[derive(Debug)]
struct ForecastRow {
    customer: String,
    report_href: String,
    method: &'static str,
    wape: String,
    energy_kwh: String,
    peak_kw: String,
}

#[derive(Debug)]
struct LeftOutRow {
    customer: String,
    complete_days: usize,
}

#[derive(Template)]
#[template(path = "retail_forecast.html")]
struct ForecastPage {
    chrome: Chrome,
    /// The day as the date field holds it (YYYY-MM-DD).
    day: String,
    day_label: String,
    in_book: usize,
    forecast: usize,
    energy_mwh: String,
    wape: String,
    customers_wape: String,
    diversity: String,
    chart: Option<String>,
    rows: Vec<ForecastRow>,
    left_out_intro: String,
    left_out: Vec<LeftOutRow>,
}

/// The portfolio's forecast in kW per quarter-hour, hours on the x axis.
fn forecast_figure(m: &'static Messages, kwh: &[f64]) -> Figure {
    let points = kwh
        .iter()
        .enumerate()
        .map(|(s, e)| (s as f64 / 4.0, e * 4.0))
        .collect();
    Figure::single(
        Panel::new(
            m.forecast_chart_title,
            m.forecast_axis_time,
            m.forecast_axis_kw,
            vec![Series::new(m.forecast_chart_title, points).coloured(Colour::Blue)],
        )
        .x_range(0.0, 24.0)
        .with_zero(),
    )
}

fn percent(v: f64) -> String {
    format!("{} %", format::number(v, 2))
}

/// `GET /portal/retail/forecast?day=`: the day-ahead forecast of the
/// visitor's retailer (as `GET /api/v1/retail/forecasts/{day}`).
pub(crate) async fn forecast(
    State(s): State<AppState>,
    visit: Visit,
    Query(q): Query<ForecastQuery>,
) -> PageResult {
    let caller = match signed_in_with(&visit, BOOK) {
        Ok(c) => c,
        Err(page) => return *page,
    };
    let locale = visit.locale;
    let refused = |e: crate::error::ApiError| ErrorPage::from_api(locale, e);
    let v = viewer(caller).map_err(refused)?;
    let day = match q.day.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => date("day", d).map_err(refused)?,
        None => china_tomorrow(chrono::Utc::now()),
    };
    let r = s
        .retail
        .day_ahead(&v, day)
        .await
        .map_err(|e| refused(e.into()))?;
    let m = locale.messages();
    let f = &r.forecast;
    let rows = f
        .customers
        .iter()
        .map(|c| ForecastRow {
            customer: c.customer_id.clone(),
            report_href: format!("/portal/retail/customers/{}/energy-report", c.customer_id),
            method: method_name(m, c.chosen),
            wape: percent(c.accuracy().wape_pct),
            energy_kwh: format::number(c.next_day.iter().sum(), 1),
            peak_kw: format::number(c.next_day.iter().copied().fold(0.0, f64::max) * 4.0, 1),
        })
        .collect();
    let chart = if f.customers.is_empty() || f.next_day.len() != SLOTS {
        None
    } else {
        Some(
            voltex_charts::render_svg(&forecast_figure(m, &f.next_day))
                .map_err(|e| ErrorPage::internal(locale, &e.to_string()))?,
        )
    };
    let needed = r.left_out.first().map_or(0, |l| l.needed_days);
    let chrome = Chrome::new(&visit, m.forecast_heading);
    Ok(page::html(
        &visit,
        StatusCode::OK,
        &ForecastPage {
            chrome,
            day: day.to_string(),
            day_label: format::day(locale, day),
            in_book: r.customers_in_book,
            forecast: f.customers.len(),
            energy_mwh: format::number(f.next_day.iter().sum::<f64>() / 1000.0, 3),
            wape: percent(f.portfolio.wape_pct),
            customers_wape: percent(f.customers_wape_pct),
            diversity: percent(f.diversity_pct),
            chart,
            rows,
            left_out_intro: fill(m.forecast_left_out_intro, needed),
            left_out: r
                .left_out
                .iter()
                .map(|l| LeftOutRow {
                    customer: l.customer_id.clone(),
                    complete_days: l.complete_days,
                })
                .collect(),
        },
    ))
}

/// `GET /portal/retail/customers/{id}/energy-report`: the customer's
/// energy-efficiency report over its last year of readings, in the
/// visitor's language (as `GET /api/v1/retail/customers/{id}/energy-report`).
pub(crate) async fn energy_report(
    State(s): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
) -> PageResult {
    let caller = match signed_in_with(&visit, ACCOUNT) {
        Ok(c) => c,
        Err(page) => return *page,
    };
    let locale = visit.locale;
    let refused = |e: crate::error::ApiError| ErrorPage::from_api(locale, e);
    let v = viewer(caller).map_err(refused)?;
    let (customer, study) = s
        .retail
        .efficiency_study(&v, &id, china_tomorrow(chrono::Utc::now()))
        .await
        .map_err(|e| refused(e.into()))?;
    let lang = match locale {
        Locale::ZhCn => ReportLang::Zh,
        Locale::En => ReportLang::En,
    };
    Ok(page::standalone(
        &visit,
        study.html(&customer.id, &customer.name, lang),
    ))
}
