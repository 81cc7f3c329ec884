//! The development network of `civic dev`: a genesis of demo departments with their accounts and
//! key files, and the demo activity submitted as real signed transactions on first start.
//!
//! Layout of a dev data directory: `genesis.json`, `keys/<org>.<name>.json` (one per account),
//! `keys/validator.json`, `residents/<name>.json` (demo residents' did:key keys), and the chain
//! (`ledger.fjall` or `ledger.redb`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use civic_ledger::modules::membership::{
    GenesisAccount, GenesisOrg, GovernanceAction, GovernanceParams, MembershipCall, Validator,
};
use civic_ledger::modules::notary::NotaryCall;
use civic_ledger::{Call, Genesis, ModuleCall, SignedTx, Transaction};
use civic_supervision::position::to_e7;
use civic_types::{AccountId, ChainId, Nonce, OrgId, Role, SecretKey, UnixMillis, sha256};

use crate::keyfile::{KeyFile, KeyFileError};

/// The dev chain id.
pub const DEV_CHAIN_ID: &str = "civic-dev";

/// The demo departments: id, name, accounts (name, roles).
pub const DEPARTMENTS: &[(&str, &str, &[(&str, &[Role])])] = &[
    (
        "justice",
        "Justice Bureau",
        &[
            ("admin", &[Role::Admin]),
            ("issuer", &[Role::Issuer]),
            ("officer", &[Role::Officer]),
            // The dev node's verification service: records the verifications it performs.
            ("service", &[Role::Verifier]),
            // The dev node's device gateway: anchors position batches and raises alerts.
            ("gateway", &[Role::Gateway]),
        ],
    ),
    (
        "public-security",
        "Public Security Bureau",
        &[("admin", &[Role::Admin]), ("officer", &[Role::Officer]), ("verifier", &[Role::Verifier])],
    ),
    (
        "data-bureau",
        "Data Resources Bureau",
        &[
            ("admin", &[Role::Admin]),
            ("registrar", &[Role::Registrar]),
            ("auditor", &[Role::Auditor]),
            ("credit-reviewer", &[Role::CreditReviewer]),
        ],
    ),
    ("bar-association", "Bar Association", &[("admin", &[Role::Admin]), ("verifier", &[Role::Verifier])]),
    (
        "city-bank",
        "City Commercial Bank",
        &[
            ("admin", &[Role::Admin]),
            ("verifier", &[Role::Verifier]),
            ("credit-source", &[Role::CreditSource]),
        ],
    ),
];

/// The demo license type: a lawyer's practice license.
pub const LAWYER_LICENSE: &str = "lawyer-practice";

/// The demo supervision cases: a wristband case with a curfew, and a phone case.
pub const DEMO_CASES: [&str; 2] = ["CASE-2026-0001", "CASE-2026-0002"];
/// Their devices: a watch-protocol wristband id and an OsmAnd (Traccar Client) id.
pub const DEMO_DEVICES: [&str; 2] = ["9003000001", "traccar-0002"];
/// The first case's home (centre of its 150 m home zone), degrees.
pub const DEMO_HOME: (f64, f64) = (39.9150, 116.4040);
/// The demo cases' time zone.
pub const DEMO_TIME_ZONE: &str = "Asia/Shanghai";

/// The id of the `n`th demo license (from 1): `BJ-LAW-2026-0001` …; the third is suspended.
pub fn demo_license_id(n: usize) -> String {
    format!("BJ-LAW-2026-{n:04}")
}

/// A dev network on disk.
pub struct DevNet {
    /// The data directory.
    pub dir: PathBuf,
    /// The genesis.
    pub genesis: Genesis,
    /// Every account's key.
    pub keys: BTreeMap<AccountId, SecretKey>,
    /// The validator key.
    pub validator: SecretKey,
    /// True when this call created the directory's network (first start).
    pub created: bool,
}

/// Why the dev directory could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum DevNetError {
    /// A key file problem.
    #[error(transparent)]
    Key(#[from] KeyFileError),
    /// File system error.
    #[error("{0}")]
    Io(String),
    /// Bad genesis.json.
    #[error("{0}: {1}")]
    Genesis(String, String),
}

/// Where an account's key file lives.
pub fn key_path(dir: &Path, account: &AccountId) -> PathBuf {
    dir.join("keys").join(format!("{}.{}.json", account.org(), account.name()))
}

