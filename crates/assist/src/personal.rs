//! Personal intents: questions about the asker's own situation, answered from
//! the store rather than from the knowledge base, within the asker's member.
//!
//! Built: **gate closure** ("when does today's window close", "今天几点关闸"):
//! the next day-ahead gate closure and the other markets' windows of that
//! trading day, from the stored market parameters (`MarketParameters::window`,
//! the calculation the market's scheduler uses) and the stored sessions'
//! states. It reads only public data, so every role may ask it.
//!
//! Not built (they need voltex-market's review and statement types, which
//! this crate does not depend on): "why was my offer refused", "my settlement
//! for yesterday"; the knowledge base answers the general form of those.
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use voltex_model::{MarketKind, MarketParameters, MarketSession};
use voltex_store::Store;

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
    /// Record the question for the unknown-question loop.
    pub record: bool,
}

/// An answer from the asker's data.
#[derive(Debug, Clone, Serialize)]
pub struct PersonalAnswer {
    pub intent: &'static str,
    pub text: String,
}

/// The answer of the first personal intent that matches `question`, if any.
pub async fn answer(
    store: &Store,
    question: &str,
    lang: Lang,
    asker: &Asker,
) -> Result<Option<PersonalAnswer>, AssistError> {
    answer_at(store, question, lang, asker, Utc::now()).await
}

/// [`answer`] at a given instant (tests).
pub async fn answer_at(
    store: &Store,
    question: &str,
    lang: Lang,
    _asker: &Asker,
    now: DateTime<Utc>,
) -> Result<Option<PersonalAnswer>, AssistError> {
    if asks_gate_closure(question, lang) {
        return Ok(Some(gate_closure(store, lang, now).await?));
    }
    Ok(None)
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
    let tz: chrono_tz::Tz = da.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    let today = now.with_timezone(&tz).date_naive();
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
}
