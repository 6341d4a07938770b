//! Sessions and declarations: creating a market's session for a trading day,
//! opening and closing its gate, and the declaration lifecycle (validate
//! against the session, parameters, member and unit; store as a new version
//! that supersedes the previous one; refuse after gate closure).
use crate::notices::NoticeCategory;
use crate::registry::require_self_or_operator_hidden;
use crate::review::DeclarationStatus;
use crate::{Actor, Market, MarketError, Result, require_operator};
use voltex_model::validation::{DeclarationContext, validate_declaration};
use voltex_model::{
    DeclarationBody, GeneratingUnit, LoadResource, MarketKind, MarketParameters, MarketSession,
    Member, SessionState, TradingDay,
};
use voltex_store::{Companion, DeclarationWrite, Record, StoreError, StoredDeclaration};

impl Market {
    /// Creates the session of `market` for `day` (operator only); one per market per day.
    pub async fn create_session(
        &self,
        actor: &Actor,
        market: MarketKind,
        day: TradingDay,
    ) -> Result<Record<MarketSession>> {
        require_operator(actor, "create sessions")?;
        MarketSession::check_trading_day(day).map_err(MarketError::Invalid)?;
        let session = MarketSession::new(market, day);
        if self
            .store
            .get::<MarketSession>(&session.id)
            .await?
            .is_some()
        {
            return Err(MarketError::AlreadyExists {
                what: "session",
                id: session.id,
            });
        }
        Ok(self.store.insert(&session).await?)
    }

    pub async fn session(&self, id: &str) -> Result<Record<MarketSession>> {
        self.get_or_404::<MarketSession>("session", id).await
    }

    pub async fn session_history(&self, id: &str) -> Result<Vec<Record<MarketSession>>> {
        self.session(id).await?;
        Ok(self.store.history::<MarketSession>(id).await?)
    }

    pub async fn sessions(&self) -> Result<Vec<Record<MarketSession>>> {
        Ok(self.store.list::<MarketSession>().await?)
    }

    /// Moves a session to `to` (operator only): `open` opens the window,
    /// `closed` is gate closure (the latest version of each declaration is
    /// locked and defaults are applied). Later states are reached only
    /// through clearing, publication and settlement, which do the work.
    pub async fn advance_session(
        &self,
        actor: &Actor,
        id: &str,
        to: SessionState,
    ) -> Result<Record<MarketSession>> {
        match to {
            SessionState::Open => self.transition(actor, id, to).await,
            SessionState::Closed => {
                self.close_gate(actor, id).await?;
                self.session(id).await
            }
            other => Err(MarketError::Conflict(format!(
                "a session becomes {other} by running that step (clear, publish, settle), not by setting its state"
            ))),
        }
    }

    /// The state change itself, with the members told.
    pub(crate) async fn transition(
        &self,
        actor: &Actor,
        id: &str,
        to: SessionState,
    ) -> Result<Record<MarketSession>> {
        require_operator(actor, "change session state")?;
        let current = self.session(id).await?;
        let mut s = current.value.clone();
        s.transition(to)?;
        let rec = self.store.append(&s, current.version).await?;
        tracing::info!(session = id, from = %current.value.state, to = %to, "session state changed");
        self.notify_all_members(
            &format!("session:{id}:{to}"),
            NoticeCategory::SessionState,
            id,
            &format!("session {id} is now {to}"),
        )
        .await?;
        Ok(rec)
    }

    /// Validates and stores a declaration for the acting member. A
    /// resubmission for the same session, kind and subject supersedes the
    /// previous version (both stay readable).
    pub async fn submit_declaration(
        &self,
        actor: &Actor,
        session_id: &str,
        body: DeclarationBody,
    ) -> Result<StoredDeclaration> {
        self.submit(actor, session_id, body, None, None).await
    }

