//! The platform a bench runs against, set up before the clock starts in a
//! fresh temporary directory: a field key ring (the file `voltex serve`
//! reads), a platform CA, member certificates, users with password and TOTP
//! created the way `voltex users add` does, active members with generating
//! units, and open day-ahead energy sessions, all through
//! `voltex_market::Market` on the store, which is then closed. On PostgreSQL
//! a fresh database `voltex_bench_<pid>_<n>` is created beside the one
//! `DATABASE_URL` names and dropped by [`BenchPlatform::finish`].
//!
//! It holds no rule: what a member, unit or user must be is checked by the
//! library calls it makes.
use crate::{LoadgenError, Result};
use chrono::{Days, NaiveDate, Utc};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use voltex_market::NewMember;
use voltex_market::{Market, OPERATOR_ID};
use voltex_model::{GeneratingUnit, MarketKind, MemberKind, MemberStatus, SessionState};
use voltex_security::field_crypto::FieldKeyring;
use voltex_security::{MemberKey, PlatformCa, Role};
use voltex_server::accounts::{NewUser, create_user};
use voltex_store::Store;

/// Where the store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// The embedded SQLite store in the temporary directory.
    Sqlite,
    /// A fresh database on the PostgreSQL server this URL names.
    Postgres { admin_url: String },
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }
}

/// How large the platform is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub members: usize,
    pub units: usize,
    pub traders: usize,
    /// Day-ahead sessions (consecutive trading days) open at once; each
    /// (session, unit) is a declaration subject of its own.
    pub sessions: usize,
}

impl Shape {
    /// Enough sessions that every one of `connections` owns a subject.
    pub fn for_connections(
        members: usize,
        units: usize,
        traders: usize,
        connections: usize,
    ) -> Self {
        let units = units.max(members).max(1);
        Self {
            members: members.max(1),
            units,
            traders: traders.max(members).max(1),
            sessions: connections.div_ceil(units).max(1),
        }
    }
}

/// A certificate and its key, as a member's trading system holds them.
#[derive(Debug)]
pub struct Credential {
    pub member_id: String,
    pub key: MemberKey,
    pub certificate_pem: String,
    pub serial: String,
}

/// A user as its owner knows it: name, password and authenticator secret.
#[derive(Debug, Clone)]
pub struct Account {
    pub user: String,
    pub password: String,
    pub totp_secret: String,
    /// Index into [`BenchPlatform::members`]; `None` for the operator.
    pub member: Option<usize>,
}

/// One declaration subject: a unit's energy offer in one session.
#[derive(Debug, Clone)]
pub struct Subject {
    pub session_id: String,
    pub member: usize,
    pub unit_id: String,
    pub pmax_mw: f64,
    /// The mean price (yuan/MWh) the subject's offers start from.
    pub base_price: f64,
}

/// A PostgreSQL database made for one run.
#[derive(Debug, Clone)]
pub struct Database {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl Database {
    async fn create(admin_url: &str) -> Result<Self> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "voltex_bench_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let (base, _) = admin_url
            .split('?')
            .next()
            .unwrap_or(admin_url)
            .rsplit_once('/')
            .ok_or_else(|| {
                LoadgenError::Setup("DATABASE_URL has no database path (…/dbname)".into())
            })?;
        let admin = admin_pool(admin_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&admin)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await?;
        admin.close().await;
        Ok(Self {
            admin_url: admin_url.to_owned(),
            url: format!("{base}/{name}"),
            name,
        })
    }

    async fn drop_database(&self) -> Result<()> {
        let admin = admin_pool(&self.admin_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&admin)
        .await?;
        admin.close().await;
        Ok(())
    }
}

async fn admin_pool(url: &str) -> Result<sqlx::AnyPool> {
    sqlx::any::install_default_drivers();
    Ok(sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?)
}

/// The platform of one bench run. Dropping it removes the temporary
/// directory; call [`BenchPlatform::finish`] to drop a PostgreSQL database.
#[derive(Debug)]
pub struct BenchPlatform {
    dir: tempfile::TempDir,
    pub backend: Backend,
    pub data_dir: PathBuf,
    pub ca_dir: PathBuf,
    /// The key ring file, handed to the server as `VOLTEX_FIELD_KEYS_FILE`.
    pub keys_file: PathBuf,
    pub keys: Arc<FieldKeyring>,
    pub database: Option<Database>,
    pub members: Vec<Arc<Credential>>,
    pub traders: Vec<Account>,
    /// Operator staff with the operator account's certificate.
    pub operator: (Account, Arc<Credential>),
    /// A member of its own with one unit, for the flood.
    pub flooder: (Account, Arc<Credential>, Subject),
    pub subjects: Vec<Subject>,
    /// The first trading day no session exists for yet.
    pub next_free_day: NaiveDate,
}