/// Opens the dev network in `dir`, creating genesis and keys on first use.
pub fn open_or_create(dir: &Path, genesis_time: UnixMillis) -> Result<DevNet, DevNetError> {
    let genesis_path = dir.join("genesis.json");
    let validator_path = dir.join("keys").join("validator.json");
    if genesis_path.exists() {
        let text = std::fs::read_to_string(&genesis_path)
            .map_err(|e| DevNetError::Io(format!("{}: {e}", genesis_path.display())))?;
        let genesis: Genesis = serde_json::from_str(&text)
            .map_err(|e| DevNetError::Genesis(genesis_path.display().to_string(), e.to_string()))?;
        let validator = KeyFile::read(&validator_path)?.secret().map_err(DevNetError::Io)?;
        let mut keys = BTreeMap::new();
        let entries = std::fs::read_dir(dir.join("keys")).map_err(|e| DevNetError::Io(e.to_string()))?;
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            let kf = KeyFile::read(&p)?;
            if let Some(a) = kf.account.clone() {
                keys.insert(a, kf.secret().map_err(DevNetError::Io)?);
            }
        }
        return Ok(DevNet { dir: dir.to_path_buf(), genesis, keys, validator, created: false });
    }

    std::fs::create_dir_all(dir.join("keys"))
        .map_err(|e| DevNetError::Io(format!("{}: {e}", dir.display())))?;
    let mut keys = BTreeMap::new();
    let mut organizations = Vec::new();
    for (org, name, accounts) in DEPARTMENTS {
        let org_id = OrgId::new(*org).map_err(|e| DevNetError::Io(e.to_string()))?;
        let mut accts = Vec::new();
        for (acct, roles) in *accounts {
            let id = AccountId::from_parts(&org_id, acct).map_err(|e| DevNetError::Io(e.to_string()))?;
            let key = SecretKey::generate().map_err(|e| DevNetError::Io(e.to_string()))?;
            KeyFile::new(Some(id.clone()), &key).write(&key_path(dir, &id))?;
            accts.push(GenesisAccount {
                name: (*acct).to_owned(),
                public_key: key.public_key(),
                roles: roles.iter().copied().collect::<BTreeSet<Role>>(),
            });
            keys.insert(id, key);
        }
        organizations.push(GenesisOrg { id: org_id, name: (*name).to_owned(), accounts: accts });
    }
    let validator = SecretKey::generate().map_err(|e| DevNetError::Io(e.to_string()))?;
    KeyFile::new(None, &validator).write(&validator_path)?;
    let genesis = Genesis {
        chain_id: ChainId::new(DEV_CHAIN_ID).map_err(|e| DevNetError::Io(e.to_string()))?,
        genesis_time,
        organizations,
        validators: vec![Validator {
            name: "justice-node-1".into(),
            org: OrgId::new("justice").map_err(|e| DevNetError::Io(e.to_string()))?,
            public_key: validator.public_key(),
        }],
        governance: GovernanceParams::default(),
    };
    let json = serde_json::to_string_pretty(&genesis).map_err(|e| DevNetError::Io(e.to_string()))?;
    std::fs::write(&genesis_path, json + "\n")
        .map_err(|e| DevNetError::Io(format!("{}: {e}", genesis_path.display())))?;
    Ok(DevNet { dir: dir.to_path_buf(), genesis, keys, validator, created: true })
}

/// Private-store writes: key and value (None deletes).
pub type PrivateEntries = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// Where a demo resident's key file lives (residents are not accounts: their keys are did:key).
pub fn resident_key_path(dir: &Path, name: &str) -> PathBuf {
    dir.join("residents").join(format!("{name}.json"))
}

impl DevNet {
    /// A demo resident's key (created on first use) and did:key.
    fn resident_key(&self, name: &str) -> Result<(SecretKey, String), DevNetError> {
        let path = resident_key_path(&self.dir, name);
        if !path.exists() {
            let key = SecretKey::generate().map_err(|e| DevNetError::Io(e.to_string()))?;
            KeyFile::new(None, &key).write(&path)?;
        }
        let key = KeyFile::read(&path)?.secret().map_err(DevNetError::Io)?;
        let did = civic_identity::Did::key(key.public_key()).to_string();
        Ok((key, did))
    }

