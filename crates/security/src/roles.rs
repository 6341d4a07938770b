//! Roles, permissions and tenant isolation, as one table the server consults.
//!
//! Ten roles exist. Platform staff (operator, auditor) belong to no member;
//! member staff (administrator, trader, viewer) belong to exactly one member
//! and may touch only that member's private data. A retailer member's retail
//! staff (account manager, billing, retail trader, retail administrator) work
//! on its retail book, and its retail customers' users see only their own
//! account (which account is `voltex-retail`'s check); none of the retail
//! roles reads the member's market data. Every endpoint declares the
//! [`Permission`] it needs; [`authorize`] decides. Permissions marked *core*
//! additionally require proof of possession of a member or operator
//! certificate (a signed request, or a TLS client certificate).
//!
//! This module decides; it does not authenticate anyone and does no I/O.

use serde::{Deserialize, Serialize};

use crate::error::{Result, SecurityError};

/// Who a user is to the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Market operator staff: runs sessions, clearing, publication; manages members.
    Operator,
    /// Manages one member's users and certificates; reads its private data.
    MemberAdministrator,
    /// Declares bids and offers for one member; reads its private data.
    MemberTrader,
    /// Reads one member's private data; changes nothing.
    MemberViewer,
    /// Reads everything, including the audit log; changes nothing.
    Auditor,
    /// An end customer of a retailer: its own account, bills and contracts.
    RetailCustomer,
    /// Retail staff: customers, metering points and contracts.
    RetailAccountManager,
    /// Retail staff: meter data, rating and invoices.
    RetailBilling,
    /// Retail staff: purchasing, trading plan and profit.
    RetailTrader,
    /// Retail staff: all of the above, and the package catalogue.
    RetailAdministrator,
}

impl Role {
    /// All roles, in table order.
    pub const ALL: [Role; 10] = [
        Role::Operator,
        Role::MemberAdministrator,
        Role::MemberTrader,
        Role::MemberViewer,
        Role::Auditor,
        Role::RetailCustomer,
        Role::RetailAccountManager,
        Role::RetailBilling,
        Role::RetailTrader,
        Role::RetailAdministrator,
    ];

    /// Stable lower-case name, used in certificates, tokens and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::MemberAdministrator => "member-administrator",
            Role::MemberTrader => "member-trader",
            Role::MemberViewer => "member-viewer",
            Role::Auditor => "auditor",
            Role::RetailCustomer => "retail-customer",
            Role::RetailAccountManager => "retail-account-manager",
            Role::RetailBilling => "retail-billing",
            Role::RetailTrader => "retail-trader",
            Role::RetailAdministrator => "retail-administrator",
        }
    }

    /// Whether users with this role belong to a member (tenant): the
    /// member's own staff, its retail staff and its retail customers.
    pub fn is_member_staff(self) -> bool {
        matches!(
            self,
            Role::MemberAdministrator | Role::MemberTrader | Role::MemberViewer
        ) || self.is_retail()
    }

    /// Whether the role works in a retailer's retail book (staff or customer).
    pub fn is_retail(self) -> bool {
        matches!(
            self,
            Role::RetailCustomer
                | Role::RetailAccountManager
                | Role::RetailBilling
                | Role::RetailTrader
                | Role::RetailAdministrator
        )
    }

    /// Whether the role holds `permission` (the table in docs/security.md).
    pub fn permits(self, permission: Permission) -> bool {
        use Permission as P;
        use Role as R;
        match permission {
            P::ReadPublicData => true,
            P::ReadOwnPrivateData => matches!(
                self,
                R::MemberAdministrator | R::MemberTrader | R::MemberViewer
            ),
            P::SubmitDeclaration | P::WithdrawDeclaration => self == R::MemberTrader,
            P::ManageOwnUsers | P::ManageOwnCertificates | P::ManageOwnRegistration => {
                self == R::MemberAdministrator
            }
            P::ReadAllPrivateData => matches!(self, R::Operator | R::Auditor),
            P::OperateMarket | P::ManageMembers | P::IssueCertificates => self == R::Operator,
            P::ReadAuditLog => matches!(self, R::Operator | R::Auditor),
            P::ReadOwnRetailAccount => self == R::RetailCustomer,
            P::ReadRetailBook => matches!(
                self,
                R::RetailAccountManager
                    | R::RetailBilling
                    | R::RetailTrader
                    | R::RetailAdministrator
            ),
            P::ManageRetailCustomers => {
                matches!(self, R::RetailAccountManager | R::RetailAdministrator)
            }
            P::ManageRetailBilling => matches!(self, R::RetailBilling | R::RetailAdministrator),
            P::ManageRetailPurchasing => matches!(self, R::RetailTrader | R::RetailAdministrator),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = SecurityError;
    fn from_str(s: &str) -> Result<Self> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| SecurityError::UnknownRole(s.to_string()))
    }
}

