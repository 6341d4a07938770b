//! What a trading system sends: it signs in with password and TOTP, builds a
//! day-ahead energy offer of 96 intervals × 3 segments for a unit it owns,
//! with prices that wander a few per cent from its previous offer (inside
//! the review screen's band, so nothing is held), signs the envelope naming
//! the declaration's next version with the member's key, and posts it; core
//! requests of the operator carry the `X-Voltex-*` request signature.
//!
//! Offers are signed before the timed phase (`presign`), as the issue's own
//! measurement posted pre-signed offers: a trading system prepares its
//! gate-closure batch before the rush, and the client's signing would
//! otherwise take the shared machine's CPU from the server it measures.
//! A subject that runs out of prepared offers signs in the sending loop.
use crate::platform::{Account, Credential, Subject};
use crate::{LoadgenError, Result};
use base64::Engine;
use rand::Rng;
use serde_json::{Value, json};
use voltex_model::{DeclarationBody, EnergyOfferInterval, OfferSegment};
use voltex_security::DeclarationEnvelope;
use voltex_security::declaration::RequestToSign;

/// Intervals of a trading day (15 minutes).
const INTERVALS: usize = 96;
/// Largest step of a subject's mean price from one version to the next;
/// the walk stays within ±20 % of its base price.
const PRICE_STEP: f64 = 0.04;
const PRICE_SPREAD: f64 = 0.2;

/// A subject as one connection declares it: the version it will send next,
/// the mean price of its last offer, and the offers signed ahead.
#[derive(Debug, Clone)]
pub struct SubjectState {
    pub subject: Subject,
    pub next_version: u32,
    pub price: f64,
    /// Signed submissions for versions `next_version..`, in order.
    presigned: std::collections::VecDeque<Submission>,
}

/// One signed submission: the version it names, the declaration key and
/// the request body.
#[derive(Debug, Clone)]
pub struct Submission {
    pub version: u32,
    pub key: String,
    pub payload: Vec<u8>,
    /// Signed ahead (false: signed in the sending loop).
    pub prepared: bool,
}

impl SubjectState {
    pub fn new(subject: Subject) -> Self {
        Self {
            price: subject.base_price,
            subject,
            next_version: 1,
            presigned: std::collections::VecDeque::new(),
        }
    }

    /// Signs `count` more offers ahead, for the versions after those
    /// already prepared.
    pub fn presign(
        &mut self,
        credential: &Credential,
        count: usize,
        rng: &mut impl Rng,
    ) -> Result<()> {
        let first = self
            .presigned
            .back()
            .map_or(self.next_version, |s| s.version + 1);
        for version in (first..).take(count) {
            let body = self.next_offer(rng);
            let (key, payload) =
                signed_submission(credential, &self.subject.session_id, &body, version)?;
            self.presigned.push_back(Submission {
                version,
                key,
                payload,
                prepared: true,
            });
        }
        Ok(())
    }

    /// Offers signed ahead and not sent yet.
    pub fn prepared(&self) -> usize {
        self.presigned.len()
    }

    /// The submission of `next_version`: the one signed ahead when there is
    /// one, else signed now. Prepared offers of versions already passed (a
    /// 409 moved the subject on) are dropped.
    pub fn next_submission(
        &mut self,
        credential: &Credential,
        rng: &mut impl Rng,
    ) -> Result<Submission> {
        while self
            .presigned
            .front()
            .is_some_and(|s| s.version < self.next_version)
        {
            self.presigned.pop_front();
        }
        if let Some(s) = self.presigned.pop_front() {
            if s.version == self.next_version {
                return Ok(s);
            }
            self.presigned.push_front(s);
        }
        let version = self.next_version;
        let body = self.next_offer(rng);
        let (key, payload) =
            signed_submission(credential, &self.subject.session_id, &body, version)?;
        Ok(Submission {
            version,
            key,
            payload,
            prepared: false,
        })
    }

    /// The next offer: its mean price a small step from the last one.
    pub fn next_offer(&mut self, rng: &mut impl Rng) -> DeclarationBody {
        let base = self.subject.base_price;
        let step = rng.random_range(-PRICE_STEP..PRICE_STEP);
        self.price = (self.price * (1.0 + step))
            .clamp(base * (1.0 - PRICE_SPREAD), base * (1.0 + PRICE_SPREAD));
        energy_offer(&self.subject.unit_id, self.subject.pmax_mw, self.price)
    }
}

