//! Personal intents: questions about the asker's own situation, answered
//! through the market and retail services as the asker (its market identity
//! or retail account), under the same tenant rules as the API's reads of
//! the same records, so nobody learns another member's or customer's data
//! here either.
//!
//! - **gate closure** ("when does today's window close", "今天几点关闸"):
//!   the next day-ahead gate closure and every market's window of that
//!   trading day, from the stored market parameters
//!   (`MarketParameters::window`, the scheduler's calculation) and the
//!   sessions' states. Public data: every asker.
//! - **refused declaration** ("why was my offer refused", "我的申报为什么被驳回"):
//!   the asker's declarations held or rejected in review, latest first,
//!   with the screen's finding and the operator's reason
//!   (`Market::reviews`, as `GET /api/v1/reviews`). A member's market
//!   identity is needed.
//! - **settlement** ("what is my settlement for yesterday", "我昨天的结算是多少"):
//!   the member's statement of yesterday (or its latest of the last 31
//!   days), its totals and largest resource (`Market::statement`, as
//!   `GET /api/v1/statements/{day}/{member}`); when none is issued, the
//!   day-ahead session's state.
//! - **bill change** ("why is my bill higher than last month",
//!   "我的账单为什么比上月高"): each of a retail customer's accounts, its
//!   latest bill against the month before, line by line
//!   (`Retail::bill_change`). A retail customer's user is needed.
//!
//! An intent that needs an identity the asker lacks (the command line
//! without `--member`, a retailer's staff asking about "my bill") is not
//! matched, and the knowledge base answers the general form.
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use voltex_market::review::{DeclarationReview, ReviewState};
use voltex_market::settlement::Statement;
use voltex_market::{Actor, Market};
use voltex_model::{MarketKind, MarketParameters, MarketSession};
use voltex_retail::comparison::BillChange;
use voltex_retail::money::kwh_string;
use voltex_retail::{Retail, Viewer};
use voltex_store::{Record, Store};

use crate::analysis::canonicalise;
use crate::error::AssistError;
use crate::language::Lang;

/// Who is asking (from the signed-in session, or the command line).
#[derive(Debug, Clone, Default)]
pub struct Asker {
    /// User id; `cli` for `voltex ask`.
    pub user: String,
    /// The member the user acts for (none for platform staff and the CLI).
    pub member_id: Option<String>,
    /// The market identity the asker acts as (its member, or the operator
    /// account for operator staff); none: no market data of its own.
    pub actor: Option<Actor>,
    /// The retail account the asker sees (a retail customer's user, or a
    /// retailer's staff); none: no retail data.
    pub retail: Option<Viewer>,
    /// Record the question for the unknown-question loop.
    pub record: bool,
}

/// An answer from the asker's data.
#[derive(Debug, Clone, Serialize)]
pub struct PersonalAnswer {
    pub intent: &'static str,
    pub text: String,
}

/// The intents, in the order they are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Intent {
    GateClosure,
    RefusedDeclaration,
    Settlement,
    BillChange,
}

/// What the market and retail services answer personal intents with.
#[derive(Debug, Clone)]
pub struct Sources {
    pub market: Market,
    pub retail: Retail,
}

impl Sources {
    pub fn store(&self) -> &Store {
        self.market.store()
    }
}

/// The answer of the first personal intent that matches `question` and
/// that the asker has the identity for, if any.
pub async fn answer(
    sources: &Sources,
    question: &str,
    lang: Lang,
    asker: &Asker,
) -> Result<Option<PersonalAnswer>, AssistError> {
    answer_at(sources, question, lang, asker, Utc::now()).await
}

