//! Operator review of implausible declarations.
//!
//! An energy offer whose quantity-weighted mean price moves more than the
//! market's `review_price_band` away from the same member's last accepted
//! offer for the same unit is stored (history is permanent) but *held*: it
//! does not count until the operator approves it. A rejected version never
//! counts; the declaration's previous accepted version (or the unit's default
//! rule) applies instead. Clearing refuses to run while anything is held, so
//! nothing is silently dropped.
use crate::notices::NoticeCategory;
use crate::{Actor, Market, MarketError, Result, require_operator};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use voltex_model::{DeclarationBody, DeclarationKind, MarketParameters, Violation, Violations};
use voltex_store::{Entity, Record, StoredDeclaration};

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

/// The finding that holds `body` for review, if its price left the band.
pub(crate) fn plausibility_finding(
    params: &MarketParameters,
    body: &DeclarationBody,
    previous: &DeclarationBody,
) -> Option<String> {
    let band = params.review_price_band?;
    let (new, old) = (mean_offer_price(body)?, mean_offer_price(previous)?);
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

    /// The member's last counting version of the same kind and subject,
    /// other than `exclude` (key, version): the reference for review and the
    /// "last accepted curve" default.
    pub(crate) async fn last_accepted(
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

    /// Holds `stored` for review when it is implausible; returns its status.
    pub(crate) async fn screen(
        &self,
        params: &MarketParameters,
        stored: &StoredDeclaration,
    ) -> Result<DeclarationStatus> {
        if stored.kind != DeclarationKind::EnergyOffer || params.review_price_band.is_none() {
            return Ok(DeclarationStatus::Accepted);
        }
        let previous = self
            .last_accepted(
                &stored.member_id,
                stored.kind,
                &stored.subject,
                Some((&stored.key, stored.version)),
            )
            .await?;
        let Some(previous) = previous else {
            return Ok(DeclarationStatus::Accepted);
        };
        let Some(finding) = plausibility_finding(params, &stored.body, &previous.body) else {
            return Ok(DeclarationStatus::Accepted);
        };
        let review = DeclarationReview {
            declaration_key: stored.key.clone(),
            declaration_version: stored.version,
            session_id: stored.session_id.clone(),
            member_id: stored.member_id.clone(),
            state: ReviewState::Held,
            finding,
            reason: None,
            decided_at: None,
        };
        self.store.insert_once(&review).await?;
        Ok(DeclarationStatus::Held)
    }

    /// Held declarations awaiting a decision (operator: all; member: own).
    pub async fn pending_reviews(&self, actor: &Actor) -> Result<Vec<Record<DeclarationReview>>> {
        let all = if actor.is_operator() {
            self.store.list::<DeclarationReview>().await?
        } else {
            self.store
                .list_owned::<DeclarationReview>(&actor.member_id)
                .await?
        };
        Ok(all
            .into_iter()
            .filter(|r| r.value.state == ReviewState::Held)
            .collect())
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
