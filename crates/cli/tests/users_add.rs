//! `voltex users add` as an operator runs it: it keeps users encrypted at
//! rest, so without the key ring `serve` needs it refuses, as `serve` does.
use std::path::Path;
use std::process::{Command, Output};
use voltex_security::field_crypto::{ENV_KEYS, ENV_KEYS_FILE, FieldKeyring};

/// Runs `voltex users add` for an operator `olga` on the store in
/// `data_dir`, with only the key variables in `keys` set.
fn users_add(data_dir: &Path, keys: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_voltex"));
    cmd.args(["users", "add", "--id", "olga", "--role", "operator"])
        .arg("--data-dir")
        .arg(data_dir)
        .env("VOLTEX_NEW_PASSWORD", "a long enough passphrase")
        .env_remove(ENV_KEYS)
        .env_remove(ENV_KEYS_FILE)
        .env_remove("DATABASE_URL")
        .env_remove("VOLTEX_STORE_DIR");
    for (k, v) in keys {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn users_add_without_a_field_key_ring_refuses_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = users_add(&data, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("no field encryption key") && err.contains("voltex field-keys generate"),
        "says why and how to make one: {err}"
    );
    assert!(!data.exists(), "no store was created");

    let demo = FieldKeyring::demo().to_json().to_string();
    let out = users_add(&data, &[(ENV_KEYS, &demo)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("demo key"), "{err}");
    assert!(!data.exists(), "no store was created");
}

#[tokio::test]
async fn users_add_with_the_key_ring_stores_the_user_encrypted() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let ring_file = tmp.path().join("field-keys.json");
    FieldKeyring::generate("k1")
        .unwrap()
        .save(&ring_file)
        .unwrap();
    let out = users_add(&data, &[(ENV_KEYS_FILE, &ring_file.display().to_string())]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("created user olga (operator)"), "{stdout}");

    let store = voltex_store::Store::open_sqlite_dir(&data).await.unwrap();
    let bodies = store.raw_strings("SELECT body FROM users").await.unwrap();
    assert_eq!(bodies.len(), 1);
    assert!(
        !bodies[0].contains("argon2id") && !bodies[0].contains("operator"),
        "the stored user is ciphertext: {}",
        bodies[0]
    );
    store.close().await;
}
