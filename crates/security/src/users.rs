//! Who may create, and disable, which user: the rules every way of managing
//! users applies (the API, `voltex users add`, the portal).
//!
//! A user id is 3 to 64 ASCII letters, digits, `.`, `_` or `-`. Member staff
//! (administrator, trader, viewer) belong to exactly one current member;
//! operators and auditors to none. The platform's own command line and
//! operators create anyone; a member administrator creates administrators,
//! traders and viewers of its own member only. The password meets
//! [`crate::password::check_password_policy`]. [`check_new_user`] applies
//! these in that order and names the first one broken ([`UserRefusal`]
//! says which field and rule, for the caller's error shape).
//!
//! An operator disables anyone, a member administrator users of its own
//! member; nobody disables itself ([`check_disable`]).
//!
//! This module decides only: it reads no user or member (the caller says
//! whether the named member is current) and stores nothing.

use serde_json::Value;

use crate::error::SecurityError;
use crate::password::check_password_policy;
use crate::roles::{Principal, Role};

/// The shortest and longest user id, in ASCII characters.
pub const USER_ID_LEN: std::ops::RangeInclusive<usize> = 3..=64;

/// A user to create, as requested.
#[derive(Clone, Copy)]
pub struct UserRequest<'a> {
    pub id: &'a str,
    pub role: Role,
    pub member_id: Option<&'a str>,
    pub password: &'a str,
}

impl std::fmt::Debug for UserRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRequest")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("member_id", &self.member_id)
            .field("password", &"<secret>")
            .finish()
    }
}

/// Why a user may not be created (or disabled) as asked.
#[derive(Debug, thiserror::Error)]
pub enum UserRefusal {
    #[error("a user id is 3 to 64 ASCII letters, digits, '.', '_' or '-'")]
    UserIdFormat { id: String },
    #[error("member administrators, traders and viewers belong to a member: name it")]
    MemberRequired,
    #[error("operators and auditors belong to no member")]
    MemberNotAllowed { member_id: String },
    /// The creator may not create this user (a 403, not a validation error).
    #[error("a {creator} may create only users of its own member ({own}) with member roles")]
    NotYours { creator: Role, own: String },
    #[error("no such member (or it has exited)")]
    NoSuchMember { member_id: String },
    #[error("{0}")]
    Password(SecurityError),
    /// The user to disable is the one asking.
    #[error("a user cannot disable itself")]
    DisablesSelf,
    /// The user to disable is not the caller's to manage; to the caller it
    /// does not exist.
    #[error("no user {id}")]
    NotFound { id: String },
}

impl UserRefusal {
    /// The request field a validation refusal is about, the rule it broke
    /// and the offending value (never a password); `None` for refusals that
    /// are not about one field (permission, self-disable, not found).
    pub fn violation(&self) -> Option<(&'static str, &'static str, Value)> {
        Some(match self {
            UserRefusal::UserIdFormat { id } => ("id", "user_id_format", id.as_str().into()),
            UserRefusal::MemberRequired => ("member_id", "required_for_member_staff", Value::Null),
            UserRefusal::MemberNotAllowed { member_id } => (
                "member_id",
                "absent_for_platform_staff",
                member_id.as_str().into(),
            ),
            UserRefusal::NoSuchMember { member_id } => (
                "member_id",
                "is_registered_member",
                member_id.as_str().into(),
            ),
            UserRefusal::Password(_) => ("password", "password_policy", Value::Null),
            UserRefusal::NotYours { .. }
            | UserRefusal::DisablesSelf
            | UserRefusal::NotFound { .. } => return None,
        })
    }
}

/// Checks a user id's format.
pub fn check_user_id(id: &str) -> Result<(), UserRefusal> {
    let ok = USER_ID_LEN.contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(UserRefusal::UserIdFormat { id: id.to_owned() })
    }
}

/// Whether `creator` (`None`: the platform's own command line) may create
/// `req`, with `member_is_current` saying whether the member `req` names is
/// a current one (ignored when it names none). The first rule broken, in
/// the order of the module documentation.
pub fn check_new_user(
    creator: Option<&Principal>,
    req: &UserRequest<'_>,
    member_is_current: bool,
) -> Result<(), UserRefusal> {
    check_user_id(req.id)?;
    match (req.role.is_member_staff(), req.member_id) {
        (true, None) => return Err(UserRefusal::MemberRequired),
        (false, Some(m)) => {
            return Err(UserRefusal::MemberNotAllowed {
                member_id: m.to_owned(),
            });
        }
        _ => {}
    }
    if let Some(c) = creator
        && c.role != Role::Operator
    {
        let own = c.member_id.as_deref();
        if c.role != Role::MemberAdministrator
            || !req.role.is_member_staff()
            || req.member_id != own
        {
            return Err(UserRefusal::NotYours {
                creator: c.role,
                own: own.unwrap_or("none").to_owned(),
            });
        }
    }
    if let Some(m) = req.member_id
        && !member_is_current
    {
        return Err(UserRefusal::NoSuchMember {
            member_id: m.to_owned(),
        });
    }
    check_password_policy(req.password).map_err(UserRefusal::Password)
}

