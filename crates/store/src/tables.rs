//! The registry of the store's tables of versioned records: each one's name,
//! whether its rows carry an owning member, and whether its bodies are
//! encrypted at rest. It is what the store enumerates when it must visit
//! every table (row counts) or every sensitive one (key usage,
//! re-encryption); it decides nothing a type has not declared.
//!
//! Each stored type declares its own table, ownership and sensitivity on its
//! [`Entity`] impl; the registry lists the same facts per table. The two
//! cannot drift: every store method generic over an entity evaluates
//! [`Registered::CHECK`], so a build that uses an entity whose table is
//! missing here, or whose `SENSITIVE` or `OWNED` differs from its entry,
//! fails to compile (the error names the entity type). The tests below hold
//! the registry to the migrations: every `CREATE TABLE` is listed (the audit
//! log apart, see [`NOT_VERSIONED`]) and every listed table exists, with a
//! `member_id` column exactly when it is owned.
//!
//! Must not: hold any rule about what is sensitive beyond listing what the
//! entities declare; the reasons live with the types and in
//! docs/security.md ("Encryption at rest").
use std::marker::PhantomData;

use crate::Entity;

/// One table of versioned records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    /// Rows carry the owning member in a `member_id` column.
    pub owned: bool,
    /// Bodies are encrypted when the store has a field key ring.
    pub sensitive: bool,
}

const fn table(name: &'static str, owned: bool, sensitive: bool) -> Table {
    Table {
        name,
        owned,
        sensitive,
    }
}

/// Every table of versioned records, in migration order.
pub const TABLES: &[Table] = &[
    // Reference data (entities in `entity.rs`).
    table("members", false, true),
    table("generating_units", true, true),
    table("load_resources", true, false),
    table("market_parameters", false, false),
    table("networks", false, false),
    table("sessions", false, false),
    // Declarations: written by the store itself (no entity type).
    table(DECLARATIONS, true, true),
    // The market's day (entities in voltex-market and voltex-server).
    table("declaration_signatures", true, true),
    table("gate_closures", false, true),
    table("declaration_reviews", true, true),
    table("notifications", true, true),
    table("clearing_runs", false, true),
    table("regulation_runs", false, true),
    table("publications", true, true),
    table("metered_loads", false, true),
    table("statements", true, true),
    // Accounts (entities in voltex-server).
    table("users", true, true),
    table("auth_sessions", true, true),
    // The review screen's running reference (voltex-market).
    table("offer_references", true, true),
    // Market evaluation (voltex-market `evaluation`).
    table("reference_levels", true, true),
    table("outage_notices", true, true),
    table("market_alerts", true, true),
    // The retail company system (voltex-retail).
    table("retail_customers", true, true),
    table("retail_metering_points", true, true),
    table("retail_meter_months", true, true),
    table("retail_packages", true, true),
    table("retail_contracts", true, true),
    table("retail_invoices", true, true),
    // Customer service (voltex-assist).
    table("faq_entries", false, false),
    table("assist_questions", false, true),
];

/// The declarations table, which the store writes and reads itself.
pub(crate) const DECLARATIONS: &str = "declarations";

/// Tables in the migrations that are not versioned records: the audit log is
/// a hash chain that `voltex audit verify` must check without any key, and
/// its rows name actors and actions, never prices or amounts; the
/// coordination tables of replicas (signed-request nonces, sign-in failure
/// counters) hold short-lived state, updated and pruned in place.
pub const NOT_VERSIONED: &[&str] = &["audit_log", "request_nonces", "login_attempts"];

/// The tables whose bodies are encrypted at rest (given a key ring).
pub fn sensitive_tables() -> impl Iterator<Item = &'static str> {
    TABLES.iter().filter(|t| t.sensitive).map(|t| t.name)
}

/// Whether rows of `table` are encrypted at rest (given a key ring); false
/// for a table the registry does not list.
pub fn is_sensitive_table(table: &str) -> bool {
    TABLES.iter().any(|t| t.sensitive && t.name == table)
}

