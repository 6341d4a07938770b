//! Encryption of sensitive fields at rest (offer prices, contract prices,
//! settlement amounts), with key ids so keys can be rotated.
//!
//! Each value is sealed with XChaCha20-Poly1305 (`chacha20poly1305` crate)
//! under the key ring's *active* key, with a fresh random 192-bit nonce, and
//! written as text: `vxf1.<key-id>.<base64url(nonce ‖ ciphertext ‖ tag)>`.
//! The associated data binds the ciphertext to its key id and to a caller
//! context (e.g. `offer/GEN-A/D-17/v2/price_per_mwh`), so a ciphertext copied
//! into another row or column does not decrypt. Rotation: add a new key and
//! make it active; old values still decrypt under their key id; re-encrypt
//! them ([`FieldKeyring::reencrypt`]) and retire the old key afterwards.
//!
//! Key rings come from a key file or the environment (`VOLTEX_FIELD_KEYS`
//! holding the JSON, or `VOLTEX_FIELD_KEYS_FILE` naming the file). Outside
//! demo mode, an empty, repetitive or published demo key is refused. This
//! module never logs keys or plaintexts and stores nothing.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Result, SecurityError};
use crate::secret_files::{random_bytes, read_text, write_secret};

pub const FIELD_PREFIX: &str = "vxf1";
pub const ENV_KEYS: &str = "VOLTEX_FIELD_KEYS";
pub const ENV_KEYS_FILE: &str = "VOLTEX_FIELD_KEYS_FILE";
pub const DEMO_KEY_ID: &str = "demo";

/// Whether the published demo key is acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPolicy {
    /// `voltex demo` only.
    AllowDemoKey,
    /// Everything else: refuse demo, empty and repetitive keys.
    Production,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyringFile {
    active: String,
    keys: BTreeMap<String, String>,
}

/// Field keys by id, one of them active for new encryptions.
pub struct FieldKeyring {
    active: String,
    keys: BTreeMap<String, Zeroizing<[u8; 32]>>,
}

impl std::fmt::Debug for FieldKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldKeyring")
            .field("active", &self.active)
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn demo_key_bytes() -> [u8; 32] {
    Sha256::digest(b"voltex demo field key - public, never for production").into()
}

fn check_key_id(id: &str) -> Result<()> {
    if id.is_empty()
        || id.len() > 32
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(SecurityError::KeyRing(format!(
            "key id `{}` must be 1-32 characters of letters, digits, '-' and '_'",
            id.chars().take(40).collect::<String>()
        )));
    }
    Ok(())
}

fn check_key_strength(id: &str, key: &[u8; 32], policy: KeyPolicy) -> Result<()> {
    let weak = |rule| {
        Err(SecurityError::WeakFieldKey {
            key_id: id.to_string(),
            rule,
        })
    };
    if key.iter().all(|b| *b == key[0]) {
        return weak("all bytes are equal (empty or placeholder key)");
    }
    let distinct = key.iter().collect::<std::collections::BTreeSet<_>>().len();
    if distinct < 8 {
        return weak("fewer than 8 distinct byte values: not a random key");
    }
    if policy == KeyPolicy::Production && (*key == demo_key_bytes() || id == DEMO_KEY_ID) {
        return weak("the published demo key is only allowed in `voltex demo`");
    }
    Ok(())
}

impl FieldKeyring {
    /// A new ring with one random key `key_id`, active.
    pub fn generate(key_id: &str) -> Result<Self> {
        check_key_id(key_id)?;
        let mut keys = BTreeMap::new();
        keys.insert(key_id.to_string(), Zeroizing::new(random_bytes::<32>()?));
        Ok(FieldKeyring {
            active: key_id.to_string(),
            keys,
        })
    }