/// What an endpoint or action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Permission {
    /// Published prices, results, market information.
    ReadPublicData,
    /// The caller's own member's declarations, receipts, results, settlements.
    ReadOwnPrivateData,
    /// Submit a bid/offer declaration for the caller's own member (core).
    SubmitDeclaration,
    /// Withdraw or supersede the caller's own member's declaration (core).
    WithdrawDeclaration,
    /// Create, disable and re-role users of the caller's own member.
    ManageOwnUsers,
    /// Request or revoke certificates of the caller's own member.
    ManageOwnCertificates,
    /// Alter the caller's own member's registration: its details, its units
    /// and load resources, and its exit from the market.
    ManageOwnRegistration,
    /// Any member's private data (operator oversight, audit).
    ReadAllPrivateData,
    /// Open/close sessions, gate closure, clearing, publication, settlement (core).
    OperateMarket,
    /// Register, suspend and change members (core).
    ManageMembers,
    /// Issue and revoke member certificates (core).
    IssueCertificates,
    /// Read and verify the audit log.
    ReadAuditLog,
    /// A retail customer's own account, bills and contracts.
    ReadOwnRetailAccount,
    /// The caller's retailer's whole retail book (customers, bills, contracts).
    ReadRetailBook,
    /// Register customers, metering points and contracts; change their status.
    ManageRetailCustomers,
    /// Import meter data, rate and re-rate bills.
    ManageRetailBilling,
    /// Purchase contracts, trading plan, purchase settlement.
    ManageRetailPurchasing,
}

impl Permission {
    /// All permissions, in table order.
    pub const ALL: [Permission; 17] = [
        Permission::ReadPublicData,
        Permission::ReadOwnPrivateData,
        Permission::SubmitDeclaration,
        Permission::WithdrawDeclaration,
        Permission::ManageOwnUsers,
        Permission::ManageOwnCertificates,
        Permission::ManageOwnRegistration,
        Permission::ReadAllPrivateData,
        Permission::OperateMarket,
        Permission::ManageMembers,
        Permission::IssueCertificates,
        Permission::ReadAuditLog,
        Permission::ReadOwnRetailAccount,
        Permission::ReadRetailBook,
        Permission::ManageRetailCustomers,
        Permission::ManageRetailBilling,
        Permission::ManageRetailPurchasing,
    ];

    /// Stable name for messages and the docs table.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ReadPublicData => "read-public-data",
            Permission::ReadOwnPrivateData => "read-own-private-data",
            Permission::SubmitDeclaration => "submit-declaration",
            Permission::WithdrawDeclaration => "withdraw-declaration",
            Permission::ManageOwnUsers => "manage-own-users",
            Permission::ManageOwnCertificates => "manage-own-certificates",
            Permission::ManageOwnRegistration => "manage-own-registration",
            Permission::ReadAllPrivateData => "read-all-private-data",
            Permission::OperateMarket => "operate-market",
            Permission::ManageMembers => "manage-members",
            Permission::IssueCertificates => "issue-certificates",
            Permission::ReadAuditLog => "read-audit-log",
            Permission::ReadOwnRetailAccount => "read-own-retail-account",
            Permission::ReadRetailBook => "read-retail-book",
            Permission::ManageRetailCustomers => "manage-retail-customers",
            Permission::ManageRetailBilling => "manage-retail-billing",
            Permission::ManageRetailPurchasing => "manage-retail-purchasing",
        }
    }

    /// Core actions need proof of certificate possession on top of password + TOTP.
    pub fn is_core(self) -> bool {
        matches!(
            self,
            Permission::SubmitDeclaration
                | Permission::WithdrawDeclaration
                | Permission::OperateMarket
                | Permission::ManageMembers
                | Permission::IssueCertificates
        )
    }

    /// Whether the permission acts on one member's private data, so that the
    /// caller's member must be the data's owner.
    pub fn is_tenant_scoped(self) -> bool {
        matches!(
            self,
            Permission::ReadOwnPrivateData
                | Permission::SubmitDeclaration
                | Permission::WithdrawDeclaration
                | Permission::ManageOwnUsers
                | Permission::ManageOwnCertificates
                | Permission::ManageOwnRegistration
                | Permission::ReadOwnRetailAccount
                | Permission::ReadRetailBook
                | Permission::ManageRetailCustomers
                | Permission::ManageRetailBilling
                | Permission::ManageRetailPurchasing
        )
    }
}

