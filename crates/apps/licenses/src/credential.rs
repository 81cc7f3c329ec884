//! W3C Verifiable Credentials 2.0 for licenses: the license credential, its `eddsa-jcs-2022`
//! proof, and the Bitstring Status List v1.0 credentials that carry revocation and suspension.
//!
//! Guarantees: every function is pure — time comes in as a parameter, nothing reads the clock,
//! the network or a random source — so the same license, type, base URL and key always give
//! byte-identical credentials. A license's `status_index` `i` is entry `i % LIST_ENTRIES` of page
//! `i / LIST_ENTRIES` of its issuer's list for its type, for both purposes, so a license keeps
//! the same status bits for life. Every parser here ([`StatusListId`], [`parse_rfc3339`],
//! [`list_id_from_url`]) is bounded and accepts exactly the form its printer produces (plus, for
//! times, the other RFC 3339 offsets), never panicking on hostile input.

use std::fmt;
use std::str::FromStr;

use civic_types::{OrgId, SecretKey, UnixMillis};
use civic_vc::VcError;
use civic_vc::eddsa_jcs_2022::{self, CRYPTOSUITE, PROOF_TYPE};
use civic_vc::status_list::BitString;
use serde_json::{Map, Value, json};

use crate::module::{License, LicenseType, MAX_TYPE_ID, StatusPurpose};

/// Entries in one status list page. A license's `status_index` `i` lives in page
/// `i / LIST_ENTRIES` at position `i % LIST_ENTRIES`. This is the Bitstring Status List minimum
/// (16 KiB), which keeps every page the same size and gives holders group privacy.
pub const LIST_ENTRIES: u64 = 131_072;
// A page is exactly the minimum-length bitstring.
const _: () = assert!(LIST_ENTRIES as usize == civic_vc::status_list::MIN_ENTRIES);

/// The `type` that marks a credential as a license of this ledger (next to
/// `VerifiableCredential`).
pub const CREDENTIAL_TYPE: &str = "CivicLicenseCredential";

/// The W3C Verifiable Credentials 2.0 base context, the first `@context` of every credential.
pub const VC_CONTEXT_V2: &str = "https://www.w3.org/ns/credentials/v2";

/// The `type` of a `credentialStatus` entry.
pub const STATUS_ENTRY_TYPE: &str = "BitstringStatusListEntry";

/// The proof purpose of every credential this ledger issues.
pub const ASSERTION_METHOD: &str = "assertionMethod";

/// The path under a node's base URL where status list credentials are published.
const STATUS_LISTS_PATH: &str = "/v1/status-lists/";

/// The last instant RFC 3339 can write (four-digit years): 9999-12-31T23:59:59.999Z.
pub const MAX_RFC3339_MILLIS: u64 = 253_402_300_799_999;

/// Longest status list id: org (63) + type (64) + purpose (10) + page (20) + three dots.
const MAX_LIST_ID: usize = 63 + MAX_TYPE_ID + 10 + 20 + 3;

/// Longest status list URL [`list_id_from_url`] looks at.
const MAX_URL: usize = 512;

/// One page of one status list: `<org>.<type_id>.<purpose>.<page>`, e.g.
/// `justice.lawyer-practice.revocation.0`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatusListId {
    /// The issuing organization.
    pub org: OrgId,
    /// The license type (`[a-z0-9-]{1,64}`).
    pub type_id: String,
    /// Revocation or suspension.
    pub purpose: StatusPurpose,
    /// Page number: the list holds status indexes `page * LIST_ENTRIES ..` `(page + 1) * LIST_ENTRIES`.
    pub page: u64,
}

/// Why a string is not a status list id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StatusListIdError {
    /// One part is missing or malformed.
    #[error(
        "status list id {id:?} is invalid: {why}; expected <org>.<type-id>.<revocation|suspension>.<page>, e.g. justice.lawyer-practice.revocation.0"
    )]
    Invalid {
        /// The input, truncated to 80 characters.
        id: String,
        /// Which part is wrong.
        why: &'static str,
    },
}

