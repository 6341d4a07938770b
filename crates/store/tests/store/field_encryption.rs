//! Encryption at rest of the sensitive tables, on both backends: bodies are
//! ciphertext bound to their row, read back through every reader, refuse a
//! different key, survive rotation and retirement of the old key, and rows
//! written before encryption was turned on read and are migrated, in every
//! table the registry marks sensitive.
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use voltex_model::*;
use voltex_security::field_crypto::{FieldKeyring, KeyPolicy};
use voltex_store::{
    Companion, DeclarationWrite, Entity, Store, StoreError, TABLES, sensitive_tables,
};

use crate::support::{TestDb, offer, sqlite};

async fn postgres() -> TestDb {
    crate::support::postgres("voltex_crypt").await
}

const SID: &str = "DA-2026-11-22";
/// Distinctive numbers that must never appear in a stored body.
const PRICE: f64 = 4321.987;
const AMOUNT: f64 = -98765.4321;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

/// Stand-in for voltex-market's `Statement` (same table): the store decides
/// by table, not by type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Statement {
    member_id: String,
    day: String,
    total_yuan: f64,
}

impl Entity for Statement {
    const TABLE: &'static str = "statements";
    const NAME: &'static str = "statement";
    const SENSITIVE: bool = true;
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        format!("{}:{}", self.day, self.member_id)
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.member_id)
    }
}

/// Stand-in for voltex-server's `DeclarationSignature`, written as a companion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Signature {
    key: String,
    version: i64,
    member_id: String,
    envelope_price: f64,
}

impl Entity for Signature {
    const TABLE: &'static str = "declaration_signatures";
    const NAME: &'static str = "declaration signature";
    const SENSITIVE: bool = true;
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        format!("{}#{}", self.key, self.version)
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.member_id)
    }
}

fn statement(member: &str, total: f64) -> Statement {
    Statement {
        member_id: member.into(),
        day: "2026-11-22".into(),
        total_yuan: total,
    }
}

fn ring(id: &str) -> FieldKeyring {
    FieldKeyring::generate(id).unwrap()
}

/// A second handle on the same ring (the ring is not `Clone` on purpose).
fn copy(r: &FieldKeyring) -> FieldKeyring {
    FieldKeyring::from_json(&r.to_json(), KeyPolicy::Production).unwrap()
}

fn keyed(s: &Store, r: &FieldKeyring) -> Store {
    s.clone().with_field_keys(Arc::new(copy(r)))
}

/// Opens the day-ahead session (version 2); sessions are not sensitive.
async fn open_session(s: &Store) {
    let mut session = MarketSession::new(MarketKind::DayAheadEnergy, day());
    s.insert(&session).await.unwrap();
    session.transition(SessionState::Open).unwrap();
    s.append(&session, 1).await.unwrap();
}

/// Writes declarations (one with two versions and a signature companion), a
/// statement and a member; returns the key of the signed declaration.
async fn write_sample(s: &Store) -> String {
    open_session(s).await;
    let first = s
        .append_declaration(SID, 2, "gen1", &offer("u1", PRICE))
        .await
        .unwrap();
    let sig = Signature {
        key: first.key.clone(),
        version: 2,
        member_id: "gen1".into(),
        envelope_price: PRICE,
    };
    let signature = Companion::of(&sig).unwrap();
    let write = DeclarationWrite::new(SID, 2, "gen1", offer("u1", PRICE + 1.0))
        .unwrap()
        .expecting(2)
        .with_companions(move |_| Ok(vec![signature]));
    s.write_declaration(write).await.unwrap();
    s.append_declarations(SID, 2, &[("gen2", &offer("u2", PRICE))])
        .await
        .unwrap();
    s.insert(&statement("gen1", AMOUNT)).await.unwrap();
    let mut st2 = statement("gen2", AMOUNT);
    s.insert(&st2).await.unwrap();
    st2.total_yuan = AMOUNT - 1.0;
    s.append(&st2, 1).await.unwrap();
    s.insert(&Member::apply("gen1", "Gen One", MemberKind::Generator))
        .await
        .unwrap();
    first.key
}

/// Every body of `table`, as stored.
async fn raw_bodies(s: &Store, table: &str) -> Vec<String> {
    s.raw_strings(&format!("SELECT body FROM {table} ORDER BY id, version"))
        .await
        .unwrap()
}

