//! Errors shared across the model: rule violations (reported all at once, each
//! naming the field, the rule and the offending value) and illegal state
//! transitions (naming both states).
use serde::{Deserialize, Serialize};
use std::fmt;

/// One broken rule: where (`field`, a JSON-path-like location such as
/// `intervals[3].segments[1].price`), which rule (a stable snake_case code),
/// the offending value, and a sentence a member or operator can act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Violation {
    pub field: String,
    pub rule: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub value: serde_json::Value,
    pub message: String,
}

impl Violation {
    pub fn new(
        field: impl Into<String>,
        rule: &str,
        value: impl Into<serde_json::Value>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            rule: rule.to_owned(),
            value: value.into(),
            message: message.into(),
        }
    }
}

/// Every violation found in one input. Never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, thiserror::Error)]
pub struct Violations(pub Vec<Violation>);

impl From<Vec<Violation>> for Violations {
    fn from(list: Vec<Violation>) -> Self {
        let mut v = Violations::default();
        for x in list {
            v.push(x);
        }
        v
    }
}

impl Violations {
    /// A single violation.
    pub fn one(
        field: impl Into<String>,
        rule: &str,
        value: impl Into<serde_json::Value>,
        message: impl Into<String>,
    ) -> Self {
        vec![Violation::new(field, rule, value, message)].into()
    }

    pub fn push(&mut self, v: Violation) {
        self.0.push(v);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Violation> {
        self.0.iter()
    }
    /// `Ok(())` when nothing was found, otherwise `Err(self)`.
    pub fn into_result(self) -> Result<(), Violations> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
    /// Whether a violation of `rule` at `field` was reported.
    pub fn has(&self, field: &str, rule: &str) -> bool {
        self.0.iter().any(|v| v.field == field && v.rule == rule)
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} rule violation(s)", self.0.len())?;
        for v in &self.0 {
            write!(f, "; {}: {} ({})", v.field, v.message, v.rule)?;
        }
        Ok(())
    }
}

/// An attempt to move a lifecycle (member, session) along an edge that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("illegal {entity} transition from {from} to {to}")]
pub struct TransitionError {
    pub entity: &'static str,
    pub from: String,
    pub to: String,
}