    /// The licenses demo, in three stages: the lawyer's practice license type and the justice
    /// bureau trusted for it; three licenses issued to demo lawyers; one suspended, and a
    /// verification by the bar association recorded.
    fn licenses_demo(&self) -> Result<Vec<Vec<SignedTx>>, DevNetError> {
        use civic_licenses::{LicenseCall, UsageVerifier, Verdict};
        let org = |s: &str| OrgId::new(s).map_err(|e| DevNetError::Io(e.to_string()));
        let start = self.genesis.genesis_time;
        let two_years = UnixMillis::new(start.get() + 2 * 365 * 24 * 3600 * 1000);
        let day = |t: UnixMillis| civic_licenses::credential::rfc3339(t).chars().take(10).collect::<String>();
        let registry = vec![
            self.tx(
                "justice/admin",
                3,
                &LicenseCall::RegisterType {
                    type_id: LAWYER_LICENSE.into(),
                    name: "Lawyer's practice license".into(),
                    schema: civic_licenses::schema::LAWYER_PRACTICE.into(),
                },
            )?,
            self.tx(
                "justice/admin",
                4,
                &LicenseCall::TrustIssuer { type_id: LAWYER_LICENSE.into(), org: org("justice")? },
            )?,
        ];
        let lawyers = [
            ("wang-fang", "Wang Fang", "110101198811023311", "Jinghua Law Firm", "civil"),
            ("chen-jie", "Chen Jie", "110105197902145527", "Harbour & Partners", "commercial"),
            ("liu-yang", "Liu Yang", "110108199204306613", "Northgate Legal Aid Centre", "criminal"),
        ];
        let mut issues = Vec::new();
        for (n, (resident, name, national_id, firm, area)) in lawyers.iter().enumerate() {
            let (_, holder) = self.resident_key(resident)?;
            let number = format!("1101{}{:04}", day(start).replace('-', ""), n + 1);
            let claims = [
                ("holder_name", (*name).to_owned()),
                ("national_id_hash", sha256(national_id.as_bytes()).to_hex()),
                ("license_number", number),
                ("law_firm", (*firm).to_owned()),
                ("practice_area", (*area).to_owned()),
                ("issue_date", day(start)),
                ("valid_until", day(two_years)),
            ];
            issues.push(self.tx(
                "justice/issuer",
                n as u64,
                &LicenseCall::Issue {
                    license_id: demo_license_id(n + 1),
                    type_id: LAWYER_LICENSE.into(),
                    holder,
                    claims: claims.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                    valid_from: start,
                    valid_until: two_years,
                },
            )?);
        }
        let verifier =
            AccountId::new("bar-association/verifier").map_err(|e| DevNetError::Io(e.to_string()))?;
        let after = vec![
            self.tx(
                "justice/issuer",
                3,
                &LicenseCall::Suspend {
                    license_id: demo_license_id(3),
                    reason: "disciplinary inquiry opened by the bar association".into(),
                },
            )?,
            self.tx(
                "bar-association/verifier",
                0,
                &LicenseCall::RecordUsage {
                    license_id: demo_license_id(1),
                    verifier: UsageVerifier::Account(verifier),
                    purpose: "annual membership review".into(),
                    verdict: Verdict::Valid,
                },
            )?,
        ];
        Ok(vec![registry, issues, after])
    }

    /// The identity demo: a resident with attested attributes (commitments only), a consent
    /// grant to the bank for banking, a read under that consent, and a legal-basis identity
    /// check by public security.
    /// A demo resident: key file (created once), did:key, the registrar's attest call and the
    /// private entries holding the values and salt.
    fn demo_resident(
        &self,
        name: &str,
        values: &[(&str, &str)],
    ) -> Result<(SecretKey, String, civic_identity::IdentityCall, PrivateEntries), DevNetError> {
        use civic_identity::module::{IdentityCall, commitment};
        let (resident_key, resident) = self.resident_key(name)?;
        let salt = civic_types::random_bytes().map_err(|e| DevNetError::Io(e.to_string()))?;
        let attest = IdentityCall::Attest {
            resident: resident.clone(),
            attributes: values.iter().map(|(n, v)| ((*n).to_owned(), commitment(&salt, n, v))).collect(),
        };
        // The registrar's node keeps the values and the salt off chain.
        let registrar_org = OrgId::new("data-bureau").map_err(|e| DevNetError::Io(e.to_string()))?;
        let private: PrivateEntries = values
            .iter()
            .map(|(n, v)| {
                let p = civic_identity::private::PrivateAttribute { value: (*v).to_owned(), salt };
                (civic_identity::private::key(&registrar_org, &resident, n), Some(civic_types::encode(&p)))
            })
            .collect();
        Ok((resident_key, resident, attest, private))
    }

