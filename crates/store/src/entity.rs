//! Which model types the store keeps as versioned entities, and where.
use serde::{Serialize, de::DeserializeOwned};
use voltex_model::network::Network;
use voltex_model::{GeneratingUnit, LoadResource, MarketParameters, MarketSession, Member};

/// A model type stored as an append-only versioned record.
pub trait Entity: Serialize + DeserializeOwned + Clone + Send + Sync + Unpin + 'static {
    /// Table name (a fixed identifier, never user input).
    const TABLE: &'static str;
    /// Human name in errors.
    const NAME: &'static str;
    /// Whether rows carry an owning member id.
    const OWNED: bool = false;
    fn entity_id(&self) -> String;
    fn owner(&self) -> Option<&str> {
        None
    }
}

impl Entity for Member {
    const TABLE: &'static str = "members";
    const NAME: &'static str = "member";
    fn entity_id(&self) -> String {
        self.id.clone()
    }
}

impl Entity for GeneratingUnit {
    const TABLE: &'static str = "generating_units";
    const NAME: &'static str = "generating unit";
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        self.id.clone()
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.member_id)
    }
}

impl Entity for LoadResource {
    const TABLE: &'static str = "load_resources";
    const NAME: &'static str = "load resource";
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        self.id.clone()
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.member_id)
    }
}

/// Parameters are keyed by market (`day_ahead_energy`, ...).
impl Entity for MarketParameters {
    const TABLE: &'static str = "market_parameters";
    const NAME: &'static str = "market parameters";
    fn entity_id(&self) -> String {
        self.market.as_str().to_owned()
    }
}

impl Entity for Network {
    const TABLE: &'static str = "networks";
    const NAME: &'static str = "network";
    fn entity_id(&self) -> String {
        self.name.clone()
    }
}

impl Entity for MarketSession {
    const TABLE: &'static str = "sessions";
    const NAME: &'static str = "session";
    fn entity_id(&self) -> String {
        self.id.clone()
    }
}
