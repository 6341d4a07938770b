//! The portal in a real browser: Debian's headless Chromium driven over
//! WebDriver (`chromedriver`, fantoccini). A member's viewer opens the
//! portal in a Chinese browser, signs in with password and the one-time
//! code computed here, opens the day-ahead session and its price chart,
//! switches to English, reads its statement and signs out.
//!
//! `scripts/setup-browser.sh` (run by `scripts/test.sh`) installs
//! `chromium` and `chromium-driver` from the distribution; nothing is
//! downloaded at test time. Without them the test says so and passes
//! without running. On failure a screenshot is written to the temporary
//! directory; with `VOLTEX_PORTAL_SCREENSHOTS=<dir>` the walk also leaves
//! `portal-zh-CN.png` and `portal-en.png` there (the README's pictures).

use crate::common::{TEST_PASSWORD, totp_now};
use chrono::Utc;
use fantoccini::{Client, ClientBuilder, Locator};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use voltex_demo::DemoOptions;
use voltex_market::Market;
use voltex_security::Role;
use voltex_store::Store;

/// The program `name` on the `PATH`, if there is one.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// `chromedriver`, stopped when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_driver(path: &PathBuf) -> (Driver, String) {
    let port = free_port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (driver, format!("http://127.0.0.1:{port}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen on port {port} within 10 s");
}

async fn browser(webdriver: &str, chromium: &PathBuf) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--lang=zh-CN", "--accept-lang=zh-CN"],
            "prefs": {"intl.accept_languages": "zh-CN"},
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(webdriver)
        .await
        .expect("a Chromium session")
}

type Step = Result<(), String>;

fn fail(what: &str) -> impl Fn(fantoccini::error::CmdError) -> String + '_ {
    move |e| format!("{what}: {e}")
}

async fn html_lang(c: &Client) -> Result<String, String> {
    c.find(Locator::Css("html"))
        .await
        .map_err(fail("html element"))?
        .attr("lang")
        .await
        .map_err(fail("lang attribute"))?
        .ok_or_else(|| "no lang attribute".to_owned())
}

async fn shot(c: &Client, dir: &std::path::Path, name: &str) -> Step {
    let png = c.screenshot().await.map_err(fail("screenshot"))?;
    std::fs::write(dir.join(name), png).map_err(|e| format!("write {name}: {e}"))
}

/// The member's walk through the portal.
async fn walk(
    c: &Client,
    base: &str,
    secret: &str,
    session: &str,
    day: &str,
    member: &str,
) -> Step {
    let keep = std::env::var_os("VOLTEX_PORTAL_SCREENSHOTS").map(PathBuf::from);
    c.goto(&format!("{base}/")).await.map_err(fail("open /"))?;
    let lang = html_lang(c).await?;
    if lang != "zh-CN" {
        return Err(format!("a Chinese browser got <html lang={lang:?}>"));
    }
    let heading = c.find(Locator::Css("h1")).await.map_err(fail("h1"))?;
    let text = heading.text().await.map_err(fail("h1 text"))?;
    if text != "登录" {
        return Err(format!("sign-in heading is {text:?}"));
    }
    if let Some(dir) = &keep {
        shot(c, dir, "portal-zh-CN.png").await?;
    }
    // Labels name the inputs: find them by their label's `for`.
    for (id, value) in [
        ("user", "viewer-a".to_owned()),
        ("password", TEST_PASSWORD.to_owned()),
        ("totp", totp_now(secret, "viewer-a")),
    ] {
        c.find(Locator::Css(&format!("label[for={id}]")))
            .await
            .map_err(fail("label"))?;
        c.find(Locator::Id(id))
            .await
            .map_err(fail(id))?
            .send_keys(&value)
            .await
            .map_err(fail("typing"))?;
    }
    c.find(Locator::Css("#sign-in button[type=submit]"))
        .await
        .map_err(fail("sign-in button"))?
        .click()
        .await
        .map_err(fail("submit"))?;
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Id("sessions"))
        .await
        .map_err(fail("the overview's sessions table"))?;
    c.find(Locator::LinkText(session))
        .await
        .map_err(fail("link to the session"))?
        .click()
        .await
        .map_err(fail("open the session"))?;
    let chart = c
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#lmp-chart svg"))
        .await
        .map_err(fail("the price chart"))?;
    let svg = chart.html(false).await.map_err(fail("chart markup"))?;
    if !svg.contains("节点边际电价") {
        return Err("the chart's title is not in Chinese".into());
    }
    c.find(Locator::Id("lang-en"))
        .await
        .map_err(fail("switch to English"))?
        .click()
        .await
        .map_err(fail("switch"))?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("html[lang=en]"))
        .await
        .map_err(fail("the English page"))?;
    c.goto(&format!("{base}/portal/statements"))
        .await
        .map_err(fail("statements"))?;
    if html_lang(c).await? != "en" {
        return Err("the language choice was not kept".into());
    }
    let href = format!("/portal/statements/{day}/{member}");
    c.find(Locator::Css(&format!("a[href='{href}']")))
        .await
        .map_err(fail("link to the own statement"))?
        .click()
        .await
        .map_err(fail("open the statement"))?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("statement-total"))
        .await
        .map_err(fail("the statement's total"))?;
    if let Some(dir) = &keep {
        shot(c, dir, "portal-en.png").await?;
    }
    c.find(Locator::Id("sign-out"))
        .await
        .map_err(fail("sign-out button"))?
        .click()
        .await
        .map_err(fail("sign out"))?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("sign-in"))
        .await
        .map_err(fail("back at the sign-in form"))?;
    Ok(())
}

#[tokio::test]
async fn a_member_signs_in_reads_prices_and_its_statement_in_a_real_browser() {
    let (Some(chromium), Some(chromedriver)) = (on_path("chromium"), on_path("chromedriver"))
    else {
        eprintln!(
            "SKIPPED portal browser test: `chromium` and `chromedriver` are not on the PATH \
             (install them with scripts/setup-browser.sh: Debian packages chromium, chromium-driver)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite_dir(&dir.path().join("store"))
        .await
        .unwrap();
    let market = Market::open(store).await.unwrap();
    let day = (Utc::now() + chrono::Duration::days(1)).date_naive();
    let summary = voltex_demo::run(&market, &DemoOptions::bundled(day))
        .await
        .unwrap();
    let member = summary.declarations[0].member_id.clone();
    let secret = voltex_server::accounts::create_user(
        &market,
        None,
        voltex_server::accounts::NewUser {
            id: "viewer-a".into(),
            role: Role::MemberViewer,
            member_id: Some(member.clone()),
            password: TEST_PASSWORD.into(),
        },
    )
    .await
    .unwrap()
    .totp_secret;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        voltex_server::serve_on(market, listener, async move {
            let _ = stopped.await;
        })
        .await
    });

    let (_driver, webdriver) = start_driver(&chromedriver).await;
    let c = browser(&webdriver, &chromium).await;
    let outcome = walk(
        &c,
        &base,
        &secret,
        &summary.session_id,
        &day.to_string(),
        &member,
    )
    .await;
    if let Err(why) = outcome {
        let path = std::env::temp_dir().join("voltex-portal-browser-failure.png");
        let saved = match c.screenshot().await {
            Ok(png) => std::fs::write(&path, png).is_ok(),
            Err(_) => false,
        };
        let _ = c.close().await;
        panic!(
            "{why}{}",
            if saved {
                format!(" (screenshot: {})", path.display())
            } else {
                String::new()
            }
        );
    }
    c.close().await.unwrap();
    let _ = stop.send(());
}
