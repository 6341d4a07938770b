//! `voltex users`: create and list the people who sign in to the API. The
//! first operator of a new platform is created here (nobody can sign in
//! yet to create it over HTTP); later users may be created either way. Both
//! ways apply the same rules (`voltex_security::users`, through
//! `voltex_server::accounts::create_user`), and both store users encrypted:
//! `users add` refuses to run without the field key ring `serve` needs.
use crate::cmd::platform::{StoreArgs, serve_field_keys};
use anyhow::Context;
use std::io::BufRead;
use std::net::SocketAddr;
use std::sync::Arc;
use voltex_market::Market;
use voltex_security::Role;
use voltex_server::accounts::{self, NewUser};

#[derive(Debug, clap::Subcommand)]
pub enum UsersCommand {
    /// Create a user. The password is read from the first line of standard
    /// input (or VOLTEX_NEW_PASSWORD); the TOTP secret is printed once.
    /// Needs the field key ring `serve` uses (VOLTEX_FIELD_KEYS_FILE or
    /// VOLTEX_FIELD_KEYS): users are stored encrypted.
    Add(AddArgs),
    /// List users (no secrets).
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// User id: 3 to 64 ASCII letters, digits, '.', '_' or '-'.
    #[arg(long)]
    pub id: String,
    /// operator, member-administrator, member-trader, member-viewer or auditor.
    #[arg(long)]
    pub role: Role,
    /// The member a member administrator, trader or viewer works for.
    #[arg(long)]
    pub member: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub store: StoreArgs,
}

fn read_password() -> anyhow::Result<voltex_security::Zeroizing<String>> {
    if let Ok(p) = std::env::var("VOLTEX_NEW_PASSWORD") {
        return Ok(voltex_security::Zeroizing::new(p));
    }
    eprintln!("password (one line on standard input):");
    let mut line = voltex_security::Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(voltex_security::Zeroizing::new(
        line.trim_end_matches(['\r', '\n']).to_owned(),
    ))
}

pub fn users(c: UsersCommand) -> anyhow::Result<()> {
    let rt = crate::cmd::platform::runtime()?;
    match c {
        UsersCommand::Add(a) => {
            // The key policy of `serve`, so a user is never written in plain
            // text (the bind address matters only for the demo key, not asked for).
            let keys = serve_field_keys(
                |n| std::env::var(n).ok(),
                false,
                SocketAddr::from(([127, 0, 0, 1], 0)),
            )
            .context("voltex users add stores password hashes and TOTP secrets encrypted")?;
            let password = read_password()?;
            rt.block_on(async {
                let store = a.store.open_with_keys(Some(Arc::new(keys))).await?;
                let market = Market::open(store).await?;
                let e = accounts::create_user(
                    &market,
                    None,
                    NewUser {
                        id: a.id,
                        role: a.role,
                        member_id: a.member,
                        password: password.to_string(),
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.message))?;
                println!(
                    "created user {} ({}{})",
                    e.user.id,
                    e.user.role,
                    e.user
                        .member_id
                        .as_deref()
                        .map(|m| format!(" of {m}"))
                        .unwrap_or_default()
                );
                println!(
                    "TOTP secret (shown once; enter it in the authenticator app): {}",
                    e.totp_secret
                );
                println!("otpauth URL: {}", e.otpauth_url);
                anyhow::Ok(())
            })
        }
        UsersCommand::List(a) => rt.block_on(async {
            let store = a.store.open().await?;
            for r in store.list::<accounts::User>().await? {
                let u = accounts::UserView::from(&r.value);
                println!(
                    "{:<24} {:<22} {:<16} {}",
                    u.id,
                    u.role.as_str(),
                    u.member_id.as_deref().unwrap_or("-"),
                    if u.disabled { "disabled" } else { "active" }
                );
            }
            anyhow::Ok(())
        }),
    }
}

/// `voltex sign-request`: the certificate proof a core API call carries,
/// printed as the four headers to add (what a member's client does).
#[derive(Debug, clap::Args)]
pub struct SignRequestArgs {
    /// The member's (or operator's) private key, PEM (from `voltex ca issue`).
    #[arg(long)]
    pub key: std::path::PathBuf,
    /// The matching certificate, PEM.
    #[arg(long)]
    pub cert: std::path::PathBuf,
    /// The member the certificate names (`operator` for operator staff).
    #[arg(long)]
    pub member: String,
    /// HTTP method, e.g. POST.
    #[arg(long)]
    pub method: String,
    /// Path and query exactly as sent, e.g. /api/v1/sessions/X/open.
    #[arg(long)]
    pub path: String,
    /// File holding the exact request body (none: empty body).
    #[arg(long)]
    pub body: Option<std::path::PathBuf>,
}

pub fn sign_request(a: SignRequestArgs) -> anyhow::Result<()> {
    use base64::Engine;
    let key = voltex_security::MemberKey::load(&a.key)?;
    let pem = std::fs::read_to_string(&a.cert)
        .with_context(|| format!("reading {}", a.cert.display()))?;
    let body = match &a.body {
        Some(p) => std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
        None => Vec::new(),
    };
    let now = chrono::Utc::now().timestamp();
    let nonce = hex::encode(voltex_security::secret_files::random_bytes::<16>()?);
    let request = voltex_security::declaration::RequestToSign::new(
        &a.member, &a.method, &a.path, &body, now, &nonce,
    );
    println!("X-Voltex-Signature: {}", key.sign_request(&request)?);
    println!(
        "X-Voltex-Certificate: {}",
        base64::engine::general_purpose::STANDARD.encode(pem.as_bytes())
    );
    println!("X-Voltex-Timestamp: {now}");
    println!("X-Voltex-Nonce: {nonce}");
    Ok(())
}
