//! What a stored type declares about itself (its table, owner and whether it
//! is encrypted at rest), and those declarations for the model's reference
//! data (members, units, load resources, parameters, networks, sessions).
//!
//! The types of the market's day and of accounts implement [`Entity`] next to
//! their definitions in `voltex-market` and `voltex-server`; the model's types
//! cannot (the model does not depend on the store), so theirs are here. Every
//! declaration must agree with the table's entry in [`TABLES`](crate::TABLES),
//! which the build checks (see `tables`). This module must not hold queries.
use serde::{Serialize, de::DeserializeOwned};
use voltex_model::network::Network;
use voltex_model::{GeneratingUnit, LoadResource, MarketParameters, MarketSession, Member};

/// A model type stored as an append-only versioned record.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use voltex_store::{Companion, Entity};
///
/// #[derive(Clone, Serialize, Deserialize)]
/// struct Contact {
///     id: String,
///     email: String,
/// }
///
/// impl Entity for Contact {
///     const TABLE: &'static str = "members";
///     const NAME: &'static str = "contact";
///     // A person's e-mail: personal data, encrypted at rest.
///     const SENSITIVE: bool = true;
///     fn entity_id(&self) -> String {
///         self.id.clone()
///     }
/// }
///
/// let c = Contact { id: "m1".into(), email: "a@example.com".into() };
/// Companion::of(&c).unwrap();
/// ```
///
/// A declaration that disagrees with the table's entry in
/// [`TABLES`](crate::TABLES) (here: `members` is sensitive) does not build
/// once the store is used with the type:
///
/// ```compile_fail
/// # use serde::{Deserialize, Serialize};
/// # use voltex_store::{Companion, Entity};
/// # #[derive(Clone, Serialize, Deserialize)]
/// # struct Contact {
/// #     id: String,
/// #     email: String,
/// # }
/// impl Entity for Contact {
///     const TABLE: &'static str = "members";
///     const NAME: &'static str = "contact";
///     const SENSITIVE: bool = false;
///     fn entity_id(&self) -> String {
///         self.id.clone()
///     }
/// }
///
/// let c = Contact { id: "m1".into(), email: "a@example.com".into() };
/// Companion::of(&c).unwrap();
/// ```
pub trait Entity: Serialize + DeserializeOwned + Clone + Send + Sync + Unpin + 'static {
    /// Table name (a fixed identifier, never user input).
    const TABLE: &'static str;
    /// Human name in errors.
    const NAME: &'static str;
    /// Whether the record holds prices, amounts or personal data, and so is
    /// encrypted at rest when the store has a field key ring. No default:
    /// a new entity has to decide (and docs/security.md say why).
    const SENSITIVE: bool;
    /// Whether rows carry an owning member id.
    const OWNED: bool = false;
    /// Whether [`crate::Store::get`] may answer from memory (`cache`): for
    /// read-mostly records that every declaration is checked against.
    const CACHED: bool = false;
    fn entity_id(&self) -> String;
    fn owner(&self) -> Option<&str> {
        None
    }
}

impl Entity for Member {
    const TABLE: &'static str = "members";
    const CACHED: bool = true;
    const NAME: &'static str = "member";
    /// Contact e-mail of a person.
    const SENSITIVE: bool = true;
    fn entity_id(&self) -> String {
        self.id.clone()
    }
}

impl Entity for GeneratingUnit {
    const TABLE: &'static str = "generating_units";
    const CACHED: bool = true;
    const NAME: &'static str = "generating unit";
    /// Start-up cost (yuan).
    const SENSITIVE: bool = true;
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
    const CACHED: bool = true;
    const NAME: &'static str = "load resource";
    /// Bus, peak and controllable share: no price, amount or personal data.
    const SENSITIVE: bool = false;
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
    const CACHED: bool = true;
    const NAME: &'static str = "market parameters";
    /// Price floor and cap are the published rules every member is told.
    const SENSITIVE: bool = false;
    fn entity_id(&self) -> String {
        self.market.as_str().to_owned()
    }
}

impl Entity for Network {
    const TABLE: &'static str = "networks";
    const NAME: &'static str = "network";
    /// The published grid model.
    const SENSITIVE: bool = false;
    fn entity_id(&self) -> String {
        self.name.clone()
    }
}

impl Entity for MarketSession {
    const TABLE: &'static str = "sessions";
    const CACHED: bool = true;
    const NAME: &'static str = "session";
    /// The public trading calendar and session states.
    const SENSITIVE: bool = false;
    fn entity_id(&self) -> String {
        self.id.clone()
    }
}