/// Reads everything `write_sample` wrote through every reader and checks it
/// (`extra`: declarations of other units added since, one version each).
async fn read_sample(s: &Store, key: &str, extra: usize) -> Result<(), StoreError> {
    let latest = s.declaration(key).await?.unwrap();
    assert_eq!(
        (latest.version, &latest.body),
        (2, &offer("u1", PRICE + 1.0))
    );
    let v1 = s.declaration_version(key, 1).await?.unwrap();
    assert_eq!(v1.body, offer("u1", PRICE));
    assert_eq!(s.declaration_history(key).await?.len(), 2);
    assert_eq!(s.session_declaration_versions(SID).await?.len(), 3 + extra);
    let all = s.declarations(SID, None).await?;
    assert_eq!(all.len(), 2 + extra);
    assert_eq!(all[1].body, offer("u2", PRICE));
    assert_eq!(s.declarations(SID, Some("gen2")).await?.len(), 1);
    assert_eq!(s.member_declarations("gen1").await?.len(), 2);
    assert_eq!(
        s.subject_history("gen1", "energy_offer", "u1", 10)
            .await?
            .len(),
        2
    );
    let sig = s.get::<Signature>(&format!("{key}#2")).await?.unwrap();
    assert_eq!(sig.value.envelope_price, PRICE);
    let st = s.get::<Statement>("2026-11-22:gen1").await?.unwrap();
    assert_eq!(st.value.total_yuan, AMOUNT);
    assert_eq!(s.history::<Statement>("2026-11-22:gen2").await?.len(), 2);
    let listed = s.list::<Statement>().await?;
    assert_eq!(listed[1].value.total_yuan, AMOUNT - 1.0);
    assert_eq!(s.list_owned::<Statement>("gen2").await?.len(), 1);
    assert_eq!(s.list_prefixed::<Statement>("2026-11-22:").await?.len(), 2);
    assert!(s.get::<Member>("gen1").await?.is_some());
    Ok(())
}

fn assert_all_encrypted_with(bodies: &[String], key_id: &str) {
    assert!(!bodies.is_empty());
    for b in bodies {
        assert!(
            b.starts_with(&format!("vxf1.{key_id}.")),
            "not encrypted with {key_id}: {}",
            &b[..b.len().min(60)]
        );
        // '.' and '"' are not in base64url: these cannot occur by chance.
        assert!(!b.contains("4321.987") && !b.contains("98765.4321") && !b.contains("\"price\""));
    }
}

async fn sensitive_bodies_are_ciphertext_and_read_back(db: &TestDb) {
    let k1 = ring("k1");
    let s = keyed(&db.store, &k1);
    let key = write_sample(&s).await;
    for table in [
        "declarations",
        "declaration_signatures",
        "statements",
        "members",
    ] {
        assert_all_encrypted_with(&raw_bodies(&s, table).await, "k1");
    }
    // Not sensitive: stays JSON, so nothing else changes.
    let sessions = raw_bodies(&s, "sessions").await;
    assert!(!sessions.is_empty());
    for b in sessions {
        assert!(b.starts_with('{'), "sessions: {b}");
    }
    // The clear columns beside the body still serve the queries.
    assert_eq!(
        s.raw_strings("SELECT subject FROM declarations WHERE version = 2")
            .await
            .unwrap(),
        ["u1"]
    );
    read_sample(&s, &key, 0).await.unwrap();
    let usage = s.field_key_usage().await.unwrap();
    assert_eq!(usage.len(), sensitive_tables().count());
    let decl = usage.iter().find(|u| u.table == "declarations").unwrap();
    assert_eq!((decl.plaintext, decl.by_key.get("k1")), (0, Some(&3)));
}