/// The entry of `name`, usable in constants.
const fn lookup(name: &str) -> Option<Table> {
    let mut i = 0;
    while i < TABLES.len() {
        if str_eq(TABLES[i].name, name) {
            return Some(TABLES[i]);
        }
        i += 1;
    }
    None
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The compile-time agreement of an entity with the registry.
pub(crate) struct Registered<T>(PhantomData<T>);

impl<T: Entity> Registered<T> {
    /// Fails the build, when a store method is instantiated for `T`, if
    /// `T::TABLE` is not in [`TABLES`] or `T::SENSITIVE` / `T::OWNED`
    /// differ from its entry there.
    pub(crate) const CHECK: () = match lookup(T::TABLE) {
        None => panic!(
            "an Entity's TABLE is not in voltex_store::TABLES: add the table there (and a migration)"
        ),
        Some(t) if t.sensitive != T::SENSITIVE => {
            panic!("an Entity's SENSITIVE differs from its table's entry in voltex_store::TABLES")
        }
        Some(t) if t.owned != T::OWNED => {
            panic!("an Entity's OWNED differs from its table's entry in voltex_store::TABLES")
        }
        Some(_) => (),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// `CREATE TABLE` name → whether it has a `member_id` column, from the
    /// migration files as sqlx applies them.
    fn migrated_tables() -> BTreeMap<String, bool> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no migrations in {}", dir.display());
        let mut out = BTreeMap::new();
        for file in files {
            let sql = std::fs::read_to_string(&file).unwrap();
            for block in sql.split("CREATE TABLE ").skip(1) {
                let name = block.split_whitespace().next().unwrap().to_owned();
                let columns = &block[..block.find(");").expect("a closed CREATE TABLE")];
                let owned = columns
                    .lines()
                    .any(|l| l.split_whitespace().next() == Some("member_id"));
                assert!(out.insert(name.clone(), owned).is_none(), "{name} twice");
            }
        }
        out
    }

    #[test]
    fn every_migrated_table_is_registered_with_its_ownership() {
        let mut migrated = migrated_tables();
        for name in NOT_VERSIONED {
            assert!(migrated.remove(*name).is_some(), "{name} is not migrated");
        }
        let registered: BTreeMap<String, bool> = TABLES
            .iter()
            .map(|t| (t.name.to_owned(), t.owned))
            .collect();
        assert_eq!(registered.len(), TABLES.len(), "a table is listed twice");
        assert_eq!(
            registered, migrated,
            "voltex_store::TABLES and the migrations list different tables or owners"
        );
    }

    #[test]
    fn every_table_with_prices_amounts_or_personal_data_is_sensitive() {
        // The decision per table, with its reason, is in docs/security.md;
        // changing it must change this list too.
        let sensitive: Vec<_> = sensitive_tables().collect();
        assert_eq!(
            sensitive,
            [
                "members",                // contact e-mail of a person
                "generating_units",       // start-up cost (yuan)
                "declarations",           // offer and bid prices
                "declaration_signatures", // signed envelopes repeat the prices
                "gate_closures",          // the locked declarations
                "declaration_reviews",    // findings quote offered prices
                "notifications",          // statement totals, review reasons
                "clearing_runs",          // offer curves, dispatch, prices
                "regulation_runs",        // regulation offer prices, awards
                "publications",           // members' own dispatch and prices
                "metered_loads",          // members' metered consumption
                "statements",             // settlement amounts
                "users",                  // password hashes, TOTP secrets
                "auth_sessions",          // who signed in when
                "offer_references",       // mean offer prices
                "reference_levels",       // a unit's costs
                "outage_notices",         // a unit's availability
                "market_alerts",          // offers, references, re-clear prices
                "retail_customers",       // customers' names, credit codes, contacts
                "retail_metering_points", // which meter measures which customer
                "retail_meter_months",    // customers' interval consumption
                "retail_packages",        // the retailer's retail prices
                "retail_contracts",       // contracted volumes and prices
                "retail_invoices",        // customers' bills
                "assist_questions",       // free text users typed to the assistant
            ]
        );
        let clear: Vec<_> = TABLES
            .iter()
            .filter(|t| !t.sensitive)
            .map(|t| t.name)
            .collect();
        assert_eq!(
            clear,
            [
                "load_resources",
                "market_parameters",
                "networks",
                "sessions",
                "faq_entries" // the published knowledge base
            ]
        );
        assert!(is_sensitive_table("statements") && !is_sensitive_table("sessions"));
        assert!(!is_sensitive_table("audit_log") && !is_sensitive_table("nonesuch"));
    }

    #[test]
    fn lookup_finds_exact_names_only() {
        assert_eq!(lookup("members").map(|t| t.sensitive), Some(true));
        assert_eq!(lookup("member"), None);
        assert_eq!(lookup("members_"), None);
        assert!(str_eq("", "") && !str_eq("a", "b") && !str_eq("ab", "a"));
    }
}