    /// The identity demo: two residents with attested attributes (values off chain), consent
    /// grants to the bank (banking) and to public security (tax), reads under those consents,
    /// and a legal-basis identity check by public security.
    fn identity_demo(&self) -> Result<(Vec<SignedTx>, Vec<SignedTx>, PrivateEntries), DevNetError> {
        use civic_identity::module::{AccessBasis, ConsentGrant, IdentityCall, Purpose};
        let (resident_key, resident, attest, mut private) = self.demo_resident(
            "zhang-san",
            &[
                ("name", "Zhang San"),
                ("national_id", "110101199003074578"),
                ("address", "12 Chang'an Avenue, Dongcheng District"),
            ],
        )?;
        let (li_key, li, li_attest, li_private) = self.demo_resident(
            "li-si",
            &[("name", "Li Si"), ("national_id", "110101198507151234"), ("income_bracket", "B")],
        )?;
        private.extend(li_private);
        let org = |s: &str| OrgId::new(s).map_err(|e| DevNetError::Io(e.to_string()));
        let year = UnixMillis::new(self.genesis.genesis_time.get() + 365 * 24 * 3600 * 1000);
        let li_grant = ConsentGrant {
            chain_id: self.genesis.chain_id.clone(),
            id: 1,
            resident: li.clone(),
            controller: org("public-security")?,
            attributes: BTreeSet::from(["name".to_owned(), "income_bracket".to_owned()]),
            purpose: Purpose::Tax,
            not_after: year,
        };
        let li_signature = li_key.sign(&li_grant.signing_bytes());
        let grant = ConsentGrant {
            chain_id: self.genesis.chain_id.clone(),
            id: 1,
            resident: resident.clone(),
            controller: org("city-bank")?,
            attributes: BTreeSet::from(["name".to_owned(), "national_id".to_owned(), "address".to_owned()]),
            purpose: Purpose::Banking,
            not_after: year,
        };
        let signature = resident_key.sign(&grant.signing_bytes());
        let stage1 = vec![
            self.tx("data-bureau/registrar", 0, &attest)?,
            self.tx("data-bureau/registrar", 1, &li_attest)?,
            self.tx("city-bank/verifier", 0, &IdentityCall::GrantConsent { grant, signature })?,
            self.tx(
                "public-security/verifier",
                0,
                &IdentityCall::GrantConsent { grant: li_grant, signature: li_signature },
            )?,
        ];
        let stage2 = vec![
            self.tx(
                "city-bank/verifier",
                1,
                &IdentityCall::RecordAccess {
                    resident: resident.clone(),
                    attributes: BTreeSet::from(["name".to_owned(), "address".to_owned()]),
                    purpose: Purpose::Banking,
                    basis: AccessBasis::Consent { grant_id: 1 },
                },
            )?,
            self.tx(
                "public-security/officer",
                0,
                &IdentityCall::RecordAccess {
                    resident,
                    attributes: BTreeSet::from(["name".to_owned(), "national_id".to_owned()]),
                    purpose: Purpose::Other("identity check".into()),
                    basis: AccessBasis::LegalBasis {
                        reference: "Resident Identity Card Law, art. 15".into(),
                    },
                },
            )?,
            self.tx(
                "public-security/verifier",
                1,
                &IdentityCall::RecordAccess {
                    resident: li,
                    attributes: BTreeSet::from(["income_bracket".to_owned()]),
                    purpose: Purpose::Tax,
                    basis: AccessBasis::Consent { grant_id: 1 },
                },
            )?,
        ];
        Ok((stage1, stage2, private))
    }