async fn a_ciphertext_moved_to_another_row_does_not_decrypt(db: &TestDb) {
    let s = keyed(&db.store, &ring("k1"));
    let key = write_sample(&s).await;
    let other = format!("{SID}:energy_offer:u2");
    // Another declaration's body pasted over gen2's.
    s.raw_execute(&format!(
        "UPDATE declarations SET body = (SELECT body FROM declarations WHERE id = '{key}' AND version = 1) \
         WHERE id = '{other}'"
    ))
    .await
    .unwrap();
    let e = s.declaration(&other).await.unwrap_err();
    assert!(
        matches!(&e, StoreError::Decrypt { id, version: 1, key_id, .. } if *id == other && key_id == "k1"),
        "{e}"
    );
    assert!(s.declarations(SID, None).await.is_err());
    // Version 1's body in version 2's row of the same declaration.
    s.raw_execute(&format!(
        "UPDATE declarations SET body = (SELECT body FROM declarations WHERE id = '{key}' AND version = 1) \
         WHERE id = '{key}' AND version = 2"
    ))
    .await
    .unwrap();
    assert!(matches!(
        s.declaration(&key).await.unwrap_err(),
        StoreError::Decrypt { version: 2, .. }
    ));
    assert!(s.declaration_version(&key, 1).await.unwrap().is_some());
    // A statement body moved to the other member's statement.
    s.raw_execute(
        "UPDATE statements SET body = (SELECT body FROM statements WHERE id = '2026-11-22:gen1') \
         WHERE id = '2026-11-22:gen2' AND version = 2",
    )
    .await
    .unwrap();
    assert!(matches!(
        s.get::<Statement>("2026-11-22:gen2").await.unwrap_err(),
        StoreError::Decrypt { .. }
    ));
}

async fn another_key_refuses_to_read_and_names_the_key_id(db: &TestDb) {
    let k1 = ring("k1");
    let key = write_sample(&keyed(&db.store, &k1)).await;
    let json: serde_json::Value = serde_json::from_str(&k1.to_json()).unwrap();
    let secret = json["keys"]["k1"].as_str().unwrap().to_owned();

    // A ring without key `k1`.
    let e = keyed(&db.store, &ring("k9"))
        .declaration(&key)
        .await
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, StoreError::Decrypt { .. }), "{msg}");
    assert!(
        msg.contains("`k1`") && msg.contains("no field key"),
        "{msg}"
    );
    assert!(!msg.contains(&secret), "the message must not carry the key");

    // A different key that happens to be called `k1` too.
    let e = keyed(&db.store, &ring("k1"))
        .get::<Statement>("2026-11-22:gen1")
        .await
        .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("`k1`") && msg.contains("wrong key"), "{msg}");

    // No ring at all.
    let e = db.store.declaration(&key).await.unwrap_err();
    assert!(
        matches!(&e, StoreError::NoFieldKeys { key_id, .. } if key_id == "k1"),
        "{e}"
    );
    assert!(e.to_string().contains("VOLTEX_FIELD_KEYS_FILE"), "{e}");
}

async fn rotation_reencrypts_every_row_and_the_old_key_retires(db: &TestDb) {
    let k1 = ring("k1");
    let key = write_sample(&keyed(&db.store, &k1)).await;

    let mut k2 = copy(&k1);
    k2.rotate("k2").unwrap();
    let s = keyed(&db.store, &k2);
    // Before re-encryption both keys are in use and everything reads.
    s.append_declaration(SID, 2, "gen3", &offer("u3", PRICE))
        .await
        .unwrap();
    read_sample(&s, &key, 1).await.unwrap();

    let counts = s.reencrypt_sensitive().await.unwrap();
    let decl = counts.iter().find(|c| c.table == "declarations").unwrap();
    assert_eq!((decl.rekeyed, decl.encrypted, decl.unchanged), (3, 0, 1));
    let st = counts.iter().find(|c| c.table == "statements").unwrap();
    assert_eq!(st.rekeyed, 3);
    for table in sensitive_tables() {
        let bodies = raw_bodies(&s, table).await;
        if !bodies.is_empty() {
            assert_all_encrypted_with(&bodies, "k2");
        }
    }
    for u in s.field_key_usage().await.unwrap() {
        assert_eq!(u.plaintext, 0, "{u:?}");
        assert!(u.by_key.keys().all(|k| k == "k2"), "{u:?}");
    }

    // Retire k1: everything still reads with k2 alone.
    let mut k2_only = copy(&k2);
    k2_only.retire("k1").unwrap();
    let s = keyed(&db.store, &k2_only);
    read_sample(&s, &key, 1).await.unwrap();
    assert_eq!(s.declarations(SID, None).await.unwrap().len(), 3);
    // ... and the old ring alone no longer does.
    let e = keyed(&db.store, &k1).declaration(&key).await.unwrap_err();
    assert!(e.to_string().contains("`k2`"), "{e}");

    // Running it again changes nothing.
    let again = s.reencrypt_sensitive().await.unwrap();
    assert!(again.iter().all(|c| c.rekeyed == 0 && c.encrypted == 0));
    assert_eq!(
        again
            .iter()
            .find(|c| c.table == "declarations")
            .unwrap()
            .unchanged,
        4
    );
}

