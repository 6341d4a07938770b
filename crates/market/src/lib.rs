//! The operator's workflow as business rules: member registry and lifecycle,
//! units and load resources, network import, market parameters, sessions
//! and their gate, and the declaration lifecycle (validate, store, supersede).
//!
//! Every method takes the acting member ([`Actor`]) and enforces who may do
//! what; every refusal happens before anything is written, so a refused
//! request leaves the store unchanged. No HTTP here: `voltex-server` and the
//! CLI translate to and from these calls. No demo either: the demo day is
//! the `voltex-demo` crate, an ordinary client of this one.
mod error;
mod registry;
mod sessions;

pub mod clear;
pub mod dispatch;
pub mod evaluation;
pub mod files;
pub mod gate;
pub mod notices;
pub mod publication;
pub mod regulation;
pub mod review;
pub mod settlement;

pub use error::MarketError;
pub use registry::{MemberExport, MemberUpdate, NewMember};

use voltex_model::{MarketKind, MarketParameters, Member, MemberKind, MemberStatus};
use voltex_store::{Record, Store};

/// Id of the built-in market operator account created on first start.
pub const OPERATOR_ID: &str = "operator";

/// Who is acting: the member a signed-in user belongs to (the operator
/// account for platform staff), as the server resolves it from the session.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    pub member_id: String,
    pub kind: MemberKind,
    pub status: MemberStatus,
}

impl Actor {
    pub fn is_operator(&self) -> bool {
        self.kind == MemberKind::MarketOperator && self.status == MemberStatus::Active
    }
}

/// The market service: the one place market rules are applied.
#[derive(Debug, Clone)]
pub struct Market {
    store: Store,
    hub: std::sync::Arc<notices::NoticeHub>,
}

pub type Result<T> = std::result::Result<T, MarketError>;

impl Market {
    /// Wraps a store and makes sure the operator account and default market
    /// parameters exist (idempotent; safe on every start).
    pub async fn open(store: Store) -> Result<Self> {
        let hub = std::sync::Arc::new(notices::NoticeHub::start(&store).await?);
        let market = Self { store, hub };
        market.bootstrap().await?;
        Ok(market)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    async fn bootstrap(&self) -> Result<()> {
        if self.store.get::<Member>(OPERATOR_ID).await?.is_none() {
            let mut op = Member::apply(OPERATOR_ID, "Market operator", MemberKind::MarketOperator);
            op.status = MemberStatus::Active;
            ignore_conflict(self.store.insert(&op).await)?;
        }
        for m in MarketKind::ALL {
            if self
                .store
                .get::<MarketParameters>(m.as_str())
                .await?
                .is_none()
            {
                ignore_conflict(self.store.insert(&MarketParameters::default_for(m)).await)?;
            }
        }
        Ok(())
    }

    /// Resolves an identity to an actor; unknown or exited members cannot act.
    pub async fn actor(&self, member_id: &str) -> Result<Actor> {
        let m = self
            .store
            .get::<Member>(member_id)
            .await?
            .ok_or_else(|| MarketError::UnknownActor(member_id.to_owned()))?
            .value;
        if m.status == MemberStatus::Exited {
            return Err(MarketError::UnknownActor(member_id.to_owned()));
        }
        Ok(Actor {
            member_id: m.id,
            kind: m.kind,
            status: m.status,
        })
    }

    /// The operator account, for tools (CLI, demo) that act as the operator.
    pub async fn operator(&self) -> Result<Actor> {
        self.actor(OPERATOR_ID).await
    }

    /// Current market parameters of a market.
    pub async fn parameters(&self, market: MarketKind) -> Result<Record<MarketParameters>> {
        self.store
            .get::<MarketParameters>(market.as_str())
            .await?
            .ok_or_else(|| MarketError::NotFound {
                what: "market parameters",
                id: market.as_str().to_owned(),
            })
    }

    /// Replaces a market's parameters with a new version (operator only).
    pub async fn set_parameters(
        &self,
        actor: &Actor,
        params: MarketParameters,
    ) -> Result<Record<MarketParameters>> {
        require_operator(actor, "change market parameters")?;
        params.validate().map_err(MarketError::Invalid)?;
        let current = self.parameters(params.market).await?;
        Ok(self.store.append(&params, current.version).await?)
    }
}

fn require_operator(actor: &Actor, action: &str) -> Result<()> {
    if actor.is_operator() {
        Ok(())
    } else {
        Err(MarketError::Forbidden(format!(
            "only the market operator may {action}; {} is not",
            actor.member_id
        )))
    }
}

/// Two replicas bootstrapping at once both try to insert; the loser's
/// conflict is the winner's success.
fn ignore_conflict<T>(r: std::result::Result<T, voltex_store::StoreError>) -> Result<()> {
    match r {
        Ok(_) | Err(voltex_store::StoreError::Conflict { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
