//! The customer's energy report (能效分析报告) as one self-contained HTML
//! page, in Chinese (zh-CN) or English: the load-shape metrics, the
//! capacity and peak-shift savings, the battery size and payback, two
//! inline SVG charts (the average weekday's profile over the TOU periods;
//! monthly maximum demand against the contracted capacity) and every
//! assumption behind the numbers. Every text that comes from data (names,
//! the tariff's source) is HTML-escaped.
//!
//! Must not: compute a metric or saving (that is [`super`] and
//! [`super::battery`]), fetch anything, or link outside the page.
use std::fmt::Write as _;

use chrono::{Datelike, Weekday};
use serde::{Deserialize, Serialize};
use voltex_charts::{Colour, Figure, Panel, Series, render_svg};

use super::battery::{BatteryInput, BatterySizing, Resolution};
use super::{Assumptions, EfficiencyMetrics, IntervalSeries, TouTariff};
use crate::money::Fen;
use crate::month::SLOTS_PER_DAY;
use crate::package::Period;

/// The report's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportLang {
    /// 简体中文
    Zh,
    En,
}

impl ReportLang {
    /// The HTML `lang` tag.
    pub fn tag(self) -> &'static str {
        match self {
            ReportLang::Zh => "zh-CN",
            ReportLang::En => "en",
        }
    }

    fn words(self) -> &'static Words {
        match self {
            ReportLang::Zh => &ZH,
            ReportLang::En => &EN,
        }
    }
}

/// What one report shows.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    pub customer_id: &'a str,
    pub customer_name: &'a str,
    pub series: &'a IntervalSeries,
    pub tariff: &'a TouTariff,
    pub assumptions: &'a Assumptions,
    pub metrics: &'a EfficiencyMetrics,
    /// The battery sizing and what it was given; `None`: the section says
    /// that no sizing was run.
    pub battery: Option<(&'a BatteryInput, &'a BatterySizing)>,
}