/// How strongly a request's caller was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthStrength {
    /// A valid session from password + TOTP.
    PasswordAndTotp,
    /// Password + TOTP, and the request was signed with (or came over TLS
    /// with) a certificate that verifies for the same member and role.
    Certificate,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user_id: String,
    pub role: Role,
    /// The member the user belongs to; `None` for operator and auditor.
    pub member_id: Option<String>,
    pub strength: AuthStrength,
}

/// Decides whether `principal` may use `permission` on data owned by
/// `owner_member` (`None` for public or platform-wide data).
///
/// Order of checks: role table, then authentication strength for core
/// actions, then tenant isolation for member-scoped permissions.
pub fn authorize(
    principal: &Principal,
    permission: Permission,
    owner_member: Option<&str>,
) -> Result<()> {
    if !principal.role.permits(permission) {
        return Err(SecurityError::Forbidden {
            role: principal.role.as_str(),
            permission: permission.as_str(),
        });
    }
    if permission.is_core() && principal.strength < AuthStrength::Certificate {
        return Err(SecurityError::Forbidden {
            role: principal.role.as_str(),
            permission: "perform a core action without proof of certificate possession",
        });
    }
    if permission.is_tenant_scoped() {
        let actor = principal
            .member_id
            .as_deref()
            .ok_or(SecurityError::Forbidden {
                role: principal.role.as_str(),
                permission: "act for a member without belonging to one",
            })?;
        if let Some(owner) = owner_member
            && owner != actor
        {
            return Err(SecurityError::ForeignTenant {
                role: principal.role.as_str(),
                actor_member: actor.to_string(),
                owner_member: owner.to_string(),
            });
        }
    }
    Ok(())
}

