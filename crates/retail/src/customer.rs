//! A retailer's end customers (用户) and their metering points (计量点):
//! the account, its lifecycle prospect → signed → active → suspended →
//! terminated (every step a new stored version, so the history is the
//! store's), and which meters measure it. Validation here; storage is the
//! service's (`service`). Tables in crates/store/migrations/0010_retail.sql.
use serde::{Deserialize, Serialize};
use voltex_model::{TransitionError, Violation, Violations};
use voltex_store::Entity;

/// Supply voltage level (电压等级).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum VoltageLevel {
    #[serde(rename = "0.4kV")]
    Kv0_4,
    #[serde(rename = "10kV")]
    Kv10,
    #[serde(rename = "35kV")]
    Kv35,
    #[serde(rename = "110kV")]
    Kv110,
    #[serde(rename = "220kV")]
    Kv220,
}

impl VoltageLevel {
    pub const ALL: [VoltageLevel; 5] = [
        VoltageLevel::Kv0_4,
        VoltageLevel::Kv10,
        VoltageLevel::Kv35,
        VoltageLevel::Kv110,
        VoltageLevel::Kv220,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VoltageLevel::Kv0_4 => "0.4kV",
            VoltageLevel::Kv10 => "10kV",
            VoltageLevel::Kv35 => "35kV",
            VoltageLevel::Kv110 => "110kV",
            VoltageLevel::Kv220 => "220kV",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Where a customer is in its life with the retailer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerStatus {
    Prospect,
    Signed,
    Active,
    Suspended,
    Terminated,
}

impl CustomerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerStatus::Prospect => "prospect",
            CustomerStatus::Signed => "signed",
            CustomerStatus::Active => "active",
            CustomerStatus::Suspended => "suspended",
            CustomerStatus::Terminated => "terminated",
        }
    }

    /// The edges of the lifecycle.
    pub fn can_become(self, to: CustomerStatus) -> bool {
        use CustomerStatus::*;
        matches!(
            (self, to),
            (Prospect, Signed)
                | (Prospect, Terminated)
                | (Signed, Active)
                | (Signed, Terminated)
                | (Active, Suspended)
                | (Active, Terminated)
                | (Suspended, Active)
                | (Suspended, Terminated)
        )
    }
}

/// A contact person of a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    pub phone: String,
    #[serde(default)]
    pub email: String,
}

/// A customer account (one record per account number; versions are its
/// history).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// Account number, unique per platform (`C0001`).
    pub id: String,
    /// The retailer (market member) whose customer this is.
    pub retailer_id: String,
    pub name: String,
    /// Unified social credit code (统一社会信用代码), 18 characters.
    pub credit_code: String,
    pub industry: String,
    pub voltage: VoltageLevel,
    /// Contracted (transformer) capacity in kVA.
    pub contracted_kva: i64,
    pub status: CustomerStatus,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    /// Users (of the retail-customer role) who may see this account.
    #[serde(default)]
    pub portal_users: Vec<String>,
}

impl Customer {
    /// Every broken rule of a new or amended account.
    pub fn validate(&self) -> Result<(), Violations> {
        let mut v = Violations::default();
        if self.id.is_empty()
            || self.id.len() > 32
            || !self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            v.push(Violation::new(
                "id",
                "account_number",
                self.id.clone(),
                "an account number is 1-32 letters, digits, '-' or '_'",
            ));
        }
        if self.name.trim().is_empty() {
            v.push(Violation::new(
                "name",
                "required",
                self.name.clone(),
                "a customer has a name",
            ));
        }
        if self.credit_code.chars().count() != 18
            || !self.credit_code.chars().all(|c| c.is_ascii_alphanumeric())
        {
            v.push(Violation::new(
                "credit_code",
                "unified_social_credit_code",
                self.credit_code.clone(),
                "a unified social credit code is 18 letters or digits",
            ));
        }
        if self.contracted_kva <= 0 {
            v.push(Violation::new(
                "contracted_kva",
                "positive",
                self.contracted_kva,
                "contracted capacity is a positive number of kVA",
            ));
        }
        v.into_result()
    }

    /// Moves the account along its lifecycle.
    pub fn transition(&mut self, to: CustomerStatus) -> Result<(), TransitionError> {
        if !self.status.can_become(to) {
            return Err(TransitionError {
                entity: "customer",
                from: self.status.as_str().to_owned(),
                to: to.as_str().to_owned(),
            });
        }
        self.status = to;
        Ok(())
    }
}

