//! `did:key` (Ed25519: multicodec `0xed01`, multibase base58btc `z`) and `did:civic`, the ledger's
//! own method for organizations: `did:civic:<org-id>`, one verification method per active
//! account, `#<account-name>`.

use std::fmt;
use std::str::FromStr;

use civic_ledger::modules::membership::{Account, Org};
use civic_types::{OrgId, PublicKey, Role};
use serde_json::{Value, json};

/// Multicodec prefix of an Ed25519 public key (varint of 0xed).
const ED25519_PUB: [u8; 2] = [0xed, 0x01];
/// Multicodec prefix of an Ed25519 private key (varint of 0x1300).
const ED25519_PRIV: [u8; 2] = [0x80, 0x26];
/// Longest DID accepted.
pub const MAX_DID_LEN: usize = 256;

/// Why a string is not a DID this ledger understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DidError {
    /// Not of the form `did:<method>:<id>`.
    #[error("{0:?} is not a DID (expected did:key:z6Mk… or did:civic:<org-id>)")]
    Malformed(String),
    /// A method other than `key` or `civic`.
    #[error("DID method {0:?} is not supported; this ledger resolves did:key and did:civic")]
    MethodNotSupported(String),
    /// A `did:key` whose key is not a valid Ed25519 public key in multibase base58btc.
    #[error("{0}")]
    BadKey(String),
}

/// A parsed DID.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Did {
    /// A resident (or anyone) identified by an Ed25519 key.
    Key(PublicKey),
    /// An organization of this ledger.
    Civic(OrgId),
}

/// The `publicKeyMultibase` of an Ed25519 key: `z` + base58btc(0xed01 ‖ key).
pub fn multikey(key: &PublicKey) -> String {
    let mut bytes = ED25519_PUB.to_vec();
    bytes.extend_from_slice(&key.to_bytes());
    format!("z{}", bs58::encode(bytes).into_string())
}

/// Parses an Ed25519 `publicKeyMultibase`.
pub fn parse_multikey(s: &str) -> Result<PublicKey, DidError> {
    let bad = |why: &str| DidError::BadKey(format!("{s:?} is not an Ed25519 Multikey: {why}"));
    let b58 = s.strip_prefix('z').ok_or_else(|| bad("expected multibase base58btc ('z')"))?;
    let bytes = bs58::decode(b58).into_vec().map_err(|_| bad("not base58btc"))?;
    let key = bytes.strip_prefix(&ED25519_PUB[..]).ok_or_else(|| bad("not the ed25519-pub multicodec"))?;
    let key: [u8; 32] = key.try_into().map_err(|_| bad("not 32 key bytes"))?;
    PublicKey::from_bytes(&key).map_err(|e| bad(&e.to_string()))
}

/// Parses a `secretKeyMultibase` (ed25519-priv multicodec) into the 32-byte seed.
pub fn parse_secret_multikey(s: &str) -> Result<[u8; 32], DidError> {
    let bad = |why: &str| DidError::BadKey(format!("not an Ed25519 secret Multikey: {why}"));
    let b58 = s.strip_prefix('z').ok_or_else(|| bad("expected multibase base58btc ('z')"))?;
    let bytes = bs58::decode(b58).into_vec().map_err(|_| bad("not base58btc"))?;
    let seed = bytes.strip_prefix(&ED25519_PRIV[..]).ok_or_else(|| bad("not the ed25519-priv multicodec"))?;
    seed.try_into().map_err(|_| bad("not 32 seed bytes"))
}

impl Did {
    /// The `did:key` of an Ed25519 key.
    pub fn key(key: PublicKey) -> Did {
        Did::Key(key)
    }
}

impl fmt::Display for Did {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Did::Key(k) => write!(f, "did:key:{}", multikey(k)),
            Did::Civic(o) => write!(f, "did:civic:{o}"),
        }
    }
}

impl FromStr for Did {
    type Err = DidError;
    fn from_str(s: &str) -> Result<Did, DidError> {
        let shown = || s.chars().take(80).collect::<String>();
        if s.len() > MAX_DID_LEN {
            return Err(DidError::Malformed(shown()));
        }
        let mut parts = s.splitn(3, ':');
        let (Some("did"), Some(method), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(DidError::Malformed(shown()));
        };
        match method {
            "key" => Ok(Did::Key(parse_multikey(id)?)),
            "civic" => OrgId::new(id).map(Did::Civic).map_err(|_| DidError::Malformed(shown())),
            "" => Err(DidError::Malformed(shown())),
            other => Err(DidError::MethodNotSupported(other.chars().take(40).collect())),
        }
    }
}

const CONTEXT: [&str; 2] = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"];

/// The DID document of a `did:key` (W3C did:key method, Ed25519, Multikey representation).
pub fn did_key_document(key: &PublicKey) -> Value {
    let mk = multikey(key);
    let did = format!("did:key:{mk}");
    let vm = format!("{did}#{mk}");
    json!({
        "@context": CONTEXT,
        "id": did,
        "verificationMethod": [{ "id": vm, "type": "Multikey", "controller": did, "publicKeyMultibase": mk }],
        "authentication": [vm],
        "assertionMethod": [vm],
        "capabilityInvocation": [vm],
        "capabilityDelegation": [vm],
    })
}

