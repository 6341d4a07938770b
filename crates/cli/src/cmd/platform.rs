//! The platform commands: `serve`, `demo`, `import-case`, `members`.
//! They open the store (SQLite under the data directory, or PostgreSQL when
//! `DATABASE_URL` says so), call `voltex-market`, and print.
use anyhow::Context;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use voltex_market::Market;
use voltex_market::demo::{DemoOptions, DemoSummary};
use voltex_security::field_crypto::{ENV_KEYS, ENV_KEYS_FILE, FieldKeyring, KeyPolicy};
use voltex_store::Store;

/// Default data directory of the embedded store.
pub const DEFAULT_DATA_DIR: &str = "voltex-data";

/// Where the store lives; shared by every platform command.
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// Directory of the embedded SQLite store (ignored when DATABASE_URL is set).
    #[arg(long, default_value = DEFAULT_DATA_DIR, env = "VOLTEX_STORE_DIR")]
    pub data_dir: PathBuf,
    /// `postgres://user@host:port/db` selects PostgreSQL instead of SQLite.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

impl StoreArgs {
    /// Opens the store, with the field key ring from `VOLTEX_FIELD_KEYS` /
    /// `VOLTEX_FIELD_KEYS_FILE` when one is configured (production policy), so
    /// commands that read encrypted rows can; without one, encrypted rows
    /// answer an error that says which variable to set.
    pub async fn open(&self) -> anyhow::Result<Store> {
        let keys = if field_keys_configured(&|n| std::env::var(n).ok()) {
            Some(Arc::new(
                FieldKeyring::from_env(KeyPolicy::Production)
                    .context("loading the field key ring")?,
            ))
        } else {
            None
        };
        self.open_with_keys(keys).await
    }

    /// Opens the store with this key ring (or none).
    pub async fn open_with_keys(&self, keys: Option<Arc<FieldKeyring>>) -> anyhow::Result<Store> {
        let store = open_store(self.database_url.as_deref(), &self.data_dir).await?;
        Ok(match keys {
            Some(k) => store.with_field_keys(k),
            None => store,
        })
    }
}

fn field_keys_configured(var: &dyn Fn(&str) -> Option<String>) -> bool {
    [ENV_KEYS, ENV_KEYS_FILE]
        .iter()
        .any(|n| var(n).is_some_and(|v| !v.trim().is_empty()))
}

/// The key ring `voltex serve` encrypts sensitive rows with (see
/// docs/security.md, "Key management"): from `VOLTEX_FIELD_KEYS` or
/// `VOLTEX_FIELD_KEYS_FILE` under the production policy (the demo key, empty
/// and weak keys refused). With neither set the server does not start: it
/// neither runs unencrypted nor invents a key whose loss would lose the data.
/// `--demo-field-key` (browsing a `voltex demo` store) takes the published
/// demo key and only on a loopback address.
pub fn serve_field_keys(
    var: impl Fn(&str) -> Option<String>,
    demo_field_key: bool,
    bind: SocketAddr,
) -> anyhow::Result<FieldKeyring> {
    if demo_field_key {
        if !bind.ip().is_loopback() {
            anyhow::bail!(
                "--demo-field-key uses the published demo key and is refused on {bind}: \
                 bind a loopback address (127.0.0.1) to browse a demo store"
            );
        }
        return Ok(FieldKeyring::demo());
    }
    if !field_keys_configured(&var) {
        anyhow::bail!(
            "no field encryption key: voltex serve encrypts offer prices and settlement amounts at rest \
             and will not start without a key ring. Create one (once; keep it outside the data \
             directory, owner-only, and back it up apart from the database):\n  \
             voltex field-keys generate --out /etc/voltex/field-keys.json --key-id k1\n\
             then start with {ENV_KEYS_FILE}=/etc/voltex/field-keys.json (or the key ring JSON in {ENV_KEYS})"
        );
    }
    FieldKeyring::from_vars(var, KeyPolicy::Production)
        .with_context(|| format!("loading the field key ring from {ENV_KEYS} / {ENV_KEYS_FILE}"))
}

