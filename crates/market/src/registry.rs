//! The member registry: registration, approval and lifecycle, alteration
//! (versioned), exit and export; generating units and load resources; the
//! network the units sit on.
use crate::{Actor, Market, MarketError, Result, require_operator};
use serde::{Deserialize, Serialize};
use voltex_model::network::Network;
use voltex_model::{
    GeneratingUnit, LoadResource, Member, MemberKind, MemberStatus, Violation, Violations,
};
use voltex_store::{Entity, Record, StoredDeclaration};

/// A registration request. The new member starts pending until the operator
/// approves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    pub id: String,
    pub name: String,
    pub kind: MemberKind,
    #[serde(default)]
    pub registration_number: Option<String>,
    #[serde(default)]
    pub contact_email: Option<String>,
}

/// An alteration of a member's registered details (kind and status change by
/// other paths). Absent fields keep their value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub registration_number: Option<String>,
    #[serde(default)]
    pub contact_email: Option<String>,
}

/// Everything the platform holds about one member, every version included:
/// what a member receives on exit or on request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemberExport {
    pub member: Vec<Record<Member>>,
    pub units: Vec<Vec<Record<GeneratingUnit>>>,
    pub load_resources: Vec<Vec<Record<LoadResource>>>,
    pub declarations: Vec<StoredDeclaration>,
}

impl Market {
    pub async fn register_member(&self, req: NewMember) -> Result<Record<Member>> {
        let member = Member {
            id: req.id,
            name: req.name,
            kind: req.kind,
            status: MemberStatus::Pending,
            registration_number: req.registration_number,
            contact_email: req.contact_email,
        };
        member.validate().map_err(MarketError::Invalid)?;
        if member.kind == MemberKind::MarketOperator {
            return Err(MarketError::Invalid(Violations(vec![Violation::new(
                "kind",
                "operator_not_registrable",
                "market_operator",
                "the market operator account is created by the platform, not registered",
            )])));
        }
        if self.store.get::<Member>(&member.id).await?.is_some() {
            return Err(MarketError::AlreadyExists {
                what: "member",
                id: member.id,
            });
        }
        Ok(self.store.insert(&member).await?)
    }

    pub async fn member(&self, actor: &Actor, id: &str) -> Result<Record<Member>> {
        require_self_or_operator(actor, id)?;
        self.get_or_404::<Member>("member", id).await
    }

    pub async fn member_history(&self, actor: &Actor, id: &str) -> Result<Vec<Record<Member>>> {
        require_self_or_operator(actor, id)?;
        self.get_or_404::<Member>("member", id).await?;
        Ok(self.store.history::<Member>(id).await?)
    }

    /// All members (operator), or only oneself.
    pub async fn members(&self, actor: &Actor) -> Result<Vec<Record<Member>>> {
        if actor.is_operator() {
            Ok(self.store.list::<Member>().await?)
        } else {
            Ok(vec![
                self.get_or_404::<Member>("member", &actor.member_id)
                    .await?,
            ])
        }
    }

    /// A member (or the operator) alters its registered details: a new version.
    pub async fn alter_member(
        &self,
        actor: &Actor,
        id: &str,
        update: MemberUpdate,
    ) -> Result<Record<Member>> {
        require_self_or_operator(actor, id)?;
        let current = self.get_or_404::<Member>("member", id).await?;
        if current.value.status == MemberStatus::Exited {
            return Err(MarketError::Forbidden(format!("member {id} has exited")));
        }
        let mut m = current.value.clone();
        if let Some(n) = update.name {
            m.name = n;
        }
        if update.registration_number.is_some() {
            m.registration_number = update.registration_number;
        }
        if update.contact_email.is_some() {
            m.contact_email = update.contact_email;
        }
        m.validate().map_err(MarketError::Invalid)?;
        Ok(self.store.append(&m, current.version).await?)
    }

    /// Operator moves a member along its lifecycle (approve, suspend,
    /// reinstate, expel); a member may also exit by itself.
    pub async fn set_member_status(
        &self,
        actor: &Actor,
        id: &str,
        to: MemberStatus,
    ) -> Result<Record<Member>> {
        let self_exit = actor.member_id == id && to == MemberStatus::Exited;
        if !self_exit {
            require_operator(actor, "change a member's status")?;
        }
        if id == crate::OPERATOR_ID {
            return Err(MarketError::Forbidden(
                "the operator account's status is fixed".into(),
            ));
        }
        let current = self.get_or_404::<Member>("member", id).await?;
        let mut m = current.value.clone();
        m.transition(to)?;
        Ok(self.store.append(&m, current.version).await?)
    }

