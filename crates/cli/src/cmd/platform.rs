//! The platform commands: `serve`, `demo`, `import-case`, `members`.
//! They open the store (SQLite under the data directory, or PostgreSQL when
//! `DATABASE_URL` says so), call `voltex-market`, and print; `demo` hands
//! over to the `voltex-demo` crate.
use anyhow::Context;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use voltex_market::Market;
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
    pub rates: RateArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Request rate limits (token buckets: a steady rate per second and the
/// burst accepted after a quiet spell). Defaults: see docs/performance.md
/// ("Rate limits").
#[derive(Debug, clap::Args)]
pub struct RateArgs {
    /// Requests per second per session (one trader's sign-in).
    #[arg(long, default_value_t = voltex_server::limits::DEFAULT_PER_TOKEN.per_second, env = "VOLTEX_TOKEN_RATE")]
    pub token_rate: f64,
    #[arg(long, default_value_t = voltex_server::limits::DEFAULT_PER_TOKEN.burst, env = "VOLTEX_TOKEN_BURST")]
    pub token_burst: u32,
    /// Requests per second per member, all its users together.
    #[arg(long, default_value_t = voltex_server::limits::DEFAULT_PER_MEMBER.per_second, env = "VOLTEX_MEMBER_RATE")]
    pub member_rate: f64,
    #[arg(long, default_value_t = voltex_server::limits::DEFAULT_PER_MEMBER.burst, env = "VOLTEX_MEMBER_BURST")]
    pub member_burst: u32,
    /// Requests per second per client IP address, whoever they name.
    #[arg(long, default_value_t = voltex_server::limits::DEFAULT_PER_ADDRESS.per_second, env = "VOLTEX_ADDRESS_RATE")]
    pub address_rate: f64,
    #[arg(long, default_value_t = voltex_server::limits::DEFAULT_PER_ADDRESS.burst, env = "VOLTEX_ADDRESS_BURST")]
    pub address_burst: u32,
}

impl RateArgs {
    fn apply(&self, config: voltex_server::ServerConfig) -> voltex_server::ServerConfig {
        use voltex_server::limits::RateLimit;
        voltex_server::ServerConfig {
            per_token: RateLimit::new(self.token_rate, self.token_burst),
            per_member: RateLimit::new(self.member_rate, self.member_burst),
            per_address: RateLimit::new(self.address_rate, self.address_burst),
            ..config
        }
    }
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
            let tables: Vec<&str> = voltex_store::sensitive_tables().collect();
            println!(
                "  encryption at rest: {}; active key `{key_id}`",
                tables.join(", ")
            );
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
        let config = args.rates.apply(voltex_server::ServerConfig {
            signing,
            ..voltex_server::ServerConfig::default()
        });
        println!(
            "  rate limits: {}/s (burst {}) per session, {}/s ({}) per member, {}/s ({}) per address",
            args.rates.token_rate,
            args.rates.token_burst,
            args.rates.member_rate,
            args.rates.member_burst,
            args.rates.address_rate,
            args.rates.address_burst
        );
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

/// `voltex demo`: the demo crate does the work; this picks the day and the
/// store directory.
pub fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let day = args
        .trading_day
        .unwrap_or_else(|| today.succ_opt().expect("date in range"));
    let mut options = voltex_demo::DemoOptions::bundled(day);
    if let Some(c) = args.case {
        options.case_path = c;
    }
    if let Some(s) = args.load_shape {
        options.load_shape_path = s;
    }
    let data_dir = args.data_dir.unwrap_or_else(|| {
        PathBuf::from(DEFAULT_DATA_DIR).join(format!(
            "demo-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S")
        ))
    });
    let run = voltex_demo::DemoRun {
        data_dir,
        options,
        json: args.json,
    };
    runtime()?.block_on(voltex_demo::run_demo(&run))?;
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