    /// The supervision demo: two cases of the justice bureau with their zones and devices — a
    /// wristband (watch protocol) on a case with a home curfew, a district and an exclusion zone,
    /// and a phone (OsmAnd protocol) on a case with a home zone.
    fn supervision_demo(&self) -> Result<Vec<Vec<SignedTx>>, DevNetError> {
        use civic_supervision::module::{Protocol, SupervisionCall as S};
        use civic_supervision::zone::{Schedule, Shape, Weekday, Window, ZoneKind, ZoneSpec};
        let officer = AccountId::new("justice/officer").map_err(|e| DevNetError::Io(e.to_string()))?;
        let start = self.genesis.genesis_time;
        let term_end = UnixMillis::new(start.get() + 2 * 365 * 24 * 3600 * 1000);
        let open = |case_id: &str, subject: &str, basis: &str| S::OpenCase {
            case_id: case_id.into(),
            subject: subject.into(),
            legal_basis: basis.into(),
            term_start: start,
            term_end,
            officer: officer.clone(),
            time_zone: DEMO_TIME_ZONE.into(),
            escalation_minutes: 15,
            gone_dark_minutes: 20,
            offline_minutes: 60,
        };
        let square = |lat: f64, lon: f64, half: f64| {
            let (s, n, w, e) = (lat - half, lat + half, lon - half, lon + half);
            format!(
                r#"{{"type":"Polygon","coordinates":[[[{w},{s}],[{e},{s}],[{e},{n}],[{w},{n}],[{w},{s}]]]}}"#
            )
        };
        let zone = |case_id: &str, zone_id: &str, spec: ZoneSpec| S::SetZone {
            case_id: case_id.into(),
            zone_id: zone_id.into(),
            spec,
        };
        let every_day = vec![
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ];
        let (home_lat, home_lon) = DEMO_HOME;
        let stage1 = vec![
            self.tx(
                "justice/officer",
                1,
                &open(
                    DEMO_CASES[0],
                    "did:civic:justice:subject-0001",
                    "Beijing Dongcheng District Court, (2026) Jing 0101 Xing Zhi No. 118",
                ),
            )?,
            self.tx(
                "justice/officer",
                2,
                &open(
                    DEMO_CASES[1],
                    "internal:JB-2026-0417",
                    "Beijing Xicheng District Court, (2026) Jing 0102 Xing Zhi No. 57",
                ),
            )?,
            self.tx(
                "justice/officer",
                3,
                &S::RegisterDevice {
                    device_id: DEMO_DEVICES[0].into(),
                    protocol: Protocol::Watch,
                    label: "GPS wristband, serial WB-88213".into(),
                },
            )?,
            self.tx(
                "justice/officer",
                4,
                &S::RegisterDevice {
                    device_id: DEMO_DEVICES[1].into(),
                    protocol: Protocol::Osmand,
                    label: "Traccar Client phone".into(),
                },
            )?,
        ];
        let stage2 = vec![
            self.tx(
                "justice/officer",
                5,
                &zone(
                    DEMO_CASES[0],
                    "home",
                    ZoneSpec {
                        name: "Home (curfew 22:00-06:00)".into(),
                        kind: ZoneKind::Inclusion,
                        shape: Shape::Circle {
                            lat_e7: to_e7(home_lat),
                            lon_e7: to_e7(home_lon),
                            radius_m: 150,
                        },
                        buffer_m: 30,
                        schedule: Some(Schedule {
                            windows: vec![Window { days: every_day, start: 22 * 60, end: 6 * 60 }],
                        }),
                    },
                ),
            )?,
            self.tx(
                "justice/officer",
                6,
                &zone(
                    DEMO_CASES[0],
                    "district",
                    ZoneSpec {
                        name: "Dongcheng district".into(),
                        kind: ZoneKind::Inclusion,
                        shape: Shape::GeoJson { geometry: square(home_lat, home_lon, 0.015) },
                        buffer_m: 50,
                        schedule: None,
                    },
                ),
            )?,
            self.tx(
                "justice/officer",
                7,
                &zone(
                    DEMO_CASES[0],
                    "school",
                    ZoneSpec {
                        name: "Primary school (keep out)".into(),
                        kind: ZoneKind::Exclusion,
                        shape: Shape::GeoJson { geometry: square(home_lat + 0.006, home_lon + 0.006, 0.001) },
                        buffer_m: 20,
                        schedule: None,
                    },
                ),
            )?,
            self.tx(
                "justice/officer",
                8,
                &zone(
                    DEMO_CASES[1],
                    "home",
                    ZoneSpec {
                        name: "Home".into(),
                        kind: ZoneKind::Inclusion,
                        shape: Shape::Circle {
                            lat_e7: to_e7(39.9130),
                            lon_e7: to_e7(116.3660),
                            radius_m: 2000,
                        },
                        buffer_m: 50,
                        schedule: None,
                    },
                ),
            )?,
            self.tx(
                "justice/officer",
                9,
                &S::BindDevice { device_id: DEMO_DEVICES[0].into(), case_id: DEMO_CASES[0].into() },
            )?,
            self.tx(
                "justice/officer",
                10,
                &S::BindDevice { device_id: DEMO_DEVICES[1].into(), case_id: DEMO_CASES[1].into() },
            )?,
        ];
        Ok(vec![stage1, stage2])
    }