/// The DID document and document metadata of an organization, from its membership records.
/// Every active account is a verification method `#<name>`; all of them authenticate, accounts
/// that issue or attest (`issuer`, `registrar`) are assertion methods, admins are capability
/// invocation methods. Keys retired by rotation stay listed in the metadata with the height they
/// were retired at, so signatures made before a rotation can still be attributed.
pub fn civic_document(org: &Org, accounts: &[Account]) -> (Value, Value) {
    let did = format!("did:civic:{}", org.id);
    let active: Vec<&Account> =
        if org.active { accounts.iter().filter(|a| a.active).collect() } else { vec![] };
    let vm_id = |a: &Account| format!("{did}#{}", a.id.name());
    let ids_with = |pred: &dyn Fn(&Account) -> bool| -> Vec<String> {
        active.iter().filter(|a| pred(a)).map(|a| vm_id(a)).collect()
    };
    let doc = json!({
        "@context": CONTEXT,
        "id": did,
        "verificationMethod": active.iter().map(|a| json!({
            "id": vm_id(a),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": multikey(&a.public_key),
        })).collect::<Vec<_>>(),
        "authentication": ids_with(&|_| true),
        "assertionMethod": ids_with(&|a| a.roles.contains(&Role::Issuer) || a.roles.contains(&Role::Registrar)),
        "capabilityInvocation": ids_with(&|a| a.roles.contains(&Role::Admin)),
    });
    let history: Vec<Value> = accounts
        .iter()
        .flat_map(|a| {
            a.key_history.iter().map(move |k| {
                json!({
                    "verificationMethod": vm_id(a),
                    "publicKeyMultibase": multikey(&k.public_key),
                    "retiredAtHeight": k.retired_at,
                })
            })
        })
        .collect();
    let removed: Vec<String> = accounts.iter().filter(|a| !a.active).map(vm_id).collect();
    let meta = json!({
        "deactivated": !org.active,
        "name": org.name,
        "joinedAtHeight": org.joined_at,
        "retiredKeys": history,
        "removedVerificationMethods": removed,
    });
    (doc, meta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use civic_types::SecretKey;

    fn seed(last: u8) -> [u8; 32] {
        let mut s = [0u8; 32];
        s[31] = last;
        s
    }

    /// w3c-ccg/did-method-key test-vectors/ed25519-x25519.json: seed → did:key and the key in
    /// base58.
    #[test]
    fn did_key_vectors() {
        for (last, did, b58) in [
            (
                0u8,
                "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
                "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS",
            ),
            (
                1,
                "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG",
                "6ASf5EcmmEHTgDJ4X4ZT5vT6iHVJBXPg5AN5YoTCpGWt",
            ),
            (
                2,
                "did:key:z6MknGc3ocHs3zdPiJbnaaqDi58NGb4pk1Sp9WxWufuXSdxf",
                "8pM1DN3RiT8vbom5u1sNryaNT1nyL8CTTW3b5PwWXRBH",
            ),
        ] {
            let pk = SecretKey::from_seed(&seed(last)).public_key();
            assert_eq!(Did::key(pk).to_string(), did);
            assert_eq!(bs58::encode(pk.to_bytes()).into_string(), b58);
            assert_eq!(did.parse::<Did>().unwrap(), Did::Key(pk));
            let doc = did_key_document(&pk);
            assert_eq!(doc["id"], did);
            let mk = did.strip_prefix("did:key:").unwrap();
            assert_eq!(doc["verificationMethod"][0]["id"], format!("{did}#{mk}"));
            assert_eq!(doc["assertionMethod"][0], format!("{did}#{mk}"));
        }
    }

    /// The W3C vc-di-eddsa test key pair: the secret Multikey's seed derives the public Multikey.
    #[test]
    fn vc_di_eddsa_key_pair() {
        let seed = parse_secret_multikey("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq").unwrap();
        let pk = SecretKey::from_seed(&seed).public_key();
        assert_eq!(multikey(&pk), "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2");
        assert_eq!(parse_multikey("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2").unwrap(), pk);
    }

    #[test]
    fn bad_dids_are_refused_with_a_reason() {
        assert!(matches!("did:web:example.com".parse::<Did>(), Err(DidError::MethodNotSupported(_))));
        assert!(matches!("did:key:abc".parse::<Did>(), Err(DidError::BadKey(_))));
        assert!(matches!("did:key:zzzz".parse::<Did>(), Err(DidError::BadKey(_))));
        assert!(matches!("key:z6Mk".parse::<Did>(), Err(DidError::Malformed(_))));
        assert!(matches!("did:civic:Not Valid".parse::<Did>(), Err(DidError::Malformed(_))));
        assert!(matches!("did:civic:".parse::<Did>(), Err(DidError::Malformed(_))));
        assert_eq!("did:civic:justice".parse::<Did>().unwrap(), Did::Civic(OrgId::new("justice").unwrap()));
        // An X25519 did:key is a valid DID but not an Ed25519 key.
        assert!(matches!(
            "did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW".parse::<Did>(),
            Err(DidError::BadKey(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn did_key_round_trips(seed in proptest::array::uniform32(proptest::prelude::any::<u8>())) {
            let pk = SecretKey::from_seed(&seed).public_key();
            let did = Did::key(pk);
            proptest::prop_assert_eq!(did.to_string().parse::<Did>().unwrap(), did);
        }

        #[test]
        fn garbage_never_panics(s in ".{0,300}") {
            let _ = s.parse::<Did>();
        }
    }
}
