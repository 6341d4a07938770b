//! Operator review of implausible declarations.
//!
//! An energy offer whose quantity-weighted mean price moves more than the
//! market's `review_price_band` away from the same member's last accepted
//! offer for the same unit is stored (history is permanent) but *held*: it
//! does not count until the operator approves it. A rejected version never
//! counts; the declaration's previous accepted version (or the unit's default
//! rule) applies instead. Clearing refuses to run while anything is held, so
//! nothing is silently dropped.
//!
//! The comparison never reads history: the last accepted offer of each
//! member and unit is kept as an [`OfferReference`] (its key, version,
//! submission time and mean price), appended in the same transaction as
//! every version that starts to count (accepted on arrival, or approved
//! later if it is the newer one). Screening a submission reads that one
//! record, so its cost does not grow with the unit's history. (A store
//! from before references existed is read back through history, at most
//! 50 versions, until the unit's first counting version writes one.)
use crate::notices::{NoticeCategory, Notification};
use crate::{Actor, Market, MarketError, Result, require_operator};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use voltex_model::{DeclarationBody, DeclarationKind, MarketParameters, Violation, Violations};
use voltex_store::{Companion, Entity, Record, StoreError, StoredDeclaration};

/// Where a held declaration version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    Held,
    Approved,
    Rejected,
}

/// The review of one declaration version (`<key>#<version>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeclarationReview {
    pub declaration_key: String,
    pub declaration_version: i64,
    pub session_id: String,
    pub member_id: String,
    pub state: ReviewState,
    /// Why it was held, with the figures compared.
    pub finding: String,
    /// The operator's reason for the decision.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub decided_at: Option<DateTime<Utc>>,
}

impl DeclarationReview {
    pub fn id_for(key: &str, version: i64) -> String {
        format!("{key}#{version}")
    }
}

impl Entity for DeclarationReview {
    const TABLE: &'static str = "declaration_reviews";
    const NAME: &'static str = "declaration review";
    const SENSITIVE: bool = true; // findings quote offered prices
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        Self::id_for(&self.declaration_key, self.declaration_version)
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.member_id)
    }
}

/// The last counting energy offer of one member for one unit: what the
/// review screen compares a new offer with, and the curve the default rule
/// reuses at gate closure. Id `<member>:<kind>:<subject>`; a new version is
/// appended each time a newer version starts to count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfferReference {
    pub member_id: String,
    pub kind: DeclarationKind,
    pub subject: String,
    pub declaration_key: String,
    pub declaration_version: i64,
    pub submitted_at: DateTime<Utc>,
    /// Quantity-weighted mean price (none for an offer of no quantity).
    pub mean_price: Option<f64>,
}

impl OfferReference {
    pub fn id_for(member_id: &str, kind: DeclarationKind, subject: &str) -> String {
        format!("{member_id}:{}:{subject}", kind.as_str())
    }

    fn of(d: &StoredDeclaration) -> Self {
        Self {
            member_id: d.member_id.clone(),
            kind: d.kind,
            subject: d.subject.clone(),
            declaration_key: d.key.clone(),
            declaration_version: d.version,
            submitted_at: d.submitted_at,
            mean_price: mean_offer_price(&d.body),
        }
    }

    /// Whether `d` was submitted after the version this reference names.
    fn is_older_than(&self, d: &StoredDeclaration) -> bool {
        (self.submitted_at, self.declaration_version) < (d.submitted_at, d.version)
    }
}

impl Entity for OfferReference {
    const TABLE: &'static str = "offer_references";
    const NAME: &'static str = "offer reference";
    const SENSITIVE: bool = true; // the mean price of an offer
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        Self::id_for(&self.member_id, self.kind, &self.subject)
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.member_id)
    }
}

/// What the review screen decided for a declaration about to be stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Screening {
    /// It counts (accepted).
    Counts,
    /// It is held for the operator, for this finding.
    Held(String),
}

impl Screening {
    pub(crate) fn status(&self) -> DeclarationStatus {
        match self {
            Screening::Counts => DeclarationStatus::Accepted,
            Screening::Held(_) => DeclarationStatus::Held,
        }
    }

    /// The records written with the stored version `d`, in its transaction:
    /// its review (held) or the new reference (an energy offer that counts),
    /// and the member's notice.
    pub(crate) fn companions(
        &self,
        d: &StoredDeclaration,
    ) -> std::result::Result<Vec<Companion>, StoreError> {
        let mut out = Vec::with_capacity(2);
        match self {
            Screening::Held(finding) => out.push(Companion::of(&DeclarationReview {
                declaration_key: d.key.clone(),
                declaration_version: d.version,
                session_id: d.session_id.clone(),
                member_id: d.member_id.clone(),
                state: ReviewState::Held,
                finding: finding.clone(),
                reason: None,
                decided_at: None,
            })?),
            Screening::Counts if d.kind == DeclarationKind::EnergyOffer => {
                out.push(Companion::next_version_of(&OfferReference::of(d))?)
            }
            Screening::Counts => {}
        }
        out.push(Companion::of(&self.notice(d))?);
        Ok(out)
    }

