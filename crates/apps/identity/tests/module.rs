//! The identity module on an in-memory chain: attestation, resident-signed consent, revocation,
//! the access log, and the promise that no attribute value reaches the chain.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use civic_identity::module::{MAX_ATTRIBUTES, keys};
use civic_identity::{
    AccessBasis, AccessRecord, Attestation, ConsentGrant, ConsentRecord, Did, IdentityCall, Purpose,
    commitment, revoke_signing_bytes,
};
use civic_ledger::state::{StateRead, decode_value};
use civic_ledger::{Module, Outcome, Receipt};
use civic_types::{AccountId, ChainId, Hash32, OrgId, SecretKey, Signature, UnixMillis};
use common::{Chain, chain_id, key};
use proptest::prelude::*;

const REGISTRAR: &str = "data-bureau/registrar";
const TAX: &str = "tax/reader";
const BANK: &str = "bank/reader";

struct Resident {
    key: SecretKey,
    did: String,
}

fn resident(seed: u8) -> Resident {
    let key = key(seed);
    let did = Did::key(key.public_key()).to_string();
    Resident { key, did }
}

/// The personal data a registrar holds off chain, with a salt per attribute.
const VALUES: [(&str, &str); 3] =
    [("name", "Zhang San"), ("id_number", "110101199003074578"), ("address", "1 Chang'an Avenue, Beijing")];

fn attest_call(r: &Resident) -> IdentityCall {
    let attributes = VALUES
        .iter()
        .enumerate()
        .map(|(i, (name, value))| ((*name).to_owned(), commitment(&[i as u8 + 7; 32], name, value)))
        .collect();
    IdentityCall::Attest { resident: r.did.clone(), attributes }
}

fn set(a: &[&str]) -> BTreeSet<String> {
    a.iter().map(|s| (*s).to_owned()).collect()
}

fn grant(r: &Resident, id: u64, controller: &str, attrs: &[&str], not_after: UnixMillis) -> ConsentGrant {
    ConsentGrant {
        chain_id: chain_id(),
        id,
        resident: r.did.clone(),
        controller: OrgId::new(controller).unwrap(),
        attributes: set(attrs),
        purpose: Purpose::Tax,
        not_after,
    }
}

fn signed(g: ConsentGrant, by: &SecretKey) -> IdentityCall {
    let signature = by.sign(&g.signing_bytes());
    IdentityCall::GrantConsent { grant: g, signature }
}

fn read(r: &Resident, attrs: &[&str], basis: AccessBasis) -> IdentityCall {
    IdentityCall::RecordAccess {
        resident: r.did.clone(),
        attributes: set(attrs),
        purpose: Purpose::Tax,
        basis,
    }
}

fn consent(grant_id: u64) -> AccessBasis {
    AccessBasis::Consent { grant_id }
}

fn far_future() -> UnixMillis {
    UnixMillis::new(2_000_000_000_000)
}

fn ok(r: &Receipt) {
    assert_eq!(r.outcome, Outcome::Ok, "{r:?}");
}

fn rejected(r: &Receipt, want_code: &str, want_reason: &str) {
    match &r.outcome {
        Outcome::Rejected { code, reason } => {
            assert_eq!(code, want_code, "{reason}");
            assert!(reason.contains(want_reason), "{reason:?} does not mention {want_reason:?}");
        }
        Outcome::Ok => panic!("expected {want_code}: {want_reason}, got ok"),
    }
}

fn get<T: serde::de::DeserializeOwned>(c: &Chain, key: &str) -> Option<T> {
    c.state.get(key.as_bytes()).unwrap().map(|b| decode_value(&b).unwrap())
}

/// A chain where `r` is attested and has granted consent 1 (name, address; tax) to the tax office.
fn attested_with_grant(r: &Resident) -> Chain {
    let mut c = common::chain();
    ok(&c.run(REGISTRAR, &attest_call(r)));
    let g = grant(r, 1, "tax", &["name", "address"], far_future());
    ok(&c.run(TAX, &signed(g, &r.key)));
    c
}

#[test]
fn consented_read_is_recorded() {
    let r = resident(50);
    let mut c = attested_with_grant(&r);
    let receipt = c.run(TAX, &read(&r, &["name", "address"], consent(1)));
    ok(&receipt);
    assert_eq!(receipt.events[0].kind, "attributes_read");

    let rec: AccessRecord = get(&c, &keys::access(&r.did, 0)).unwrap();
    assert_eq!(rec.seq, 0);
    assert_eq!(rec.accessor, AccountId::new(TAX).unwrap());
    assert_eq!(rec.org, OrgId::new("tax").unwrap());
    assert_eq!(rec.attributes, set(&["address", "name"]));
    assert_eq!(rec.basis, consent(1));
    assert_eq!(rec.time, c.head.timestamp);
    assert_eq!(get::<u64>(&c, &keys::access_seq(&r.did)), Some(1));

    let stored: ConsentRecord = get(&c, &keys::consent(&r.did, 1)).unwrap();
    assert_eq!(stored.relayed_by, AccountId::new(TAX).unwrap());
    assert_eq!(stored.withdrawn_at, None);
}