/// [`answer`] at a given instant (tests).
pub async fn answer_at(
    sources: &Sources,
    question: &str,
    lang: Lang,
    asker: &Asker,
    now: DateTime<Utc>,
) -> Result<Option<PersonalAnswer>, AssistError> {
    let Some(intent) = intent_of(question, lang) else {
        return Ok(None);
    };
    Ok(match (intent, &asker.actor, &asker.retail) {
        (Intent::GateClosure, _, _) => Some(gate_closure(sources.store(), lang, now).await?),
        (Intent::RefusedDeclaration, Some(actor), _) => {
            Some(refused(&sources.market, actor, lang).await?)
        }
        (Intent::Settlement, Some(actor), _) => {
            Some(settlement(&sources.market, actor, question, lang, now).await?)
        }
        (Intent::BillChange, _, Some(v @ Viewer::Customer { .. })) => {
            Some(bill_change(&sources.retail, v, lang).await?)
        }
        _ => None,
    })
}

/// The question's text for matching: lower case, punctuation a blank, and
/// its English words.
struct Text {
    lower: String,
    words: Vec<String>,
}

impl Text {
    fn of(question: &str) -> Text {
        let lower: String = question
            .to_lowercase()
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect();
        let words = lower.split_whitespace().map(str::to_owned).collect();
        Text { lower, words }
    }

    /// A word equal to one of `ws`, or starting with one ending in `*`.
    fn word(&self, ws: &[&str]) -> bool {
        self.words.iter().any(|w| {
            ws.iter().any(|p| match p.strip_suffix('*') {
                Some(stem) => w.starts_with(stem),
                None => w == p,
            })
        })
    }

    /// Contains one of `parts` (Chinese, or English phrases).
    fn has(&self, parts: &[&str]) -> bool {
        parts.iter().any(|p| self.lower.contains(p))
    }
}

/// The personal intent `question` asks, if any.
fn intent_of(question: &str, lang: Lang) -> Option<Intent> {
    if asks_gate_closure(question, lang) {
        return Some(Intent::GateClosure);
    }
    let t = Text::of(question);
    let (refused, settlement, bill) = match lang {
        Lang::En => {
            let why = t.word(&["why", "reason", "reasons"]);
            let own = t.word(&["my", "our", "mine"]);
            let general = t.word(&["calculated", "calculate", "formula", "explain", "mean"])
                || t.has(&["how is", "how are", "how do", "what is a", "what does"]);
            (
                why && t.word(&["refus*", "reject*", "held", "declin*", "fail*", "hold"])
                    && (own || t.word(&["offer*", "bid*", "declaration*"])),
                t.word(&["settlement*", "statement*", "settled", "earn*", "earned"])
                    && (t.word(&["yesterday"]) || (own && !general)),
                t.word(&["bill", "bills", "invoice*"])
                    && own
                    && t.word(&[
                        "higher",
                        "more",
                        "increase*",
                        "up",
                        "expensive",
                        "rise",
                        "rose",
                        "why",
                        "lower",
                        "less",
                        "changed",
                        "change",
                    ]),
            )
        }
        Lang::Zh => {
            let why = t.has(&["为什么", "为何", "原因", "怎么会", "咋"]);
            let own = t.has(&["我", "我们", "本公司"]);
            let general = t.has(&[
                "怎么算",
                "如何计算",
                "计算方法",
                "公式",
                "是什么意思",
                "规则",
            ]);
            (
                why && t.has(&[
                    "拒",
                    "驳回",
                    "未通过",
                    "没通过",
                    "退回",
                    "扣留",
                    "暂缓",
                    "失败",
                    "不通过",
                ]) && (own || t.has(&["申报", "报价"])),
                t.has(&["结算", "收入"]) && (t.has(&["昨天", "昨日"]) || (own && !general)),
                t.has(&["账单", "电费"])
                    && own
                    && t.has(&[
                        "高",
                        "多",
                        "涨",
                        "增加",
                        "上升",
                        "为什么",
                        "低",
                        "少",
                        "变化",
                    ]),
            )
        }
    };
    if bill {
        Some(Intent::BillChange)
    } else if refused {
        Some(Intent::RefusedDeclaration)
    } else if settlement {
        Some(Intent::Settlement)
    } else {
        None
    }
}