    pub async fn export_member(&self, actor: &Actor, id: &str) -> Result<MemberExport> {
        require_self_or_operator(actor, id)?;
        let member = self.store.history::<Member>(id).await?;
        if member.is_empty() {
            return Err(MarketError::NotFound {
                what: "member",
                id: id.to_owned(),
            });
        }
        let mut units = Vec::new();
        for u in self.store.list_owned::<GeneratingUnit>(id).await? {
            units.push(self.store.history::<GeneratingUnit>(&u.id).await?);
        }
        let mut load_resources = Vec::new();
        for r in self.store.list_owned::<LoadResource>(id).await? {
            load_resources.push(self.store.history::<LoadResource>(&r.id).await?);
        }
        Ok(MemberExport {
            member,
            units,
            load_resources,
            declarations: self.store.member_declarations(id).await?,
        })
    }

    // ----- units and load resources

    /// Registers a unit for its owner (the owner itself or the operator acts).
    pub async fn register_unit(
        &self,
        actor: &Actor,
        unit: GeneratingUnit,
    ) -> Result<Record<GeneratingUnit>> {
        require_self_or_operator(actor, &unit.member_id)?;
        let mut v = unit.validate().err().unwrap_or_default();
        self.check_owner(
            &mut v,
            &unit.member_id,
            MemberKind::may_own_units,
            "own generating units",
        )
        .await?;
        self.check_bus(&mut v, unit.bus).await?;
        v.into_result().map_err(MarketError::Invalid)?;
        if self.store.get::<GeneratingUnit>(&unit.id).await?.is_some() {
            return Err(MarketError::AlreadyExists {
                what: "generating unit",
                id: unit.id,
            });
        }
        Ok(self.store.insert(&unit).await?)
    }

    /// A parameter change: a new version of the unit; ownership cannot change.
    pub async fn alter_unit(
        &self,
        actor: &Actor,
        unit: GeneratingUnit,
    ) -> Result<Record<GeneratingUnit>> {
        let current = self
            .get_or_404::<GeneratingUnit>("generating unit", &unit.id)
            .await?;
        require_self_or_operator(actor, &current.value.member_id)?;
        let mut v = unit.validate().err().unwrap_or_default();
        if unit.member_id != current.value.member_id {
            v.push(Violation::new(
                "member_id",
                "owner_fixed",
                unit.member_id.clone(),
                format!(
                    "unit {} belongs to {}; ownership cannot change",
                    unit.id, current.value.member_id
                ),
            ));
        }
        self.check_bus(&mut v, unit.bus).await?;
        v.into_result().map_err(MarketError::Invalid)?;
        Ok(self.store.append(&unit, current.version).await?)
    }

    pub async fn unit(&self, actor: &Actor, id: &str) -> Result<Vec<Record<GeneratingUnit>>> {
        let current = self
            .get_or_404::<GeneratingUnit>("generating unit", id)
            .await?;
        require_self_or_operator_hidden(actor, &current.value.member_id, "generating unit", id)?;
        Ok(self.store.history::<GeneratingUnit>(id).await?)
    }

    /// Own units (operator: all, or one member's).
    pub async fn units(
        &self,
        actor: &Actor,
        member: Option<&str>,
    ) -> Result<Vec<Record<GeneratingUnit>>> {
        self.owned_list::<GeneratingUnit>(actor, member).await
    }

    pub async fn register_load_resource(
        &self,
        actor: &Actor,
        res: LoadResource,
    ) -> Result<Record<LoadResource>> {
        require_self_or_operator(actor, &res.member_id)?;
        let mut v = res.validate().err().unwrap_or_default();
        self.check_owner(
            &mut v,
            &res.member_id,
            MemberKind::may_bid_demand,
            "own load resources",
        )
        .await?;
        self.check_bus(&mut v, res.bus).await?;
        v.into_result().map_err(MarketError::Invalid)?;
        if self.store.get::<LoadResource>(&res.id).await?.is_some() {
            return Err(MarketError::AlreadyExists {
                what: "load resource",
                id: res.id,
            });
        }
        Ok(self.store.insert(&res).await?)
    }

    pub async fn load_resources(
        &self,
        actor: &Actor,
        member: Option<&str>,
    ) -> Result<Vec<Record<LoadResource>>> {
        self.owned_list::<LoadResource>(actor, member).await
    }

    // ----- network

    /// Stores a network as the current network under its name (operator only).
    pub async fn import_network(&self, actor: &Actor, network: Network) -> Result<Record<Network>> {
        require_operator(actor, "import a network")?;
        if let Err(errors) = network.validate() {
            return Err(MarketError::Invalid(Violations(
                errors.iter().map(network_violation).collect(),
            )));
        }
        let current = self.store.get::<Network>(&network.name).await?;
        let expected = current.map(|r| r.version).unwrap_or(0);
        Ok(self.store.append(&network, expected).await?)
    }