    /// [`Market::submit_declaration`] for a submission made for one version:
    /// the declaration is stored only if it becomes version
    /// `expected_version` (checked in the writing transaction), else a
    /// [`MarketError::Conflict`] and nothing is stored. A signed declaration
    /// names its version in the signed bytes; this keeps the signed and the
    /// stored version equal and refuses a replayed signature.
    pub async fn submit_declaration_expecting(
        &self,
        actor: &Actor,
        session_id: &str,
        body: DeclarationBody,
        expected_version: i64,
    ) -> Result<StoredDeclaration> {
        self.submit(actor, session_id, body, Some(expected_version), None)
            .await
    }

    /// [`Market::submit_declaration_expecting`] that also writes `companion`
    /// (the signature over the declaration, say) in the same transaction:
    /// both are stored or neither.
    pub async fn submit_declaration_with(
        &self,
        actor: &Actor,
        session_id: &str,
        body: DeclarationBody,
        expected_version: i64,
        companion: &Companion,
    ) -> Result<StoredDeclaration> {
        self.submit(
            actor,
            session_id,
            body,
            Some(expected_version),
            Some(companion),
        )
        .await
    }

    async fn submit(
        &self,
        actor: &Actor,
        session_id: &str,
        body: DeclarationBody,
        expected_version: Option<i64>,
        companion: Option<&Companion>,
    ) -> Result<StoredDeclaration> {
        // Validate and screen against the session version we read; if the
        // session moves (e.g. gate closure) before the write, validate again
        // against the new state, which then refuses with the precise rule.
        // The declaration, its companion, its review or reference and the
        // member's notice are written in one transaction by the store's
        // writer, which carries many submissions per commit.
        for _ in 0..3 {
            let session = self.session(session_id).await?;
            let params = self.parameters(session.value.market).await?.value;
            let member = self.acting_member(actor).await?;
            self.validate_with(&params, &member, &session.value, &body)
                .await?;
            let screening = self.screen(&params, &actor.member_id, &body, None).await?;
            let mut write =
                DeclarationWrite::new(session_id, session.version, &actor.member_id, body.clone())?;
            if let Some(v) = expected_version {
                write = write.expecting(v);
            }
            let signature = companion.cloned();
            let screened = screening.clone();
            let write = write.with_companions(move |d| {
                let mut all: Vec<Companion> = signature.into_iter().collect();
                all.extend(screened.companions(d)?);
                Ok(all)
            });
            match self.store.write_declaration(write).await {
                Ok(d) => {
                    self.hub.publish(&screening.notice(&d));
                    return Ok(d);
                }
                Err(StoreError::SessionMoved { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(MarketError::Conflict(format!(
            "session {session_id} kept changing state; declaration not stored, try again"
        )))
    }

    /// Screens a declaration stored without screening (a file import, all
    /// or nothing) and writes what screening decided: its review or the new
    /// reference, and the member's notice.
    pub(crate) async fn acknowledge(
        &self,
        d: &StoredDeclaration,
        params: &MarketParameters,
    ) -> Result<DeclarationStatus> {
        let screening = self
            .screen(params, &d.member_id, &d.body, Some((&d.key, d.version)))
            .await?;
        self.store
            .write_companions(&screening.companions(d)?)
            .await?;
        self.hub.publish(&screening.notice(d));
        Ok(screening.status())
    }

    /// A draft for `target_session` copied from one of the actor's past
    /// declaration versions (the "duplicate declaration" of the source): the
    /// member edits and submits it. Interval counts are mapped by position
    /// when the days differ in length.
    pub async fn copy_declaration(
        &self,
        actor: &Actor,
        key: &str,
        version: i64,
        target_session: &str,
    ) -> Result<DeclarationBody> {
        let d = self
            .store
            .declaration_version(key, version)
            .await?
            .ok_or_else(|| MarketError::NotFound {
                what: "declaration version",
                id: format!("{key}#{version}"),
            })?;
        require_self_or_operator_hidden(actor, &d.member_id, "declaration version", key)?;
        let target = self.session(target_session).await?.value;
        let params = self.parameters(target.market).await?.value;
        let n = params.calendar().interval_count(target.trading_day)?;
        Ok(remap_intervals(d.body, n))
    }

    /// Checks a declaration without storing it (the same rules as submission).
    pub async fn validate_for(
        &self,
        actor: &Actor,
        session: &MarketSession,
        body: &DeclarationBody,
    ) -> Result<()> {
        let params = self.parameters(session.market).await?.value;
        let member = self.acting_member(actor).await?;
        self.validate_with(&params, &member, session, body).await
    }

    /// The acting member's registered record.
    pub(crate) async fn acting_member(&self, actor: &Actor) -> Result<Member> {
        Ok(self
            .get_or_404::<Member>("member", &actor.member_id)
            .await?
            .value)
    }

    /// [`Market::validate_for`] with the session's parameters and the member
    /// already loaded, so that a submission or a file of many declarations
    /// reads them once.
    pub(crate) async fn validate_with(
        &self,
        params: &MarketParameters,
        member: &Member,
        session: &MarketSession,
        body: &DeclarationBody,
    ) -> Result<()> {
        let unit = match body.unit_id() {
            Some(id) => self.store.get::<GeneratingUnit>(id).await?.map(|r| r.value),
            None => None,
        };
        let resource = match body.resource_id() {
            Some(id) => self.store.get::<LoadResource>(id).await?.map(|r| r.value),
            None => None,
        };
        let ctx = DeclarationContext {
            params,
            session,
            member,
            unit: unit.as_ref(),
            resource: resource.as_ref(),
        };
        validate_declaration(&ctx, body).map_err(MarketError::Invalid)
    }

    /// The latest version of each declaration in a session: the actor's own,
    /// or all of them for the operator.
    pub async fn declarations(
        &self,
        actor: &Actor,
        session_id: &str,
    ) -> Result<Vec<StoredDeclaration>> {
        self.session(session_id).await?;
        let member = (!actor.is_operator()).then_some(actor.member_id.as_str());
        Ok(self.store.declarations(session_id, member).await?)
    }

    /// Every version of one declaration, oldest first. A foreign member gets
    /// "not found", never another member's offer.
    pub async fn declaration_history(
        &self,
        actor: &Actor,
        key: &str,
    ) -> Result<Vec<StoredDeclaration>> {
        let history = self.store.declaration_history(key).await?;
        let owner = history
            .first()
            .map(|d| d.member_id.clone())
            .ok_or_else(|| MarketError::NotFound {
                what: "declaration",
                id: key.to_owned(),
            })?;
        require_self_or_operator_hidden(actor, &owner, "declaration", key)?;
        Ok(history)
    }
}

/// Which of `len` per-interval entries stands for interval `t` of a day of
/// `n` intervals: the same entry when the lengths agree, else the one at the
/// same position in the day (a curve from a 96-interval day used on a
/// 92-interval DST day, or a 24-entry series on a 96-interval day).
pub(crate) fn position(t: usize, len: usize, n: usize) -> usize {
    t * len / n.max(1)
}

/// Maps a body's per-interval entries onto `n` intervals by position.
pub(crate) fn remap_intervals(body: DeclarationBody, n: usize) -> DeclarationBody {
    fn map<T: Clone>(v: Vec<T>, n: usize) -> Vec<T> {
        if v.len() == n || v.is_empty() {
            return v;
        }
        (0..n).map(|t| v[position(t, v.len(), n)].clone()).collect()
    }
    match body {
        DeclarationBody::EnergyOffer { unit_id, intervals } => DeclarationBody::EnergyOffer {
            unit_id,
            intervals: map(intervals, n),
        },
        DeclarationBody::DemandBid {
            resource_id,
            intervals,
        } => DeclarationBody::DemandBid {
            resource_id,
            intervals: map(intervals, n),
        },
        DeclarationBody::FrequencyRegulationOffer { unit_id, intervals } => {
            DeclarationBody::FrequencyRegulationOffer {
                unit_id,
                intervals: map(intervals, n),
            }
        }
        DeclarationBody::PeakRegulationOffer { unit_id, intervals } => {
            DeclarationBody::PeakRegulationOffer {
                unit_id,
                intervals: map(intervals, n),
            }
        }
        extras @ DeclarationBody::DailyExtras(_) => extras,
    }
}