/// Whether `by` may disable user `id` of member `member_id` (`None`:
/// platform staff).
pub fn check_disable(by: &Principal, id: &str, member_id: Option<&str>) -> Result<(), UserRefusal> {
    let manages = match by.role {
        Role::Operator => true,
        Role::MemberAdministrator => member_id.is_some() && member_id == by.member_id.as_deref(),
        _ => false,
    };
    if !manages {
        return Err(UserRefusal::NotFound { id: id.to_owned() });
    }
    if id == by.user_id {
        return Err(UserRefusal::DisablesSelf);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::AuthStrength;

    fn principal(role: Role, member: Option<&str>) -> Principal {
        Principal {
            user_id: "boss".into(),
            role,
            member_id: member.map(str::to_owned),
            strength: AuthStrength::PasswordAndTotp,
        }
    }

    fn req<'a>(id: &'a str, role: Role, member: Option<&'a str>) -> UserRequest<'a> {
        UserRequest {
            id,
            role,
            member_id: member,
            password: "a long enough passphrase",
        }
    }

    fn rule(r: Result<(), UserRefusal>) -> &'static str {
        match r {
            Ok(()) => "ok",
            Err(UserRefusal::NotYours { .. }) => "not_yours",
            Err(e) => e.violation().expect("a validation refusal").1,
        }
    }

    #[test]
    fn user_ids_are_three_to_sixty_four_safe_ascii_characters() {
        for ok in ["ops", "olga.k_2-x", &"a".repeat(64)] {
            assert!(check_user_id(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", &"a".repeat(65), "olga k", "ölga", "a/b", ""] {
            assert!(check_user_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn member_staff_name_a_current_member_and_platform_staff_none() {
        let t = Role::MemberTrader;
        assert_eq!(
            rule(check_new_user(None, &req("t1", t, None), true)),
            "user_id_format"
        );
        assert_eq!(
            rule(check_new_user(None, &req("trader", t, None), true)),
            "required_for_member_staff"
        );
        assert_eq!(
            rule(check_new_user(
                None,
                &req("ops", Role::Auditor, Some("GEN-A")),
                true
            )),
            "absent_for_platform_staff"
        );
        assert_eq!(
            rule(check_new_user(
                None,
                &req("trader", t, Some("GEN-A")),
                false
            )),
            "is_registered_member"
        );
        assert_eq!(
            rule(check_new_user(None, &req("trader", t, Some("GEN-A")), true)),
            "ok"
        );
        let short = UserRequest {
            password: "short",
            ..req("trader", t, Some("GEN-A"))
        };
        assert_eq!(rule(check_new_user(None, &short, true)), "password_policy");
        assert_eq!(
            rule(check_new_user(
                None,
                &req("ops", Role::Operator, None),
                true
            )),
            "ok"
        );
    }

    #[test]
    fn a_member_administrator_creates_member_staff_of_its_own_member_only() {
        let admin = principal(Role::MemberAdministrator, Some("GEN-A"));
        let admin = Some(&admin);
        for role in [
            Role::MemberAdministrator,
            Role::MemberTrader,
            Role::MemberViewer,
        ] {
            assert_eq!(
                rule(check_new_user(
                    admin,
                    &req("u1x", role, Some("GEN-A")),
                    true
                )),
                "ok"
            );
            assert_eq!(
                rule(check_new_user(
                    admin,
                    &req("u1x", role, Some("GEN-B")),
                    true
                )),
                "not_yours"
            );
        }
        for role in [Role::Operator, Role::Auditor] {
            assert_eq!(
                rule(check_new_user(admin, &req("u1x", role, None), true)),
                "not_yours"
            );
        }
        // The permission is refused before the member is looked at.
        assert_eq!(
            rule(check_new_user(
                admin,
                &req("u1x", Role::MemberTrader, Some("GEN-B")),
                false
            )),
            "not_yours"
        );
        for role in [Role::MemberTrader, Role::MemberViewer, Role::Auditor] {
            let p = principal(role, Some("GEN-A"));
            assert_eq!(
                rule(check_new_user(
                    Some(&p),
                    &req("u1x", Role::MemberViewer, Some("GEN-A")),
                    true
                )),
                "not_yours",
                "{role}"
            );
        }
        let op = principal(Role::Operator, None);
        assert_eq!(
            rule(check_new_user(
                Some(&op),
                &req("u1x", Role::Auditor, None),
                true
            )),
            "ok"
        );
    }

    #[test]
    fn operators_disable_anyone_but_themselves_and_administrators_their_members_users() {
        let op = principal(Role::Operator, None);
        assert!(check_disable(&op, "t1x", Some("GEN-B")).is_ok());
        assert!(matches!(
            check_disable(&op, "boss", None),
            Err(UserRefusal::DisablesSelf)
        ));
        let admin = principal(Role::MemberAdministrator, Some("GEN-A"));
        assert!(check_disable(&admin, "t1x", Some("GEN-A")).is_ok());
        for other in [Some("GEN-B"), None] {
            assert!(matches!(
                check_disable(&admin, "t1x", other),
                Err(UserRefusal::NotFound { .. })
            ));
        }
        let trader = principal(Role::MemberTrader, Some("GEN-A"));
        assert!(check_disable(&trader, "t1x", Some("GEN-A")).is_err());
    }
}
