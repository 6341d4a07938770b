//! The web portal end to end against the real server (`serve_on`, the
//! function `voltex serve` runs): the front page in the browser's language
//! with a sign-in form, forms refused without their anti-forgery token,
//! signing in with password and one-time code, and the pages of a member,
//! the operator and the auditor on a market that ran a demo day, each
//! showing only what is theirs and the figures the API answers.

use crate::common::{TEST_PASSWORD, totp_now};
use chrono::Utc;
use reqwest::header::{self, HeaderMap};
use reqwest::{Client, StatusCode};
use std::collections::{BTreeMap, BTreeSet};
use voltex_demo::{DemoOptions, DemoSummary};
use voltex_market::Market;
use voltex_security::Role;
use voltex_server::portal::{CSRF_COOKIE, SESSION_COOKIE};
use voltex_store::Store;

/// A browser as far as these tests need one: no redirects followed, the
/// cookies the server sets kept and sent back.
struct Browser {
    client: Client,
    base: String,
    cookies: BTreeMap<String, String>,
    lang: &'static str,
}

/// One answer: status, headers, body.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The value of the first form's hidden anti-forgery field.
    fn csrf_field(&self) -> String {
        let at = self
            .body
            .find(r#"name="csrf" value=""#)
            .expect("a form with a csrf field");
        let rest = &self.body[at + r#"name="csrf" value=""#.len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

/// `application/x-www-form-urlencoded` of `fields`.
fn form_body(fields: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Browser {
    fn new(base: &str, lang: &'static str) -> Self {
        Self {
            client: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
            cookies: BTreeMap::new(),
            lang,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Answer {
        let mut req = req.header(header::ACCEPT_LANGUAGE, self.lang);
        if !self.cookies.is_empty() {
            req = req.header(header::COOKIE, self.cookie_header());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        for set in headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (pair, attrs) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let body = resp.text().await.unwrap();
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn get(&mut self, path: &str) -> Answer {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form_body(fields));
        self.send(req).await
    }

    /// Opens the front page and signs in through its form.
    async fn sign_in(&mut self, user: &str, password: &str, totp_secret: &str) -> Answer {
        let front = self.get("/").await;
        assert_eq!(front.status, StatusCode::OK, "{}", front.body);
        let csrf = front.csrf_field();
        let code = totp_now(totp_secret, user);
        self.post_form(
            "/signin",
            &[
                ("csrf", &csrf),
                ("user", user),
                ("password", password),
                ("totp", &code),
            ],
        )
        .await
    }
}

/// Serves `market` with the default configuration, as `voltex serve` does;
/// answers the base URL and the sender that stops it.
async fn serve(market: Market) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        voltex_server::serve_on(market, listener, async move {
            let _ = rx.await;
        })
        .await
    });
    (format!("http://{addr}"), tx)
}

async fn empty_market(dir: &tempfile::TempDir) -> Market {
    let store = Store::open_sqlite_dir(&dir.path().join("store"))
        .await
        .unwrap();
    Market::open(store).await.unwrap()
}

/// Creates a user the way `voltex users add` does; answers its TOTP secret.
async fn user(market: &Market, id: &str, role: Role, member: Option<&str>) -> String {
    voltex_server::accounts::create_user(
        market,
        None,
        voltex_server::accounts::NewUser {
            id: id.into(),
            role,
            member_id: member.map(str::to_owned),
            password: TEST_PASSWORD.into(),
        },
    )
    .await
    .unwrap()
    .totp_secret
}

#[tokio::test]
async fn the_front_page_is_a_sign_in_form_in_the_browsers_language() {
    let dir = tempfile::tempdir().unwrap();
    let (base, _stop) = serve(empty_market(&dir).await).await;

    let mut zh = Browser::new(&base, "zh-CN,zh;q=0.9,en;q=0.8");
    let page = zh.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.content_type().starts_with("text/html"),
        "{}",
        page.content_type()
    );
    assert!(
        page.body.contains(r#"<html lang="zh-CN">"#),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(r#"<form method="post" action="/signin""#)
    );
    assert!(page.body.contains("<h1>登录</h1>"));
    assert!(page.body.contains(r#"<label for="password">密码</label>"#));
    assert!(!page.body.contains("Sign in"));
    assert!(
        zh.cookies.contains_key(CSRF_COOKIE),
        "the form's token is also a cookie"
    );
    assert_eq!(page.csrf_field(), zh.cookies[CSRF_COOKIE]);
    let set_cookie = page
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));

    let mut en = Browser::new(&base, "en-GB,en;q=0.9");
    let page = en.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.content_type().starts_with("text/html"));
    assert!(page.body.contains(r#"<html lang="en">"#), "{}", page.body);
    assert!(page.body.contains("<h1>Sign in</h1>"));
    assert!(
        page.body
            .contains(r#"<label for="password">Password</label>"#)
    );
    assert!(!page.body.contains("登录"));

    // The switch on the page overrides the browser and is remembered.
    let switched = en.get("/?lang=zh-CN").await;
    assert!(switched.body.contains(r#"<html lang="zh-CN">"#));
    let again = en.get("/").await;
    assert!(
        again.body.contains(r#"<html lang="zh-CN">"#),
        "the choice is kept in a cookie"
    );

    // The assets are served by the server itself.
    let htmx = en.get("/assets/htmx.min.js").await;
    assert_eq!(htmx.status, StatusCode::OK);
    assert!(htmx.content_type().starts_with("text/javascript"));
    assert!(htmx.body.contains("htmx"));
}

#[tokio::test]
async fn a_form_post_without_its_anti_forgery_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let market = empty_market(&dir).await;
    let secret = user(&market, "op1", Role::Operator, None).await;
    let (base, _stop) = serve(market).await;
    let mut b = Browser::new(&base, "en");
    let front = b.get("/").await;
    let token = front.csrf_field();
    let code = totp_now(&secret, "op1");
    let creds = [
        ("user", "op1"),
        ("password", TEST_PASSWORD),
        ("totp", code.as_str()),
    ];

    // No token in the form.
    let r = b.post_form("/signin", &creds).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.content_type().starts_with("text/html"));
    assert!(r.body.contains("anti-forgery token"), "{}", r.body);
    assert!(
        !b.cookies.contains_key(SESSION_COOKIE),
        "no session was started"
    );

    // Another browser's token (a forged form), or the cookie missing.
    let mut forged = creds.to_vec();
    let other = voltex_security::csrf::issue().unwrap();
    forged.push(("csrf", other.as_str()));
    let r = b.post_form("/signin", &forged).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut cookieless = Browser::new(&base, "zh-CN");
    let mut with_token = creds.to_vec();
    with_token.push(("csrf", token.as_str()));
    let r = cookieless.post_form("/signin", &with_token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains(r#"<html lang="zh-CN">"#) && r.body.contains("防伪令牌"));

    // A post from another origin, even with the right token.
    let req = b
        .client
        .post(format!("{base}/signin"))
        .header(header::ORIGIN, "http://evil.example")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form_body(&with_token));
    let r = b.send(req).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!b.cookies.contains_key(SESSION_COOKIE));

    // The right token signs in (the code was not used by the refused posts).
    let r = b.post_form("/signin", &with_token).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/portal");
    assert!(b.cookies.contains_key(SESSION_COOKIE));
    assert_ne!(
        b.cookies[CSRF_COOKIE], token,
        "signing in renews the anti-forgery token"
    );

    // Signing out needs the token too.
    let r = b.post_form("/signout", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let page = b.get("/portal").await;
    assert_eq!(page.status, StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_code_is_refused_in_the_page_and_pages_need_a_session() {
    let dir = tempfile::tempdir().unwrap();
    let market = empty_market(&dir).await;
    user(&market, "op2", Role::Operator, None).await;
    let (base, _stop) = serve(market).await;
    let mut b = Browser::new(&base, "zh-CN");
    for path in [
        "/portal",
        "/portal/statements",
        "/portal/sessions/DA-2026-12-08",
    ] {
        let r = b.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.location(), "/");
    }
    let front = b.get("/").await;
    let token = front.csrf_field();
    let r = b
        .post_form(
            "/signin",
            &[
                ("csrf", &token),
                ("user", "op2"),
                ("password", TEST_PASSWORD),
                ("totp", "000000"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.body.contains("用户名、密码或一次性密码不正确"),
        "{}",
        r.body
    );
    assert!(r.body.contains(r#"value="op2""#), "the user name is kept");
    assert!(!b.cookies.contains_key(SESSION_COOKIE));
}

/// A demo day's market with a member viewer of two declaring members each,
/// an operator and an auditor, served.
struct World {
    base: String,
    market: Market,
    summary: DemoSummary,
    day: chrono::NaiveDate,
    own: String,
    foreign: String,
    secrets: BTreeMap<&'static str, String>,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let market = empty_market(&dir).await;
    let day = (Utc::now() + chrono::Duration::days(1)).date_naive();
    let summary = voltex_demo::run(&market, &DemoOptions::bundled(day))
        .await
        .unwrap();
    let declared: BTreeSet<String> = summary
        .declarations
        .iter()
        .map(|d| d.member_id.clone())
        .collect();
    let mut members = declared.into_iter();
    let own = members.next().unwrap();
    let foreign = members.next().unwrap();
    let mut secrets = BTreeMap::new();
    secrets.insert(
        "viewer-a",
        user(&market, "viewer-a", Role::MemberViewer, Some(&own)).await,
    );
    secrets.insert(
        "viewer-b",
        user(&market, "viewer-b", Role::MemberViewer, Some(&foreign)).await,
    );
    secrets.insert("op-1", user(&market, "op-1", Role::Operator, None).await);
    secrets.insert("aud", user(&market, "aud", Role::Auditor, None).await);
    let (base, stop) = serve(market.clone()).await;
    World {
        base,
        market,
        summary,
        day,
        own,
        foreign,
        secrets,
        _dir: dir,
        _stop: stop,
    }
}

impl World {
    async fn signed_in(&self, user: &str, lang: &'static str) -> Browser {
        let mut b = Browser::new(&self.base, lang);
        let r = b.sign_in(user, TEST_PASSWORD, &self.secrets[user]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{user}: {}", r.body);
        b
    }

    fn key_of(&self, member: &str) -> String {
        let d = self
            .summary
            .declarations
            .iter()
            .find(|d| d.member_id == member)
            .unwrap();
        format!("{}:{}:{}", self.summary.session_id, d.kind, d.subject)
    }

    fn day(&self) -> String {
        self.day.to_string()
    }
}

#[tokio::test]
async fn each_visitor_sees_its_own_data_and_the_figures_the_api_answers() {
    let w = world().await;
    let da = w.summary.session_id.clone();
    let (own_key, foreign_key) = (w.key_of(&w.own), w.key_of(&w.foreign));

    // A member's viewer: its sessions, declarations, statements; nobody else's.
    let mut a = w.signed_in("viewer-a", "en").await;
    let overview = a.get("/portal").await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(
        overview.body.contains(&da),
        "the overview lists the day's sessions"
    );
    assert!(overview.body.contains(r#"href="/portal/statements""#));
    let session = a.get(&format!("/portal/sessions/{da}")).await;
    assert_eq!(session.status, StatusCode::OK, "{}", session.body);
    assert!(session.body.contains(&own_key), "own declaration listed");
    assert!(
        !session.body.contains(&w.foreign),
        "no trace of the other member"
    );
    assert!(session.body.contains(r#"id="lmp-chart""#) && session.body.contains("<svg"));
    assert!(
        !session.body.contains(r#"id="clearing-run""#),
        "the run is the operator's"
    );
    let own = a.get(&format!("/portal/declarations/{own_key}")).await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(own.body.contains(r#"id="versions""#));
    let foreign = a.get(&format!("/portal/declarations/{foreign_key}")).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert!(foreign.content_type().starts_with("text/html"));
    assert!(!foreign.body.contains(&w.foreign));
    let list = a.get("/portal/statements").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body
            .contains(&format!("/portal/statements/{}/{}", w.day(), w.own))
    );
    assert!(!list.body.contains(&w.foreign));
    let theirs = a
        .get(&format!("/portal/statements/{}/{}", w.day(), w.foreign))
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);

    // The statement total on the page is the API's, for the same session.
    let mine = a
        .get(&format!("/portal/statements/{}/{}", w.day(), w.own))
        .await;
    assert_eq!(mine.status, StatusCode::OK);
    let api: serde_json::Value = a
        .client
        .get(format!(
            "{}/api/v1/days/{}/statements/{}",
            w.base,
            w.day(),
            w.own
        ))
        .bearer_auth(&a.cookies[SESSION_COOKIE])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let total = api["value"]["total"].as_f64().unwrap();
    let shown = voltex_server::portal::format::yuan(total);
    assert!(
        mine.body
            .contains(&format!(r#"<dd id="statement-total">{shown}</dd>"#)),
        "API total {total} shown as {shown}"
    );

    // The operator: everyone's statements and the clearing run, in Chinese.
    let mut op = w.signed_in("op-1", "zh-CN").await;
    let session = op.get(&format!("/portal/sessions/{da}")).await;
    assert_eq!(session.status, StatusCode::OK);
    assert!(session.body.contains(r#"id="clearing-run""#));
    assert!(session.body.contains("节点边际电价"));
    assert!(session.body.contains(&own_key) && session.body.contains(&foreign_key));
    let run = w
        .market
        .clearing_run(&w.market.operator().await.unwrap(), &da)
        .await
        .unwrap();
    assert!(session.body.contains(&format!("<dd>{}</dd>", run.version)));
    let list = op.get("/portal/statements").await;
    assert!(list.body.contains(&w.own) && list.body.contains(&w.foreign));

    // The auditor reads everything but has no notification box of its own.
    let mut aud = w.signed_in("aud", "en").await;
    let overview = aud.get("/portal").await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(!overview.body.contains("Notices"));

    // Signing out ends the session: its cookie no longer opens a page.
    let mut b = w.signed_in("viewer-b", "en").await;
    let stolen = b.cookies[SESSION_COOKIE].clone();
    let front = b.get("/portal").await;
    let token = front.csrf_field();
    let r = b.post_form("/signout", &[("csrf", &token)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!b.cookies.contains_key(SESSION_COOKIE));
    b.cookies.insert(SESSION_COOKIE.to_owned(), stolen);
    let r = b.get("/portal").await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "a revoked session opens nothing"
    );
}

#[tokio::test]
async fn the_customer_service_panel_answers_in_the_questions_language_as_the_visitor() {
    let w = world().await;
    let mut a = w.signed_in("viewer-a", "zh-CN").await;
    let panel = a.get("/portal/assist").await;
    assert_eq!(panel.status, StatusCode::OK, "{}", panel.body);
    assert!(panel.body.contains("智能客服"), "{}", panel.body);
    let csrf = panel.csrf_field();

    // A forged post (no token) is refused and asks nothing.
    let forged = a
        .post_form("/portal/assist", &[("question", "What is an LMP?")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // An FAQ answer, in the question's language whatever the page's.
    let faq = a
        .post_form(
            "/portal/assist",
            &[
                ("csrf", &csrf),
                ("question", "How is my settlement calculated?"),
            ],
        )
        .await;
    assert_eq!(faq.status, StatusCode::OK, "{}", faq.body);
    assert!(
        faq.body.contains(r#"lang="en" data-kind="answer""#),
        "{}",
        faq.body
    );
    assert!(faq.body.contains("settlement-formula.en"), "{}", faq.body);
    assert!(faq.body.contains("来源：常见问题条目"), "{}", faq.body);

    // A personal answer from the visitor's own data; with htmx, only the
    // answer comes back.
    let req = a
        .client
        .post(format!("{}/portal/assist", w.base))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("hx-request", "true")
        .body(form_body(&[
            ("csrf", &csrf),
            ("question", "我的申报为什么被驳回了"),
        ]));
    let personal = a.send(req).await;
    assert_eq!(personal.status, StatusCode::OK, "{}", personal.body);
    assert!(
        !personal.body.contains("<html"),
        "a partial: {}",
        personal.body
    );
    assert!(
        personal
            .body
            .contains(r#"lang="zh-CN" data-kind="personal""#),
        "{}",
        personal.body
    );
    assert!(!personal.body.contains(&w.foreign), "{}", personal.body);

    // Signed out: the panel sends the visitor to sign in.
    let mut stranger = Browser::new(&w.base, "en");
    let r = stranger.get("/portal/assist").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn retail_staff_see_the_portfolio_forecast_and_open_a_customers_energy_report() {
    use crate::common::retail_book::{readings_csv, tou_customer};
    use voltex_model::{Member, MemberKind, MemberStatus};
    use voltex_retail::readings::ImportKind;
    use voltex_retail::{Retail, Viewer};

    let dir = tempfile::tempdir().unwrap();
    let market = empty_market(&dir).await;
    let mut retailer = Member::apply("ret1", "Retail One", MemberKind::Retailer);
    retailer.status = MemberStatus::Active;
    market.store().insert(&retailer).await.unwrap();
    let r = Retail::new(market.store().clone());
    let v = Viewer::Staff {
        retailer_id: "ret1".into(),
    };
    tou_customer(&r, &v, "C3", "Factory Three", "c3-user").await;
    r.import_readings(
        &v,
        "c3.csv",
        readings_csv("M-C3", 2).as_bytes(),
        ImportKind::Readings,
    )
    .await
    .unwrap();
    let mut secrets = BTreeMap::new();
    for (id, role) in [
        ("trader", Role::RetailTrader),
        ("c3-user", Role::RetailCustomer),
        ("c4-user", Role::RetailCustomer),
    ] {
        secrets.insert(id, user(&market, id, role, Some("ret1")).await);
    }
    let (base, _stop) = serve(market.clone()).await;
    let signed_in = |id: &'static str, lang: &'static str| {
        let (base, secret) = (base.clone(), secrets[id].clone());
        async move {
            let mut b = Browser::new(&base, lang);
            let a = b.sign_in(id, TEST_PASSWORD, &secret).await;
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{id}: {}", a.body);
            b
        }
    };

    // the trader: a navigation link, the forecast with its chart and table
    let mut trader = signed_in("trader", "zh-CN").await;
    let overview = trader.get("/portal").await;
    assert!(overview.body.contains(r#"href="/portal/retail/forecast""#));
    let page = trader.get("/portal/retail/forecast?day=2026-08-20").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("日前负荷预测"), "{}", page.body);
    assert!(page.body.contains(r#"id="forecast-chart""#));
    assert!(page.body.contains("<svg"));
    assert!(page.body.contains(r#"<dd id="forecast-count">1</dd>"#));
    let link = "/portal/retail/customers/C3/energy-report";
    assert!(page.body.contains(link), "{}", page.body);
    // a day too early for any history lists the customer as left out
    let early = trader.get("/portal/retail/forecast?day=2026-06-20").await;
    assert_eq!(early.status, StatusCode::OK);
    assert!(
        early.body.contains(r#"id="forecast-left-out""#),
        "{}",
        early.body
    );
    let bad = trader.get("/portal/retail/forecast?day=20.08.2026").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // the report in the visitor's language, its inline style allowed
    let report = trader.get(link).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert!(report.body.contains("能效分析报告"));
    let policy = report.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(policy.contains("style-src 'unsafe-inline'") && !policy.contains("script-src"));
    // the language switch (a one-time code signs in once)
    let english = trader.get(&format!("{link}?lang=en")).await;
    assert!(english.body.contains("Energy efficiency report"));

    // the customer: its own report, no forecast; another customer: refused
    let mut c3 = signed_in("c3-user", "en").await;
    assert_eq!(c3.get(link).await.status, StatusCode::OK);
    let denied = c3.get("/portal/retail/forecast").await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert!(
        !c3.get("/portal")
            .await
            .body
            .contains("/portal/retail/forecast")
    );
    let mut c4 = signed_in("c4-user", "en").await;
    let other = c4.get(link).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert!(!other.body.contains("Factory Three"));
}