/// Every visible string, once per language.
struct Words {
    title: &'static str,
    customer: &'static str,
    /// ": " or "："
    colon: &'static str,
    period: &'static str,
    days: &'static str,
    disclaimer: &'static str,
    metrics: &'static str,
    metric: &'static str,
    value: &'static str,
    energy: &'static str,
    mean_demand: &'static str,
    max_demand: &'static str,
    load_factor: &'static str,
    peak_to_average: &'static str,
    night_share: &'static str,
    base_load_share: &'static str,
    weekend_ratio: &'static str,
    not_available: &'static str,
    contracted: &'static str,
    max_demand_kva: &'static str,
    utilisation: &'static str,
    savings: &'static str,
    capacity_resize: &'static str,
    capacity_text: &'static str,
    capacity_cost_text: &'static str,
    peak_shift: &'static str,
    peak_shift_text: &'static str,
    battery: &'static str,
    battery_none: &'static str,
    power: &'static str,
    energy_capacity: &'static str,
    capex: &'static str,
    annualised_capex: &'static str,
    annual_saving: &'static str,
    net_benefit: &'static str,
    payback: &'static str,
    no_payback: &'static str,
    years: &'static str,
    yuan: &'static str,
    resolution: &'static str,
    hourly: &'static str,
    quarter_hour: &'static str,
    charts: &'static str,
    profile_title: &'static str,
    hour: &'static str,
    demand_kw: &'static str,
    weekday_mean: &'static str,
    tou_band: &'static str,
    months_label: &'static str,
    monthly_title: &'static str,
    month_index: &'static str,
    demand_kva: &'static str,
    max_demand_series: &'static str,
    with_battery_series: &'static str,
    contracted_series: &'static str,
    chart_failed: &'static str,
    assumptions: &'static str,
    a_power_factor: &'static str,
    a_margin: &'static str,
    a_sizes: &'static str,
    a_shift: &'static str,
    a_tariff: &'static str,
    a_prices: &'static str,
    a_capacity_charge: &'static str,
    a_annualise: &'static str,
    a_battery_costs: &'static str,
    a_efficiency: &'static str,
    a_demand_charge: &'static str,
    a_foresight: &'static str,
    period_names: [&'static str; 4],
}

const EN: Words = Words {
    title: "Energy efficiency report",
    customer: "Customer",
    colon: ": ",
    period: "Data period",
    days: "days",
    disclaimer: "All money amounts are estimates for advice, not a bill.",
    metrics: "Load metrics",
    metric: "Metric",
    value: "Value",
    energy: "Energy (kWh)",
    mean_demand: "Mean demand (kW)",
    max_demand: "Maximum 15-minute demand (kW)",
    load_factor: "Load factor (mean / maximum)",
    peak_to_average: "Peak-to-average ratio",
    night_share: "Night share (00:00–06:00 energy)",
    base_load_share: "Base load (5th-percentile demand / mean)",
    weekend_ratio: "Weekend / weekday daily energy",
    not_available: "n/a",
    contracted: "Contracted capacity (kVA)",
    max_demand_kva: "Maximum demand (kVA at the assumed power factor)",
    utilisation: "Capacity utilisation",
    savings: "Savings",
    capacity_resize: "Resize the contracted capacity",
    capacity_text: "Contracted {cur} kVA; the load needs {need} kVA; the next standard size is {rec} kVA. Estimated saving: {save} yuan a year.",
    capacity_cost_text: "Contracted {cur} kVA; the load needs {need} kVA; the next standard size is {rec} kVA. The contract is too small: enlarging it would cost {save} yuan a year more.",
    peak_shift: "Shift peak energy to the valley",
    peak_shift_text: "Moving {share} of sharp- and peak-period energy ({kwh} kWh a year) to valley hours saves an estimated {save} yuan a year.",
    battery: "Battery storage",
    battery_none: "No battery sizing was run.",
    power: "Power (kW)",
    energy_capacity: "Energy (kWh)",
    capex: "Capital cost (yuan)",
    annualised_capex: "Annualised capital cost (yuan a year)",
    annual_saving: "Energy and demand charges saved (yuan a year)",
    net_benefit: "Net annual benefit (yuan a year)",
    payback: "Simple payback",
    no_payback: "none (no saving)",
    years: "years",
    yuan: "yuan",
    resolution: "Time step of the optimisation",
    hourly: "hourly",
    quarter_hour: "15 minutes",
    charts: "Charts",
    profile_title: "Average weekday profile",
    hour: "hour",
    demand_kw: "kW",
    weekday_mean: "mean weekday demand",
    tou_band: "Time-of-use periods by hour",
    months_label: "months",
    monthly_title: "Monthly maximum demand vs contracted capacity",
    month_index: "month",
    demand_kva: "kVA",
    max_demand_series: "maximum demand",
    with_battery_series: "with battery",
    contracted_series: "contracted capacity",
    chart_failed: "The chart could not be drawn",
    assumptions: "Assumptions",
    a_power_factor: "Power factor (kW to kVA)",
    a_margin: "Capacity margin over maximum demand",
    a_sizes: "Standard capacity sizes: R10 series (GB/T 6451), e.g. 100, 125, 160, 200, 250, 315, 400, 500, 630, 800 kVA",
    a_shift: "Share of sharp and peak energy assumed movable",
    a_tariff: "Time-of-use table",
    a_prices: "Base price and period ratios (sharp / peak / flat / valley)",
    a_capacity_charge: "Capacity charge (yuan per kVA-month)",
    a_annualise: "Amounts over the data period are annualised × 365 / days.",
    a_battery_costs: "Battery cost (yuan/kWh, yuan/kW, life, discount rate) — assumed, not quoted",
    a_efficiency: "Charge / discharge efficiency",
    a_demand_charge: "Demand charge (yuan per kW-month)",
    a_foresight: "The battery plan knows the whole year's load and prices in advance: an upper bound on what a real controller earns.",
    period_names: ["sharp", "peak", "flat", "valley"],
};

const ZH: Words = Words {
    title: "能效分析报告",
    customer: "用户",
    colon: "：",
    period: "数据期间",
    days: "天",
    disclaimer: "所有金额均为估算，仅供参考，不是账单。",
    metrics: "负荷指标",
    metric: "指标",
    value: "数值",
    energy: "用电量（kWh）",
    mean_demand: "平均负荷（kW）",
    max_demand: "最大15分钟需量（kW）",
    load_factor: "负荷率（平均/最大）",
    peak_to_average: "峰均比",
    night_share: "夜间电量占比（00:00–06:00）",
    base_load_share: "基础负荷（第5百分位负荷/平均负荷）",
    weekend_ratio: "周末/工作日日均电量比",
    not_available: "无",
    contracted: "合同容量（kVA）",
    max_demand_kva: "最大需量（按假定功率因数折算，kVA）",
    utilisation: "容量利用率",
    savings: "节约潜力",
    capacity_resize: "调整合同容量",
    capacity_text: "合同容量 {cur} kVA；负荷所需 {need} kVA；向上取标准容量 {rec} kVA。估计每年节约 {save} 元。",
    capacity_cost_text: "合同容量 {cur} kVA；负荷所需 {need} kVA；向上取标准容量 {rec} kVA。合同容量偏小：增容每年将多支出 {save} 元。",
    peak_shift: "峰谷转移",
    peak_shift_text: "将尖峰和高峰时段电量的 {share}（每年 {kwh} kWh）转移到低谷时段，估计每年节约 {save} 元。",
    battery: "储能配置",
    battery_none: "未进行储能配置计算。",
    power: "功率（kW）",
    energy_capacity: "容量（kWh）",
    capex: "投资（元）",
    annualised_capex: "年化投资（元/年）",
    annual_saving: "每年节约电费和需量电费（元/年）",
    net_benefit: "年净收益（元/年）",
    payback: "静态回收期",
    no_payback: "无（没有节约）",
    years: "年",
    yuan: "元",
    resolution: "优化时间步长",
    hourly: "1小时",
    quarter_hour: "15分钟",
    charts: "图表",
    profile_title: "工作日平均负荷曲线",
    hour: "小时",
    demand_kw: "kW",
    weekday_mean: "工作日平均负荷",
    tou_band: "各小时分时电价时段",
    months_label: "月份",
    monthly_title: "每月最大需量与合同容量",
    month_index: "月",
    demand_kva: "kVA",
    max_demand_series: "最大需量",
    with_battery_series: "配置储能后",
    contracted_series: "合同容量",
    chart_failed: "图表无法绘制",
    assumptions: "假设",
    a_power_factor: "功率因数（kW折算kVA）",
    a_margin: "容量裕度（相对最大需量）",
    a_sizes: "标准容量：R10系列（GB/T 6451），如 100、125、160、200、250、315、400、500、630、800 kVA",
    a_shift: "假定可转移的尖峰和高峰电量比例",
    a_tariff: "分时电价时段表",
    a_prices: "基准电价及各时段浮动比例（尖峰/高峰/平段/低谷）",
    a_capacity_charge: "容量电费（元/kVA·月）",
    a_annualise: "数据期间内的金额按 365/天数 折算为全年。",
    a_battery_costs: "储能造价（元/kWh、元/kW、寿命、折现率）——假定值，非报价",
    a_efficiency: "充电/放电效率",
    a_demand_charge: "需量电费（元/kW·月）",
    a_foresight: "储能方案假定预先知道全年负荷和电价，是实际控制所得收益的上限。",
    period_names: ["尖峰", "高峰", "平段", "低谷"],
};

/// Text for HTML content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn period_index(p: Period) -> usize {
    match p {
        Period::Sharp => 0,
        Period::Peak => 1,
        Period::Flat => 2,
        Period::Valley => 3,
    }
}

