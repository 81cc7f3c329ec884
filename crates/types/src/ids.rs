//! Typed identifiers and units. Every id is validated when it is constructed or deserialized, so a
//! value of these types is always well formed; numbers have no blanket `From<u64>` so a height can
//! never be passed where a nonce is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Longest organization id, chain id or account name part.
pub const MAX_NAME_LEN: usize = 63;

/// Why a string is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Wrong length or a character outside `a-z 0-9 -`.
    #[error(
        "{kind} {value:?} is invalid: use 1-63 characters a-z, 0-9 and '-', starting with a letter or digit"
    )]
    BadName {
        /// Which kind of id.
        kind: &'static str,
        /// The offending input, truncated.
        value: String,
    },
    /// An account id lacks the `org/name` shape.
    #[error("account id {0:?} is invalid: use the form <org-id>/<name>, e.g. justice/registrar")]
    BadAccount(String),
}

fn check_name(kind: &'static str, s: &str) -> Result<(), IdError> {
    let ok = !s.is_empty()
        && s.len() <= MAX_NAME_LEN
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-');
    if ok { Ok(()) } else { Err(IdError::BadName { kind, value: s.chars().take(80).collect() }) }
}

macro_rules! name_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps `s`.
            pub fn new(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                check_name($kind, &s)?;
                Ok(Self(s))
            }
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::new(s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::new(s)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

name_id!(
    /// The network's id; part of every signed transaction so a signature is valid on one chain only.
    ChainId, "chain id"
);
name_id!(
    /// An organization (department), e.g. `justice`.
    OrgId, "organization id"
);

/// An account: a key registered to an organization, written `<org-id>/<name>`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl AccountId {
    /// Validates and wraps `s` of the form `org/name`.
    pub fn new(s: impl Into<String>) -> Result<Self, IdError> {
        let s = s.into();
        let Some((org, name)) = s.split_once('/') else {
            return Err(IdError::BadAccount(s.chars().take(80).collect()));
        };
        if check_name("organization id", org).is_err() || check_name("account name", name).is_err() {
            return Err(IdError::BadAccount(s.chars().take(80).collect()));
        }
        Ok(Self(s))
    }
    /// Builds `org/name`.
    pub fn from_parts(org: &OrgId, name: &str) -> Result<Self, IdError> {
        Self::new(format!("{}/{}", org.as_str(), name))
    }
    /// The organization part.
    pub fn org(&self) -> OrgId {
        let org = self.0.split_once('/').map_or("", |(o, _)| o);
        OrgId(org.to_owned())
    }
    /// The name part.
    pub fn name(&self) -> &str {
        self.0.split_once('/').map_or("", |(_, n)| n)
    }
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for AccountId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::new(s)
    }
}
impl From<AccountId> for String {
    fn from(v: AccountId) -> String {
        v.0
    }
}
impl FromStr for AccountId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::new(s)
    }
}
impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({:?})", self.0)
    }
}

macro_rules! number {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(u64);

        impl $name {
            /// Wraps a raw number.
            pub const fn new(v: u64) -> Self {
                Self(v)
            }
            /// The raw number.
            pub const fn get(self) -> u64 {
                self.0
            }
            /// The next value, or `None` on overflow.
            pub fn checked_next(self) -> Option<Self> {
                self.0.checked_add(1).map(Self)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

number!(
    /// A block height; the genesis state is height 0, the first block is height 1.
    Height
);
number!(
    /// A per-account transaction counter; an account's next transaction must carry exactly its
    /// current nonce.
    Nonce
);
number!(
    /// Milliseconds since the Unix epoch (UTC). Inside the ledger it only ever comes from a block
    /// header.
    UnixMillis
);

/// What an account may do. Roles are granted per account by its organization or by governance.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages its organization's accounts and votes on governance proposals.
    Admin,
    /// Registers residents and attests their attributes.
    Registrar,
    /// Issues licenses and credentials.
    Issuer,
    /// Supervises cases (community corrections).
    Officer,
    /// Verifies credentials and reads attributes with consent.
    Verifier,
    /// Records credit events.
    CreditSource,
    /// Decides credit appeals.
    CreditReviewer,
    /// Reads audit trails.
    Auditor,
    /// Runs a device gateway: anchors position batches and raises supervision alerts.
    Gateway,
}

impl Role {
    /// Every role, in canonical order.
    pub const ALL: [Role; 9] = [
        Role::Admin,
        Role::Registrar,
        Role::Issuer,
        Role::Officer,
        Role::Verifier,
        Role::CreditSource,
        Role::CreditReviewer,
        Role::Auditor,
        Role::Gateway,
    ];

    /// The role's name as written in genesis files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Registrar => "registrar",
            Role::Issuer => "issuer",
            Role::Officer => "officer",
            Role::Verifier => "verifier",
            Role::CreditSource => "credit_source",
            Role::CreditReviewer => "credit_reviewer",
            Role::Auditor => "auditor",
            Role::Gateway => "gateway",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            format!("unknown role {s:?}; roles are {}", names.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        assert!(OrgId::new("justice").is_ok());
        assert!(OrgId::new("data-bureau-2").is_ok());
        assert!(OrgId::new("").is_err());
        assert!(OrgId::new("Justice").is_err());
        assert!(OrgId::new("-x").is_err());
        assert!(OrgId::new("a".repeat(64)).is_err());
        assert!(serde_json::from_str::<OrgId>("\"bad id\"").is_err());
    }

    #[test]
    fn account_ids_have_org_and_name() {
        let a = AccountId::new("justice/registrar").unwrap();
        assert_eq!(a.org().as_str(), "justice");
        assert_eq!(a.name(), "registrar");
        assert!(AccountId::new("justice").is_err());
        assert!(AccountId::new("justice/a/b").is_err());
        assert!(AccountId::new("/x").is_err());
    }

    #[test]
    fn roles_parse_and_print() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{}\"", r.as_str()));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