    fn key(&self, account: &str) -> Result<(AccountId, &SecretKey), DevNetError> {
        let id = AccountId::new(account).map_err(|e| DevNetError::Io(e.to_string()))?;
        let key = self.keys.get(&id).ok_or_else(|| DevNetError::Io(format!("no key for {id}")))?;
        Ok((id, key))
    }

    fn tx<C: ModuleCall>(&self, account: &str, nonce: u64, call: &C) -> Result<SignedTx, DevNetError> {
        let (signer, key) = self.key(account)?;
        Ok(Transaction {
            chain_id: self.genesis.chain_id.clone(),
            signer,
            nonce: Nonce::new(nonce),
            call: Call::new(call),
        }
        .sign(key))
    }

    /// The demo activity, in stages: each stage's transactions may be submitted together; a
    /// stage must be committed before the next is submitted. Also returns the private (off-chain)
    /// entries to store first: the demo resident's attribute values. Writes the key of the
    /// organization the demo admits to `keys/`.
    pub fn demo_stages(&self) -> Result<(Vec<Vec<SignedTx>>, PrivateEntries), DevNetError> {
        let health_admin = SecretKey::generate().map_err(|e| DevNetError::Io(e.to_string()))?;
        let health_id = AccountId::new("health/admin").map_err(|e| DevNetError::Io(e.to_string()))?;
        let path = key_path(&self.dir, &health_id);
        if !path.exists() {
            KeyFile::new(Some(health_id.clone()), &health_admin).write(&path)?;
        }
        let health_admin = KeyFile::read(&path)?.secret().map_err(DevNetError::Io)?;
        let clerk = SecretKey::generate().map_err(|e| DevNetError::Io(e.to_string()))?;
        let clerk_id = AccountId::new("justice/clerk").map_err(|e| DevNetError::Io(e.to_string()))?;
        let clerk_path = key_path(&self.dir, &clerk_id);
        if !clerk_path.exists() {
            KeyFile::new(Some(clerk_id.clone()), &clerk).write(&clerk_path)?;
        }
        let clerk = KeyFile::read(&clerk_path)?.secret().map_err(DevNetError::Io)?;
        let org = |s: &str| OrgId::new(s).map_err(|e| DevNetError::Io(e.to_string()));

        let mut stage1 = vec![
            self.tx(
                "justice/admin",
                0,
                &NotaryCall::Notarize {
                    digest: sha256(b"Community Corrections Implementation Measures (2026 revision)"),
                    label: "Community corrections implementation measures, 2026 revision".into(),
                },
            )?,
            self.tx(
                "data-bureau/admin",
                0,
                &MembershipCall::Propose {
                    title: "Admit the Municipal Health Commission".into(),
                    action: GovernanceAction::AddOrganization {
                        org: org("health")?,
                        name: "Municipal Health Commission".into(),
                        admin: health_id.clone(),
                        admin_key: health_admin.public_key(),
                    },
                },
            )?,
            // Shows a rejection with its reason on chain: an officer cannot propose governance.
            self.tx(
                "justice/officer",
                0,
                &MembershipCall::Propose {
                    title: "Remove the bar association".into(),
                    action: GovernanceAction::RemoveOrganization { org: org("bar-association")? },
                },
            )?,
        ];
        let mut stage2 = vec![
            self.tx("justice/admin", 1, &MembershipCall::Vote { proposal: 0, approve: true })?,
            self.tx("public-security/admin", 0, &MembershipCall::Vote { proposal: 0, approve: true })?,
            self.tx(
                "justice/admin",
                2,
                &MembershipCall::AddAccount {
                    account: clerk_id,
                    public_key: clerk.public_key(),
                    roles: BTreeSet::from([Role::Registrar]),
                },
            )?,
        ];
        let (mut identity1, identity2, private) = self.identity_demo()?;
        stage1.append(&mut identity1);
        stage2.extend(identity2);
        let mut stages = vec![stage1, stage2];
        stages.extend(self.licenses_demo()?);
        stages.extend(self.supervision_demo()?);
        Ok((stages, private))
    }
}