    /// The member's notice that `d` arrived, and how it stands.
    pub(crate) fn notice(&self, d: &StoredDeclaration) -> Notification {
        let (category, message) = match self {
            Screening::Held(_) => (
                NoticeCategory::DeclarationHeld,
                format!(
                    "declaration {} version {} is held for the operator's review",
                    d.key, d.version
                ),
            ),
            Screening::Counts => (
                NoticeCategory::DeclarationAccepted,
                format!("declaration {} version {} accepted", d.key, d.version),
            ),
        };
        Notification {
            id: Notification::id_for(&d.member_id, &format!("{}#{}:received", d.key, d.version)),
            member_id: d.member_id.clone(),
            category,
            created_at: d.submitted_at,
            subject: d.key.clone(),
            message,
            read: false,
        }
    }
}

/// Whether a declaration version counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeclarationStatus {
    Accepted,
    Held,
    Approved,
    Rejected,
}

impl DeclarationStatus {
    pub fn counts(self) -> bool {
        matches!(
            self,
            DeclarationStatus::Accepted | DeclarationStatus::Approved
        )
    }
}

/// Quantity-weighted mean price of an energy offer over all intervals.
pub(crate) fn mean_offer_price(body: &DeclarationBody) -> Option<f64> {
    let DeclarationBody::EnergyOffer { intervals, .. } = body else {
        return None;
    };
    let (mut money, mut mw) = (0.0, 0.0);
    for s in intervals.iter().flat_map(|i| &i.segments) {
        money += s.price * s.quantity_mw;
        mw += s.quantity_mw;
    }
    (mw > 0.0).then(|| money / mw)
}

/// The finding that holds `body` for review, if its mean price left the
/// band around `previous`, the mean price of the last accepted offer.
pub(crate) fn plausibility_finding(
    params: &MarketParameters,
    body: &DeclarationBody,
    previous: Option<f64>,
) -> Option<String> {
    let band = params.review_price_band?;
    let (new, old) = (mean_offer_price(body)?, previous?);
    // Near-zero references make ratios meaningless: compare against 1 % of the cap.
    let reference = old.abs().max(params.price_cap * 0.01);
    let change = (new - old) / reference;
    (change.abs() > band).then(|| {
        format!(
            "mean offer price {new:.2} vs {old:.2} last accepted: {:+.0} % exceeds the ±{:.0} % band",
            change * 100.0,
            band * 100.0
        )
    })
}

impl Market {
    /// The status of one stored declaration version.
    pub async fn declaration_status(&self, key: &str, version: i64) -> Result<DeclarationStatus> {
        let review = self
            .store
            .get::<DeclarationReview>(&DeclarationReview::id_for(key, version))
            .await?;
        Ok(match review.map(|r| r.value.state) {
            None => DeclarationStatus::Accepted,
            Some(ReviewState::Held) => DeclarationStatus::Held,
            Some(ReviewState::Approved) => DeclarationStatus::Approved,
            Some(ReviewState::Rejected) => DeclarationStatus::Rejected,
        })
    }

    /// The member's last counting version of the same kind and subject:
    /// the reference for review and the "last accepted curve" default.
    pub(crate) async fn last_accepted(
        &self,
        member_id: &str,
        kind: DeclarationKind,
        subject: &str,
    ) -> Result<Option<StoredDeclaration>> {
        if let Some(r) = self.offer_reference(member_id, kind, subject).await? {
            return Ok(self
                .store
                .declaration_version(&r.declaration_key, r.declaration_version)
                .await?);
        }
        self.last_accepted_in_history(member_id, kind, subject, None)
            .await
    }

    /// The stored reference of a member's kind and subject, if any.
    async fn offer_reference(
        &self,
        member_id: &str,
        kind: DeclarationKind,
        subject: &str,
    ) -> Result<Option<OfferReference>> {
        Ok(self
            .store
            .get::<OfferReference>(&OfferReference::id_for(member_id, kind, subject))
            .await?
            .map(|r| r.value))
    }

    /// The last counting version other than `exclude` (key, version) found
    /// by reading history (newest first, at most 50): only for subjects
    /// whose counting versions were stored before references existed.
    async fn last_accepted_in_history(
        &self,
        member_id: &str,
        kind: DeclarationKind,
        subject: &str,
        exclude: Option<(&str, i64)>,
    ) -> Result<Option<StoredDeclaration>> {
        let history = self
            .store
            .subject_history(member_id, kind.as_str(), subject, 50)
            .await?;
        for d in history {
            if exclude == Some((d.key.as_str(), d.version)) {
                continue;
            }
            if self.declaration_status(&d.key, d.version).await?.counts() {
                return Ok(Some(d));
            }
        }
        Ok(None)
    }

