//! Market members and their lifecycle (pending → active → suspended → exited).
use crate::error::{TransitionError, Violation, Violations};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of participant a member is; decides which declarations it may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MemberKind {
    Generator,
    Retailer,
    LargeConsumer,
    LoadAggregator,
    GridCompany,
    AncillaryServiceProvider,
    MarketOperator,
}

impl MemberKind {
    /// Members of this kind own generating units and may offer energy and ancillary services.
    pub fn may_own_units(self) -> bool {
        matches!(
            self,
            MemberKind::Generator
                | MemberKind::AncillaryServiceProvider
                | MemberKind::LoadAggregator
        )
    }
    /// Members of this kind buy energy and may submit demand bids.
    pub fn may_bid_demand(self) -> bool {
        matches!(
            self,
            MemberKind::Retailer
                | MemberKind::LargeConsumer
                | MemberKind::LoadAggregator
                | MemberKind::GridCompany
        )
    }
}

/// Where a member is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    /// Registered, waiting for the operator's approval; cannot trade.
    Pending,
    /// May declare.
    Active,
    /// Temporarily barred from declaring (e.g. credit, compliance); keeps its data.
    Suspended,
    /// Left the market; terminal. Its history stays readable and exportable.
    Exited,
}

impl fmt::Display for MemberStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            MemberStatus::Pending => "pending",
            MemberStatus::Active => "active",
            MemberStatus::Suspended => "suspended",
            MemberStatus::Exited => "exited",
        };
        f.write_str(s)
    }
}

impl MemberStatus {
    /// The lifecycle's edges. Exit is possible from every non-terminal state
    /// (an applicant may withdraw; a suspended member may be expelled).
    pub fn can_become(self, to: MemberStatus) -> bool {
        use MemberStatus::*;
        matches!(
            (self, to),
            (Pending, Active)
                | (Active, Suspended)
                | (Suspended, Active)
                | (Pending, Exited)
                | (Active, Exited)
                | (Suspended, Exited)
        )
    }
}

/// A market member as registered. Alterations create a new version in the
/// store; this struct is one version's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Stable identifier chosen at registration (letters, digits, `-`, `_`).
    pub id: String,
    pub name: String,
    pub kind: MemberKind,
    pub status: MemberStatus,
    /// Unified social credit code or another registry number of the legal entity.
    #[serde(default)]
    pub registration_number: Option<String>,
    #[serde(default)]
    pub contact_email: Option<String>,
}

impl Member {
    /// A new applicant: always starts pending.
    pub fn apply(id: impl Into<String>, name: impl Into<String>, kind: MemberKind) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            kind,
            status: MemberStatus::Pending,
            registration_number: None,
            contact_email: None,
        }
    }

    /// Moves the lifecycle, or names both states if the edge does not exist.
    pub fn transition(&mut self, to: MemberStatus) -> Result<(), TransitionError> {
        if !self.status.can_become(to) {
            return Err(TransitionError {
                entity: "member",
                from: self.status.to_string(),
                to: to.to_string(),
            });
        }
        self.status = to;
        Ok(())
    }

    /// Field rules for registration and alteration.
    pub fn validate(&self) -> Result<(), Violations> {
        let mut v = Violations::default();
        check_identifier(&mut v, "id", &self.id);
        if self.name.trim().is_empty() {
            v.push(Violation::new(
                "name",
                "required",
                self.name.clone(),
                "name must not be empty",
            ));
        }
        if let Some(email) = &self.contact_email
            && !email.contains('@')
        {
            v.push(Violation::new(
                "contact_email",
                "email_format",
                email.clone(),
                "contact e-mail must contain '@'",
            ));
        }
        v.into_result()
    }
}

/// Identifiers appear in URLs, file names and E-file rows: keep them plain.
pub(crate) fn check_identifier(v: &mut Violations, field: &str, id: &str) {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if !ok {
        v.push(Violation::new(
            field,
            "identifier_format",
            id.to_owned(),
            "identifier must be 1-64 characters of letters, digits, '-', '_' or '.'",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MemberStatus::*;

    const ALL: [MemberStatus; 4] = [Pending, Active, Suspended, Exited];

    #[test]
    fn lifecycle_allows_exactly_the_documented_edges() {
        let legal = [
            (Pending, Active),
            (Active, Suspended),
            (Suspended, Active),
            (Pending, Exited),
            (Active, Exited),
            (Suspended, Exited),
        ];
        for from in ALL {
            for to in ALL {
                let mut m = Member::apply("m1", "M", MemberKind::Retailer);
                m.status = from;
                let r = m.transition(to);
                if legal.contains(&(from, to)) {
                    assert!(r.is_ok(), "{from} -> {to} should be legal");
                    assert_eq!(m.status, to);
                } else {
                    let e = r.unwrap_err();
                    assert_eq!(e.from, from.to_string());
                    assert_eq!(e.to, to.to_string());
                    assert!(e.to_string().contains(&format!("from {from} to {to}")));
                    assert_eq!(m.status, from, "a refused transition changes nothing");
                }
            }
        }
    }

    #[test]
    fn rejects_member_id_with_spaces() {
        let m = Member::apply("bad id", "Name", MemberKind::Generator);
        let e = m.validate().unwrap_err();
        assert!(e.has("id", "identifier_format"));
    }

    #[test]
    fn rejects_empty_member_name() {
        let m = Member::apply("ok", " ", MemberKind::Generator);
        assert!(m.validate().unwrap_err().has("name", "required"));
    }
}