async fn plaintext_rows_read_and_are_migrated_by_reencryption(db: &TestDb) {
    // Written before encryption was turned on, with more statements than
    // one page of the re-encryption scan.
    let key = write_sample(&db.store).await;
    for i in 0..510 {
        db.store
            .insert(&Statement {
                day: "2026-11-23".into(),
                ..statement(&format!("m{i:03}"), f64::from(i))
            })
            .await
            .unwrap();
    }
    let plain = raw_bodies(&db.store, "declarations").await;
    assert!(
        plain
            .iter()
            .all(|b| b.starts_with('{') && b.contains("\"price\":43"))
    );

    let k1 = ring("k1");
    let s = keyed(&db.store, &k1);
    read_sample(&s, &key, 0).await.unwrap();
    s.append_declaration(SID, 2, "gen3", &offer("u3", PRICE))
        .await
        .unwrap();
    let usage = s.field_key_usage().await.unwrap();
    let decl = usage.iter().find(|u| u.table == "declarations").unwrap();
    assert_eq!((decl.plaintext, decl.by_key.get("k1")), (3, Some(&1)));

    let counts = s.reencrypt_sensitive().await.unwrap();
    let by = |t: &str| counts.iter().find(|c| c.table == t).unwrap().clone();
    assert_eq!(
        (by("declarations").encrypted, by("declarations").unchanged),
        (3, 1)
    );
    assert_eq!(by("statements").encrypted, 513);
    assert_eq!(by("declaration_signatures").encrypted, 1);
    for table in ["declarations", "declaration_signatures", "statements"] {
        assert_all_encrypted_with(&raw_bodies(&s, table).await, "k1");
    }
    read_sample(&s, &key, 1).await.unwrap();
    assert_eq!(s.list::<Statement>().await.unwrap().len(), 512);
    // Now a store without the key cannot read them any more.
    assert!(matches!(
        db.store.declaration(&key).await.unwrap_err(),
        StoreError::NoFieldKeys { .. }
    ));
    // Re-encryption needs a key ring.
    assert!(db.store.reencrypt_sensitive().await.is_err());
}

/// A stand-in record for the `I`th table of the registry, declaring what
/// its entry says; `amount` is a distinctive number that must not show in
/// an encrypted body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Row<const I: usize> {
    id: String,
    member_id: String,
    amount: f64,
}

impl<const I: usize> Entity for Row<I> {
    const TABLE: &'static str = TABLES[I].name;
    const NAME: &'static str = "row";
    const SENSITIVE: bool = TABLES[I].sensitive;
    const OWNED: bool = TABLES[I].owned;
    fn entity_id(&self) -> String {
        self.id.clone()
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.member_id)
    }
}

fn row<const I: usize>(amount: f64) -> Row<I> {
    Row {
        id: format!("row-{I}"),
        member_id: "gen1".into(),
        amount,
    }
}

/// Calls `$f::<I>` for every index of the registry (declarations, which
/// have their own columns and writers, are skipped inside).
macro_rules! for_every_table {
    ($f:ident($s:expr)) => {
        for_every_table!(@ $f($s); 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29)
    };
    (@ $f:ident($s:expr); $($i:literal)*) => {
        assert_eq!(TABLES.len(), [$($i),*].len(), "list every table index here");
        $( $f::<$i>($s).await; )*
    };
}

/// Before a key ring: version 1 of a row, in plaintext.
/// The bodies of the stand-in row of table `I`, by version.
async fn row_bodies<const I: usize>(s: &Store) -> Vec<String> {
    s.raw_strings(&format!(
        "SELECT body FROM {} WHERE id = 'row-{I}' ORDER BY version",
        TABLES[I].name
    ))
    .await
    .unwrap()
}