/// Password of bench user `user` (policy: at least 12 characters).
fn password_of(user: &str) -> String {
    format!("bench passphrase of {user}")
}

impl BenchPlatform {
    /// Sets up a platform of `shape` on `backend`; the store is closed again
    /// before this returns.
    pub async fn set_up(backend: Backend, shape: Shape) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let data_dir = dir.path().join("store");
        let ca_dir = dir.path().join("ca");
        let keys_file = dir.path().join("field-keys.json");
        let keys = FieldKeyring::generate("bench")?;
        keys.save(&keys_file)?;
        let keys = Arc::new(keys);
        let mut ca = PlatformCa::init(&ca_dir, "Voltex bench platform", Utc::now())?;
        let database = match &backend {
            Backend::Sqlite => None,
            Backend::Postgres { admin_url } => Some(Database::create(admin_url).await?),
        };
        let store = open_store(&data_dir, database.as_ref(), &keys).await?;
        let market = Market::open(store.clone()).await?;
        let op = market.operator().await?;

        let mut issue = |member: &str, role: Role| -> Result<Arc<Credential>> {
            let issued = ca.issue_member(member, role, 30, Utc::now())?;
            Ok(Arc::new(Credential {
                member_id: member.to_owned(),
                key: MemberKey::from_pem(&issued.key_pem)?,
                certificate_pem: issued.certificate_pem.clone(),
                serial: issued.serial.clone(),
            }))
        };
        let member_ids: Vec<String> = (0..shape.members)
            .map(|m| format!("bench-m{m:02}"))
            .collect();
        let mut members = Vec::new();
        for id in member_ids.iter().map(String::as_str).chain(["bench-flood"]) {
            register_active_member(&market, &op, id).await?;
        }
        for id in &member_ids {
            members.push(issue(id, Role::MemberTrader)?);
        }
        let flood_credential = issue("bench-flood", Role::MemberTrader)?;
        let operator_credential = issue(OPERATOR_ID, Role::Operator)?;

        let mut units = Vec::new();
        for u in 0..shape.units {
            let member = u % shape.members;
            let unit = bench_unit(&format!("bench-u{u:03}"), &member_ids[member], u);
            market
                .register_unit(&market.actor(&member_ids[member]).await?, unit.clone())
                .await?;
            units.push((member, unit));
        }
        let flood_unit = bench_unit("bench-flood-u", "bench-flood", 0);
        market
            .register_unit(&market.actor("bench-flood").await?, flood_unit.clone())
            .await?;

        // A week ahead: no gate closes while the bench runs.
        let first_day = Utc::now().date_naive() + Days::new(7);
        let mut session_ids = Vec::new();
        for s in 0..shape.sessions {
            session_ids.push(open_session(&market, &op, first_day + Days::new(s as u64)).await?);
        }
        let subjects = session_ids
            .iter()
            .flat_map(|session| {
                units.iter().map(|(member, unit)| Subject {
                    session_id: session.clone(),
                    member: *member,
                    unit_id: unit.id.clone(),
                    pmax_mw: unit.pmax_mw,
                    base_price: 250.0 + 10.0 * (unit.bus as f64),
                })
            })
            .collect();
        let flood_subject = Subject {
            session_id: session_ids[0].clone(),
            member: usize::MAX,
            unit_id: flood_unit.id.clone(),
            pmax_mw: flood_unit.pmax_mw,
            base_price: 300.0,
        };