#[test]
fn another_org_cannot_use_the_grant() {
    let r = resident(51);
    let mut c = attested_with_grant(&r);
    rejected(
        &c.run(BANK, &read(&r, &["name"], consent(1))),
        "unauthorized",
        "is for organization tax, not bank",
    );
}

#[test]
fn uncovered_attribute_is_named() {
    let r = resident(52);
    let mut c = attested_with_grant(&r);
    rejected(
        &c.run(TAX, &read(&r, &["name", "id_number"], consent(1))),
        "unauthorized",
        "does not cover attribute id_number",
    );
    let wrong_purpose = IdentityCall::RecordAccess {
        resident: r.did.clone(),
        attributes: set(&["name"]),
        purpose: Purpose::Pension,
        basis: consent(1),
    };
    rejected(&c.run(TAX, &wrong_purpose), "unauthorized", "is for purpose tax, not pension");
}

#[test]
fn revocation_takes_effect_from_its_block() {
    let r = resident(53);
    let mut c = attested_with_grant(&r);
    let revoke = |r: &Resident, by: &SecretKey| IdentityCall::RevokeConsent {
        resident: r.did.clone(),
        grant_id: 1,
        signature: by.sign(&revoke_signing_bytes(&chain_id(), &r.did, 1)),
    };
    rejected(&c.run(TAX, &revoke(&r, &key(60))), "unauthorized", "only the resident can revoke");
    // The revocation and a read in the same block: the read comes after it and fails.
    let txs = vec![c.tx(BANK, &revoke(&r, &r.key)), c.tx(TAX, &read(&r, &["name"], consent(1)))];
    let a = c.block(txs);
    ok(&a.receipts[0]);
    rejected(&a.receipts[1], "unauthorized", "was withdrawn at");
    let stored: ConsentRecord = get(&c, &keys::consent(&r.did, 1)).unwrap();
    assert_eq!(stored.withdrawn_at, Some(c.head.timestamp));
    rejected(&c.run(BANK, &revoke(&r, &r.key)), "conflict", "already withdrawn");
    let unknown = IdentityCall::RevokeConsent {
        resident: r.did.clone(),
        grant_id: 9,
        signature: r.key.sign(&revoke_signing_bytes(&chain_id(), &r.did, 9)),
    };
    rejected(&c.run(TAX, &unknown), "not_found", "does not exist");
}

#[test]
fn expired_grant_is_rejected() {
    let r = resident(54);
    let mut c = common::chain();
    ok(&c.run(REGISTRAR, &attest_call(&r)));
    // Valid for exactly one more block: granted in the next block, expired in the one after.
    let until = UnixMillis::new(c.next_time().get() + 1);
    ok(&c.run(TAX, &signed(grant(&r, 1, "tax", &["name"], until), &r.key)));
    rejected(&c.run(TAX, &read(&r, &["name"], consent(1))), "unauthorized", "expired at");
    let past = c.head.timestamp;
    rejected(
        &c.run(TAX, &signed(grant(&r, 2, "tax", &["name"], past), &r.key)),
        "invalid",
        "not after the block time",
    );
}

#[test]
fn grant_signed_by_another_key_is_rejected() {
    let r = resident(55);
    let mut c = common::chain();
    ok(&c.run(REGISTRAR, &attest_call(&r)));
    let forged = signed(grant(&r, 1, "tax", &["name"], far_future()), &key(61));
    rejected(&c.run(TAX, &forged), "unauthorized", "is not signed by the key of");
    assert!(get::<ConsentRecord>(&c, &keys::consent(&r.did, 1)).is_none());
    // The stateless check refuses it before it ever reaches a block.
    let module = civic_identity::Identity::new(chain_id());
    assert!(module.check(&civic_types::encode(&forged)).is_err());
    // A grant for another chain is refused too, even if correctly signed.
    let mut other = grant(&r, 1, "tax", &["name"], far_future());
    other.chain_id = ChainId::new("other-chain").unwrap();
    rejected(&c.run(TAX, &signed(other, &r.key)), "invalid", "is for chain other-chain");
}

