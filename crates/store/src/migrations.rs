//! The schema's migrations, compiled into the binary.
//!
//! Each file of `migrations/` is listed here once, by name, and embedded with
//! `include_str!`. Version, description and checksum are derived exactly as
//! sqlx's `migrate!` macro derives them (version before the first `_`, the rest
//! of the name without `.sql` and with `_` read as a space, SHA-384 of the
//! text), so a database migrated by an earlier build is recognised as up to
//! date. Doing it here rather than with the macro keeps sqlx's compile-time
//! query machinery (and a second, host-side build of SQLite and both drivers)
//! out of every build; `listing_matches_the_migrations_directory` fails when a
//! file is added to the directory but not to the list.
use sqlx::migrate::{Migration, MigrationType, Migrator};

macro_rules! embed {
    ($name:literal) => {
        ($name, include_str!(concat!("../migrations/", $name)))
    };
}

/// Every migration, in the order of its version: file name and text.
const FILES: &[(&str, &str)] = &[
    embed!("0001_versioned_records.sql"),
    embed!("0002_market_operations.sql"),
    embed!("0003_audit_log.sql"),
    embed!("0004_regulation_runs.sql"),
    embed!("0005_declaration_signatures.sql"),
    embed!("0006_accounts.sql"),
    embed!("0007_offer_references.sql"),
    embed!("0008_coordination.sql"),
    embed!("0009_market_evaluation.sql"),
    embed!("0010_retail.sql"),
    embed!("0011_customer_service.sql"),
];

/// The migrator over [`FILES`].
pub(crate) fn migrator() -> Migrator {
    Migrator::with_migrations(
        FILES
            .iter()
            .map(|(name, sql)| migration(name, sql))
            .collect(),
    )
}

/// One migration from its file name (`<version>_<description>.sql`) and text.
fn migration(name: &str, sql: &'static str) -> Migration {
    let (version, rest) = name
        .split_once('_')
        .unwrap_or_else(|| panic!("migration {name}: no `_` after the version"));
    let version: i64 = version
        .parse()
        .unwrap_or_else(|_| panic!("migration {name}: the version is not an integer"));
    let description = rest
        .strip_suffix(".sql")
        .unwrap_or_else(|| panic!("migration {name}: not a .sql file"))
        .replace('_', " ");
    let no_tx = sql.starts_with("-- no-transaction");
    Migration::new(
        version,
        description.into(),
        MigrationType::Simple,
        sqlx::SqlSafeStr::into_sql_str(sql),
        no_tx,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha384};

    #[test]
    fn listing_matches_the_migrations_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        on_disk.sort();
        let listed: Vec<&str> = FILES.iter().map(|(name, _)| *name).collect();
        assert_eq!(listed, on_disk);
    }

    #[test]
    fn versions_descriptions_and_checksums_follow_the_file_names_and_texts() {
        let m = migrator();
        let versions: Vec<i64> = m.iter().map(|m| m.version).collect();
        assert_eq!(versions, (1..=FILES.len() as i64).collect::<Vec<_>>());
        let first = m.iter().next().unwrap();
        assert_eq!(first.description, "versioned records");
        assert_eq!(first.migration_type, MigrationType::Simple);
        assert!(!first.no_tx);
        // SHA-384 of the text, as `migrate!` computes it: what the
        // `_sqlx_migrations` table of an existing database holds.
        for (m, (_, sql)) in m.iter().zip(FILES) {
            assert_eq!(m.checksum.as_ref(), Sha384::digest(sql).as_slice());
        }
    }
}