impl StatusListId {
    /// The list page holding `license`'s bit for `purpose`.
    pub fn for_license(license: &License, purpose: StatusPurpose) -> StatusListId {
        StatusListId {
            org: license.issuer_org.clone(),
            type_id: license.type_id.clone(),
            purpose,
            page: license.status_index / LIST_ENTRIES,
        }
    }

    /// The position of status index `index` within its page.
    pub fn position(index: u64) -> u64 {
        index % LIST_ENTRIES
    }

    /// The URL of this list's credential under `base_url` (one trailing `/` is ignored).
    pub fn url(&self, base_url: &str) -> String {
        format!("{}{STATUS_LISTS_PATH}{self}", trim_base(base_url))
    }
}

impl fmt::Display for StatusListId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}.{}", self.org, self.type_id, self.purpose, self.page)
    }
}

impl FromStr for StatusListId {
    type Err = StatusListIdError;

    fn from_str(s: &str) -> Result<StatusListId, StatusListIdError> {
        let bad = |why| StatusListIdError::Invalid { id: s.chars().take(80).collect(), why };
        if s.len() > MAX_LIST_ID {
            return Err(bad("it is too long"));
        }
        let mut parts = s.split('.');
        let (Some(org), Some(type_id), Some(purpose), Some(page), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("it must have exactly four parts separated by '.'"));
        };
        let org =
            OrgId::new(org).map_err(|_| bad("the organization id is not 1-63 characters a-z, 0-9, '-'"))?;
        if !is_type_id(type_id) {
            return Err(bad("the license type id is not 1-64 characters a-z, 0-9, '-'"));
        }
        let purpose = match purpose {
            "revocation" => StatusPurpose::Revocation,
            "suspension" => StatusPurpose::Suspension,
            _ => return Err(bad("the purpose must be revocation or suspension")),
        };
        let page =
            parse_canonical_u64(page).ok_or(bad("the page is not a decimal number without leading zeros"))?;
        Ok(StatusListId { org, type_id: type_id.to_owned(), purpose, page })
    }
}

pub(crate) use crate::module::is_type_id;

/// A decimal `u64` written the one way [`u64`]'s `Display` writes it (no sign, no leading zeros).
pub(crate) fn parse_canonical_u64(s: &str) -> Option<u64> {
    let canonical = !s.is_empty()
        && s.len() <= 20
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'));
    if canonical { s.parse().ok() } else { None }
}

fn trim_base(base_url: &str) -> &str {
    base_url.strip_suffix('/').unwrap_or(base_url)
}

/// `t` as an RFC 3339 UTC date-time, `YYYY-MM-DDTHH:MM:SSZ`, with `.mmm` before the `Z` only
/// when the milliseconds are not zero. Times after [`MAX_RFC3339_MILLIS`] (year 9999) are
/// written as that instant, the last one with a four-digit year.
pub fn rfc3339(t: UnixMillis) -> String {
    let ms = t.get().min(MAX_RFC3339_MILLIS);
    let secs = ms / 1000;
    let (y, m, d) = civil_from_days(secs / 86_400);
    let sod = secs % 86_400;
    let (hh, mm, ss) = (sod / 3600, sod / 60 % 60, sod % 60);
    let frac = ms % 1000;
    if frac == 0 {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{frac:03}Z")
    }
}

