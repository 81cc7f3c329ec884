//! Off-chain attribute values: what a registrar's node keeps in its private store (never in a
//! block or in state). The chain holds only `commitment(salt, name, value)`; the value and its
//! salt stay with the attesting organization and are released only against a committed access
//! record.

use civic_types::{Hash32, OrgId};
use serde::{Deserialize, Serialize};

use crate::module::commitment;

/// One attribute value as the attesting organization keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateAttribute {
    /// The value, e.g. a name.
    pub value: String,
    /// The 32-byte salt of the on-chain commitment.
    pub salt: [u8; 32],
}

impl PrivateAttribute {
    /// The on-chain commitment of this value for attribute `name`.
    pub fn commitment(&self, name: &str) -> Hash32 {
        commitment(&self.salt, name, &self.value)
    }
}

/// Private-store key of `resident`'s attribute `name` as attested by `org`.
pub fn key(org: &OrgId, resident: &str, name: &str) -> Vec<u8> {
    format!("identity/{org}/{resident}/{name}").into_bytes()
}