    /// Screens a declaration of `member_id` (about to be stored, or stored
    /// as `exclude`): held for review when it is implausible against the
    /// last accepted offer.
    pub(crate) async fn screen(
        &self,
        params: &MarketParameters,
        member_id: &str,
        body: &DeclarationBody,
        exclude: Option<(&str, i64)>,
    ) -> Result<Screening> {
        if body.kind() != DeclarationKind::EnergyOffer || params.review_price_band.is_none() {
            return Ok(Screening::Counts);
        }
        let (kind, subject) = (body.kind(), body.subject(member_id));
        let previous = match self.offer_reference(member_id, kind, subject).await? {
            Some(r) => r.mean_price,
            None => self
                .last_accepted_in_history(member_id, kind, subject, exclude)
                .await?
                .and_then(|d| mean_offer_price(&d.body)),
        };
        Ok(match plausibility_finding(params, body, previous) {
            Some(finding) => Screening::Held(finding),
            None => Screening::Counts,
        })
    }

    /// Makes an approved version the reference when it is newer than the
    /// current one (a held version approved after a later one was accepted
    /// does not displace it).
    async fn approve_as_reference(&self, key: &str, version: i64) -> Result<()> {
        let Some(d) = self.store.declaration_version(key, version).await? else {
            return Ok(());
        };
        if d.kind != DeclarationKind::EnergyOffer {
            return Ok(());
        }
        let id = OfferReference::id_for(&d.member_id, d.kind, &d.subject);
        let current = self.store.get::<OfferReference>(&id).await?;
        let expected = match &current {
            Some(r) if !r.value.is_older_than(&d) => return Ok(()),
            Some(r) => r.version,
            None => 0,
        };
        self.store.append(&OfferReference::of(&d), expected).await?;
        Ok(())
    }

    /// Held declarations awaiting a decision (operator: all; member: own).
    pub async fn pending_reviews(&self, actor: &Actor) -> Result<Vec<Record<DeclarationReview>>> {
        Ok(self
            .reviews(actor)
            .await?
            .into_iter()
            .filter(|r| r.value.state == ReviewState::Held)
            .collect())
    }

    /// Every review, whatever its state (operator: all; member: own), the
    /// latest first: held ones by when they were recorded, decided ones by
    /// when they were decided.
    pub async fn reviews(&self, actor: &Actor) -> Result<Vec<Record<DeclarationReview>>> {
        let mut all = if actor.is_operator() {
            self.store.list::<DeclarationReview>().await?
        } else {
            self.store
                .list_owned::<DeclarationReview>(&actor.member_id)
                .await?
        };
        all.sort_by_key(|r| std::cmp::Reverse(r.value.decided_at.unwrap_or(r.recorded_at)));
        Ok(all)
    }

    /// Approves or rejects a held declaration version (operator only); a
    /// rejection needs a reason, which the member is told.
    pub async fn decide_review(
        &self,
        actor: &Actor,
        key: &str,
        version: i64,
        approve: bool,
        reason: Option<String>,
    ) -> Result<Record<DeclarationReview>> {
        require_operator(actor, "review declarations")?;
        let id = DeclarationReview::id_for(key, version);
        let current = self
            .get_or_404::<DeclarationReview>("declaration review", &id)
            .await?;
        if current.value.state != ReviewState::Held {
            return Err(MarketError::Conflict(format!(
                "declaration {id} was already {:?}",
                current.value.state
            )));
        }
        let reason = reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        if !approve && reason.is_none() {
            return Err(MarketError::Invalid(Violations::from(vec![
                Violation::new(
                    "reason",
                    "required_for_rejection",
                    "",
                    "a rejection must give the member a reason",
                ),
            ])));
        }
        let session = self.session(&current.value.session_id).await?.value;
        if !matches!(
            session.state,
            voltex_model::SessionState::Open | voltex_model::SessionState::Closed
        ) {
            return Err(MarketError::Conflict(format!(
                "session {} is {}; reviews are decided before clearing",
                session.id, session.state
            )));
        }
        let mut review = current.value.clone();
        review.state = if approve {
            ReviewState::Approved
        } else {
            ReviewState::Rejected
        };
        review.reason = reason.clone();
        review.decided_at = Some(Utc::now());
        let rec = self.store.append(&review, current.version).await?;
        if approve {
            self.approve_as_reference(key, version).await?;
        }
        let (category, verb) = if approve {
            (NoticeCategory::DeclarationApproved, "approved")
        } else {
            (NoticeCategory::DeclarationRejected, "rejected")
        };
        self.notify(
            &review.member_id,
            &format!("{id}:{verb}"),
            category,
            key,
            format!(
                "declaration {key} version {version} was {verb} by the operator{}",
                reason.map(|r| format!(": {r}")).unwrap_or_default()
            ),
        )
        .await?;
        Ok(rec)
    }
}
