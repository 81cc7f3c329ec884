//! Golden hashes of the licenses module's on-chain encodings. A change here means the on-chain
//! format changed: every node, signature and proof depends on it, so it must be deliberate.

use std::collections::BTreeMap;

use civic_licenses::{LicenseCall, UsageVerifier, Verdict};
use civic_types::{UnixMillis, encode, sha256};

#[test]
fn call_encodings_are_pinned() {
    let issue = LicenseCall::Issue {
        license_id: "BJ-2026-0001".into(),
        type_id: "lawyer-practice".into(),
        holder: "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp".into(),
        claims: BTreeMap::from([("holder_name".to_owned(), "Zhang San".to_owned())]),
        valid_from: UnixMillis::new(1),
        valid_until: UnixMillis::new(2),
    };
    let usage = LicenseCall::RecordUsage {
        license_id: "BJ-2026-0001".into(),
        verifier: UsageVerifier::Public,
        purpose: "court appearance".into(),
        verdict: Verdict::Invalid { reason: "revoked".into() },
    };
    let got = [sha256(&encode(&issue)).to_hex(), sha256(&encode(&usage)).to_hex()];
    assert_eq!(
        got,
        [
            "ef5e6ee3078fdb8e2cd40d3d7fd626af293672aea3aa6c49ed00b66af365208b",
            "9ee800dd6581bf77b0544657c7b7ce11c8b5ad843b6cdc8c91ff29b8c5b9110b",
        ]
    );
}