#[test]
fn grant_rules() {
    let r = resident(56);
    let mut c = common::chain();
    ok(&c.run(REGISTRAR, &attest_call(&r)));
    let g = grant(&r, 1, "tax", &["name"], far_future());
    ok(&c.run(TAX, &signed(g.clone(), &r.key)));
    rejected(&c.run(BANK, &signed(g, &r.key)), "conflict", "already exists");
    rejected(
        &c.run(TAX, &signed(grant(&r, 2, "city-bank", &["name"], far_future()), &r.key)),
        "not_found",
        "city-bank does not exist",
    );
    rejected(&c.run(TAX, &signed(grant(&r, 3, "tax", &[], far_future()), &r.key)), "invalid", "attributes");
    let civic = IdentityCall::Attest {
        resident: "did:civic:tax".into(),
        attributes: BTreeMap::from([("name".to_owned(), Hash32::ZERO)]),
    };
    rejected(&c.run(REGISTRAR, &civic), "invalid", "must be a did:key");
}

#[test]
fn legal_basis_read_is_recorded_as_such() {
    let r = resident(57);
    let mut c = common::chain();
    ok(&c.run(REGISTRAR, &attest_call(&r)));
    let basis = AccessBasis::LegalBasis { reference: "Tax Collection Act art. 12".into() };
    ok(&c.run(BANK, &read(&r, &["id_number"], basis.clone())));
    let rec: AccessRecord = get(&c, &keys::access(&r.did, 0)).unwrap();
    assert_eq!(rec.basis, basis);
    assert_eq!(rec.org, OrgId::new("bank").unwrap());
    // Unattested attributes cannot be read, whatever the basis.
    rejected(&c.run(BANK, &read(&r, &["phone"], basis)), "not_found", "attribute phone");
    // An account without a reader role cannot read.
    let admin_read = read(&r, &["name"], AccessBasis::LegalBasis { reference: "x".into() });
    rejected(&c.run("data-bureau/admin", &admin_read), "unauthorized", "needs one of the roles");
    let empty_ref = read(&r, &["name"], AccessBasis::LegalBasis { reference: String::new() });
    rejected(&c.run(BANK, &empty_ref), "invalid", "legal basis needs a reference");
}