/// Parses an RFC 3339 date-time, `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (`T` and `Z` in
/// either case). Fractional seconds are truncated to milliseconds. `None` for anything else,
/// for a day or time that does not exist (month 13, 30 February, 24:00, leap second 60), and
/// for instants before 1970-01-01T00:00:00Z.
pub fn parse_rfc3339(s: &str) -> Option<UnixMillis> {
    let b = s.as_bytes();
    // 20 bytes is the shortest form; 64 leaves room for any sensible fraction.
    if b.len() < 20 || b.len() > 64 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        b[r].iter().try_fold(0u64, |acc, c| c.is_ascii_digit().then(|| acc * 10 + u64::from(c - b'0')))
    };
    let seps = b[4] == b'-' && b[7] == b'-' && matches!(b[10], b'T' | b't') && b[13] == b':' && b[16] == b':';
    if !seps {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &b[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix(b".") {
        let digits = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        millis = frac[..digits]
            .iter()
            .chain(std::iter::repeat(&b'0'))
            .take(3)
            .fold(0u64, |acc, c| acc * 10 + u64::from(c - b'0'));
        rest = &frac[digits..];
    }
    // Seconds east of UTC.
    let offset: i64 = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let digit = |c: &u8| c.is_ascii_digit().then(|| i64::from(c - b'0'));
            let (oh, om) = (digit(h1)? * 10 + digit(h2)?, digit(m1)? * 10 + digit(m2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let secs = oh * 3600 + om * 60;
            if *sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };
    // Every value is bounded above (year ≤ 9999), so none of this can overflow an i64.
    let days = days_from_civil(year as i64, month as i64, day as i64);
    let local = days * 86_400 + (hour * 3600 + minute * 60 + second) as i64;
    let utc = u64::try_from(local - offset).ok()?;
    Some(UnixMillis::new(utc * 1000 + millis))
}

fn days_in_month(year: u64, month: u64) -> u64 {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 31,
    }
}

/// Year, month and day of `days` since 1970-01-01 (Howard Hinnant's `civil_from_days`,
/// restricted to non-negative days, so all arithmetic stays unsigned).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`); negative
/// before 1970.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The unsigned W3C VC 2.0 credential of `license`, published under `base_url` (e.g.
/// `https://ledger.example.gov`; one trailing `/` is ignored).
///
/// The subject is the holder's `did:key`; the issuer is `did:civic:<issuer_org>`; the license's
/// claims are copied as strings under `credentialSubject.claims`. There is one
/// `BitstringStatusListEntry` per [`StatusPurpose`], in [`StatusPurpose::ALL`] order, pointing at
/// the license's bit in its issuer's list for its type.
pub fn license_credential(license: &License, license_type: &LicenseType, base_url: &str) -> Value {
    let base = trim_base(base_url);
    let position = StatusListId::position(license.status_index);
    let status: Vec<Value> = StatusPurpose::ALL
        .into_iter()
        .map(|purpose| {
            let list_url = StatusListId::for_license(license, purpose).url(base);
            json!({
                "id": format!("{list_url}#{position}"),
                "type": STATUS_ENTRY_TYPE,
                "statusPurpose": purpose.as_str(),
                "statusListIndex": position.to_string(),
                "statusListCredential": list_url,
            })
        })
        .collect();
    let claims: Map<String, Value> =
        license.claims.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    json!({
        "@context": [VC_CONTEXT_V2],
        "id": format!("{base}/v1/licenses/{}", license.license_id),
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "name": license_type.name,
        "issuer": format!("did:civic:{}", license.issuer_org),
        "validFrom": rfc3339(license.valid_from),
        "validUntil": rfc3339(license.valid_until),
        "credentialSubject": {
            "id": license.holder,
            "licenseId": license.license_id,
            "licenseType": license.type_id,
            "claims": claims,
        },
        "credentialStatus": status,
    })
}

/// `unsigned` with an `eddsa-jcs-2022` `DataIntegrityProof` for `assertionMethod`, made by `key`
/// as `verification_method` (e.g. `did:civic:justice#issuer`) at `created`. Deterministic: the
/// same inputs give the same bytes.
pub fn sign_credential(
    unsigned: &Value,
    key: &SecretKey,
    verification_method: &str,
    created: UnixMillis,
) -> Result<Value, VcError> {
    let options = json!({
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": rfc3339(created),
        "verificationMethod": verification_method,
        "proofPurpose": ASSERTION_METHOD,
    });
    eddsa_jcs_2022::sign(unsigned, &options, key)
}

/// The unsigned Bitstring Status List v1.0 credential of `list`, with [`LIST_ENTRIES`] entries of
/// which exactly `set_positions` are set. A position of [`LIST_ENTRIES`] or more is an error
/// ([`VcError::StatusIndexOutOfRange`]); pass positions within the page, not status indexes.
pub fn status_list_credential(
    list: &StatusListId,
    set_positions: impl IntoIterator<Item = u64>,
    base_url: &str,
    valid_from: UnixMillis,
) -> Result<Value, VcError> {
    let mut bits = BitString::with_min_entries();
    for position in set_positions {
        bits.set(usize::try_from(position).unwrap_or(usize::MAX), true)?;
    }
    let url = list.url(base_url);
    Ok(json!({
        "@context": [VC_CONTEXT_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": format!("did:civic:{}", list.org),
        "validFrom": rfc3339(valid_from),
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": list.purpose.as_str(),
            "encodedList": bits.encode(),
        },
    }))
}

/// The status list named by a `statusListCredential` URL: any `http://` or `https://` host (name,
/// IPv4 or bracketed IPv6) with an optional port, and a path of exactly
/// `/v1/status-lists/<id>`, without query or fragment. The host is not checked against anything:
/// a verifier asks its own ledger for the bits, whichever node published the credential.
pub fn list_id_from_url(url: &str) -> Option<StatusListId> {
    if url.len() > MAX_URL {
        return None;
    }
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let (authority, path) = rest.split_at(rest.find('/')?);
    if !is_authority(authority) {
        return None;
    }
    path.strip_prefix(STATUS_LISTS_PATH)?.parse().ok()
}

/// `host[:port]` with a DNS name, IPv4 address or bracketed IPv6 address, no user info.
fn is_authority(authority: &str) -> bool {
    let (host, port) = match authority.find(']') {
        Some(end) if authority.starts_with('[') => authority.split_at(end + 1),
        _ => authority.split_at(authority.find(':').unwrap_or(authority.len())),
    };
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => !v6.is_empty() && v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.'),
        None => {
            !host.is_empty()
                && host.len() <= 253
                && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        }
    };
    let port_ok = port.is_empty()
        || port.strip_prefix(':').is_some_and(|p| {
            !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok()
        });
    host_ok && port_ok
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeSet;

    use civic_identity::did::multikey;
    use civic_types::{AccountId, Height, PublicKey};

    use super::*;
    use crate::module::Status;

    /// A lawyer's license of `justice`, status index `index`.
    pub(crate) fn license(index: u64) -> License {
        let holder = SecretKey::from_seed(&[9; 32]).public_key();
        License {
            license_id: "LAW-2026.0001".into(),
            type_id: "lawyer-practice".into(),
            holder: format!("did:key:{}", multikey(&holder)),
            claims: [
                ("holder_name", "Li Wei"),
                ("law_firm", "Harbour & Partners"),
                ("practice_area", "civil"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            issuer_org: OrgId::new("justice").unwrap(),
            issued_by: AccountId::new("justice/issuer").unwrap(),
            valid_from: UnixMillis::new(1_767_225_600_000), // 2026-01-01
            valid_until: UnixMillis::new(1_798_761_600_000), // 2027-01-01
            status: Status::Active,
            status_index: index,
            version: 1,
            issued_height: Height::new(3),
            issued_at: UnixMillis::new(1_767_225_600_000),
            updated_at: UnixMillis::new(1_767_225_600_000),
        }
    }

    pub(crate) fn license_type() -> LicenseType {
        LicenseType {
            type_id: "lawyer-practice".into(),
            name: "Lawyer's practice license".into(),
            claims: BTreeSet::from(["holder_name".into(), "law_firm".into(), "practice_area".into()]),
            schema: String::new(),
            registered_by: AccountId::new("justice/admin").unwrap(),
            height: Height::new(1),
            time: UnixMillis::new(0),
        }
    }

    pub(crate) fn issuer_key() -> SecretKey {
        SecretKey::from_seed(&[1; 32])
    }

    #[test]
    fn rfc3339_known_values() {
        let at = |ms| rfc3339(UnixMillis::new(ms));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(at(951_868_799_999), "2000-02-29T23:59:59.999Z");
        assert_eq!(at(1_767_225_600_000), "2026-01-01T00:00:00Z");
        assert_eq!(at(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(at(4_107_542_400_000), "2100-03-01T00:00:00Z");
        assert_eq!(at(MAX_RFC3339_MILLIS), "9999-12-31T23:59:59.999Z");
        assert_eq!(at(u64::MAX), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn rfc3339_parses_offsets_and_fractions() {
        let p = |s: &str| parse_rfc3339(s).map(UnixMillis::get);
        assert_eq!(p("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(p("2000-02-29T00:00:00Z"), Some(951_782_400_000));
        assert_eq!(p("2000-02-29t00:00:00z"), Some(951_782_400_000));
        assert_eq!(p("2000-02-29T08:00:00+08:00"), Some(951_782_400_000));
        assert_eq!(p("2000-02-28T19:30:00-04:30"), Some(951_782_400_000));
        assert_eq!(p("2000-02-29T00:00:00-00:00"), Some(951_782_400_000));
        assert_eq!(p("2023-11-14T22:13:20.1Z"), Some(1_700_000_000_100));
        assert_eq!(p("2023-11-14T22:13:20.123Z"), Some(1_700_000_000_123));
        assert_eq!(p("2023-11-14T22:13:20.123999999Z"), Some(1_700_000_000_123));
        assert_eq!(p("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(p("9999-12-31T23:59:59.999Z"), Some(MAX_RFC3339_MILLIS));
        for bad in [
            "",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2000-02-30T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-01-00T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-12-31T23:59:60Z",
            "2026-01-01T00:00:00",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+0800",
            "2026-01-01T00:00:00+24:00",
            "2026-01-01T00:00:00+08:60",
            "2026-01-01T00:00:00ZZ",
            "2026-1-01T00:00:00Z",
            "+026-01-01T00:00:00Z",
            "1969-12-31T23:59:59.999Z",
            "1970-01-01T00:00:00+00:01",
            "0000-01-01T00:00:00Z",
            "２０２６-01-01T00:00:00Z",
            &format!("2026-01-01T00:00:00.{}Z", "1".repeat(60)),
        ] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rfc3339_round_trips() {
        // Every day boundary across leap years, century rules and both ends of the range.
        let mut ms = 0u64;
        while ms < 4_200_000_000_000 {
            assert_eq!(parse_rfc3339(&rfc3339(UnixMillis::new(ms))), Some(UnixMillis::new(ms)), "{ms}");
            ms += 86_400_000 * 7 + 3_600_123;
        }
        for ms in [0, 1, 999, 1000, 86_399_999, 951_782_400_000, 253_402_300_799_000, MAX_RFC3339_MILLIS] {
            assert_eq!(parse_rfc3339(&rfc3339(UnixMillis::new(ms))), Some(UnixMillis::new(ms)), "{ms}");
        }
    }

    #[test]
    fn civil_dates_agree_with_a_day_by_day_count() {
        let (mut y, mut m, mut d) = (1970, 1, 1);
        for days in 0..(400 * 366) {
            assert_eq!(civil_from_days(days), (y, m, d));
            assert_eq!(days_from_civil(y as i64, m as i64, d as i64), days as i64);
            d += 1;
            if d > days_in_month(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }

    #[test]
    fn status_list_ids_round_trip_and_reject_bad_parts() {
        let id: StatusListId = "justice.lawyer-practice.revocation.0".parse().unwrap();
        assert_eq!(
            id,
            StatusListId {
                org: OrgId::new("justice").unwrap(),
                type_id: "lawyer-practice".into(),
                purpose: StatusPurpose::Revocation,
                page: 0
            }
        );
        assert_eq!(id.to_string(), "justice.lawyer-practice.revocation.0");
        for s in ["a.b.suspension.18446744073709551615", "health-1.x.revocation.12"] {
            assert_eq!(s.parse::<StatusListId>().unwrap().to_string(), s);
        }
        for bad in [
            "",
            "justice.lawyer-practice.revocation",
            "justice.lawyer-practice.revocation.0.1",
            "justice.lawyer-practice.revoked.0",
            "justice.lawyer-practice.Revocation.0",
            "Justice.lawyer-practice.revocation.0",
            "-justice.lawyer-practice.revocation.0",
            ".lawyer-practice.revocation.0",
            "justice..revocation.0",
            "justice.lawyer_practice.revocation.0",
            "justice.lawyer-practice.revocation.01",
            "justice.lawyer-practice.revocation.-1",
            "justice.lawyer-practice.revocation.+1",
            "justice.lawyer-practice.revocation.",
            "justice.lawyer-practice.revocation.18446744073709551616",
            "justice.lawyer-practice.revocation.0#1",
            &format!("justice.{}.revocation.0", "x".repeat(65)),
        ] {
            let err = bad.parse::<StatusListId>().unwrap_err();
            assert!(
                err.to_string().contains("expected <org>.<type-id>.<revocation|suspension>.<page>"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn status_index_maps_to_page_and_position() {
        let mut l = license(LIST_ENTRIES * 2 + 5);
        let id = StatusListId::for_license(&l, StatusPurpose::Suspension);
        assert_eq!(id.to_string(), "justice.lawyer-practice.suspension.2");
        assert_eq!(StatusListId::position(l.status_index), 5);
        l.status_index = LIST_ENTRIES - 1;
        assert_eq!(StatusListId::for_license(&l, StatusPurpose::Revocation).page, 0);
        assert_eq!(StatusListId::position(l.status_index), LIST_ENTRIES - 1);
        assert_eq!(StatusListId::position(LIST_ENTRIES), 0);
    }

    #[test]
    fn list_ids_from_urls() {
        let want: StatusListId = "justice.lawyer-practice.revocation.3".parse().unwrap();
        for ok in [
            "https://ledger.example.gov/v1/status-lists/justice.lawyer-practice.revocation.3",
            "http://127.0.0.1:8080/v1/status-lists/justice.lawyer-practice.revocation.3",
            "http://localhost/v1/status-lists/justice.lawyer-practice.revocation.3",
            "https://[::1]:443/v1/status-lists/justice.lawyer-practice.revocation.3",
        ] {
            assert_eq!(list_id_from_url(ok), Some(want.clone()), "{ok}");
        }
        for bad in [
            "ftp://ledger.example.gov/v1/status-lists/justice.lawyer-practice.revocation.3",
            "https://ledger.example.gov/v1/status-lists/justice.lawyer-practice.revocation.3?x=1",
            "https://ledger.example.gov/v1/status-lists/justice.lawyer-practice.revocation.3#list",
            "https://ledger.example.gov/v1/status-lists/justice.lawyer-practice.revocation.3/",
            "https://ledger.example.gov/v2/status-lists/justice.lawyer-practice.revocation.3",
            "https://ledger.example.gov/api/v1/status-lists/justice.lawyer-practice.revocation.3",
            "https://ledger.example.gov/v1/status-lists/",
            "https:///v1/status-lists/justice.lawyer-practice.revocation.3",
            "https://user@host/v1/status-lists/justice.lawyer-practice.revocation.3",
            "https://host:99999/v1/status-lists/justice.lawyer-practice.revocation.3",
            "https://host:/v1/status-lists/justice.lawyer-practice.revocation.3",
            "https://[::1/v1/status-lists/justice.lawyer-practice.revocation.3",
            "https://[::1]x/v1/status-lists/justice.lawyer-practice.revocation.3",
            "https://[]/v1/status-lists/justice.lawyer-practice.revocation.3",
            "https://a]b/v1/status-lists/justice.lawyer-practice.revocation.3",
            "https://host:8080:1/v1/status-lists/justice.lawyer-practice.revocation.3",
            "https://ledger.example.gov",
            "justice.lawyer-practice.revocation.3",
            "",
        ] {
            assert_eq!(list_id_from_url(bad), None, "{bad}");
        }
        assert_eq!(list_id_from_url(&want.url("https://ledger.example.gov/")), Some(want));
    }

    #[test]
    fn license_credential_has_the_documented_shape() {
        let l = license(LIST_ENTRIES + 7);
        let vc = license_credential(&l, &license_type(), "https://ledger.example.gov/");
        let list = |p| format!("https://ledger.example.gov/v1/status-lists/justice.lawyer-practice.{p}.1");
        let expected = json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "https://ledger.example.gov/v1/licenses/LAW-2026.0001",
            "type": ["VerifiableCredential", "CivicLicenseCredential"],
            "name": "Lawyer's practice license",
            "issuer": "did:civic:justice",
            "validFrom": "2026-01-01T00:00:00Z",
            "validUntil": "2027-01-01T00:00:00Z",
            "credentialSubject": {
                "id": l.holder,
                "licenseId": "LAW-2026.0001",
                "licenseType": "lawyer-practice",
                "claims": {"holder_name": "Li Wei", "law_firm": "Harbour & Partners", "practice_area": "civil"},
            },
            "credentialStatus": [
                {
                    "id": format!("{}#7", list("revocation")),
                    "type": "BitstringStatusListEntry",
                    "statusPurpose": "revocation",
                    "statusListIndex": "7",
                    "statusListCredential": list("revocation"),
                },
                {
                    "id": format!("{}#7", list("suspension")),
                    "type": "BitstringStatusListEntry",
                    "statusPurpose": "suspension",
                    "statusListIndex": "7",
                    "statusListCredential": list("suspension"),
                },
            ],
        });
        assert_eq!(vc, expected);
        assert_eq!(license_credential(&l, &license_type(), "https://ledger.example.gov"), expected);
    }

    #[test]
    fn signing_is_deterministic_and_verifies() {
        let vc = license_credential(&license(0), &license_type(), "https://ledger.example.gov");
        let created = UnixMillis::new(1_767_225_600_500);
        let a = sign_credential(&vc, &issuer_key(), "did:civic:justice#issuer", created).unwrap();
        let b = sign_credential(&vc, &issuer_key(), "did:civic:justice#issuer", created).unwrap();
        assert_eq!(serde_json::to_vec(&a).unwrap(), serde_json::to_vec(&b).unwrap());
        assert_eq!(a["proof"]["created"], "2026-01-01T00:00:00.500Z");
        assert_eq!(a["proof"]["proofPurpose"], "assertionMethod");
        assert_eq!(a["proof"]["cryptosuite"], "eddsa-jcs-2022");
        let pk: PublicKey = issuer_key().public_key();
        eddsa_jcs_2022::verify(&a, |vm| (vm == "did:civic:justice#issuer").then_some(pk)).unwrap();
        let other =
            sign_credential(&vc, &SecretKey::from_seed(&[2; 32]), "did:civic:justice#issuer", created);
        assert_ne!(other.unwrap()["proof"]["proofValue"], a["proof"]["proofValue"]);
        assert_eq!(sign_credential(&a, &issuer_key(), "x", created), Err(VcError::AlreadySigned));
    }

    #[test]
    fn status_list_credential_sets_exactly_the_given_positions() {
        let id: StatusListId = "justice.lawyer-practice.suspension.0".parse().unwrap();
        let set = [0, 7, 8, 4242, LIST_ENTRIES - 1];
        let vc =
            status_list_credential(&id, set, "https://ledger.example.gov", UnixMillis::new(1000)).unwrap();
        let url = "https://ledger.example.gov/v1/status-lists/justice.lawyer-practice.suspension.0";
        assert_eq!(vc["id"], url);
        assert_eq!(vc["type"], json!(["VerifiableCredential", "BitstringStatusListCredential"]));
        assert_eq!(vc["issuer"], "did:civic:justice");
        assert_eq!(vc["validFrom"], "1970-01-01T00:00:01Z");
        assert_eq!(vc["credentialSubject"]["id"], format!("{url}#list"));
        assert_eq!(vc["credentialSubject"]["type"], "BitstringStatusList");
        assert_eq!(vc["credentialSubject"]["statusPurpose"], "suspension");
        let bits = BitString::decode(vc["credentialSubject"]["encodedList"].as_str().unwrap()).unwrap();
        assert_eq!(bits.len() as u64, LIST_ENTRIES);
        let on: Vec<u64> = (0..LIST_ENTRIES).filter(|i| bits.get(*i as usize).unwrap()).collect();
        assert_eq!(on, set);
        let empty = status_list_credential(&id, [], "https://x", UnixMillis::new(0)).unwrap();
        let bits = BitString::decode(empty["credentialSubject"]["encodedList"].as_str().unwrap()).unwrap();
        assert!(bits.as_bytes().iter().all(|b| *b == 0));
        assert!(matches!(
            status_list_credential(&id, [LIST_ENTRIES], "https://x", UnixMillis::new(0)),
            Err(VcError::StatusIndexOutOfRange { .. })
        ));
    }
}