/// "When does (today's) window close / the gate close", in either language:
/// a time word together with a gate-closure word.
fn asks_gate_closure(question: &str, lang: Lang) -> bool {
    let c = canonicalise(question).to_lowercase();
    match lang {
        Lang::En => {
            let words: Vec<&str> = c.split_whitespace().collect();
            let time = words
                .iter()
                .any(|w| matches!(*w, "when" | "time" | "today" | "tonight" | "tomorrow"));
            let gate = words.contains(&"gateclosure")
                || (words.contains(&"window") && words.iter().any(|w| w.starts_with("clos")));
            time && gate
        }
        Lang::Zh => {
            let time = ["几点", "什么时候", "何时", "今天", "今日", "明天", "时间"]
                .iter()
                .any(|w| c.contains(w));
            let gate = c.contains("关闸")
                || (c.contains("窗口") && (c.contains("关") || c.contains("结束")));
            time && gate
        }
    }
}

fn market_name(m: MarketKind, lang: Lang) -> &'static str {
    match (m, lang) {
        (MarketKind::DayAheadEnergy, Lang::En) => "day-ahead energy",
        (MarketKind::RealTimeEnergy, Lang::En) => "real-time energy",
        (MarketKind::FrequencyRegulation, Lang::En) => "frequency regulation",
        (MarketKind::PeakRegulation, Lang::En) => "peak regulation",
        (MarketKind::DayAheadEnergy, Lang::Zh) => "日前电能量",
        (MarketKind::RealTimeEnergy, Lang::Zh) => "实时电能量",
        (MarketKind::FrequencyRegulation, Lang::Zh) => "调频",
        (MarketKind::PeakRegulation, Lang::Zh) => "调峰",
    }
}

async fn parameters(store: &Store, m: MarketKind) -> Result<MarketParameters, AssistError> {
    Ok(store
        .get::<MarketParameters>(m.as_str())
        .await?
        .map(|r| r.value)
        .unwrap_or_else(|| MarketParameters::default_for(m)))
}