fn period_colour(p: Period) -> Colour {
    match p {
        Period::Sharp => Colour::Red,
        Period::Peak => Colour::Orange,
        Period::Flat => Colour::Olive,
        Period::Valley => Colour::Blue,
    }
}

fn hex(c: Colour) -> String {
    let (r, g, b) = c.rgb();
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

/// Mean demand per slot over weekdays (all days when there is none), kW.
fn weekday_profile_kw(series: &IntervalSeries) -> Vec<f64> {
    let mean_over = |weekdays_only: bool| {
        let mut sum = [0.0f64; SLOTS_PER_DAY];
        let mut days = 0usize;
        for (d, day) in series.kwh.chunks(SLOTS_PER_DAY).enumerate() {
            let date = series.start + chrono::Days::new(d as u64);
            if weekdays_only && matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
                continue;
            }
            days += 1;
            for (s, e) in sum.iter_mut().zip(day) {
                *s += e / super::INTERVAL_H;
            }
        }
        (days > 0).then(|| sum.iter().map(|s| s / days as f64).collect::<Vec<f64>>())
    };
    mean_over(true)
        .or_else(|| mean_over(false))
        .unwrap_or_else(|| vec![0.0; SLOTS_PER_DAY])
}

fn svg_or_note(figure: &Figure, w: &Words) -> String {
    match render_svg(figure) {
        Ok(svg) => svg,
        Err(e) => format!(
            "<p class=\"note\">{}{}{}</p>",
            w.chart_failed,
            w.colon,
            escape_html(&e.to_string())
        ),
    }
}