#[test]
fn only_registrars_attest_and_reattestation_bumps_version() {
    let r = resident(58);
    let mut c = common::chain();
    rejected(&c.run(TAX, &attest_call(&r)), "unauthorized", "lacks the role registrar");
    rejected(&c.run("data-bureau/admin", &attest_call(&r)), "unauthorized", "lacks the role registrar");
    assert!(get::<Attestation>(&c, &keys::attestation(&r.did, "name")).is_none());
    ok(&c.run(REGISTRAR, &attest_call(&r)));
    let new = commitment(&[9; 32], "address", "2 New Street");
    let moved = IdentityCall::Attest {
        resident: r.did.clone(),
        attributes: BTreeMap::from([("address".into(), new)]),
    };
    let receipt = c.run(REGISTRAR, &moved);
    ok(&receipt);
    assert_eq!(receipt.events[0].kind, "attested");
    let a: Attestation = get(&c, &keys::attestation(&r.did, "address")).unwrap();
    assert_eq!((a.version, a.commitment), (2, new));
    assert_eq!(a.registrar, AccountId::new(REGISTRAR).unwrap());
    assert_eq!(a.org, OrgId::new("data-bureau").unwrap());
    let n: Attestation = get(&c, &keys::attestation(&r.did, "name")).unwrap();
    assert_eq!(n.version, 1);
    let too_many = IdentityCall::Attest {
        resident: r.did.clone(),
        attributes: (0..=MAX_ATTRIBUTES).map(|i| (format!("a{i}"), Hash32::ZERO)).collect(),
    };
    rejected(&c.run(REGISTRAR, &too_many), "invalid", "attributes");
    let bad_name = IdentityCall::Attest {
        resident: r.did.clone(),
        attributes: BTreeMap::from([("Name".into(), Hash32::ZERO)]),
    };
    rejected(&c.run(REGISTRAR, &bad_name), "invalid", "attribute name \"Name\" is invalid");
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_attribute_value_reaches_the_chain() {
    let r = resident(59);
    let mut c = attested_with_grant(&r);
    ok(&c.run(TAX, &read(&r, &["name", "address"], consent(1))));
    ok(&c.run(
        BANK,
        &read(&r, &["id_number"], AccessBasis::LegalBasis { reference: "AML Act art. 3".into() }),
    ));
    let txs: Vec<Vec<u8>> = c.blocks.iter().flat_map(|b| b.txs.iter().map(|t| t.to_bytes())).collect();
    assert_eq!(txs.len(), 4);
    let blocks: Vec<Vec<u8>> = c.blocks.iter().map(|b| b.to_bytes()).collect();
    let state: Vec<Vec<u8>> = c
        .state
        .values
        .iter()
        .flat_map(|(k, v)| [k.clone(), v.clone()])
        .chain(c.state.objects.values().cloned())
        .collect();
    assert!(state.iter().any(|v| contains(v, r.did.as_bytes())), "the scan sees identity state");
    for (_, value) in VALUES {
        for bytes in txs.iter().chain(&blocks).chain(&state) {
            assert!(!contains(bytes, value.as_bytes()), "{value:?} found on chain");
        }
    }
}

fn name() -> impl Strategy<Value = String> {
    "[a-z0-9_]{1,64}"
}

fn purpose() -> impl Strategy<Value = Purpose> {
    prop_oneof![
        Just(Purpose::Tax),
        Just(Purpose::Pension),
        Just(Purpose::Healthcare),
        Just(Purpose::Utilities),
        Just(Purpose::Banking),
        Just(Purpose::Telecom),
        ".{1,20}".prop_map(Purpose::Other),
    ]
}

fn signature() -> impl Strategy<Value = Signature> {
    (any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(|(a, b)| {
        let mut s = [0u8; 64];
        s[..32].copy_from_slice(&a);
        s[32..].copy_from_slice(&b);
        Signature(s)
    })
}

fn call() -> impl Strategy<Value = IdentityCall> {
    let names = || proptest::collection::btree_set(name(), 0..5);
    prop_oneof![
        (".{0,30}", proptest::collection::btree_map(name(), any::<[u8; 32]>().prop_map(Hash32), 0..5))
            .prop_map(|(resident, attributes)| IdentityCall::Attest { resident, attributes }),
        (any::<u64>(), ".{0,30}", "[a-z][a-z0-9-]{0,20}", names(), purpose(), any::<u64>(), signature())
            .prop_map(|(id, resident, org, attributes, purpose, t, signature)| IdentityCall::GrantConsent {
                grant: ConsentGrant {
                    chain_id: chain_id(),
                    id,
                    resident,
                    controller: OrgId::new(org).unwrap(),
                    attributes,
                    purpose,
                    not_after: UnixMillis::new(t),
                },
                signature,
            }),
        (".{0,30}", any::<u64>(), signature()).prop_map(|(resident, grant_id, signature)| {
            IdentityCall::RevokeConsent { resident, grant_id, signature }
        }),
        (
            ".{0,30}",
            names(),
            purpose(),
            prop_oneof![
                any::<u64>().prop_map(|grant_id| AccessBasis::Consent { grant_id }),
                ".{0,40}".prop_map(|reference| AccessBasis::LegalBasis { reference }),
            ]
        )
            .prop_map(|(resident, attributes, purpose, basis)| IdentityCall::RecordAccess {
                resident,
                attributes,
                purpose,
                basis
            }),
    ]
}

proptest! {
    #[test]
    fn identity_call_round_trips(c in call()) {
        let bytes = civic_types::encode(&c);
        prop_assert_eq!(civic_types::decode::<IdentityCall>(&bytes, 1 << 20).unwrap(), c.clone());
        // The JSON form used by the CLI and API encodes to the same canonical bytes.
        let module = civic_identity::Identity::new(chain_id());
        let json = serde_json::to_value(&c).unwrap();
        prop_assert_eq!(module.encode_json(json).unwrap(), bytes);
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let module = civic_identity::Identity::new(chain_id());
        let _ = module.check(&bytes);
        let _ = module.describe(&bytes);
    }
}

/// Golden hashes: if one changes, the on-chain format of identity calls or of what residents
/// sign changed, which invalidates every signed grant. That must be a deliberate, versioned step.
#[test]
fn golden_encodings() {
    let r = resident(50);
    let g = grant(&r, 1, "tax", &["name", "address"], far_future());
    let got = [
        commitment(&[7; 32], "name", "Zhang San").to_hex(),
        civic_types::sha256(&civic_types::encode(&attest_call(&r))).to_hex(),
        civic_types::sha256(&g.signing_bytes()).to_hex(),
        civic_types::sha256(&civic_types::encode(&signed(g, &r.key))).to_hex(),
        civic_types::sha256(&revoke_signing_bytes(&chain_id(), &r.did, 1)).to_hex(),
        civic_types::sha256(&civic_types::encode(&read(&r, &["name"], consent(1)))).to_hex(),
    ];
    assert_eq!(
        got,
        [
            "ac09f804ad856005b1da333b846c2c1342af4bd2453b8170e7b5ceac82639618",
            "5cf2a7f9aaa365322f1ee361bd649ff67cc4aea0bb868356e045c45d298919c6",
            "11735abf4ad5574c67f1c0e14e1e8fe5e246ae8f0ebf416ca7fce89a1f5e8f33",
            "f7212cff3bd4fb0d75e058d38aebd56065bc899843ae2b0904ad04ca54600129",
            "20be1b0f9a79ef0b63a661dc56169e89f2087d157a0efda0f776e457dccb54fd",
            "ee909db6edbdc28d51f647ab71b2a91121632059c2a92637ca2359092ccb9515",
        ]
    );
}
