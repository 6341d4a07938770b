//! Encryption of exchanged files (E-files and others) to the receiver's
//! public key, with the `age` format (X25519 recipients, ChaCha20-Poly1305
//! payload; <https://age-encryption.org/v1>).
//!
//! As in the source market rules, the receiver generates a key pair and gives
//! the sender its public key (`age1…`); the sender encrypts to it; only the
//! holder of the identity (`AGE-SECRET-KEY-1…`) decrypts. Output may be
//! ASCII-armored for e-mail or web forms. Interoperates with the `age` and
//! `rage` command-line tools. This module writes no cryptography and does not
//! parse E-files.

use std::io::{Read, Write};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::error::{Result, SecurityError};

/// A new X25519 identity: (identity file text, public recipient `age1…`).
/// The identity file has the `age-keygen` layout (comment lines, then the key).
pub fn generate_identity(now_rfc3339: &str) -> (Zeroizing<String>, String) {
    let id = age::x25519::Identity::generate();
    let public = id.to_public().to_string();
    let text = format!(
        "# created: {now_rfc3339}\n# public key: {public}\n{}\n",
        id.to_string().expose_secret()
    );
    (Zeroizing::new(text), public)
}

/// Parses a recipient public key (`age1…`).
pub fn parse_recipient(text: &str) -> Result<age::x25519::Recipient> {
    let t = text.trim();
    age::x25519::Recipient::from_str(t).map_err(|_| SecurityError::AgeKey {
        what: format!("`{}`", t.chars().take(80).collect::<String>()),
        kind: "X25519 recipient (age1…)",
    })
}

/// Reads the identities from an identity file (lines starting with `#` are comments).
pub fn parse_identities(text: &str) -> Result<Vec<age::x25519::Identity>> {
    let ids: Vec<_> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            age::x25519::Identity::from_str(l).map_err(|_| SecurityError::AgeKey {
                what: "a line of the identity file".into(),
                kind: "X25519 identity (AGE-SECRET-KEY-1…)",
            })
        })
        .collect::<Result<_>>()?;
    if ids.is_empty() {
        return Err(SecurityError::AgeKey {
            what: "the identity file".into(),
            kind: "identity file (no key found)",
        });
    }
    Ok(ids)
}

/// The public recipient of each identity in an identity file.
pub fn recipients_of(identity_text: &str) -> Result<Vec<String>> {
    Ok(parse_identities(identity_text)?
        .iter()
        .map(|i| i.to_public().to_string())
        .collect())
}

/// Encrypts `plaintext` to one or more recipients (`age1…`).
pub fn encrypt(recipients: &[&str], plaintext: &[u8], armor: bool) -> Result<Vec<u8>> {
    if recipients.is_empty() {
        return Err(SecurityError::FileEncrypt("no recipient given".into()));
    }
    let parsed = recipients
        .iter()
        .map(|r| parse_recipient(r))
        .collect::<Result<Vec<_>>>()?;
    let encryptor =
        age::Encryptor::with_recipients(parsed.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| SecurityError::FileEncrypt(e.to_string()))?;
    let mut out = Vec::with_capacity(plaintext.len() + 256);
    let fail = |e: std::io::Error| SecurityError::FileEncrypt(e.to_string());
    if armor {
        let armored =
            age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
                .map_err(fail)?;
        let mut w = encryptor.wrap_output(armored).map_err(fail)?;
        w.write_all(plaintext).map_err(fail)?;
        w.finish().and_then(|a| a.finish()).map_err(fail)?;
    } else {
        let mut w = encryptor.wrap_output(&mut out).map_err(fail)?;
        w.write_all(plaintext).map_err(fail)?;
        w.finish().map_err(fail)?;
    }
    Ok(out)
}

/// Decrypts an age file (binary or armored) with the identities in `identity_text`.
pub fn decrypt(identity_text: &str, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let ids = parse_identities(identity_text)?;
    let decryptor = age::Decryptor::new_buffered(age::armor::ArmoredReader::new(ciphertext))
        .map_err(|e| SecurityError::FileDecrypt(e.to_string()))?;
    let mut reader = decryptor
        .decrypt(ids.iter().map(|i| i as &dyn age::Identity))
        .map_err(|e| SecurityError::FileDecrypt(e.to_string()))?;
    let mut out = Zeroizing::new(Vec::new());
    reader
        .read_to_end(&mut out)
        .map_err(|e| SecurityError::FileDecrypt(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EFILE: &[u8] = "<! Entity=Voltex type=DayAheadResult time='2026-11-21' !>\n<Result::GEN-A>\n@ interval price_per_mwh\n# 1 42.5\n</Result::GEN-A>\n".as_bytes();

    #[test]
    fn receiver_decrypts_what_was_encrypted_to_its_key() {
        let (identity, public) = generate_identity("2026-11-21T00:00:00Z");
        assert!(public.starts_with("age1"));
        assert_eq!(recipients_of(&identity).unwrap(), vec![public.clone()]);
        for armor in [false, true] {
            let ct = encrypt(&[&public], EFILE, armor).unwrap();
            assert!(!ct.windows(7).any(|w| w == b"Result:"), "plaintext leaked");
            if armor {
                assert!(ct.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"));
            }
            assert_eq!(decrypt(&identity, &ct).unwrap().as_slice(), EFILE);
        }
    }

    #[test]
    fn another_key_cannot_decrypt_and_tampering_is_detected() {
        let (_, public) = generate_identity("t");
        let (other_identity, _) = generate_identity("t");
        let ct = encrypt(&[&public], EFILE, false).unwrap();
        assert!(decrypt(&other_identity, &ct).is_err());

        let (identity, public) = generate_identity("t");
        let mut ct = encrypt(&[&public], EFILE, false).unwrap();
        let n = ct.len();
        ct[n - 5] ^= 0x01;
        assert!(decrypt(&identity, &ct).is_err());
    }

    #[test]
    fn bad_keys_are_reported_clearly() {
        assert!(matches!(
            parse_recipient("age1notakey"),
            Err(SecurityError::AgeKey { .. })
        ));
        assert!(parse_identities("# only a comment\n").is_err());
        assert!(encrypt(&[], EFILE, false).is_err());
    }
}