    /// Parses a MATPOWER case and imports its network (operator only); errors
    /// point at the line and column of the case text.
    pub async fn import_matpower(
        &self,
        actor: &Actor,
        text: &str,
        name: Option<&str>,
    ) -> Result<Record<Network>> {
        require_operator(actor, "import a network")?;
        let case = voltex_formats::matpower::parse_case(text).map_err(|e| {
            MarketError::Invalid(Violations(vec![Violation::new(
                "case",
                "matpower_syntax",
                e.to_string(),
                e.to_string(),
            )]))
        })?;
        let mut network = case.network;
        if let Some(n) = name {
            network.name = n.to_owned();
        }
        self.import_network(actor, network).await
    }

    pub async fn networks(&self) -> Result<Vec<Record<Network>>> {
        Ok(self.store.list::<Network>().await?)
    }

    pub async fn network(&self, name: &str) -> Result<Record<Network>> {
        self.get_or_404::<Network>("network", name).await
    }

    // ----- helpers

    pub(crate) async fn get_or_404<T: Entity>(
        &self,
        what: &'static str,
        id: &str,
    ) -> Result<Record<T>> {
        self.store
            .get::<T>(id)
            .await?
            .ok_or_else(|| MarketError::NotFound {
                what,
                id: id.to_owned(),
            })
    }

    async fn owned_list<T: Entity>(
        &self,
        actor: &Actor,
        member: Option<&str>,
    ) -> Result<Vec<Record<T>>> {
        match (actor.is_operator(), member) {
            (true, None) => Ok(self.store.list::<T>().await?),
            (true, Some(m)) => Ok(self.store.list_owned::<T>(m).await?),
            (false, Some(m)) if m != actor.member_id => Err(MarketError::Forbidden(format!(
                "{} may list only its own resources",
                actor.member_id
            ))),
            (false, _) => Ok(self.store.list_owned::<T>(&actor.member_id).await?),
        }
    }

    async fn check_owner(
        &self,
        v: &mut Violations,
        member_id: &str,
        allowed: fn(MemberKind) -> bool,
        what: &str,
    ) -> Result<()> {
        match self.store.get::<Member>(member_id).await? {
            None => v.push(Violation::new(
                "member_id",
                "member_exists",
                member_id,
                format!("no member {member_id} is registered"),
            )),
            Some(m) if !allowed(m.value.kind) => v.push(Violation::new(
                "member_id",
                "member_kind_allows",
                member_id,
                format!("a {:?} member cannot {what}", m.value.kind),
            )),
            Some(m) if m.value.status == MemberStatus::Exited => v.push(Violation::new(
                "member_id",
                "member_not_exited",
                member_id,
                format!("member {member_id} has exited"),
            )),
            Some(_) => {}
        }
        Ok(())
    }

    /// With a network imported, units and resources must sit on one of its buses.
    async fn check_bus(&self, v: &mut Violations, bus: u32) -> Result<()> {
        let networks = self.store.list::<Network>().await?;
        if !networks.is_empty()
            && !networks
                .iter()
                .any(|n| n.value.buses.iter().any(|b| b.id == bus))
        {
            v.push(Violation::new(
                "bus",
                "bus_exists",
                bus,
                format!("bus {bus} is not in any imported network"),
            ));
        }
        Ok(())
    }
}

pub(crate) fn require_self_or_operator(actor: &Actor, member_id: &str) -> Result<()> {
    if actor.is_operator() || actor.member_id == member_id {
        Ok(())
    } else {
        Err(MarketError::Forbidden(format!(
            "{} may not act for member {member_id}",
            actor.member_id
        )))
    }
}

/// Like [`require_self_or_operator`], but a foreign caller learns nothing,
/// not even that the record exists.
pub(crate) fn require_self_or_operator_hidden(
    actor: &Actor,
    owner: &str,
    what: &'static str,
    id: &str,
) -> Result<()> {
    require_self_or_operator(actor, owner).map_err(|_| MarketError::NotFound {
        what,
        id: id.to_owned(),
    })
}

/// A network rule violation in the common shape: the rule is the error's
/// variant name in snake_case, the value its sentence.
fn network_violation(e: &voltex_model::network::NetworkError) -> Violation {
    let debug = format!("{e:?}");
    let variant: String = debug
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let mut rule = String::new();
    for (i, c) in variant.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                rule.push('_');
            }
            rule.push(c.to_ascii_lowercase());
        } else {
            rule.push(c);
        }
    }
    Violation::new("network", &rule, e.to_string(), e.to_string())
}