async fn write_plain<const I: usize>(s: &Store) {
    if TABLES[I].name != "declarations" {
        s.insert(&row::<I>(AMOUNT)).await.unwrap();
    }
}

/// With a key ring: version 1 still reads, version 2 is encrypted if (and
/// only if) the table is sensitive.
async fn write_keyed<const I: usize>(s: &Store) {
    let table = TABLES[I];
    if table.name == "declarations" {
        return;
    }
    let got = s.get::<Row<I>>(&format!("row-{I}")).await.unwrap().unwrap();
    assert_eq!((got.version, got.value), (1, row::<I>(AMOUNT)));
    s.append(&row::<I>(AMOUNT - 1.0), 1).await.unwrap();
    let bodies = row_bodies::<I>(s).await;
    assert!(bodies[0].starts_with('{'), "{}: {}", table.name, bodies[0]);
    assert_eq!(
        bodies[1].starts_with("vxf1.k1."),
        table.sensitive,
        "{}: {}",
        table.name,
        bodies[1]
    );
}

/// After re-encryption: both versions read back, encrypted exactly where
/// the table is sensitive.
async fn check_migrated<const I: usize>(s: &Store) {
    let table = TABLES[I];
    if table.name == "declarations" {
        return;
    }
    let history = s.history::<Row<I>>(&format!("row-{I}")).await.unwrap();
    let amounts: Vec<_> = history.iter().map(|r| r.value.amount).collect();
    assert_eq!(amounts, [AMOUNT, AMOUNT - 1.0], "{}", table.name);
    let bodies = row_bodies::<I>(s).await;
    assert_eq!(bodies.len(), 2);
    if table.sensitive {
        assert_all_encrypted_with(&bodies, "k1");
    } else {
        assert!(bodies.iter().all(|b| b.starts_with('{')), "{}", table.name);
    }
}

async fn every_sensitive_table_encrypts_new_rows_and_reencryption_covers_its_old_ones(db: &TestDb) {
    let key = write_sample(&db.store).await;
    let s = keyed(&db.store, &ring("k1"));
    read_sample(&s, &key, 0).await.unwrap();
    for_every_table!(write_plain(&db.store));
    for_every_table!(write_keyed(&s));

    let counts = s.reencrypt_sensitive().await.unwrap();
    let tables: Vec<_> = counts.iter().map(|c| c.table.as_str()).collect();
    assert_eq!(tables, sensitive_tables().collect::<Vec<_>>());
    for c in &counts {
        if [
            "declarations",
            "declaration_signatures",
            "statements",
            "members",
        ]
        .contains(&c.table.as_str())
        {
            continue; // written by write_sample too; checked below
        }
        assert_eq!((c.encrypted, c.unchanged, c.rekeyed), (1, 1, 0), "{c:?}");
    }
    for_every_table!(check_migrated(&s));
    // The sample's own rows (read_sample would also list the stand-ins).
    assert_eq!(
        s.declaration(&key).await.unwrap().unwrap().body,
        offer("u1", PRICE + 1.0)
    );
    assert!(s.get::<Member>("gen1").await.unwrap().is_some());
    for u in s.field_key_usage().await.unwrap() {
        assert_eq!(u.plaintext, 0, "{u:?}");
    }
}

crate::support::on_backend!(sqlite:
    sensitive_bodies_are_ciphertext_and_read_back,
    a_ciphertext_moved_to_another_row_does_not_decrypt,
    another_key_refuses_to_read_and_names_the_key_id,
    rotation_reencrypts_every_row_and_the_old_key_retires,
    plaintext_rows_read_and_are_migrated_by_reencryption,
    every_sensitive_table_encrypts_new_rows_and_reencryption_covers_its_old_ones,
);

crate::support::on_backend!(postgres:
    sensitive_bodies_are_ciphertext_and_read_back,
    a_ciphertext_moved_to_another_row_does_not_decrypt,
    another_key_refuses_to_read_and_names_the_key_id,
    rotation_reencrypts_every_row_and_the_old_key_retires,
    plaintext_rows_read_and_are_migrated_by_reencryption,
    every_sensitive_table_encrypts_new_rows_and_reencryption_covers_its_old_ones,
);
