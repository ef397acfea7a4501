//! Who may see and do what: roles, the viewer of a request, and the rules for new
//! accounts. The server enforces these; the pages only show them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted, in bytes: hashing cost must stay bounded.
pub const MAX_PASSWORD_BYTES: usize = 1_024;

/// What an account may do. Buyer sponsors belong to one tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads and changes everything.
    Operator,
    /// Reads everything, changes nothing.
    CommercialOwner,
    /// Their own tenant's launch room and acceptance only.
    BuyerSponsor,
}

impl Role {
    pub const ALL: [Self; 3] = [Self::Operator, Self::CommercialOwner, Self::BuyerSponsor];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::CommercialOwner => "commercial_owner",
            Self::BuyerSponsor => "buyer_sponsor",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::CommercialOwner => "commercial owner",
            Self::BuyerSponsor => "buyer sponsor",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        let value = value.replace('-', "_");
        Self::ALL.into_iter().find(|role| role.as_str() == value)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Who is asking: nobody (the public) or a signed-in account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Viewer {
    #[default]
    Public,
    Account(AccountSummary),
}

/// The tenants a viewer's queries are limited to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TenantScope {
    /// Operators and commercial owners: every tenant.
    Every,
    /// A buyer sponsor: their own tenant.
    One(i64),
    /// The public: no tenant data at all.
    Nothing,
}

/// A signed-in account as the pages see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub tenant_id: Option<i64>,
}

impl Viewer {
    pub fn role(&self) -> Option<Role> {
        match self {
            Self::Public => None,
            Self::Account(account) => Some(account.role),
        }
    }

    /// Operators and commercial owners read everything.
    pub fn reads_everything(&self) -> bool {
        matches!(self.role(), Some(Role::Operator | Role::CommercialOwner))
    }

    /// Only operators change anything beyond a sponsor's own acceptance.
    pub fn is_operator(&self) -> bool {
        self.role() == Some(Role::Operator)
    }

    /// Whether this viewer signs (and revokes) `tenant`'s launch acceptance: its
    /// own buyer sponsor only.
    pub fn signs_for(&self, tenant: i64) -> bool {
        matches!(self, Self::Account(account)
            if account.role == Role::BuyerSponsor && account.tenant_id == Some(tenant))
    }

    /// Which tenants' rows this viewer's queries ask for. Every query on tenant
    /// data applies it in its own `WHERE`, so isolation does not rest on the
    /// database's row-level security alone.
    pub fn tenant_scope(&self) -> TenantScope {
        match self {
            Self::Public => TenantScope::Nothing,
            Self::Account(account) => match (account.role, account.tenant_id) {
                (Role::Operator | Role::CommercialOwner, _) => TenantScope::Every,
                (Role::BuyerSponsor, Some(tenant)) => TenantScope::One(tenant),
                // A sponsor without a tenant is a broken account: it sees nothing.
                (Role::BuyerSponsor, None) => TenantScope::Nothing,
            },
        }
    }

    /// Whether this viewer may read `tenant`'s records.
    pub fn reads_tenant(&self, tenant: i64) -> bool {
        match self {
            Self::Public => false,
            Self::Account(account) => match account.role {
                Role::Operator | Role::CommercialOwner => true,
                Role::BuyerSponsor => account.tenant_id == Some(tenant),
            },
        }
    }
}

/// A refused new-account field, named so forms can point at it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Normalises and checks an e-mail address: trimmed, lower-cased, one `@` with
/// something on both sides, at most 254 bytes, and none of spaces, control
/// characters or the address syntax's specials (`<>()[]\,;:"`), which no
/// ordinary mailbox needs and which markup or a mail header could misread.
pub fn normalize_email(email: &str) -> Result<String, FieldError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.len() >= 3
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"".contains(c))
        && matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
    if valid {
        Ok(email)
    } else {
        Err(FieldError::new(
            "email",
            "enter an e-mail address such as name@example.com",
        ))
    }
}

/// A display name: trimmed, 1–200 characters, no control characters.
pub fn check_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        Err(FieldError::new(
            "name",
            "enter a name of 1 to 200 characters",
        ))
    } else if name.chars().any(char::is_control) {
        Err(FieldError::new(
            "name",
            "the name cannot contain control characters",
        ))
    } else {
        Ok(name.to_owned())
    }
}

/// A new password: at least [`MIN_PASSWORD_CHARS`] characters, at most
/// [`MAX_PASSWORD_BYTES`] bytes, not only spaces.
pub fn check_password(password: &str) -> Result<(), FieldError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.trim().is_empty() {
        Err(FieldError::new(
            "password",
            format!("use at least {MIN_PASSWORD_CHARS} characters"),
        ))
    } else if password.len() > MAX_PASSWORD_BYTES {
        Err(FieldError::new(
            "password",
            format!("use at most {MAX_PASSWORD_BYTES} bytes"),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{normalize_email, AccountSummary, Role, TenantScope, Viewer};

    fn account(role: Role, tenant_id: Option<i64>) -> Viewer {
        Viewer::Account(AccountSummary {
            id: 1,
            email: "someone@example.com".to_owned(),
            name: "Someone".to_owned(),
            role,
            tenant_id,
        })
    }

    #[test]
    fn a_sponsor_is_scoped_to_its_tenant_and_the_public_to_nothing() {
        assert_eq!(Viewer::Public.tenant_scope(), TenantScope::Nothing);
        assert_eq!(
            account(Role::Operator, None).tenant_scope(),
            TenantScope::Every
        );
        assert_eq!(
            account(Role::CommercialOwner, None).tenant_scope(),
            TenantScope::Every
        );
        assert_eq!(
            account(Role::BuyerSponsor, Some(7)).tenant_scope(),
            TenantScope::One(7)
        );
        assert_eq!(
            account(Role::BuyerSponsor, None).tenant_scope(),
            TenantScope::Nothing
        );
    }

    #[test]
    fn email_addresses_are_normalised_and_checked() {
        assert_eq!(
            normalize_email("  Sam.O'Brien+launch@Example.COM ").as_deref(),
            Ok("sam.o'brien+launch@example.com")
        );
        for bad in [
            "",
            "a@",
            "@b",
            "a@b@c",
            "sam smith@example.com",
            "sam\u{0}@example.com",
            "<script>@example.com",
            "\"quoted\"@example.com",
            "a@[127.0.0.1]",
            "a,b@example.com",
        ] {
            assert_eq!(
                normalize_email(bad).map_err(|error| error.field),
                Err("email".to_owned()),
                "{bad:?}"
            );
        }
    }
}