impl Entity for Customer {
    const TABLE: &'static str = "retail_customers";
    const NAME: &'static str = "retail customer";
    /// Names, credit codes and contacts: commercial and personal data.
    const SENSITIVE: bool = true;
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        self.id.clone()
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.retailer_id)
    }
}

/// A metering point: the meter that measures (part of) a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeteringPoint {
    /// Meter id, unique per platform.
    pub id: String,
    pub customer_id: String,
    pub retailer_id: String,
    /// CT/VT multiplier (倍率): the file's kWh are already multiplied when
    /// 1; the importer multiplies the register's kWh by this.
    pub multiplier: i64,
    /// Interval length of its load profile: 15 or 60 minutes.
    pub interval_minutes: u32,
}

impl MeteringPoint {
    pub fn validate(&self) -> Result<(), Violations> {
        let mut v = Violations::default();
        if self.id.is_empty() || self.id.contains(':') {
            v.push(Violation::new(
                "id",
                "meter_id",
                self.id.clone(),
                "a meter id is non-empty and has no ':'",
            ));
        }
        if self.multiplier <= 0 {
            v.push(Violation::new(
                "multiplier",
                "positive",
                self.multiplier,
                "the multiplier is a positive integer",
            ));
        }
        if !matches!(self.interval_minutes, 15 | 60) {
            v.push(Violation::new(
                "interval_minutes",
                "fifteen_or_sixty",
                self.interval_minutes,
                "meters record 15-minute or hourly intervals",
            ));
        }
        v.into_result()
    }
}

impl Entity for MeteringPoint {
    const TABLE: &'static str = "retail_metering_points";
    const NAME: &'static str = "metering point";
    /// Which meter measures which customer.
    const SENSITIVE: bool = true;
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        self.id.clone()
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.retailer_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn customer() -> Customer {
        Customer {
            id: "C0001".into(),
            retailer_id: "RET1".into(),
            name: "Foshan Ceramics".into(),
            credit_code: "91440600MA4UJ1234X".into(),
            industry: "ceramics".into(),
            voltage: VoltageLevel::Kv10,
            contracted_kva: 800,
            status: CustomerStatus::Prospect,
            contacts: vec![],
            portal_users: vec![],
        }
    }

    #[test]
    fn lifecycle_follows_prospect_signed_active_suspended_terminated() {
        let mut c = customer();
        c.transition(CustomerStatus::Signed).unwrap();
        c.transition(CustomerStatus::Active).unwrap();
        c.transition(CustomerStatus::Suspended).unwrap();
        c.transition(CustomerStatus::Active).unwrap();
        c.transition(CustomerStatus::Terminated).unwrap();
        let err = c.transition(CustomerStatus::Active).unwrap_err();
        assert_eq!(
            (err.from.as_str(), err.to.as_str()),
            ("terminated", "active")
        );
    }

    #[test]
    fn prospect_cannot_become_active_without_signing() {
        let mut c = customer();
        assert!(c.transition(CustomerStatus::Active).is_err());
        assert_eq!(c.status, CustomerStatus::Prospect);
    }

    #[test]
    fn rejects_bad_credit_code_and_capacity_naming_fields() {
        let mut c = customer();
        c.credit_code = "123".into();
        c.contracted_kva = 0;
        let v = c.validate().unwrap_err();
        assert!(v.has("credit_code", "unified_social_credit_code"));
        assert!(v.has("contracted_kva", "positive"));
        assert!(customer().validate().is_ok());
    }

    #[test]
    fn voltage_levels_round_trip_by_name() {
        for v in VoltageLevel::ALL {
            assert_eq!(VoltageLevel::parse(v.as_str()), Some(v));
        }
        assert_eq!(VoltageLevel::parse("6kV"), None);
    }
}
