//! The demo users' sign-in: an operator and one trader per member, each
//! created with a random password and signed in through the same path as
//! `POST /api/v1/auth/login` (password + the authenticator's current code).
//! Demo data only.
use voltex_market::Market;
use voltex_security::Role;
use voltex_server::accounts::{self, NewUser};

/// The demo's sign-in: creates an operator and one trader per demo member
/// with random passwords, signs each in through the same path as `POST
/// /api/v1/auth/login` (password + the authenticator's current code), and
/// writes the credentials to `<dir>/demo-credentials.json` (owner-only) so
/// that `voltex serve --data-dir <dir>` can be signed in to. Demo data only.
pub async fn sign_in(
    market: &Market,
    members: &[String],
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    let mut people = vec![("demo-operator".to_owned(), Role::Operator, None)];
    for m in members {
        people.push((
            format!("{m}-trader").to_lowercase(),
            Role::MemberTrader,
            Some(m.clone()),
        ));
    }
    let guard = accounts::LoginGuard::default();
    let mut written = Vec::new();
    let now = chrono::Utc::now();
    for (id, role, member) in people {
        let password = hex::encode(voltex_security::secret_files::random_bytes::<12>()?);
        let e = accounts::create_user(
            market,
            None,
            NewUser {
                id: id.clone(),
                role,
                member_id: member.clone(),
                password: password.clone(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("creating demo user {id}: {}", e.message))?;
        let code = voltex_security::totp::TotpVerifier::new(&e.totp_secret, &id)?
            .code_at(now.timestamp().max(0) as u64);
        let login = accounts::login(
            market.store(),
            &guard,
            accounts::LoginRequest {
                user: id.clone(),
                password: password.clone(),
                totp: code,
            },
            None,
            now,
        )
        .await
        .map_err(|_| anyhow::anyhow!("demo sign-in throttled"))?
        .map_err(|e| anyhow::anyhow!("demo sign-in of {id}: {}", e.message))?;
        written.push(serde_json::json!({
            "user": id, "role": role.as_str(), "member_id": member,
            "password": password, "totp_secret": e.totp_secret,
            "session_expires_at": login.expires_at,
        }));
    }
    let path = dir.join("demo-credentials.json");
    voltex_security::secret_files::write_secret(
        &path,
        serde_json::to_string_pretty(&written)?.as_bytes(),
    )?;
    println!(
        "\nSign-in: {} demo users (operator and one trader per member) signed in with password + TOTP; \
         sessions stored as token hashes. Credentials for \
         `voltex serve --demo-field-key --data-dir {d} --ca-dir {d}/ca`: {}",
        written.len(),
        path.display(),
        d = dir.display(),
    );
    Ok(())
}