async fn open_store(url: Option<&str>, data_dir: &Path) -> anyhow::Result<Store> {
    match url.filter(|u| !u.is_empty()) {
        Some(url) => Store::connect(url)
            .await
            .context("opening the database named by DATABASE_URL"),
        None => Store::open_sqlite_dir(data_dir)
            .await
            .with_context(|| format!("opening the SQLite store in {}", data_dir.display())),
    }
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "VOLTEX_BIND")]
    pub bind: SocketAddr,
    /// Scheduler period in milliseconds (opens windows and closes gates at
    /// the times the market parameters give); 0 turns the scheduler off.
    #[arg(long, default_value_t = 1000, env = "VOLTEX_SCHEDULER_TICK_MS")]
    pub scheduler_tick_ms: u64,
    /// Platform CA directory (as `voltex ca init` writes it; the server reads
    /// ca.cert.pem, crl.pem, seal.key.pem and seal.cert.pem). Turns on signed
    /// declarations and receipts; without it they are refused (503).
    #[arg(long, env = "VOLTEX_CA_DIR")]
    pub ca_dir: Option<PathBuf>,
    /// Server certificate chain (PEM). With --tls-key the API is served over
    /// HTTPS only; with --ca-dir too, clients may present their platform
    /// certificate (mTLS) as the proof core actions need.
    #[arg(long, env = "VOLTEX_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Private key of the server certificate (PEM).
    #[arg(long, env = "VOLTEX_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Use the published demo field key (only to browse a store `voltex demo`
    /// wrote; loopback addresses only). Otherwise the key ring comes from
    /// VOLTEX_FIELD_KEYS_FILE or VOLTEX_FIELD_KEYS and is required.
    #[arg(long)]
    pub demo_field_key: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let field_keys = Arc::new(serve_field_keys(
        |n| std::env::var(n).ok(),
        args.demo_field_key,
        args.bind,
    )?);
    let signing = match &args.ca_dir {
        Some(dir) => Some(std::sync::Arc::new(
            voltex_server::SigningConfig::load(dir).with_context(|| {
                format!(
                    "loading the platform CA and seal from {} (for signed declarations)",
                    dir.display()
                )
            })?,
        )),
        None => None,
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let client_ca = match &args.ca_dir {
                Some(dir) => Some(
                    std::fs::read_to_string(dir.join("ca.cert.pem"))
                        .with_context(|| format!("reading {}/ca.cert.pem", dir.display()))?,
                ),
                None => None,
            };
            Some(
                voltex_server::tls::server_config(cert, key, client_ca.as_deref())
                    .context("setting up TLS")?,
            )
        }
        _ => None,
    };
    runtime()?.block_on(async {
        let key_id = field_keys.active_key_id().to_owned();
        let store = args.store.open_with_keys(Some(field_keys)).await?;
        let market = Market::open(store).await?;
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .with_context(|| format!("binding {}", args.bind))?;
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        println!("Voltex is serving on {scheme}://{addr}");
        println!("  API description: {scheme}://{addr}/openapi.json   health: {scheme}://{addr}/health   metrics: {scheme}://{addr}/metrics");
        match (&tls, &args.ca_dir) {
            (Some(_), Some(_)) => println!("  TLS: on; client certificates of the platform CA accepted (mTLS, optional)"),
            (Some(_), None) => println!("  TLS: on; no client certificates (no --ca-dir)"),
            (None, _) => println!("  TLS: off (give --tls-cert and --tls-key; keep a plain-HTTP server behind a TLS proxy)"),
        }
        if args.demo_field_key {
            println!("  encryption at rest: PUBLISHED DEMO KEY (--demo-field-key; for demo data only, never for real data)");
        } else {
            println!("  encryption at rest: offers, signatures, gate closures, reviews, clearing and regulation runs, statements; active key `{key_id}`");
        }
        match &args.store.database_url {
            Some(_) => println!("  store: PostgreSQL (DATABASE_URL)"),
            None => println!("  store: SQLite in {}", args.store.data_dir.display()),
        }
        println!(
            "  identity: sign in with POST /api/v1/auth/login (password + TOTP; `voltex users add` creates users)"
        );
        match &args.ca_dir {
            Some(dir) => println!(
                "  certificates: CA and seal from {} (signed declarations and signed core requests)",
                dir.display()
            ),
            None => println!(
                "  signed declarations and signed core requests: disabled, so declaring and operating the \
                 market answer 503 (start with --ca-dir or VOLTEX_CA_DIR naming the platform CA)"
            ),
        }
        let scheduler = (args.scheduler_tick_ms > 0).then(|| {
            println!("  scheduler: every {} ms", args.scheduler_tick_ms);
            voltex_server::spawn_scheduler(
                market.clone(),
                std::time::Duration::from_millis(args.scheduler_tick_ms),
            )
        });
        let config = voltex_server::ServerConfig {
            signing,
            ..voltex_server::ServerConfig::default()
        };
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        let served = match tls {
            Some(tls) => {
                voltex_server::serve_tls_on_with(market, listener, tls, &config, shutdown).await
            }
            None => voltex_server::serve_on_with(market, listener, &config, shutdown).await,
        };
        if let Some(s) = scheduler {
            s.abort();
        }
        served?;
        Ok(())
    })
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Store directory for the demo market; default: a new folder under ./voltex-data
    /// named after the current time, so a demo never mixes with earlier data.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// MATPOWER case to build the market from (default: bundled PJM 5-bus).
    #[arg(long)]
    pub case: Option<PathBuf>,
    /// JSON array of load factors (default: bundled ISO-NE 2017-01-09 shape).
    #[arg(long)]
    pub load_shape: Option<PathBuf>,
    /// Trading day (default: tomorrow in the market's time zone).
    #[arg(long)]
    pub trading_day: Option<chrono::NaiveDate>,
    /// Also write the summary as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