    /// The demo ring (a published key). Refused by [`KeyPolicy::Production`].
    pub fn demo() -> Self {
        let mut keys = BTreeMap::new();
        keys.insert(DEMO_KEY_ID.to_string(), Zeroizing::new(demo_key_bytes()));
        FieldKeyring {
            active: DEMO_KEY_ID.to_string(),
            keys,
        }
    }

    /// Parses the key-ring JSON: `{"active":"k2","keys":{"k1":"<base64>","k2":"<base64>"}}`.
    pub fn from_json(text: &str, policy: KeyPolicy) -> Result<Self> {
        let file: KeyringFile = serde_json::from_str(text)
            .map_err(|e| SecurityError::KeyRing(format!("not valid key-ring JSON: {}", e)))?;
        let mut keys = BTreeMap::new();
        for (id, b64) in &file.keys {
            check_key_id(id)?;
            let bytes =
                Zeroizing::new(B64.decode(b64.trim()).map_err(|_| {
                    SecurityError::KeyRing(format!("key `{id}` is not valid base64"))
                })?);
            let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                SecurityError::KeyRing(format!(
                    "key `{id}` must be 32 bytes, found {}",
                    bytes.len()
                ))
            })?;
            check_key_strength(id, &key, policy)?;
            keys.insert(id.clone(), Zeroizing::new(key));
        }
        if keys.is_empty() {
            return Err(SecurityError::KeyRing("the key ring holds no key".into()));
        }
        if !keys.contains_key(&file.active) {
            return Err(SecurityError::KeyRing(format!(
                "active key `{}` is not in the ring",
                file.active
            )));
        }
        Ok(FieldKeyring {
            active: file.active,
            keys,
        })
    }

    /// Serialises the ring (secret!) for a key file.
    pub fn to_json(&self) -> Zeroizing<String> {
        let file = KeyringFile {
            active: self.active.clone(),
            keys: self
                .keys
                .iter()
                .map(|(id, k)| (id.clone(), B64.encode(k.as_slice())))
                .collect(),
        };
        Zeroizing::new(serde_json::to_string_pretty(&file).unwrap_or_default())
    }

    pub fn load(path: &Path, policy: KeyPolicy) -> Result<Self> {
        let text = Zeroizing::new(read_text(path)?);
        Self::from_json(&text, policy)
    }

    /// Writes the ring to `path` with owner-only permissions.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_secret(path, self.to_json().as_bytes())
    }

    /// From `VOLTEX_FIELD_KEYS` (JSON) or `VOLTEX_FIELD_KEYS_FILE` (path).
    /// An absent or empty configuration is an error: there is no default key.
    pub fn from_env(policy: KeyPolicy) -> Result<Self> {
        Self::from_vars(|name| std::env::var(name).ok(), policy)
    }

    /// [`FieldKeyring::from_env`] over any variable lookup (`var(name)`), so
    /// callers can test their startup policy without touching the process
    /// environment.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>, policy: KeyPolicy) -> Result<Self> {
        if let Some(json) = var(ENV_KEYS)
            && !json.trim().is_empty()
        {
            return Self::from_json(&Zeroizing::new(json), policy);
        }
        if let Some(path) = var(ENV_KEYS_FILE)
            && !path.trim().is_empty()
        {
            return Self::load(Path::new(&path), policy);
        }
        Err(SecurityError::KeyRing(format!(
            "no field encryption key configured: set {ENV_KEYS} or {ENV_KEYS_FILE}"
        )))
    }

    pub fn active_key_id(&self) -> &str {
        &self.active
    }

    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// Rotation step 1: adds a fresh random key and makes it active.
    pub fn rotate(&mut self, new_key_id: &str) -> Result<()> {
        check_key_id(new_key_id)?;
        if self.keys.contains_key(new_key_id) {
            return Err(SecurityError::KeyRing(format!(
                "key id `{new_key_id}` already exists"
            )));
        }
        self.keys.insert(
            new_key_id.to_string(),
            Zeroizing::new(random_bytes::<32>()?),
        );
        self.active = new_key_id.to_string();
        Ok(())
    }

    /// Rotation step 3: removes an old key (after every value was re-encrypted).
    pub fn retire(&mut self, key_id: &str) -> Result<()> {
        if key_id == self.active {
            return Err(SecurityError::KeyRing(format!(
                "cannot retire the active key `{key_id}`"
            )));
        }
        self.keys
            .remove(key_id)
            .map(|_| ())
            .ok_or_else(|| SecurityError::UnknownFieldKey(key_id.to_string()))
    }

    fn cipher(&self, key_id: &str) -> Result<XChaCha20Poly1305> {
        let key = self
            .keys
            .get(key_id)
            .ok_or_else(|| SecurityError::UnknownFieldKey(key_id.to_string()))?;
        XChaCha20Poly1305::new_from_slice(key.as_slice())
            .map_err(|_| SecurityError::KeyRing("key length".into()))
    }

    fn aad(key_id: &str, context: &str) -> Vec<u8> {
        format!("{FIELD_PREFIX}|{key_id}|{context}").into_bytes()
    }

    /// Encrypts `plaintext` for the field identified by `context`.
    pub fn encrypt(&self, plaintext: &[u8], context: &str) -> Result<String> {
        let nonce_bytes = random_bytes::<24>()?;
        let nonce = XNonce::from(nonce_bytes);
        let aad = Self::aad(&self.active, context);
        let ct = self
            .cipher(&self.active)?
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| SecurityError::FieldDecrypt)?;
        let mut blob = nonce_bytes.to_vec();
        blob.extend_from_slice(&ct);
        Ok(format!(
            "{FIELD_PREFIX}.{}.{}",
            self.active,
            B64URL.encode(blob)
        ))
    }

    fn split(ciphertext: &str) -> Result<(&str, Vec<u8>)> {
        let mut parts = ciphertext.splitn(3, '.');
        let (Some(prefix), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(SecurityError::FieldDecrypt);
        };
        if prefix != FIELD_PREFIX {
            return Err(SecurityError::UnsupportedFormat {
                what: "encrypted field",
                found: prefix.chars().take(16).collect(),
                expected: FIELD_PREFIX,
            });
        }
        let blob = B64URL
            .decode(body)
            .map_err(|_| SecurityError::FieldDecrypt)?;
        if blob.len() < 24 + 16 {
            return Err(SecurityError::FieldDecrypt);
        }
        Ok((key_id, blob))
    }

    /// Decrypts a value written by [`FieldKeyring::encrypt`] for `context`.
    pub fn decrypt(&self, ciphertext: &str, context: &str) -> Result<Zeroizing<Vec<u8>>> {
        let (key_id, blob) = Self::split(ciphertext)?;
        let (nonce, ct) = blob.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| SecurityError::FieldDecrypt)?;
        let aad = Self::aad(key_id, context);
        self.cipher(key_id)?
            .decrypt(&XNonce::from(nonce), Payload { msg: ct, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| SecurityError::FieldDecrypt)
    }

    /// Key id a stored value was encrypted with.
    pub fn key_id_of(ciphertext: &str) -> Result<String> {
        Self::split(ciphertext).map(|(id, _)| id.to_string())
    }

    /// Rotation step 2: re-encrypts a value under the active key (no-op if
    /// it already uses it).
    pub fn reencrypt(&self, ciphertext: &str, context: &str) -> Result<String> {
        if Self::key_id_of(ciphertext)? == self.active {
            return Ok(ciphertext.to_string());
        }
        let plain = self.decrypt(ciphertext, context)?;
        self.encrypt(&plain, context)
    }

    /// Encrypts a number (price, amount) in its shortest round-trip decimal form.
    pub fn encrypt_f64(&self, value: f64, context: &str) -> Result<String> {
        self.encrypt(value.to_string().as_bytes(), context)
    }

    pub fn decrypt_f64(&self, ciphertext: &str, context: &str) -> Result<f64> {
        let plain = self.decrypt(ciphertext, context)?;
        std::str::from_utf8(&plain)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(SecurityError::FieldDecrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: &str = "offer/GEN-A/D-1/v1/price_per_mwh";

    #[test]
    fn round_trips_and_hides_the_value() {
        let ring = FieldKeyring::generate("k1").unwrap();
        let ct = ring.encrypt_f64(87.25, CTX).unwrap();
        assert!(ct.starts_with("vxf1.k1."));
        assert!(!ct.contains("87.25"));
        assert_eq!(ring.decrypt_f64(&ct, CTX).unwrap(), 87.25);
        assert_ne!(
            ct,
            ring.encrypt_f64(87.25, CTX).unwrap(),
            "fresh nonce each time"
        );
    }

    #[test]
    fn tampered_ciphertext_or_other_context_does_not_decrypt() {
        let ring = FieldKeyring::generate("k1").unwrap();
        let ct = ring.encrypt(b"1234.50", CTX).unwrap();
        assert!(
            ring.decrypt(&ct, "offer/RET-B/D-1/v1/price_per_mwh")
                .is_err()
        );
        let mut bytes = ct.into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(matches!(
            ring.decrypt(&tampered, CTX),
            Err(SecurityError::FieldDecrypt)
        ));
    }

    #[test]
    fn rotation_keeps_old_values_readable_and_reencrypts_them() {
        let mut ring = FieldKeyring::generate("2026-01").unwrap();
        let old = ring.encrypt(b"42", CTX).unwrap();
        ring.rotate("2026-07").unwrap();
        assert_eq!(ring.decrypt(&old, CTX).unwrap().as_slice(), b"42");
        let new = ring.reencrypt(&old, CTX).unwrap();
        assert_eq!(FieldKeyring::key_id_of(&new).unwrap(), "2026-07");
        ring.retire("2026-01").unwrap();
        assert!(matches!(
            ring.decrypt(&old, CTX),
            Err(SecurityError::UnknownFieldKey(_))
        ));
        assert_eq!(ring.decrypt(&new, CTX).unwrap().as_slice(), b"42");
        assert!(
            ring.retire("2026-07").is_err(),
            "active key cannot be retired"
        );
    }

    #[test]
    fn json_round_trip_and_weak_keys_are_refused() {
        let ring = FieldKeyring::generate("k1").unwrap();
        let back = FieldKeyring::from_json(&ring.to_json(), KeyPolicy::Production).unwrap();
        let ct = ring.encrypt(b"x", CTX).unwrap();
        assert_eq!(back.decrypt(&ct, CTX).unwrap().as_slice(), b"x");

        let zeros = format!(
            r#"{{"active":"k","keys":{{"k":"{}"}}}}"#,
            B64.encode([0u8; 32])
        );
        assert!(matches!(
            FieldKeyring::from_json(&zeros, KeyPolicy::AllowDemoKey),
            Err(SecurityError::WeakFieldKey { .. })
        ));
        let demo = FieldKeyring::demo().to_json();
        assert!(FieldKeyring::from_json(&demo, KeyPolicy::Production).is_err());
        assert!(FieldKeyring::from_json(&demo, KeyPolicy::AllowDemoKey).is_ok());
        assert!(
            FieldKeyring::from_json(r#"{"active":"x","keys":{}}"#, KeyPolicy::Production).is_err()
        );
        let short = format!(
            r#"{{"active":"k","keys":{{"k":"{}"}}}}"#,
            B64.encode([7u8; 16])
        );
        assert!(FieldKeyring::from_json(&short, KeyPolicy::Production).is_err());
    }

    #[test]
    fn debug_output_shows_key_ids_not_keys() {
        let ring = FieldKeyring::generate("k1").unwrap();
        let key_b64 = B64.encode(ring.keys["k1"].as_slice());
        let dbg = format!("{ring:?}");
        assert!(dbg.contains("k1") && !dbg.contains(&key_b64));
    }
}