/// The trading day whose day-ahead gate is the next to close after `now`,
/// and each market's window of that day.
async fn gate_closure(
    store: &Store,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<PersonalAnswer, AssistError> {
    let da = parameters(store, MarketKind::DayAheadEnergy).await?;
    let (tz, today) = market_today(&da, now);
    let mut day = today;
    for offset in 0..4 {
        let d = today + Duration::days(offset);
        if let Ok((_, close)) = da.window(d)
            && close > now
        {
            day = d;
            break;
        }
    }
    let mut lines = Vec::new();
    for m in MarketKind::ALL {
        let p = parameters(store, m).await?;
        let Ok((open, close)) = p.window(day) else {
            continue;
        };
        let tz: chrono_tz::Tz = p.time_zone.parse().unwrap_or(tz);
        let fmt = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
        let sid = MarketSession::id_for(m, day);
        let state = store
            .get::<MarketSession>(&sid)
            .await?
            .map(|r| r.value.state.as_str().to_owned());
        let passed = close <= now;
        lines.push(match lang {
            Lang::En => format!(
                "- {}: window {} – {} ({}){}; session {sid}: {}",
                market_name(m, lang),
                fmt(open),
                fmt(close),
                p.time_zone,
                if passed { ", gate already closed" } else { "" },
                state.as_deref().unwrap_or("not created yet"),
            ),
            Lang::Zh => format!(
                "- {}：申报窗口 {} 开启，{} 关闸（{}）{}；场次 {sid}：{}",
                market_name(m, lang),
                fmt(open),
                fmt(close),
                p.time_zone,
                if passed { "，已关闸" } else { "" },
                state.as_deref().unwrap_or("尚未创建"),
            ),
        });
    }
    let head = match lang {
        Lang::En => format!("The next gate closure is for trading day {day}:"),
        Lang::Zh => format!("下一个关闸的是运行日 {day}："),
    };
    Ok(PersonalAnswer {
        intent: "gate_closure",
        text: format!("{head}\n{}", lines.join("\n")),
    })
}

/// The market's time zone (the day-ahead market's) and today in it.
fn market_today(da: &MarketParameters, now: DateTime<Utc>) -> (chrono_tz::Tz, NaiveDate) {
    let tz: chrono_tz::Tz = da.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    (tz, now.with_timezone(&tz).date_naive())
}

/// The most declarations listed by the refused-declaration answer.
const REVIEWS_LISTED: usize = 5;

/// The asker's declarations held or rejected in review, latest first.
async fn refused(
    market: &Market,
    actor: &Actor,
    lang: Lang,
) -> Result<PersonalAnswer, AssistError> {
    let open: Vec<Record<DeclarationReview>> = market
        .reviews(actor)
        .await?
        .into_iter()
        .filter(|r| r.value.state != ReviewState::Approved)
        .collect();
    let mut lines: Vec<String> = open
        .iter()
        .take(REVIEWS_LISTED)
        .map(|r| {
            let v = &r.value;
            let what = format!("{} v{}", v.declaration_key, v.declaration_version);
            let reason = v.reason.as_deref().unwrap_or("-");
            let when = v
                .decided_at
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default();
            match (lang, v.state) {
                (Lang::En, ReviewState::Rejected) => format!(
                    "- {what} (session {}): rejected by the operator {when}, reason: {reason}; finding: {}",
                    v.session_id, v.finding
                ),
                (Lang::En, _) => format!(
                    "- {what} (session {}): held for the operator's review, it does not count until approved; finding: {}",
                    v.session_id, v.finding
                ),
                (Lang::Zh, ReviewState::Rejected) => format!(
                    "- {what}（场次 {}）：已被运营方驳回（{when}），理由：{reason}；审核发现：{}",
                    v.session_id, v.finding
                ),
                (Lang::Zh, _) => format!(
                    "- {what}（场次 {}）：待运营方审核，批准前不生效；审核发现：{}",
                    v.session_id, v.finding
                ),
            }
        })
        .collect();
    let head = match (lang, open.len()) {
        (Lang::En, 0) => "None of your declarations is held or rejected in review.".to_owned(),
        (Lang::Zh, 0) => "您没有被扣留审核或被驳回的申报。".to_owned(),
        (Lang::En, n) => format!(
            "{n} of your declarations held or rejected in review (latest first{}):",
            if n > REVIEWS_LISTED {
                ", the first five"
            } else {
                ""
            }
        ),
        (Lang::Zh, n) => format!(
            "您有 {n} 条申报被扣留审核或被驳回（按时间倒序{}）：",
            if n > REVIEWS_LISTED {
                "，列出前五条"
            } else {
                ""
            }
        ),
    };
    lines.insert(0, head);
    lines.push(match lang {
        Lang::En => "A declaration refused on submission is not stored: the answer to it named each field and the rule it broke (ask about \"validation errors\").".into(),
        Lang::Zh => "提交时即被拒绝的申报不会保存：当时的回复已列出每个字段及其违反的规则（可询问“校验错误”）。".into(),
    });
    Ok(PersonalAnswer {
        intent: "refused_declaration",
        text: lines.join("\n"),
    })
}

/// The most days back the settlement answer looks for a statement.
const STATEMENT_DAYS_BACK: i64 = 31;

/// The member's statement of yesterday (when asked) or its latest.
async fn settlement(
    market: &Market,
    actor: &Actor,
    question: &str,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<PersonalAnswer, AssistError> {
    let t = Text::of(question);
    let only_yesterday = t.word(&["yesterday"]) || t.has(&["昨天", "昨日"]);
    let da = parameters(market.store(), MarketKind::DayAheadEnergy).await?;
    let (_, today) = market_today(&da, now);
    let yesterday = today - Duration::days(1);
    let days = if only_yesterday {
        1
    } else {
        STATEMENT_DAYS_BACK
    };
    let mut found = None;
    for back in 0..days {
        let day = yesterday - Duration::days(back);
        match market.statement(actor, day, &actor.member_id).await {
            Ok(r) => {
                found = Some(r.value);
                break;
            }
            Err(voltex_market::MarketError::NotFound { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let text = match found {
        Some(s) => statement_text(&s, lang),
        None => {
            let sid = MarketSession::id_for(MarketKind::DayAheadEnergy, yesterday);
            let state = market
                .store()
                .get::<MarketSession>(&sid)
                .await?
                .map(|r| r.value.state.as_str().to_owned());
            match (lang, only_yesterday) {
                (Lang::En, true) => format!(
                    "No statement of yours for {yesterday} yet: the day-ahead session {sid} is {}. Statements are issued when the operator settles a day whose sessions are published.",
                    state.as_deref().unwrap_or("not created")
                ),
                (Lang::En, false) => format!(
                    "No statement of yours in the last {STATEMENT_DAYS_BACK} days (yesterday's day-ahead session {sid} is {}).",
                    state.as_deref().unwrap_or("not created")
                ),
                (Lang::Zh, true) => format!(
                    "您 {yesterday} 的结算单尚未出具：日前场次 {sid} 状态为 {}。运营方在场次发布后结算该运行日时出具结算单。",
                    state.as_deref().unwrap_or("尚未创建")
                ),
                (Lang::Zh, false) => format!(
                    "最近 {STATEMENT_DAYS_BACK} 天没有您的结算单（昨天的日前场次 {sid} 状态为 {}）。",
                    state.as_deref().unwrap_or("尚未创建")
                ),
            }
        }
    };
    Ok(PersonalAnswer {
        intent: "settlement",
        text,
    })
}

/// A statement's totals and its largest resource, in words.
fn statement_text(s: &Statement, lang: Lang) -> String {
    let mut by_resource: BTreeMap<&str, f64> = BTreeMap::new();
    for l in &s.lines {
        *by_resource.entry(&l.resource_id).or_default() += l.amount;
    }
    let largest = by_resource
        .iter()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()));
    let issued = s.issued_at.format("%Y-%m-%d %H:%M UTC");
    match lang {
        Lang::En => {
            let mut t = format!(
                "Your statement for trading day {} (member {}, issued {issued}): total {:.2} yuan = day-ahead {:.2} + real-time deviations {:.2}.",
                s.trading_day, s.member_id, s.total, s.da_total, s.rt_total
            );
            if let Some((r, a)) = largest {
                t.push_str(&format!(" The largest resource is {r}: {a:.2} yuan."));
            }
            t.push_str(" (Positive: you receive; negative: you pay.)");
            t
        }
        Lang::Zh => {
            let mut t = format!(
                "您运行日 {} 的结算单（成员 {}，出具于 {issued}）：合计 {:.2} 元 = 日前 {:.2} 元 + 实时偏差 {:.2} 元。",
                s.trading_day, s.member_id, s.total, s.da_total, s.rt_total
            );
            if let Some((r, a)) = largest {
                t.push_str(&format!("金额最大的资源是 {r}：{a:.2} 元。"));
            }
            t.push_str("（正数为应收，负数为应付。）");
            t
        }
    }
}

/// Each of a retail customer's accounts: its latest bill against the
/// month before.
async fn bill_change(
    retail: &Retail,
    viewer: &Viewer,
    lang: Lang,
) -> Result<PersonalAnswer, AssistError> {
    let mut parts = Vec::new();
    for c in retail.customers(viewer).await? {
        match retail.bill_change(viewer, &c.id).await? {
            Some(change) => parts.push(bill_change_text(&change, lang)),
            None => parts.push(match lang {
                Lang::En => format!(
                    "Account {}: fewer than two months billed, nothing to compare yet.",
                    c.id
                ),
                Lang::Zh => format!("账户 {}：出账不足两个月，暂无可比较的账单。", c.id),
            }),
        }
    }
    if parts.is_empty() {
        parts.push(match lang {
            Lang::En => "No retail account names you as its user.".into(),
            Lang::Zh => "没有以您为用户的售电账户。".into(),
        });
    }
    Ok(PersonalAnswer {
        intent: "bill_change",
        text: parts.join("\n\n"),
    })
}

/// The lines whose change the bill-change answer names.
const LINES_NAMED: usize = 3;

fn bill_change_text(c: &BillChange, lang: Lang) -> String {
    use voltex_retail::money::Fen;
    let zh = lang == Lang::Zh;
    let say = |en: &'static str, zh_text: &'static str| if zh { zh_text } else { en };
    let signed = |f: Fen| {
        if f.0 > 0 {
            format!("+{f}")
        } else {
            f.to_string()
        }
    };
    let d = c.difference();
    let head = if zh {
        let way = match d.0.signum() {
            1 => "高",
            -1 => "低",
            _ => "持平，差",
        };
        format!(
            "账户 {}：{} 账单 {} 元，比 {}（{} 元）{way} {} 元。",
            c.customer_id,
            c.month,
            c.total,
            c.previous_month,
            c.previous_total,
            Fen(d.0.abs())
        )
    } else {
        let way = match d.0.signum() {
            1 => "higher",
            -1 => "lower",
            _ => "no different",
        };
        format!(
            "Account {}: the bill of {} is {} yuan, {} yuan {way} than {} ({} yuan).",
            c.customer_id,
            c.month,
            c.total,
            signed(d),
            c.previous_month,
            c.previous_total
        )
    };
    // (what, before, after, unit, the change when it is worth naming)
    let price = |p: Option<voltex_retail::money::PricePerKwh>| {
        p.map_or_else(|| "-".to_owned(), |p| p.to_string())
    };
    let mut items: Vec<(String, String, String, &str, Option<String>)> = vec![
        (
            say("energy", "用电量").to_owned(),
            kwh_string(c.previous_energy_wh),
            kwh_string(c.energy_wh),
            "kWh",
            None,
        ),
        (
            say("average price", "平均电价").to_owned(),
            price(c.previous_average_price),
            price(c.average_price),
            say("yuan/kWh", "元/kWh"),
            None,
        ),
    ];
    if c.deviation_charge != c.previous_deviation_charge {
        items.push((
            say(
                "deviation charge (energy outside the contract's band)",
                "偏差考核费用（超出合同偏差带的电量）",
            )
            .to_owned(),
            c.previous_deviation_charge.to_string(),
            c.deviation_charge.to_string(),
            say("yuan", "元"),
            None,
        ));
    }
    for l in c
        .lines
        .iter()
        .filter(|l| l.difference().0 != 0)
        .take(LINES_NAMED)
    {
        items.push((
            l.description.clone(),
            l.previous.to_string(),
            l.now.to_string(),
            say("yuan", "元"),
            Some(signed(l.difference())),
        ));
    }
    if c.vat != c.previous_vat {
        items.push((
            say("VAT", "增值税").to_owned(),
            c.previous_vat.to_string(),
            c.vat.to_string(),
            say("yuan", "元"),
            None,
        ));
    }
    let (colon, arrow) = if zh { ("：", "→") } else { (": ", "->") };
    let mut out = vec![head];
    for (what, before, after, unit, change) in items {
        let change = change.map_or_else(String::new, |c| {
            if zh {
                format!("（{c}）")
            } else {
                format!(" ({c})")
            }
        });
        out.push(format!(
            "- {what}{colon}{before} {arrow} {after} {unit}{change}"
        ));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_closure_questions_are_recognised_in_both_languages() {
        for q in [
            "When does today's window close?",
            "what time is the gate closure today",
            "when is the deadline for tomorrow",
        ] {
            assert!(asks_gate_closure(q, Lang::En), "{q}");
        }
        for q in [
            "今天几点关闸？",
            "明天的申报截止时间是什么时候",
            "今天窗口几点关",
        ] {
            assert!(asks_gate_closure(q, Lang::Zh), "{q}");
        }
        for q in [
            "What happens at gate closure?",
            "how is the window defined",
            "关闸以后还能改申报吗",
        ] {
            assert!(!asks_gate_closure(q, Lang::detect(q)), "{q}");
        }
    }

    #[test]
    fn personal_questions_are_told_from_general_ones_in_both_languages() {
        let cases: &[(&str, Option<Intent>)] = &[
            (
                "Why was my offer refused?",
                Some(Intent::RefusedDeclaration),
            ),
            (
                "why did the operator reject our bid",
                Some(Intent::RefusedDeclaration),
            ),
            ("我的申报为什么被驳回了", Some(Intent::RefusedDeclaration)),
            ("为什么我的报价没通过", Some(Intent::RefusedDeclaration)),
            (
                "What is my settlement for yesterday?",
                Some(Intent::Settlement),
            ),
            ("show me yesterday's statement", Some(Intent::Settlement)),
            ("我昨天的结算是多少", Some(Intent::Settlement)),
            (
                "Why is my bill higher than last month?",
                Some(Intent::BillChange),
            ),
            ("我的账单为什么比上月高", Some(Intent::BillChange)),
            ("这个月我的电费怎么涨了", Some(Intent::BillChange)),
            ("How is the settlement calculated?", None),
            ("结算公式是什么", None),
            ("What does a rejected declaration mean?", None),
            ("how do I read a bill", None),
            ("什么是偏差考核", None),
        ];
        for (q, want) in cases {
            assert_eq!(intent_of(q, Lang::detect(q)), *want, "{q}");
        }
    }

    #[test]
    fn a_bill_change_is_told_with_its_figures_in_both_languages() {
        use voltex_retail::comparison::LineChange;
        use voltex_retail::money::{Fen, PricePerKwh};
        use voltex_retail::month::Month;
        let c = BillChange {
            customer_id: "C1".into(),
            month: Month::parse("2026-07").unwrap(),
            previous_month: Month::parse("2026-06").unwrap(),
            total: Fen(565),
            previous_total: Fen(226),
            energy_wh: 10_000,
            previous_energy_wh: 4_000,
            average_price: Some(PricePerKwh(5650)),
            previous_average_price: Some(PricePerKwh(5650)),
            vat: Fen(65),
            previous_vat: Fen(26),
            deviation_charge: Fen(0),
            previous_deviation_charge: Fen(0),
            lines: vec![LineChange {
                code: "energy".into(),
                description: "energy, fixed price".into(),
                previous: Fen(200),
                now: Fen(500),
                previous_wh: Some(4_000),
                now_wh: Some(10_000),
            }],
        };
        let en = bill_change_text(&c, Lang::En);
        assert_eq!(
            en,
            "Account C1: the bill of 2026-07 is 5.65 yuan, +3.39 yuan higher than 2026-06 (2.26 yuan).\n\
             - energy: 4.000 -> 10.000 kWh\n\
             - average price: 0.5650 -> 0.5650 yuan/kWh\n\
             - energy, fixed price: 2.00 -> 5.00 yuan (+3.00)\n\
             - VAT: 0.26 -> 0.65 yuan"
        );
        let zh = bill_change_text(&c, Lang::Zh);
        assert!(
            zh.starts_with("账户 C1：2026-07 账单 5.65 元，比 2026-06（2.26 元）高 3.39 元。"),
            "{zh}"
        );
        assert!(zh.contains("- 增值税：0.26 → 0.65 元"), "{zh}");
    }
}