/// One row per distinct hour→period pattern of the months in the table,
/// as coloured cells with the months it applies to.
fn tou_band(tariff: &TouTariff, w: &Words) -> String {
    let mut rows: Vec<(Vec<u32>, &Vec<Period>)> = Vec::new();
    for (m, row) in tariff.table.periods.iter().enumerate() {
        match rows.iter_mut().find(|(_, r)| *r == row) {
            Some((months, _)) => months.push(m as u32 + 1),
            None => rows.push((vec![m as u32 + 1], row)),
        }
    }
    let (cell, label_w, h) = (24u32, 150u32, 18u32);
    let width = label_w + 24 * cell;
    let height = (rows.len() as u32 + 1) * (h + 4) + 24;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\" font-family=\"sans-serif\" font-size=\"11\">"
    );
    for (i, (months, row)) in rows.iter().enumerate() {
        let y = i as u32 * (h + 4);
        let names: Vec<String> = months.iter().map(u32::to_string).collect();
        let _ = write!(
            out,
            "<text x=\"0\" y=\"{}\">{} {}</text>",
            y + 13,
            w.months_label,
            names.join(",")
        );
        for (hour, p) in row.iter().enumerate() {
            let _ = write!(
                out,
                "<rect x=\"{}\" y=\"{y}\" width=\"{}\" height=\"{h}\" fill=\"{}\"><title>{hour}:00 {}</title></rect>",
                label_w + hour as u32 * cell,
                cell - 1,
                hex(period_colour(*p)),
                w.period_names[period_index(*p)]
            );
        }
    }
    let y = rows.len() as u32 * (h + 4);
    for hour in (0..=24).step_by(3) {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\">{hour}</text>",
            label_w + hour * cell,
            y + 12
        );
    }
    let mut x = label_w;
    for p in Period::ALL {
        let _ = write!(
            out,
            "<rect x=\"{x}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>",
            y + 20,
            hex(period_colour(p)),
            x + 16,
            y + 30,
            w.period_names[period_index(p)]
        );
        x += 80;
    }
    out.push_str("</svg>");
    out
}