        // Users, with their passwords hashed on both cores.
        let mut wanted: Vec<(String, Role, Option<String>, Option<usize>)> = (0..shape.traders)
            .map(|t| {
                let m = t % shape.members;
                (
                    format!("bench-t{t:03}"),
                    Role::MemberTrader,
                    Some(member_ids[m].clone()),
                    Some(m),
                )
            })
            .collect();
        wanted.push(("bench-operator".into(), Role::Operator, None, None));
        wanted.push((
            "bench-flood-t".into(),
            Role::MemberTrader,
            Some("bench-flood".into()),
            None,
        ));
        let mut created = tokio::task::JoinSet::new();
        for (i, (user, role, member_id, member)) in wanted.into_iter().enumerate() {
            let market = market.clone();
            created.spawn(async move {
                let password = password_of(&user);
                let enrolment = create_user(
                    &market,
                    None,
                    NewUser {
                        id: user.clone(),
                        role,
                        member_id,
                        password: password.clone(),
                    },
                )
                .await
                .map_err(|e| {
                    LoadgenError::Setup(format!("creating user {user}: {} {}", e.code, e.message))
                })?;
                Ok::<_, LoadgenError>((
                    i,
                    Account {
                        user,
                        password,
                        totp_secret: enrolment.totp_secret,
                        member,
                    },
                ))
            });
        }
        let mut accounts = Vec::new();
        while let Some(done) = created.join_next().await {
            accounts.push(done.map_err(|e| LoadgenError::Setup(e.to_string()))??);
        }
        accounts.sort_by_key(|(i, _)| *i);
        let mut accounts: Vec<Account> = accounts.into_iter().map(|(_, a)| a).collect();
        let flood_account = accounts.pop().expect("the flooder was created");
        let operator_account = accounts.pop().expect("the operator was created");
        store.close().await;

        Ok(Self {
            dir,
            backend,
            data_dir,
            ca_dir,
            keys_file,
            keys,
            database,
            members,
            traders: accounts,
            operator: (operator_account, operator_credential),
            flooder: (flood_account, flood_credential, flood_subject),
            subjects,
            next_free_day: first_day + Days::new(shape.sessions as u64),
        })
    }

    /// The store, opened with the run's key ring (close it after use).
    pub async fn open_store(&self) -> Result<Store> {
        open_store(&self.data_dir, self.database.as_ref(), &self.keys).await
    }

    /// The temporary directory (server logs go there).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Drops the PostgreSQL database, if one was made; the directory goes
    /// with `self`.
    pub async fn finish(self) -> Result<()> {
        if let Some(db) = &self.database {
            db.drop_database().await?;
        }
        Ok(())
    }
}

async fn open_store(
    data_dir: &std::path::Path,
    database: Option<&Database>,
    keys: &Arc<FieldKeyring>,
) -> Result<Store> {
    let store = match database {
        Some(db) => Store::connect(&db.url).await?,
        None => Store::open_sqlite_dir(data_dir).await?,
    };
    Ok(store.with_field_keys(keys.clone()))
}

async fn register_active_member(
    market: &Market,
    op: &voltex_market::Actor,
    id: &str,
) -> Result<()> {
    market
        .register_member(NewMember {
            id: id.to_owned(),
            name: format!("Bench generator {id}"),
            kind: MemberKind::Generator,
            registration_number: None,
            contact_email: None,
        })
        .await?;
    market
        .set_member_status(op, id, MemberStatus::Active)
        .await?;
    Ok(())
}

async fn open_session(
    market: &Market,
    op: &voltex_market::Actor,
    day: NaiveDate,
) -> Result<String> {
    let session = market
        .create_session(op, MarketKind::DayAheadEnergy, day)
        .await?;
    market
        .advance_session(op, &session.value.id, SessionState::Open)
        .await?;
    Ok(session.value.id)
}

/// A coal unit of 150–390 MW; `n` spreads sizes and prices.
fn bench_unit(id: &str, member_id: &str, n: usize) -> GeneratingUnit {
    GeneratingUnit {
        id: id.to_owned(),
        member_id: member_id.to_owned(),
        name: format!("Bench unit {id}"),
        technology: voltex_model::Technology::Coal,
        bus: (n % 5 + 1) as u32,
        pmin_mw: 0.0,
        pmax_mw: 150.0 + 30.0 * (n % 9) as f64,
        ramp_up_mw_per_min: 4.0,
        ramp_down_mw_per_min: 4.0,
        min_up_time_h: 4.0,
        min_down_time_h: 4.0,
        startup_cost: 20000.0,
        must_run: false,
        emergency_min_mw: None,
        heat_supply_flow_t_per_h: None,
        expected_grid_connection: None,
    }
}
