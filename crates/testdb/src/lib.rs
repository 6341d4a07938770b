//! Test databases for the integration tests of every crate that keeps
//! data, on both backends: SQLite in a temporary directory and PostgreSQL
//! in a fresh database per test (named after a prefix, the process, a
//! counter and the clock, dropped by [`TestDb::finish`]) so runs never
//! collide. One harness, so that every crate's conformance runs the same way
//! (the store's `on_backend!` pattern).
//!
//! PostgreSQL is found at `VOLTEX_TEST_POSTGRES_URL`, else
//! `postgres://postgres@127.0.0.1:5432/test` (the development machines and
//! CI; `scripts/test.sh` starts a throwaway server when none is running).
//!
//! Must not: be a dependency of anything but tests.
use std::sync::atomic::{AtomicUsize, Ordering};
use voltex_store::{Backend, Store};

/// A store on a database that exists for one test.
pub struct TestDb {
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
    drop_pg: Option<(String, String)>,
}

impl TestDb {
    /// Closes the store and drops its PostgreSQL database.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin_url, db)) = self.drop_pg {
            let admin = pg_admin(&admin_url).await;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
            )))
            .execute(&admin)
            .await
            .expect("drop test database");
        }
    }
}

/// The PostgreSQL server the tests use.
pub fn postgres_url() -> String {
    std::env::var("VOLTEX_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn pg_admin(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required for these tests at {url}: {e}"))
}

/// A fresh SQLite store in a temporary directory.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite_dir(dir.path()).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    TestDb {
        store,
        _dir: Some(dir),
        drop_pg: None,
    }
}

/// A fresh PostgreSQL database whose name starts with `prefix`.
pub async fn postgres(prefix: &str) -> TestDb {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let admin_url = postgres_url();
    let db = format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        chrono::Utc::now().timestamp_micros() % 1_000_000
    );
    let admin = pg_admin(&admin_url).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let (base, _) = admin_url.rsplit_once('/').expect("URL has a database path");
    let store = Store::connect(&format!("{base}/{db}")).await.unwrap();
    assert_eq!(store.backend(), Backend::Postgres);
    TestDb {
        store,
        _dir: None,
        drop_pg: Some((admin_url, db)),
    }
}

/// Declares one `#[tokio::test]` per case in a module named after the
/// backend: `on_backend!(sqlite: case_a, case_b)` calls the test file's
/// `sqlite()` for a fresh database, runs `case_a(&db)`, then
/// `db.finish()`. Each test file defines its `sqlite()` and `postgres()`
/// (usually [`sqlite`] and [`postgres`] with the file's prefix).
#[macro_export]
macro_rules! on_backend {
    ($backend:ident: $($case:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = super::$backend().await;
                    super::$case(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}