/// An offer with mean price about `mean` (yuan/MWh): a daily shape, three
/// rising segments of 30 % of pmax each.
pub fn energy_offer(unit_id: &str, pmax_mw: f64, mean: f64) -> DeclarationBody {
    let quantity = (pmax_mw * 0.3).floor();
    let intervals = (0..INTERVALS)
        .map(|i| {
            // Dearer in the day than at night, ±10 %.
            let shape =
                1.0 + 0.1 * ((i as f64 / INTERVALS as f64 - 0.25) * std::f64::consts::TAU).sin();
            let p = (mean * shape * 100.0).round() / 100.0;
            EnergyOfferInterval {
                segments: [0.9, 1.0, 1.1]
                    .iter()
                    .map(|f| OfferSegment {
                        quantity_mw: quantity,
                        price: (p * f * 100.0).round() / 100.0,
                    })
                    .collect(),
            }
        })
        .collect();
    DeclarationBody::EnergyOffer {
        unit_id: unit_id.to_owned(),
        intervals,
    }
}

/// The key and the JSON body of a signed submission of `body` as `version`.
pub fn signed_submission(
    credential: &Credential,
    session_id: &str,
    body: &DeclarationBody,
    version: u32,
) -> Result<(String, Vec<u8>)> {
    let key = body.key(session_id, &credential.member_id);
    let envelope = DeclarationEnvelope::new(
        &credential.member_id,
        key.clone(),
        version,
        serde_json::to_value(body)?,
    );
    let declaration = credential.key.sign(envelope, &credential.serial)?;
    /// The submission's shape, borrowing what it sends (no copy of the
    /// body into a new `Value` on the client either).
    #[derive(serde::Serialize)]
    struct Submission<'a> {
        declaration: &'a voltex_security::SignedDeclaration,
        certificate_pem: &'a str,
    }
    let payload = serde_json::to_vec(&Submission {
        declaration: &declaration,
        certificate_pem: &credential.certificate_pem,
    })?;
    Ok((key, payload))
}

/// The six-digit code the user's authenticator shows now.
pub fn totp_now(account: &Account) -> Result<String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| LoadgenError::Setup(e.to_string()))?
        .as_secs();
    Ok(voltex_security::totp::TotpVerifier::new(&account.totp_secret, &account.user)?.code_at(now))
}

/// Signs `account` in over HTTP with password and TOTP; answers the bearer
/// token. A 429 is waited out (sign-ins of many users share one address).
pub async fn sign_in(client: &reqwest::Client, base: &str, account: &Account) -> Result<String> {
    for _ in 0..20 {
        let resp = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({
                "user": account.user,
                "password": account.password,
                "totp": totp_now(account)?,
            }))
            .send()
            .await?;
        let status = resp.status();
        let retry = retry_after(&resp);
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return body["token"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| LoadgenError::Setup(format!("login answered no token: {body}")));
        }
        if status != reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(LoadgenError::Setup(format!(
                "signing in {}: {status} {body}",
                account.user
            )));
        }
        tokio::time::sleep(retry).await;
    }
    Err(LoadgenError::Setup(format!(
        "signing in {}: still rate limited after 20 tries",
        account.user
    )))
}

/// Signs every account in, all at once; tokens in the accounts' order.
pub async fn sign_in_all(
    client: &reqwest::Client,
    base: &str,
    accounts: &[Account],
) -> Result<Vec<String>> {
    let mut set = tokio::task::JoinSet::new();
    for (i, a) in accounts.iter().enumerate() {
        let (client, base, a) = (client.clone(), base.to_owned(), a.clone());
        set.spawn(async move { Ok::<_, LoadgenError>((i, sign_in(&client, &base, &a).await?)) });
    }
    let mut tokens = vec![String::new(); accounts.len()];
    while let Some(done) = set.join_next().await {
        let (i, token) = done.map_err(|e| LoadgenError::Setup(e.to_string()))??;
        tokens[i] = token;
    }
    Ok(tokens)
}

