//! The licenses module on an in-memory chain: the registry, the lifecycle with its management
//! records, authorization, claims checks and usage records.

mod common;

use std::collections::BTreeMap;

use civic_ledger::state::{StateRead, decode_value};
use civic_ledger::{Module, Outcome, Receipt};
use civic_licenses::{
    Action, License, LicenseCall, LicenseType, Licenses, ManagementRecord, Status, StatusPurpose,
    UsageRecord, UsageVerifier, Verdict, keys,
};
use civic_types::{AccountId, OrgId, UnixMillis};
use common::Chain;
use proptest::prelude::*;

const ADMIN: &str = "justice/admin";
const ISSUER: &str = "justice/issuer";
const CLERK: &str = "justice/clerk";
const PROVINCE: &str = "province/issuer";
const COURT: &str = "court/verifier";
const LAWYER: &str = "lawyer-practice";
const HOLDER: &str = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
const CLAIMS: [&str; 7] = [
    "holder_name",
    "national_id_hash",
    "license_number",
    "law_firm",
    "practice_area",
    "issue_date",
    "valid_until",
];

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

fn far_future() -> UnixMillis {
    UnixMillis::new(2_000_000_000_000)
}

fn claims() -> BTreeMap<String, String> {
    [
        ("holder_name", "Zhang San".to_owned()),
        ("national_id_hash", "ab".repeat(32)),
        ("license_number", "13101202611001".to_owned()),
        ("law_firm", "Harbour & Partners".to_owned()),
        ("practice_area", "civil".to_owned()),
        ("issue_date", "2026-01-15".to_owned()),
        ("valid_until", "2033-05-18".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn issue_call(id: &str, claims: BTreeMap<String, String>) -> LicenseCall {
    LicenseCall::Issue {
        license_id: id.into(),
        type_id: LAWYER.into(),
        holder: HOLDER.into(),
        claims,
        valid_from: UnixMillis::new(1_700_000_000_000),
        valid_until: far_future(),
    }
}

fn suspend(id: &str, reason: &str) -> LicenseCall {
    LicenseCall::Suspend { license_id: id.into(), reason: reason.into() }
}

fn reinstate(id: &str, reason: &str) -> LicenseCall {
    LicenseCall::Reinstate { license_id: id.into(), reason: reason.into() }
}

fn revoke(id: &str, reason: &str) -> LicenseCall {
    LicenseCall::Revoke { license_id: id.into(), reason: reason.into() }
}

fn renew(id: &str, until: u64) -> LicenseCall {
    LicenseCall::Renew {
        license_id: id.into(),
        valid_until: UnixMillis::new(until),
        reason: "annual renewal".into(),
    }
}

/// A chain with the lawyer's license type registered and the justice bureau trusted for it.
fn registry() -> Chain {
    let mut c = common::chain();
    let register = LicenseCall::RegisterType {
        type_id: LAWYER.into(),
        name: "Lawyer's practice license".into(),
        schema: civic_licenses::schema::LAWYER_PRACTICE.into(),
    };
    ok(&c.run(ADMIN, &register));
    rejected(&c.run(ADMIN, &register), "conflict", "already registered");
    let trust = LicenseCall::TrustIssuer { type_id: LAWYER.into(), org: OrgId::new("justice").unwrap() };
    ok(&c.run(ADMIN, &trust));
    rejected(&c.run(ADMIN, &trust), "conflict", "already a trusted issuer");
    c
}

/// [`registry`] with license `L-1` issued.
fn issued() -> Chain {
    let mut c = registry();
    ok(&c.run(ISSUER, &issue_call("L-1", claims())));
    c
}

fn mgmt(c: &Chain, id: &str) -> Vec<ManagementRecord> {
    (0..).map_while(|seq| get(c, &keys::mgmt(id, seq))).collect()
}

#[test]
fn lifecycle_appends_management_records_in_order() {
    let mut c = issued();
    let lic: License = get(&c, &keys::license("L-1")).unwrap();
    assert_eq!((lic.status, lic.version, lic.status_index), (Status::Active, 1, 0));
    assert_eq!(lic.issuer_org, OrgId::new("justice").unwrap());
    assert_eq!(lic.holder, HOLDER);
    assert_eq!(lic.claims, claims());

    ok(&c.run(ISSUER, &suspend("L-1", "disciplinary inquiry")));
    let suspended_at = c.head.timestamp;
    ok(&c.run(ISSUER, &reinstate("L-1", "inquiry closed")));
    ok(&c.run(ISSUER, &revoke("L-1", "struck off the roll")));

    let recs = mgmt(&c, "L-1");
    let actions: Vec<(u64, Action, Status)> = recs.iter().map(|r| (r.seq, r.action, r.status)).collect();
    assert_eq!(
        actions,
        [
            (0, Action::Issue, Status::Active),
            (1, Action::Suspend, Status::Suspended),
            (2, Action::Reinstate, Status::Active),
            (3, Action::Revoke, Status::Revoked),
        ]
    );
    assert_eq!(recs[0].reason, None);
    assert_eq!(recs[1].reason.as_deref(), Some("disciplinary inquiry"));
    assert_eq!(recs[1].time, suspended_at);
    assert_eq!(recs[3].actor, AccountId::new(ISSUER).unwrap());
    assert_eq!(recs[3].org, OrgId::new("justice").unwrap());
    assert!(recs.windows(2).all(|w| w[0].height < w[1].height));
    let lic: License = get(&c, &keys::license("L-1")).unwrap();
    assert_eq!((lic.status, lic.version), (Status::Revoked, 4));
    assert_eq!(lic.management_records(), recs.len() as u64);

    // Status-list indexes are per type and never reused.
    ok(&c.run(ISSUER, &issue_call("L-2", claims())));
    assert_eq!(get::<License>(&c, &keys::license("L-2")).unwrap().status_index, 1);
}

#[test]
fn illegal_transitions_are_rejected_with_reasons() {
    let mut c = issued();
    rejected(
        &c.run(ISSUER, &reinstate("L-1", "x")),
        "conflict",
        "only a suspended license can be reinstated",
    );
    rejected(&c.run(ISSUER, &issue_call("L-1", claims())), "conflict", "already exists");
    ok(&c.run(ISSUER, &suspend("L-1", "inquiry")));
    rejected(&c.run(ISSUER, &suspend("L-1", "again")), "conflict", "already suspended");
    ok(&c.run(ISSUER, &revoke("L-1", "struck off")));
    rejected(
        &c.run(ISSUER, &reinstate("L-1", "x")),
        "conflict",
        "cannot reinstate license L-1: the license is revoked",
    );
    rejected(&c.run(ISSUER, &renew("L-1", 2_100_000_000_000)), "conflict", "it cannot be renewed");
    rejected(&c.run(ISSUER, &suspend("L-1", "x")), "conflict", "it cannot be suspended");
    rejected(&c.run(ISSUER, &revoke("L-1", "x")), "conflict", "the license is revoked");
    rejected(&c.run(ISSUER, &suspend("L-9", "x")), "not_found", "license L-9 does not exist");
    rejected(&c.run(ISSUER, &suspend("L-1", "")), "invalid", "reason must be 1-256 bytes");
    // Rejections leave no record behind.
    assert_eq!(mgmt(&c, "L-1").len(), 3);
}

#[test]
fn non_issuers_and_untrusted_orgs_are_refused() {
    let mut c = issued();
    rejected(&c.run(CLERK, &issue_call("L-2", claims())), "unauthorized", "lacks the role issuer");
    rejected(&c.run(ADMIN, &suspend("L-1", "x")), "unauthorized", "lacks the role issuer");
    rejected(
        &c.run(PROVINCE, &issue_call("L-2", claims())),
        "unauthorized",
        "organization province is not a trusted issuer of license type lawyer-practice",
    );
    rejected(&c.run(PROVINCE, &revoke("L-1", "x")), "unauthorized", "not a trusted issuer");
    assert!(get::<License>(&c, &keys::license("L-2")).is_none());

    // Trusted, the province may issue its own licenses but not act on the bureau's.
    let trust = LicenseCall::TrustIssuer { type_id: LAWYER.into(), org: OrgId::new("province").unwrap() };
    rejected(&c.run(ISSUER, &trust), "unauthorized", "lacks the role admin");
    ok(&c.run(ADMIN, &trust));
    ok(&c.run(PROVINCE, &issue_call("P-1", claims())));
    rejected(&c.run(PROVINCE, &revoke("L-1", "x")), "unauthorized", "was issued by justice");

    // Distrusted, it can no longer act.
    let distrust =
        LicenseCall::DistrustIssuer { type_id: LAWYER.into(), org: OrgId::new("province").unwrap() };
    ok(&c.run(ADMIN, &distrust));
    rejected(&c.run(ADMIN, &distrust), "not_found", "is not a trusted issuer");
    rejected(&c.run(PROVINCE, &suspend("P-1", "x")), "unauthorized", "not a trusted issuer");

    let unknown_org =
        LicenseCall::TrustIssuer { type_id: LAWYER.into(), org: OrgId::new("nowhere").unwrap() };
    rejected(&c.run(ADMIN, &unknown_org), "not_found", "organization nowhere does not exist");
    let unknown_type =
        LicenseCall::TrustIssuer { type_id: "pilot".into(), org: OrgId::new("justice").unwrap() };
    rejected(&c.run(ADMIN, &unknown_type), "not_found", "license type pilot is not registered");
}

#[test]
fn claims_must_match_the_type() {
    let mut c = registry();
    let mut missing = claims();
    missing.remove("law_firm");
    rejected(&c.run(ISSUER, &issue_call("L-1", missing)), "invalid", "missing required claims: law_firm");
    let mut extra = claims();
    extra.insert("blood_type".into(), "O".into());
    rejected(&c.run(ISSUER, &issue_call("L-1", extra)), "invalid", "not in the type's schema: blood_type");
    let mut area = claims();
    area.insert("practice_area".into(), "astrology".into());
    rejected(&c.run(ISSUER, &issue_call("L-1", area)), "invalid", "practice_area must be one of");
    let mut date = claims();
    date.insert("issue_date".into(), "2026-02-30".into());
    rejected(&c.run(ISSUER, &issue_call("L-1", date)), "invalid", "issue_date must be a date");
    let mut bad_holder = issue_call("L-1", claims());
    if let LicenseCall::Issue { holder, .. } = &mut bad_holder {
        *holder = "did:civic:justice".into();
    }
    rejected(&c.run(ISSUER, &bad_holder), "invalid", "must be a did:key");
    let unknown_type = LicenseCall::Issue {
        license_id: "L-1".into(),
        type_id: "pilot".into(),
        holder: HOLDER.into(),
        claims: claims(),
        valid_from: UnixMillis::new(0),
        valid_until: far_future(),
    };
    rejected(&c.run(ISSUER, &unknown_type), "not_found", "license type pilot is not registered");
    let t: LicenseType = get(&c, &keys::license_type(LAWYER)).unwrap();
    assert_eq!(t.claims, CLAIMS.iter().map(|c| (*c).to_owned()).collect());
    // The schema is stored canonical (RFC 8785), whatever the whitespace of the call.
    assert!(t.schema.starts_with("{\"$schema\":"), "{}", t.schema);
    let bad_schema = LicenseCall::RegisterType {
        type_id: "pilot".into(),
        name: "Pilot".into(),
        schema: r#"{"type":"object","properties":{"a":{"type":"string","pattern":"x"}},"additionalProperties":false}"#
            .into(),
    };
    rejected(&c.run(ADMIN, &bad_schema), "invalid", "keyword \"pattern\" in property a is not supported");
    assert!(get::<License>(&c, &keys::license("L-1")).is_none());
}

#[test]
fn usage_records_append() {
    let mut c = issued();
    ok(&c.run(
        COURT,
        &LicenseCall::RecordUsage {
            license_id: "L-1".into(),
            verifier: UsageVerifier::Account(AccountId::new(COURT).unwrap()),
            purpose: "court appearance".into(),
            verdict: Verdict::Valid,
        },
    ));
    ok(&c.run(ISSUER, &suspend("L-1", "inquiry")));
    let invalid = Verdict::Invalid { reason: "suspended".into() };
    ok(&c.run(
        COURT,
        &LicenseCall::RecordUsage {
            license_id: "L-1".into(),
            verifier: UsageVerifier::Public,
            purpose: "court appearance".into(),
            verdict: invalid.clone(),
        },
    ));
    let recs: Vec<UsageRecord> = (0..).map_while(|s| get(&c, &keys::usage("L-1", s))).collect();
    assert_eq!(recs.len(), 2);
    assert_eq!((recs[0].seq, &recs[0].verdict), (0, &Verdict::Valid));
    assert_eq!((recs[1].seq, &recs[1].verdict), (1, &invalid));
    assert_eq!(recs[0].verifier, UsageVerifier::Account(AccountId::new(COURT).unwrap()));
    assert_eq!(recs[1].verifier, UsageVerifier::Public);
    assert_eq!(recs[1].recorded_by, AccountId::new(COURT).unwrap());
    assert_eq!(recs[1].time, c.head.timestamp);
    assert_eq!(get::<u64>(&c, &keys::usage_seq("L-1")), Some(2));
    // Usage does not change the license's version.
    assert_eq!(get::<License>(&c, &keys::license("L-1")).unwrap().version, 2);
    let unknown = LicenseCall::RecordUsage {
        license_id: "L-9".into(),
        verifier: UsageVerifier::Public,
        purpose: "x".into(),
        verdict: Verdict::Valid,
    };
    rejected(&c.run(COURT, &unknown), "not_found", "license L-9 does not exist");
    // Without the verifier role an account records only its own verifications.
    let own = |verifier| LicenseCall::RecordUsage {
        license_id: "L-1".into(),
        verifier,
        purpose: "x".into(),
        verdict: Verdict::Valid,
    };
    ok(&c.run(ISSUER, &own(UsageVerifier::Account(AccountId::new(ISSUER).unwrap()))));
    rejected(&c.run(ISSUER, &own(UsageVerifier::Public)), "unauthorized", "needs the verifier role");
    rejected(
        &c.run(ISSUER, &own(UsageVerifier::Account(AccountId::new(COURT).unwrap()))),
        "unauthorized",
        "may record only its own verifications",
    );
}

#[test]
fn status_bits_follow_the_lifecycle() {
    let mut c = issued();
    ok(&c.run(ISSUER, &issue_call("L-2", claims())));
    let justice = OrgId::new("justice").unwrap();
    let l2: License = get(&c, &keys::license("L-2")).unwrap();
    assert_eq!(l2.status_index, 1, "indices are assigned per issuer and type in order");
    assert_eq!(get::<u64>(&c, &keys::status_counter(&justice, LAWYER)), Some(2));
    let bit = |c: &Chain, p| get::<String>(c, &keys::status_bit(&justice, LAWYER, p, 1));
    assert_eq!((bit(&c, StatusPurpose::Suspension), bit(&c, StatusPurpose::Revocation)), (None, None));
    ok(&c.run(ISSUER, &suspend("L-2", "inquiry")));
    assert_eq!(bit(&c, StatusPurpose::Suspension).as_deref(), Some("L-2"));
    ok(&c.run(ISSUER, &reinstate("L-2", "cleared")));
    assert_eq!(bit(&c, StatusPurpose::Suspension), None);
    ok(&c.run(ISSUER, &suspend("L-2", "second inquiry")));
    ok(&c.run(ISSUER, &revoke("L-2", "struck off")));
    assert_eq!(
        (bit(&c, StatusPurpose::Suspension), bit(&c, StatusPurpose::Revocation).as_deref()),
        (None, Some("L-2"))
    );
    // L-1's bits (index 0) were never touched.
    assert_eq!(get::<String>(&c, &keys::status_bit(&justice, LAWYER, StatusPurpose::Revocation, 0)), None);
    // Both licenses are listed under their holder.
    assert_eq!(get::<String>(&c, &keys::holder(HOLDER, "L-1")).as_deref(), Some(LAWYER));
    assert_eq!(get::<String>(&c, &keys::holder(HOLDER, "L-2")).as_deref(), Some(LAWYER));
}

#[test]
fn renew_extends_validity() {
    let mut c = issued();
    let until = far_future().get() + 365 * 86_400_000;
    ok(&c.run(ISSUER, &renew("L-1", until)));
    let lic: License = get(&c, &keys::license("L-1")).unwrap();
    assert_eq!((lic.valid_until, lic.status, lic.version), (UnixMillis::new(until), Status::Active, 2));
    let recs = mgmt(&c, "L-1");
    assert_eq!((recs[1].action, recs[1].valid_until), (Action::Renew, UnixMillis::new(until)));
    rejected(&c.run(ISSUER, &renew("L-1", until)), "invalid", "renewal must extend validity");
    // Expiry is computed, not stored: the same license is expired after its new end.
    assert_eq!(lic.effective_status(UnixMillis::new(until + 1)), civic_licenses::EffectiveStatus::Expired);
    assert_eq!(lic.effective_status(c.head.timestamp), civic_licenses::EffectiveStatus::Active);
}

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 0..max).prop_map(|v| v.into_iter().collect())
}

fn verdict() -> impl Strategy<Value = Verdict> {
    prop_oneof![Just(Verdict::Valid), text(20).prop_map(|reason| Verdict::Invalid { reason })]
}

fn call() -> impl Strategy<Value = LicenseCall> {
    let org = || "[a-z][a-z0-9-]{0,20}".prop_map(|o| OrgId::new(o).unwrap());
    let ms = || any::<u64>().prop_map(UnixMillis::new);
    prop_oneof![
        (text(20), text(20), text(60)).prop_map(|(type_id, name, schema)| LicenseCall::RegisterType {
            type_id,
            name,
            schema
        }),
        (text(20), org()).prop_map(|(type_id, org)| LicenseCall::TrustIssuer { type_id, org }),
        (text(20), org()).prop_map(|(type_id, org)| LicenseCall::DistrustIssuer { type_id, org }),
        (text(20), text(20), text(40), proptest::collection::btree_map(text(10), text(20), 0..5), ms(), ms())
            .prop_map(|(license_id, type_id, holder, claims, valid_from, valid_until)| LicenseCall::Issue {
                license_id,
                type_id,
                holder,
                claims,
                valid_from,
                valid_until
            }),
        (text(20), ms(), text(20)).prop_map(|(license_id, valid_until, reason)| LicenseCall::Renew {
            license_id,
            valid_until,
            reason
        }),
        (text(20), text(20)).prop_map(|(license_id, reason)| LicenseCall::Suspend { license_id, reason }),
        (text(20), text(20)).prop_map(|(license_id, reason)| LicenseCall::Reinstate { license_id, reason }),
        (text(20), text(20)).prop_map(|(license_id, reason)| LicenseCall::Revoke { license_id, reason }),
        (
            text(20),
            text(20),
            verdict(),
            prop_oneof![
                Just(UsageVerifier::Public),
                Just(UsageVerifier::Account(AccountId::new(COURT).unwrap()))
            ]
        )
            .prop_map(|(license_id, purpose, verdict, verifier)| LicenseCall::RecordUsage {
                license_id,
                verifier,
                purpose,
                verdict
            }),
    ]
}

proptest! {
    #[test]
    fn license_call_round_trips(c in call()) {
        let bytes = civic_types::encode(&c);
        prop_assert_eq!(civic_types::decode::<LicenseCall>(&bytes, 1 << 20).unwrap(), c.clone());
        // The JSON form used by the CLI and API encodes to the same canonical bytes.
        let json = serde_json::to_value(&c).unwrap();
        prop_assert_eq!(Licenses.encode_json(json).unwrap(), bytes);
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Licenses.check(&bytes);
        let _ = Licenses.describe(&bytes);
    }
}

#[test]
fn json_form_is_externally_tagged_snake_case() {
    let j = serde_json::to_value(suspend("L-1", "inquiry")).unwrap();
    assert_eq!(j, serde_json::json!({ "suspend": { "license_id": "L-1", "reason": "inquiry" } }));
    let v = serde_json::to_value(Verdict::Invalid { reason: "r".into() }).unwrap();
    assert_eq!(v, serde_json::json!({ "invalid": { "reason": "r" } }));
}