pub fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let day = args
        .trading_day
        .unwrap_or_else(|| today.succ_opt().expect("date in range"));
    let mut opts = DemoOptions::bundled(day);
    if let Some(c) = args.case {
        opts.case_path = c;
    }
    if let Some(s) = args.load_shape {
        opts.load_shape_path = s;
    }
    let dir = args.data_dir.unwrap_or_else(|| {
        PathBuf::from(DEFAULT_DATA_DIR).join(format!(
            "demo-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S")
        ))
    });
    runtime()?.block_on(async {
        // The published demo key: demo data only (`serve` refuses it unless
        // told --demo-field-key).
        let store = open_store(None, &dir)
            .await?
            .with_field_keys(Arc::new(FieldKeyring::demo()));
        let market = Market::open(store).await?;
        // Every member declaration of the day is signed with the member's
        // certificate and accepted through the server's signed path.
        let ca_dir = dir.join("ca");
        let ca = voltex_security::ca::PlatformCa::init(
            &ca_dir,
            "Voltex demo platform",
            chrono::Utc::now(),
        )
        .context("creating the demo's platform CA")?;
        let signing = voltex_server::SigningConfig::load(&ca_dir).context("loading the demo's CA")?;
        let channel = crate::cmd::demo_signing::SigningChannel::new(ca, signing);
        let summary = voltex_market::demo::run_with(&market, &opts, Some(&channel)).await?;
        print_demo(&summary, &dir);
        println!(
            "\nEvery declaration above was signed: {} members got trader certificates from the demo CA ({}); \
             {} declarations were accepted with their signatures stored and receipts sealed.",
            channel.members(),
            ca_dir.display(),
            channel.receipts.load(std::sync::atomic::Ordering::Relaxed)
        );
        write_demo_files(&market, &summary, day, &dir).await?;
        sign_next_day(&market, &summary, day, &dir, &channel).await?;
        let active: Vec<String> = summary
            .members
            .iter()
            .filter(|(_, kind, status)| {
                *status == voltex_model::MemberStatus::Active
                    && *kind != voltex_model::MemberKind::MarketOperator
            })
            .map(|(id, _, _)| id.clone())
            .collect();
        crate::cmd::accounts::demo_sign_in(&market, &active, &dir).await?;
        if let Some(path) = &args.json {
            std::fs::write(path, serde_json::to_string_pretty(&summary)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    })
}

fn print_demo(s: &DemoSummary, dir: &Path) {
    println!(
        "Voltex demo: trading day of session {} ({} intervals), now {}",
        s.session_id, s.intervals, s.session_state
    );
    println!();
    println!("Members");
    println!("  {:<14} {:<20} {:<10}", "id", "kind", "status");
    for (id, kind, status) in &s.members {
        println!(
            "  {:<14} {:<20} {:<10}",
            id,
            format!("{kind:?}"),
            status.to_string()
        );
    }
    println!();
    println!("Units");
    println!(
        "  {:<10} {:<10} {:<8} {:>5} {:>8} {:>8} {:>10}",
        "id", "owner", "tech", "bus", "pmin MW", "pmax MW", "ramp MW/m"
    );
    for u in &s.units {
        println!(
            "  {:<10} {:<10} {:<8} {:>5} {:>8.1} {:>8.1} {:>10.2}",
            u.id,
            u.member_id,
            format!("{:?}", u.technology),
            u.bus,
            u.pmin_mw,
            u.pmax_mw,
            u.ramp_up_mw_per_min
        );
    }
    println!();
    println!("Declarations locked at gate closure (latest versions)");
    println!(
        "  {:<12} {:<14} {:<20} {:>3} {:>18} {:>9}",
        "member", "kind", "subject", "ver", "price yuan/MWh", "peak MW"
    );
    for d in &s.declarations {
        let price = match (d.min_price, d.max_price) {
            (Some(a), Some(b)) => format!("{a:.1}-{b:.1}"),
            _ => "price-taking".to_owned(),
        };
        let price = if d.kind == "daily_extras" {
            "-".to_owned()
        } else {
            price
        };
        println!(
            "  {:<12} {:<14} {:<20} {:>3} {:>18} {:>9.1}",
            d.member_id, d.kind, d.subject, d.version, price, d.peak_mw
        );
    }
    if !s.refused_example.is_empty() {
        println!();
        println!("A mistaken offer was refused and nothing was stored:");
        for l in &s.refused_example {
            println!("  {l}");
        }
    }
    println!();
    println!("Hourly balance (average of the hour's intervals)");
    println!(
        "  {:<22} {:>12} {:>10} {:>8}",
        "hour starting", "offered MW", "bid MW", "margin"
    );
    for h in &s.hours {
        println!(
            "  {:<22} {:>12.1} {:>10.1} {:>7.0}%",
            h.label,
            h.offered_mw,
            h.bid_mw,
            100.0 * (h.offered_mw / h.bid_mw - 1.0)
        );
    }
    if !s.review_example.is_empty() {
        println!();
        println!("Operator review of an implausible revision:");
        for l in &s.review_example {
            println!("  {l}");
        }
    }
    for c in &s.clearing {
        println!();
        println!(
            "Clearing {} (run v{}, input sha256 {}…)",
            c.session_id,
            c.run_version,
            &c.fingerprint[..12.min(c.fingerprint.len())]
        );
        println!(
            "  LMP yuan/MWh: min {:.2}  mean {:.2}  max {:.2}   objective {:.0}",
            c.min_lmp, c.mean_lmp, c.max_lmp, c.objective
        );
        let buses: Vec<String> = c
            .bus_mean_lmp
            .iter()
            .map(|(b, p)| format!("bus {b}: {p:.2}"))
            .collect();
        println!("  mean LMP by bus: {}", buses.join(", "));
        if c.binding.is_empty() {
            println!("  binding constraints: none");
        } else {
            println!(
                "  binding constraints: {} ({} branch-intervals)",
                c.binding.join(", "),
                c.binding_intervals
            );
        }
        if !c.defaults.is_empty() {
            println!("  default offers applied: {}", c.defaults.join(", "));
        }
        for w in c.warnings.iter().take(3) {
            println!("  warning: {w}");
        }
    }
    if !s.regulation.is_empty() {
        println!();
        println!("Frequency regulation auction {}", s.regulation);
    }
    println!();
    println!(
        "Published for the day-ahead session: {} public items, {} for members or one member",
        s.publications.0, s.publications.1
    );
    println!();
    println!("Settlement statements (yuan; + received, - paid)");
    println!(
        "  {:<14} {:>14} {:>14} {:>14}",
        "member", "day-ahead", "real-time", "total"
    );
    for st in s.statements.iter().filter(|x| x.residual.is_none()) {
        println!(
            "  {:<14} {:>14.2} {:>14.2} {:>14.2}",
            st.member_id, st.da_total, st.rt_total, st.total
        );
    }
    if let Some(r) = s.statements.iter().find_map(|x| x.residual.as_ref()) {
        println!(
            "  {:<14} {:>14.2} {:>14.2} {:>14.2}",
            "operator", r.day_ahead_residual, r.real_time_residual, r.total_residual
        );
        println!(
            "  balance: members {:.2} + operator {:.2} = {:.2}; day-ahead congestion rent (shadow price x flow) {:.2}",
            r.members_total,
            r.total_residual,
            r.members_total + r.total_residual,
            r.day_ahead_congestion_rent
        );
    }
    println!("Notifications sent to members: {}", s.notifications);
    println!();
    let rows: Vec<String> = s
        .rows_stored
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    println!("Stored rows (all versions): {}", rows.join(", "));
    println!(
        "Store: {} (sensitive rows encrypted with the published demo key) — browse it with `voltex serve --demo-field-key --data-dir {}`",
        dir.display(),
        dir.display()
    );
}

/// Writes what people read as documents: every statement as CSV and a
/// printable HTML page, the day-ahead energy offers as an E-file, and the
/// day-ahead LMP chart.
async fn write_demo_files(
    market: &Market,
    summary: &DemoSummary,
    day: chrono::NaiveDate,
    dir: &Path,
) -> anyhow::Result<()> {
    use voltex_market::settlement::{statement_csv, statement_html};
    let op = market.operator().await?;
    let out = dir.join("reports");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    for st in market.statements(&op, day).await? {
        let stem = out.join(format!("statement-{}", st.value.member_id));
        std::fs::write(stem.with_extension("csv"), statement_csv(&st.value))?;
        std::fs::write(stem.with_extension("html"), statement_html(&st.value))?;
    }
    let efile = market
        .export_declarations(
            &op,
            &summary.session_id,
            voltex_model::DeclarationKind::EnergyOffer,
            voltex_market::files::FileFormat::Efile,
            voltex_formats::efile::Encoding::Utf8,
        )
        .await?;
    std::fs::write(
        out.join(format!("{}-energy-offers.e", summary.session_id)),
        efile,
    )?;
    let run = market.clearing_run(&op, &summary.session_id).await?;
    run.value
        .result
        .write_to_dir(&out.join("day-ahead-clearing"))
        .context("writing the day-ahead clearing result")?;
    println!(
        "Reports (statements as HTML/CSV, the offers as an E-file, clearing results and LMP chart): {}",
        out.display()
    );
    Ok(())
}

/// The real signing mechanism on the next trading day: the demo creates a
/// platform CA in `<store>/ca`, issues each generation company a trader
/// certificate, and every company signs yesterday's offer (copied from
/// history) as its first declaration of the new day. The server's own
/// acceptance path verifies and stores each with its signature and seals a
/// receipt; one receipt is then verified offline, and a copy with a price
/// changed after signing is refused.
async fn sign_next_day(
    market: &Market,
    summary: &DemoSummary,
    day: chrono::NaiveDate,
    dir: &Path,
    channel: &crate::cmd::demo_signing::SigningChannel,
) -> anyhow::Result<()> {
    use voltex_model::{MarketKind, SessionState};
    use voltex_server::signing::accept_signed;

    let signing = channel.signing();
    let op = market.operator().await?;
    let next = day.succ_opt().context("trading day out of range")?;
    let session = market
        .create_session(&op, MarketKind::DayAheadEnergy, next)
        .await?
        .value;
    market
        .advance_session(&op, &session.id, SessionState::Open)
        .await?;
    let mut receipts = Vec::new();
    let mut refused = String::new();
    for unit in &summary.units {
        let actor = market.actor(&unit.member_id).await?;
        let key = format!("{}:energy_offer:{}", summary.session_id, unit.id);
        let last = market
            .declaration_history(&actor, &key)
            .await?
            .last()
            .map(|d| d.version)
            .context("yesterday's offer")?;
        let draft = market
            .copy_declaration(&actor, &key, last, &session.id)
            .await?;
        let sign = || channel.sign(&unit.member_id, &session.id, &draft, 1);
        let mut submission = sign()?;
        if refused.is_empty() {
            // A price changed after signing: the signature no longer covers it.
            let mut tampered = submission.clone();
            if let Some(p) =
                tampered.declaration.envelope.body["intervals"][0]["segments"][0].get_mut("price")
            {
                *p = serde_json::json!(p.as_f64().unwrap_or(0.0) - 10.0);
            }
            if let Err(e) = accept_signed(market, signing, &actor, &session.id, tampered).await {
                refused = format!("{} ({})", e.message, e.code);
            }
        }
        submission = sign()?;
        let accepted = accept_signed(market, signing, &actor, &session.id, submission.clone())
            .await
            .map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.message))?;
        receipts.push((submission, accepted.receipt));
    }
    let trust = signing.trust()?;
    let (first, receipt) = receipts.first().context("no unit signed")?;
    let check = voltex_security::receipt::verify_receipt(receipt, &trust, Some(&first.declaration))
        .context("verifying the first receipt offline")?;
    std::fs::write(
        dir.join("reports").join("receipt-example.json"),
        receipt.to_json_pretty(),
    )?;
    println!();
    println!(
        "Signed declarations for {}: {} companies, with the certificates the demo CA issued them,",
        session.id,
        receipts.len(),
    );
    println!(
        "  signed yesterday's offers and got receipts sealed by the platform; receipt {} verifies offline (declaration matched: {})",
        check.receipt_id, check.declaration_matched
    );
    println!("  a copy with a price changed after signing was refused: {refused}");
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct ImportCaseArgs {
    /// MATPOWER case file (.m).
    pub file: PathBuf,
    /// Name to store the network under (default: the case's name).
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn import_case(args: ImportCaseArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    runtime()?.block_on(async {
        let market = Market::open(args.store.open().await?).await?;
        let op = market.operator().await?;
        let rec = market
            .import_matpower(&op, &text, args.name.as_deref())
            .await?;
        let n = &rec.value;
        println!(
            "Imported network {} version {}: {} buses, {} branches, {:.1} MW load",
            n.name,
            rec.version,
            n.buses.len(),
            n.branches.len(),
            n.total_load_mw()
        );
        Ok(())
    })
}

#[derive(Debug, clap::Subcommand)]
pub enum MembersCommand {
    /// List every member with its status and version.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Write everything held about a member (every version) as JSON.
    Export {
        id: String,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn members(cmd: MembersCommand) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        match cmd {
            MembersCommand::List { store } => {
                let market = Market::open(store.open().await?).await?;
                let op = market.operator().await?;
                println!(
                    "{:<16} {:<28} {:<22} {:<10} {:>3}",
                    "id", "name", "kind", "status", "ver"
                );
                for r in market.members(&op).await? {
                    let m = r.value;
                    println!(
                        "{:<16} {:<28} {:<22} {:<10} {:>3}",
                        m.id,
                        m.name,
                        format!("{:?}", m.kind),
                        m.status.to_string(),
                        r.version
                    );
                }
            }
            MembersCommand::Export { id, out, store } => {
                let market = Market::open(store.open().await?).await?;
                let op = market.operator().await?;
                let export = market.export_member(&op, &id).await?;
                let json = serde_json::to_string_pretty(&export)?;
                match out {
                    Some(p) => std::fs::write(&p, json)
                        .with_context(|| format!("writing {}", p.display()))?,
                    None => println!("{json}"),
                }
            }
        }
        Ok(())
    })
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> SocketAddr {
        "127.0.0.1:0".parse().unwrap()
    }

    #[test]
    fn serve_refuses_to_start_without_a_key_ring_and_says_how_to_make_one() {
        let e = serve_field_keys(|_| None, false, loopback()).unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("voltex field-keys generate") && msg.contains(ENV_KEYS_FILE),
            "{msg}"
        );
        // Empty values are no key either.
        assert!(serve_field_keys(|_| Some("  ".into()), false, loopback()).is_err());

        // The whole command stops before it opens a store or binds a port.
        if !field_keys_configured(&|n| std::env::var(n).ok()) {
            let tmp = tempfile::tempdir().unwrap();
            let data_dir = tmp.path().join("data");
            #[derive(clap::Parser)]
            struct Cli {
                #[command(flatten)]
                serve: ServeArgs,
            }
            let args = <Cli as clap::Parser>::try_parse_from([
                "voltex-serve",
                "--bind",
                "127.0.0.1:0",
                "--scheduler-tick-ms",
                "0",
                "--data-dir",
                &data_dir.display().to_string(),
            ])
            .unwrap()
            .serve;
            let e = serve(args).unwrap_err();
            assert!(
                format!("{e:#}").contains("no field encryption key"),
                "{e:#}"
            );
            assert!(!data_dir.exists(), "nothing was created");
        }
    }

    #[test]
    fn serve_refuses_the_demo_key_and_weak_keys_but_takes_a_generated_ring() {
        let demo = FieldKeyring::demo().to_json().to_string();
        let e = serve_field_keys(|n| (n == ENV_KEYS).then(|| demo.clone()), false, loopback())
            .unwrap_err();
        assert!(format!("{e:#}").contains("demo key"), "{e:#}");
        let zeros = r#"{"active":"k","keys":{"k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}"#;
        assert!(
            serve_field_keys(|n| (n == ENV_KEYS).then(|| zeros.into()), false, loopback()).is_err()
        );

        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("keys.json");
        FieldKeyring::generate("k1").unwrap().save(&file).unwrap();
        let path = file.display().to_string();
        let ring = serve_field_keys(
            |n| (n == ENV_KEYS_FILE).then(|| path.clone()),
            false,
            loopback(),
        )
        .unwrap();
        assert_eq!(ring.active_key_id(), "k1");
    }

    #[test]
    fn the_demo_field_key_is_only_for_loopback() {
        let ring = serve_field_keys(|_| None, true, loopback()).unwrap();
        assert_eq!(ring.active_key_id(), "demo");
        let e = serve_field_keys(|_| None, true, "0.0.0.0:8080".parse().unwrap()).unwrap_err();
        assert!(e.to_string().contains("loopback"), "{e}");
    }
}
