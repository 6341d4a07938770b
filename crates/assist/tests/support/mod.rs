//! Test databases on both backends, as the store's own tests make them:
//! SQLite in a temporary directory and PostgreSQL in a fresh database per
//! test (at `VOLTEX_TEST_POSTGRES_URL`, else
//! `postgres://postgres@127.0.0.1:5432/test`), dropped by [`TestDb::finish`].
use std::sync::atomic::{AtomicUsize, Ordering};
use voltex_store::{Backend, Store};

pub struct TestDb {
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
    drop_pg: Option<(String, String)>,
}

impl TestDb {
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

async fn pg_admin(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required for these tests at {url}: {e}"))
}

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

pub async fn postgres(prefix: &str) -> TestDb {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let admin_url = std::env::var("VOLTEX_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
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

/// One `#[tokio::test]` per case per backend (see the store's tests).
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
pub(crate) use on_backend;