/// The permission table as Markdown (used to keep docs/security.md honest).
pub fn permission_table_markdown() -> String {
    let mut s = String::from("| permission | core |");
    for r in Role::ALL {
        s.push_str(&format!(" {} |", r.as_str()));
    }
    s.push_str("\n|---|---|");
    for _ in Role::ALL {
        s.push_str("---|");
    }
    for p in Permission::ALL {
        s.push_str(&format!(
            "\n| {} | {} |",
            p.as_str(),
            if p.is_core() { "yes" } else { "" }
        ));
        for r in Role::ALL {
            s.push_str(if r.permits(p) { " ✔ |" } else { " |" });
        }
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, member: Option<&str>, strength: AuthStrength) -> Principal {
        Principal {
            user_id: format!("{role}-user"),
            role,
            member_id: member.map(str::to_string),
            strength,
        }
    }

    /// Expected outcome for every role × permission, written out by hand so that
    /// a change to `Role::permits` must also change this table.
    const EXPECTED: [(Permission, [u8; 10]); 17] = {
        use Permission as P;
        // operator, member admin, trader, viewer, auditor;
        // retail customer, account manager, billing, retail trader, retail admin
        [
            (P::ReadPublicData, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
            (P::ReadOwnPrivateData, [0, 1, 1, 1, 0, 0, 0, 0, 0, 0]),
            (P::SubmitDeclaration, [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]),
            (P::WithdrawDeclaration, [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]),
            (P::ManageOwnUsers, [0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
            (P::ManageOwnCertificates, [0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
            (P::ManageOwnRegistration, [0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
            (P::ReadAllPrivateData, [1, 0, 0, 0, 1, 0, 0, 0, 0, 0]),
            (P::OperateMarket, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            (P::ManageMembers, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            (P::IssueCertificates, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            (P::ReadAuditLog, [1, 0, 0, 0, 1, 0, 0, 0, 0, 0]),
            (P::ReadOwnRetailAccount, [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]),
            (P::ReadRetailBook, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]),
            (P::ManageRetailCustomers, [0, 0, 0, 0, 0, 0, 1, 0, 0, 1]),
            (P::ManageRetailBilling, [0, 0, 0, 0, 0, 0, 0, 1, 0, 1]),
            (P::ManageRetailPurchasing, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]),
        ]
    };

    #[test]
    fn every_role_gets_exactly_the_documented_permissions() {
        for (perm, row) in EXPECTED {
            for (role, want) in Role::ALL.into_iter().zip(row) {
                let want = want == 1;
                let member = role.is_member_staff().then_some("M1");
                let p = principal(role, member, AuthStrength::Certificate);
                let got = authorize(&p, perm, member).is_ok();
                assert_eq!(got, want, "{role} / {}", perm.as_str());
            }
        }
    }

    #[test]
    fn member_staff_cannot_touch_a_foreign_members_private_data() {
        for role in [
            Role::MemberAdministrator,
            Role::MemberTrader,
            Role::MemberViewer,
        ] {
            let p = principal(role, Some("GEN-A"), AuthStrength::Certificate);
            for perm in Permission::ALL.into_iter().filter(|p| p.is_tenant_scoped()) {
                if role.permits(perm) {
                    assert!(authorize(&p, perm, Some("GEN-A")).is_ok());
                    let err = authorize(&p, perm, Some("RET-B")).unwrap_err();
                    assert!(
                        matches!(err, SecurityError::ForeignTenant { .. }),
                        "{role} {perm:?}: {err}"
                    );
                }
            }
            assert!(authorize(&p, Permission::ReadAllPrivateData, Some("RET-B")).is_err());
        }
    }

    #[test]
    fn retail_roles_reach_only_their_own_retailers_book_and_no_market_data() {
        for role in Role::ALL.into_iter().filter(|r| r.is_retail()) {
            assert!(role.is_member_staff(), "{role} belongs to a retailer");
            let p = principal(role, Some("RET-A"), AuthStrength::PasswordAndTotp);
            for perm in Permission::ALL {
                if !role.permits(perm) || !perm.is_tenant_scoped() {
                    continue;
                }
                assert!(
                    authorize(&p, perm, Some("RET-A")).is_ok(),
                    "{role} {perm:?}"
                );
                let err = authorize(&p, perm, Some("RET-B")).unwrap_err();
                assert!(
                    matches!(err, SecurityError::ForeignTenant { .. }),
                    "{role}: {err}"
                );
            }
            assert!(authorize(&p, Permission::ReadOwnPrivateData, Some("RET-A")).is_err());
            assert!(authorize(&p, Permission::SubmitDeclaration, Some("RET-A")).is_err());
        }
        let customer = principal(
            Role::RetailCustomer,
            Some("RET-A"),
            AuthStrength::Certificate,
        );
        assert!(authorize(&customer, Permission::ReadRetailBook, Some("RET-A")).is_err());
        assert!(authorize(&customer, Permission::ManageRetailBilling, Some("RET-A")).is_err());
        assert!(authorize(&customer, Permission::ReadOwnRetailAccount, Some("RET-A")).is_ok());
    }

    #[test]
    fn core_actions_require_certificate_strength() {
        let trader = principal(
            Role::MemberTrader,
            Some("GEN-A"),
            AuthStrength::PasswordAndTotp,
        );
        assert!(authorize(&trader, Permission::SubmitDeclaration, Some("GEN-A")).is_err());
        assert!(authorize(&trader, Permission::ReadOwnPrivateData, Some("GEN-A")).is_ok());
        let op = principal(Role::Operator, None, AuthStrength::PasswordAndTotp);
        assert!(authorize(&op, Permission::OperateMarket, None).is_err());
        assert!(authorize(&op, Permission::ReadAuditLog, None).is_ok());
    }

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("admin".parse::<Role>().is_err());
    }

    #[test]
    fn permission_table_lists_every_role_and_permission() {
        let t = permission_table_markdown();
        assert_eq!(t.lines().count(), 2 + Permission::ALL.len());
        assert!(t.contains("member-trader"));
    }
}
