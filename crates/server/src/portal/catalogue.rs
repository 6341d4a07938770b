//! Every string the portal shows, in Simplified Chinese and English: one
//! typed catalogue. Each entry is written once with both texts side by
//! side, so a string cannot exist in one language only (the macro builds
//! both catalogues from the same list; a missing text does not compile).
//! Templates read `chrome.m.<entry>`. Texts with a number take it in the
//! `{n}` placeholder ([`fill`]).

macro_rules! catalogue {
    ($( $(#[$doc:meta])* $name:ident: $zh:literal, $en:literal; )*) => {
        /// The portal's texts in one language.
        #[derive(Debug)]
        pub struct Messages {
            $( $(#[$doc])* pub $name: &'static str, )*
        }

        /// Simplified Chinese (zh-CN).
        pub static ZH_CN: Messages = Messages { $( $name: $zh, )* };
        /// English.
        pub static EN: Messages = Messages { $( $name: $en, )* };

        impl Messages {
            /// Every entry as (name, text), in catalogue order.
            #[cfg(test)]
            pub fn entries(&self) -> Vec<(&'static str, &'static str)> {
                vec![$( (stringify!($name), self.$name), )*]
            }
        }
    };
}

catalogue! {
    /// The language's own name, on the switch to it.
    language_name: "中文", "English";
    language_switch: "语言", "Language";
    product: "Voltex 电力现货市场", "Voltex electricity spot market";
    skip_to_content: "跳到正文", "Skip to content";
    sign_in_heading: "登录", "Sign in";
    sign_in_intro: "请输入用户名、密码和身份验证器显示的一次性密码。",
        "Enter your user name, your password and the one-time code your authenticator shows.";
    user_label: "用户名", "User name";
    password_label: "密码", "Password";
    totp_label: "一次性密码（6 位数字）", "One-time code (6 digits)";
    sign_in_button: "登录", "Sign in";
    sign_in_refused: "用户名、密码或一次性密码不正确，或该用户已停用。",
        "The user name, password or one-time code is wrong, or the user is disabled.";
    sign_in_throttled: "登录失败次数过多，请在 {n} 秒后重试。",
        "Too many failed sign-ins: try again in {n} s.";
    form_refused_heading: "请求被拒绝", "Request refused";
    form_refused: "表单缺少有效的防伪令牌。请重新加载页面后再提交。",
        "The form carries no valid anti-forgery token. Reload the page and submit again.";
    sign_out: "退出登录", "Sign out";
    signed_in_as: "当前用户", "Signed in as";
    nav_label: "主导航", "Main navigation";
    nav_overview: "概览", "Overview";
    nav_statements: "结算单", "Statements";
    sessions_heading: "交易场次", "Market sessions";
    no_sessions: "暂无交易场次。运营方创建场次后会显示在这里。",
        "No sessions yet. They appear here once the operator creates them.";
    col_session: "场次", "Session";
    col_market: "市场", "Market";
    col_day: "交易日", "Trading day";
    col_state: "状态", "State";
    notices_heading: "消息", "Notices";
    no_notices: "没有消息。", "No notices.";
    col_time: "时间", "Time";
    col_subject: "事项", "Subject";
    col_message: "内容", "Message";
    declarations_heading: "申报", "Declarations";
    no_declarations: "本场次没有可供您查看的申报。开放申报期间可通过接口或命令行提交。",
        "There are no declarations of yours in this session. Submit them through the API or the command line while the window is open.";
    col_declaration: "申报", "Declaration";
    col_member: "成员", "Member";
    col_kind: "类型", "Kind";
    col_version: "版本", "Version";
    col_submitted: "提交时间", "Submitted";
    versions_heading: "全部版本（最后一个生效）", "Every version (the last is in force)";
    col_receipt: "回执", "Receipt";
    receipt_none: "无（未签名提交）", "none (not signed)";
    receipt_sealed: "平台已盖章", "sealed by the platform";
    results_heading: "出清结果", "Clearing results";
    results_not_published: "结果尚未发布。", "The results are not published yet.";
    lmp_chart_title: "节点边际电价（元/MWh）", "Locational marginal prices (yuan/MWh)";
    lmp_axis_interval: "时段", "interval";
    lmp_axis_price: "元/MWh", "yuan/MWh";
    lmp_min: "最低", "lowest";
    lmp_mean: "平均", "mean";
    lmp_max: "最高", "highest";
    run_heading: "出清计算（运营方）", "Clearing run (operator)";
    run_version: "计算版本", "Run version";
    run_objective: "目标函数值（元）", "Objective (yuan)";
    run_binding: "有阻塞的支路时段数", "Branch-intervals with binding limits";
    run_shortfall: "缺供电量（MWh）", "Unserved energy (MWh)";
    run_none: "该场次尚未出清。", "This session has not been cleared yet.";
    statement_heading: "结算单", "Settlement statement";
    statements_heading: "结算单", "Settlement statements";
    no_statements: "尚无结算单。运营方结算交易日后会显示在这里。",
        "No statements yet. They appear here once the operator settles a trading day.";
    da_total: "日前合计（元）", "Day-ahead total (yuan)";
    rt_total: "实时合计（元）", "Real-time total (yuan)";
    total: "总计（元）", "Total (yuan)";
    col_interval: "时段", "Interval";
    col_resource: "资源", "Resource";
    col_da_mw: "日前电量（MW）", "Day-ahead (MW)";
    col_da_lmp: "日前电价", "Day-ahead price";
    col_rt_mw: "实时电量（MW）", "Real-time (MW)";
    col_rt_lmp: "实时电价", "Real-time price";
    col_amount: "金额（元）", "Amount (yuan)";
    beijing_time: "北京时间", "Beijing time";
    error_heading: "无法显示此页面", "This page cannot be shown";
    error_not_found: "您要找的内容不存在，或不属于您。", "What you asked for does not exist, or is not yours to see.";
    error_forbidden: "您的角色不能使用此页面。", "Your role cannot use this page.";
    error_sign_in_first: "请先登录。", "Please sign in first.";
    error_unavailable: "服务暂时不可用，请稍后再试。", "The service is unavailable for now; try again later.";
    back_to_overview: "返回概览", "Back to the overview";
    market_day_ahead: "日前电能量", "Day-ahead energy";
    market_real_time: "实时电能量", "Real-time energy";
    market_frequency: "调频辅助服务", "Frequency regulation";
    market_peak: "调峰辅助服务", "Peak regulation";
    state_scheduled: "已创建", "Scheduled";
    state_open: "申报中", "Open";
    state_closed: "已关闸", "Gate closed";
    state_cleared: "已出清", "Cleared";
    state_published: "已发布", "Published";
    state_settled: "已结算", "Settled";
    role_operator: "运营方", "Operator";
    role_member_administrator: "成员管理员", "Member administrator";
    role_member_trader: "交易员", "Trader";
    role_member_viewer: "查看员", "Viewer";
    role_auditor: "审计员", "Auditor";
    role_retail_customer: "零售用户", "Retail customer";
    role_retail_account_manager: "客户经理", "Account manager";
    role_retail_billing: "计费专员", "Billing clerk";
    role_retail_trader: "售电交易员", "Retail trader";
    role_retail_administrator: "售电管理员", "Retail administrator";
    nav_assist: "智能客服", "Ask us";
    assist_heading: "智能客服", "Customer service";
    assist_intro: "可用中文或英文提问：市场规则、申报、结算、证书、售电套餐等。涉及您自己数据的问题（关闸时间、被驳回的申报、昨天的结算、账单变化）按您的权限从平台数据中回答。",
        "Ask in Chinese or English: market rules, declarations, settlement, certificates, retail packages. Questions about your own data (gate closure, refused declarations, yesterday's settlement, a bill's change) are answered from the platform, within what your role may see.";
    assist_question_label: "您的问题", "Your question";
    assist_button: "提问", "Ask";
    assist_not_known: "暂时无法回答这个问题，已转交运营人员。", "This is not known yet; the question was passed to the operators.";
    assist_from_your_data: "以上回答来自您在平台上的数据。", "This answer is from your data on the platform.";
    assist_from_faq: "来源：常见问题条目", "Source: FAQ entry";
    assist_closest: "相关条目", "Related entries";
    nav_retail_forecast: "负荷预测", "Load forecast";
    forecast_heading: "日前负荷预测", "Day-ahead load forecast";
    forecast_intro: "根据已导入的计量数据，预测合同覆盖的每个用户及整个用户组合在预测日 96 个时段的用电量；每个用户的方法由最近 28 天的回测选出。",
        "The 96 quarter-hours of the forecast day for each customer under contract and for the whole portfolio, from the imported meter data; each customer's method is the one its last 28 days' back-test chose.";
    forecast_day_label: "预测日", "Forecast day";
    forecast_show: "预测", "Forecast";
    forecast_in_book: "合同用户", "Customers under contract";
    forecast_customers: "已预测用户", "Customers forecast";
    forecast_energy: "组合预测电量（MWh）", "Portfolio forecast (MWh)";
    forecast_wape: "组合回测误差 WAPE", "Portfolio back-test error (WAPE)";
    forecast_customers_wape: "逐户回测误差 WAPE", "Customers' back-test error (WAPE)";
    forecast_diversity: "聚合效应（误差降低）", "Diversity effect (error saved)";
    forecast_chart_title: "组合负荷预测", "Portfolio load forecast";
    forecast_axis_time: "时刻（小时）", "Time of day (h)";
    forecast_axis_kw: "负荷（kW）", "Load (kW)";
    forecast_none: "没有可以预测的用户。", "No customer could be forecast.";
    forecast_left_out_heading: "未纳入预测的用户", "Customers left out";
    forecast_left_out_intro: "以下用户在预测日前没有足够的连续完整计量日（需要 {n} 天）。",
        "These customers lack enough consecutive complete days of readings before the forecast day ({n} needed).";
    col_customer: "用户", "Customer";
    col_method: "预测方法", "Method";
    col_wape: "回测误差 WAPE", "Back-test WAPE";
    col_energy_kwh: "预测电量（kWh）", "Forecast energy (kWh)";
    col_peak_kw: "最大负荷（kW）", "Peak (kW)";
    col_report: "能效报告", "Energy report";
    col_complete_days: "完整天数", "Complete days";
    open_report: "查看报告", "Open report";
    method_same_day_last_week: "上周同日", "Same day last week";
    method_similar_days: "相似日平均", "Similar days";
    method_regression: "回归", "Regression";
}

/// `text` with its `{n}` placeholder replaced by `n`.
pub fn fill(text: &str, n: impl std::fmt::Display) -> String {
    text.replace("{n}", &n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_han(s: &str) -> bool {
        s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }

    #[test]
    fn every_chinese_entry_is_chinese_and_every_english_entry_is_not() {
        for ((name, zh), (_, en)) in ZH_CN.entries().into_iter().zip(EN.entries()) {
            assert!(
                !zh.trim().is_empty() && !en.trim().is_empty(),
                "{name} is empty"
            );
            assert!(has_han(zh), "zh-CN {name} = {zh:?} holds no Chinese");
            assert_ne!(zh, en, "{name} is not translated");
            assert!(!has_han(en), "en {name} = {en:?} holds Chinese");
        }
    }

    #[test]
    fn placeholders_are_in_both_languages() {
        for ((name, zh), (_, en)) in ZH_CN.entries().into_iter().zip(EN.entries()) {
            assert_eq!(zh.contains("{n}"), en.contains("{n}"), "{name}");
        }
        assert_eq!(
            fill(EN.sign_in_throttled, 30),
            "Too many failed sign-ins: try again in 30 s."
        );
    }
}