fn fill(template: &str, pairs: &[(&str, String)]) -> String {
    let mut s = template.to_owned();
    for (k, v) in pairs {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

fn yuan(f: Fen) -> String {
    f.to_string()
}

/// The whole report as one HTML page in `lang`.
pub fn render_html(r: &ReportInput<'_>, lang: ReportLang) -> String {
    let w = lang.words();
    let m = r.metrics;
    let a = r.assumptions;
    let last = r.series.start + chrono::Days::new(r.series.days().saturating_sub(1) as u64);
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{} — {}</title>\
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}}\
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}\
td.n{{text-align:right}}.note{{color:#555;font-style:italic}}</style></head><body>",
        lang.tag(),
        w.title,
        escape_html(r.customer_name)
    );
    let _ = write!(
        h,
        "<h1>{}</h1><p>{}{}<strong>{}</strong> ({})<br>{}{}{} – {} ({} {})</p><p class=\"note\">{}</p>",
        w.title,
        w.customer,
        w.colon,
        escape_html(r.customer_name),
        escape_html(r.customer_id),
        w.period,
        w.colon,
        r.series.start,
        last,
        m.days,
        w.days,
        w.disclaimer
    );

    // metrics
    let _ = write!(
        h,
        "<h2>{}</h2><table><tr><th>{}</th><th>{}</th></tr>",
        w.metrics, w.metric, w.value
    );
    let rows: Vec<(&str, String)> = vec![
        (w.energy, format!("{:.1}", m.energy_kwh)),
        (w.mean_demand, format!("{:.1}", m.mean_demand_kw)),
        (w.max_demand, format!("{:.1}", m.max_demand_kw)),
        (w.load_factor, format!("{:.3}", m.load_factor)),
        (w.peak_to_average, format!("{:.2}", m.peak_to_average)),
        (w.night_share, pct(m.night_share)),
        (w.base_load_share, pct(m.base_load_share)),
        (
            w.weekend_ratio,
            m.weekend_weekday_ratio
                .map_or(w.not_available.to_owned(), |x| format!("{x:.2}")),
        ),
        (w.contracted, m.contracted_kva.to_string()),
        (w.max_demand_kva, format!("{:.1}", m.max_demand_kva)),
        (w.utilisation, pct(m.capacity_utilisation)),
    ];
    for (k, v) in rows {
        let _ = write!(h, "<tr><td>{k}</td><td class=\"n\">{v}</td></tr>");
    }
    h.push_str("</table>");

    // savings
    let c = &m.capacity;
    let cap_template = if c.annual_saving.0 >= 0 {
        w.capacity_text
    } else {
        w.capacity_cost_text
    };
    let _ = write!(
        h,
        "<h2>{}</h2><h3>{}</h3><p>{}</p><h3>{}</h3><p>{}</p>",
        w.savings,
        w.capacity_resize,
        fill(
            cap_template,
            &[
                ("cur", c.current_kva.to_string()),
                ("need", format!("{:.1}", c.needed_kva)),
                ("rec", c.recommended_kva.to_string()),
                ("save", yuan(Fen(c.annual_saving.0.abs()))),
            ]
        ),
        w.peak_shift,
        fill(
            w.peak_shift_text,
            &[
                ("share", pct(m.peak_shift.share)),
                ("kwh", format!("{:.0}", m.peak_shift.shifted_kwh_per_year)),
                ("save", yuan(m.peak_shift.annual_saving)),
            ]
        )
    );

    // battery
    let _ = write!(h, "<h2>{}</h2>", w.battery);
    match r.battery {
        None => {
            let _ = write!(h, "<p>{}</p>", w.battery_none);
        }
        Some((_, b)) => {
            let payback = b
                .payback_years
                .map_or(w.no_payback.to_owned(), |y| format!("{y:.1} {}", w.years));
            let res = match b.resolution {
                Resolution::Hourly => w.hourly,
                Resolution::QuarterHour => w.quarter_hour,
            };
            let _ = write!(
                h,
                "<table><tr><th>{}</th><th>{}</th></tr>",
                w.metric, w.value
            );
            for (k, v) in [
                (w.power, format!("{:.1}", b.power_kw)),
                (w.energy_capacity, format!("{:.1}", b.energy_kwh)),
                (w.capex, yuan(b.capex)),
                (w.annualised_capex, yuan(b.annualised_capex)),
                (w.annual_saving, yuan(b.annual_saving)),
                (w.net_benefit, yuan(b.net_annual_benefit)),
                (w.payback, payback),
                (w.resolution, res.to_owned()),
            ] {
                let _ = write!(h, "<tr><td>{k}</td><td class=\"n\">{v}</td></tr>");
            }
            h.push_str("</table>");
        }
    }

    // charts
    let _ = write!(h, "<h2>{}</h2><h3>{}</h3>", w.charts, w.profile_title);
    let profile = weekday_profile_kw(r.series);
    let figure = Figure::single(
        Panel::new(
            w.profile_title,
            w.hour,
            w.demand_kw,
            vec![
                Series::new(
                    w.weekday_mean,
                    profile
                        .iter()
                        .enumerate()
                        .map(|(i, kw)| (i as f64 / 4.0, *kw))
                        .collect(),
                )
                .coloured(Colour::Blue),
            ],
        )
        .x_range(0.0, 24.0)
        .with_zero(),
    );
    h.push_str(&svg_or_note(&figure, w));
    let _ = write!(h, "<p>{}</p>", w.tou_band);
    h.push_str(&tou_band(r.tariff, w));

    let _ = write!(h, "<h3>{}</h3>", w.monthly_title);
    let n = m.monthly_max_kw.len();
    let mut series = vec![
        Series::new(
            w.max_demand_series,
            m.monthly_max_kw
                .iter()
                .enumerate()
                .map(|(i, (_, kw))| (i as f64 + 1.0, kw / a.power_factor))
                .collect(),
        )
        .coloured(Colour::Orange),
    ];
    if let Some((_, b)) = r.battery {
        series.push(
            Series::new(
                w.with_battery_series,
                b.monthly_peak_kw
                    .iter()
                    .enumerate()
                    .map(|(i, (_, _, after))| (i as f64 + 1.0, after / a.power_factor))
                    .collect(),
            )
            .coloured(Colour::Green),
        );
    }
    series.push(
        Series::new(
            w.contracted_series,
            vec![
                (1.0, m.contracted_kva as f64),
                (n.max(2) as f64, m.contracted_kva as f64),
            ],
        )
        .coloured(Colour::Ink),
    );
    let months: Vec<&str> = m.monthly_max_kw.iter().map(|(k, _)| k.as_str()).collect();
    let figure = Figure::single(
        Panel::new(
            w.monthly_title,
            format!(
                "{} ({} … {})",
                w.month_index,
                months.first().unwrap_or(&""),
                months.last().unwrap_or(&"")
            ),
            w.demand_kva,
            series,
        )
        .with_zero(),
    );
    h.push_str(&svg_or_note(&figure, w));

    // assumptions
    let t = r.tariff;
    let ratio = |b: crate::money::Bp| format!("{:.2}", b.0 as f64 / 10_000.0);
    let _ = write!(h, "<h2>{}</h2><ul>", w.assumptions);
    let mut items: Vec<String> = vec![
        format!("{}{}{}", w.a_power_factor, w.colon, a.power_factor),
        format!("{}{}{}", w.a_margin, w.colon, a.capacity_margin),
        w.a_sizes.to_owned(),
        format!("{}{}{}", w.a_shift, w.colon, pct(a.shift_share)),
        format!("{}{}{}", w.a_tariff, w.colon, escape_html(&t.table.source)),
        format!(
            "{}{}{} {}/kWh; {} / {} / {} / {}",
            w.a_prices,
            w.colon,
            t.base,
            w.yuan,
            ratio(t.ratios.sharp),
            ratio(t.ratios.peak),
            ratio(t.ratios.flat),
            ratio(t.ratios.valley)
        ),
        format!(
            "{}{}{}",
            w.a_capacity_charge,
            w.colon,
            Fen(t.capacity_fen_per_kva_month)
        ),
        w.a_annualise.to_owned(),
    ];
    if let Some((bi, _)) = r.battery {
        items.push(format!(
            "{}{}{} / {} / {} {} / {}",
            w.a_battery_costs,
            w.colon,
            bi.costs.capex_yuan_per_kwh,
            bi.costs.capex_yuan_per_kw,
            bi.costs.life_years,
            w.years,
            pct(bi.costs.discount_rate)
        ));
        items.push(format!(
            "{}{}{} / {}",
            w.a_efficiency, w.colon, bi.charge_efficiency, bi.discharge_efficiency
        ));
        items.push(format!(
            "{}{}{}",
            w.a_demand_charge,
            w.colon,
            Fen(bi.demand_charge_fen_per_kw_month)
        ));
        items.push(w.a_foresight.to_owned());
    }
    for i in items {
        let _ = write!(h, "<li>{i}</li>");
    }
    h.push_str("</ul></body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::efficiency::battery::{BatteryInput, size_battery};
    use crate::efficiency::metrics;
    use crate::efficiency::tests::guangdong_like;
    use chrono::NaiveDate;

    fn html(name: &str, with_battery: bool, lang: ReportLang) -> String {
        let day: Vec<f64> = (0..96)
            .map(|i| if (32..76).contains(&i) { 5.0 } else { 2.0 })
            .collect();
        let s = IntervalSeries::new(
            NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
            [day.clone(), day].concat(),
        )
        .unwrap();
        let mut t = guangdong_like();
        t.table.source = "notice <331>".into();
        let a = Assumptions::default();
        let m = metrics(&s, &t, 100, &a).unwrap();
        let bi = BatteryInput::new(s.clone(), t.interval_prices_yuan(&s), 2511);
        let b = size_battery(&bi).unwrap();
        render_html(
            &ReportInput {
                customer_id: "C0001",
                customer_name: name,
                series: &s,
                tariff: &t,
                assumptions: &a,
                metrics: &m,
                battery: with_battery.then_some((&bi, &b)),
            },
            lang,
        )
    }

    #[test]
    fn report_has_its_title_in_each_language_and_inline_svg_charts() {
        let zh = html("广州某厂", true, ReportLang::Zh);
        assert!(zh.contains("<html lang=\"zh-CN\">"));
        assert!(zh.contains("<h1>能效分析报告</h1>"));
        assert!(zh.contains("储能配置"));
        assert!(
            zh.matches("<svg").count() >= 3,
            "profile, TOU band, monthly"
        );
        let en = html("Factory", true, ReportLang::En);
        assert!(en.contains("<html lang=\"en\">"));
        assert!(en.contains("<h1>Energy efficiency report</h1>"));
        assert!(en.contains("<svg"));
        assert!(!en.contains("能效"), "no Chinese in the English page");
        assert!(
            !en.contains("href=") && !en.contains("src="),
            "self-contained"
        );
    }

    #[test]
    fn report_escapes_the_customer_name_and_the_tariff_source() {
        let en = html("<script>alert(1)</script> & Co", false, ReportLang::En);
        assert!(!en.contains("<script>"));
        assert!(en.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
        assert!(en.contains("notice &lt;331&gt;"));
        assert!(en.contains("No battery sizing was run."));
    }

    #[test]
    fn escape_html_covers_the_five_special_characters() {
        assert_eq!(
            escape_html("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