/// A core request as a signed-in user of `credential` sends it: bearer
/// token and the request signature over method, path and body.
pub fn signed_request(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    credential: &Credential,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> Result<reqwest::RequestBuilder> {
    let bytes = body
        .map(serde_json::to_vec)
        .transpose()?
        .unwrap_or_default();
    let ts = chrono::Utc::now().timestamp();
    let nonce = format!("{:032x}", rand::rng().random::<u128>());
    let to_sign = RequestToSign::new(
        &credential.member_id,
        method.as_str(),
        path,
        &bytes,
        ts,
        &nonce,
    );
    let signature = credential.key.sign_request(&to_sign)?;
    let mut req = client
        .request(method, format!("{base}{path}"))
        .bearer_auth(token)
        .header("x-voltex-signature", signature)
        .header(
            "x-voltex-certificate",
            base64::engine::general_purpose::STANDARD.encode(&credential.certificate_pem),
        )
        .header("x-voltex-timestamp", ts.to_string())
        .header("x-voltex-nonce", nonce);
    if body.is_some() {
        req = req.header("content-type", "application/json").body(bytes);
    }
    Ok(req)
}

/// How long a 429 asks to wait (its `Retry-After`, at most 1 s; 100 ms
/// when absent).
pub fn retry_after(resp: &reqwest::Response) -> std::time::Duration {
    let secs = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<f64>().ok());
    std::time::Duration::from_secs_f64(secs.unwrap_or(0.1).clamp(0.01, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offer_has_96_intervals_of_3_rising_segments_within_pmax() {
        let DeclarationBody::EnergyOffer { intervals, .. } = energy_offer("u", 200.0, 300.0) else {
            panic!("an energy offer");
        };
        assert_eq!(intervals.len(), 96);
        for i in &intervals {
            assert_eq!(i.segments.len(), 3);
            assert!(i.segments.windows(2).all(|w| w[0].price <= w[1].price));
            assert!(i.segments.iter().map(|s| s.quantity_mw).sum::<f64>() <= 200.0);
        }
    }

    fn subject() -> Subject {
        Subject {
            session_id: "DA".into(),
            member: 0,
            unit_id: "u".into(),
            pmax_mw: 200.0,
            base_price: 300.0,
        }
    }

    #[test]
    fn the_price_walk_stays_within_twenty_per_cent_of_its_base() {
        let mut s = SubjectState::new(subject());
        let mut rng = rand::rng();
        for _ in 0..1000 {
            s.next_offer(&mut rng);
            assert!((240.0..=360.0).contains(&s.price), "{}", s.price);
        }
    }

    fn credential(dir: &std::path::Path) -> Credential {
        let now = chrono::Utc::now();
        let mut ca = voltex_security::PlatformCa::init(dir, "test CA", now).unwrap();
        let issued = ca
            .issue_member("m1", voltex_security::Role::MemberTrader, 30, now)
            .unwrap();
        Credential {
            member_id: "m1".into(),
            key: voltex_security::MemberKey::from_pem(&issued.key_pem).unwrap(),
            certificate_pem: issued.certificate_pem.clone(),
            serial: issued.serial.clone(),
        }
    }

    fn version_of(s: &Submission) -> u64 {
        let v: Value = serde_json::from_slice(&s.payload).unwrap();
        v["declaration"]["envelope"]["version"].as_u64().unwrap()
    }

    #[test]
    fn presigned_offers_are_sent_in_version_order_then_signing_resumes_in_the_loop() {
        let dir = tempfile::tempdir().unwrap();
        let credential = credential(dir.path());
        let mut s = SubjectState::new(subject());
        let mut rng = rand::rng();
        s.presign(&credential, 2, &mut rng).unwrap();
        s.presign(&credential, 1, &mut rng).unwrap();
        assert_eq!(s.prepared(), 3);
        for expected in 1..=4u32 {
            let sub = s.next_submission(&credential, &mut rng).unwrap();
            assert_eq!(sub.version, expected);
            assert_eq!(version_of(&sub), u64::from(expected));
            assert_eq!(sub.prepared, expected <= 3);
            s.next_version += 1;
        }
        assert_eq!(s.prepared(), 0);
    }

    #[test]
    fn a_prepared_offer_of_a_version_already_passed_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let credential = credential(dir.path());
        let mut s = SubjectState::new(subject());
        let mut rng = rand::rng();
        s.presign(&credential, 3, &mut rng).unwrap();
        // A 409 moved the subject past versions 1 and 2.
        s.next_version = 3;
        let sub = s.next_submission(&credential, &mut rng).unwrap();
        assert_eq!((sub.version, version_of(&sub)), (3, 3));
        assert_eq!(s.prepared(), 0);
    }
}
