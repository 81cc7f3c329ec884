//! License type claim schemas: a small, fully specified subset of JSON Schema (2020-12) that
//! the ledger can check deterministically when a license is issued.
//!
//! A schema is an object schema of string claims:
//! `{"type":"object","properties":{…},"required":[…],"additionalProperties":false}`, with
//! optional `$schema`, `$id`, `title` and `description`. Each property is `{"type":"string"}`
//! with optional `title`, `description`, `minLength`, `maxLength`, `enum`, `format: "date"`
//! (RFC 3339 full-date) and the annotation `x-civic-public` (true: the claim is printed on the
//! license itself, so the public verification page may show it).
//!
//! Guarantees: [`ClaimSchema::parse`] refuses every keyword it does not implement, so a schema
//! never claims a check the ledger does not make; [`ClaimSchema::check`] is a pure function
//! that either accepts claims or names the first claim that breaks the schema and why.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// Longest schema text accepted.
pub const MAX_SCHEMA_BYTES: usize = 16 * 1024;

/// The first license type: a lawyer's practice license, issued by the justice bureau.
pub const LAWYER_PRACTICE: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Lawyer's practice license",
  "type": "object",
  "properties": {
    "holder_name": {"type": "string", "title": "Holder's name", "minLength": 1, "maxLength": 128, "x-civic-public": true},
    "national_id_hash": {"type": "string", "title": "SHA-256 of the national id number (hex)", "minLength": 64, "maxLength": 64},
    "license_number": {"type": "string", "title": "License number", "minLength": 1, "maxLength": 64, "x-civic-public": true},
    "law_firm": {"type": "string", "title": "Law firm", "minLength": 1, "maxLength": 256, "x-civic-public": true},
    "practice_area": {"type": "string", "title": "Practice area", "enum": ["civil", "criminal", "administrative", "commercial", "family", "general"], "x-civic-public": true},
    "issue_date": {"type": "string", "title": "Date of issue", "format": "date", "x-civic-public": true},
    "valid_until": {"type": "string", "title": "Valid until", "format": "date", "x-civic-public": true}
  },
  "required": ["holder_name", "national_id_hash", "license_number", "law_firm", "practice_area", "issue_date", "valid_until"],
  "additionalProperties": false
}"#;

/// Why a schema is not one this ledger can enforce.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// Not JSON, or too large.
    #[error("the schema is not a JSON document of at most {MAX_SCHEMA_BYTES} bytes: {0}")]
    NotJson(String),
    /// A required part is missing or has the wrong shape.
    #[error("{0}")]
    Shape(String),
    /// A keyword this subset does not implement.
    #[error("keyword {keyword:?} {place} is not supported; supported: {supported}")]
    Unsupported {
        /// The keyword.
        keyword: String,
        /// Where it was found.
        place: String,
        /// What may be used there instead.
        supported: &'static str,
    },
}

/// A claim's value format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Any string.
    Text,
    /// An RFC 3339 `full-date`, `YYYY-MM-DD`.
    Date,
}

/// One claim of a schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimSpec {
    /// Display title.
    pub title: Option<String>,
    /// Value format.
    pub format: Format,
    /// Shortest value, in characters.
    pub min_length: Option<usize>,
    /// Longest value, in characters.
    pub max_length: Option<usize>,
    /// The only values allowed, if any.
    pub allowed: Option<Vec<String>>,
    /// Printed on the license, so shown on the public verification page.
    pub public: bool,
}

/// A parsed claim schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimSchema {
    /// Claim name → its spec.
    pub claims: BTreeMap<String, ClaimSpec>,
    /// Claims every license must carry.
    pub required: BTreeSet<String>,
}

const TOP_KEYWORDS: &str =
    "$schema, $id, title, description, type, properties, required, additionalProperties";
const PROPERTY_KEYWORDS: &str =
    "type (\"string\"), title, description, minLength, maxLength, enum, format (\"date\"), x-civic-public";

fn shape(m: impl Into<String>) -> SchemaError {
    SchemaError::Shape(m.into())
}

fn usize_of(v: &Value, what: &str) -> Result<usize, SchemaError> {
    v.as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| shape(format!("{what} must be a non-negative integer")))
}

fn claim_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= crate::module::MAX_CLAIM_NAME
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl ClaimSchema {
    /// Parses and checks schema text.
    pub fn parse(text: &str) -> Result<ClaimSchema, SchemaError> {
        if text.len() > MAX_SCHEMA_BYTES {
            return Err(SchemaError::NotJson(format!("it is {} bytes", text.len())));
        }
        let value: Value = serde_json::from_str(text).map_err(|e| SchemaError::NotJson(e.to_string()))?;
        Self::from_value(&value)
    }

    /// Checks an already parsed schema document.
    pub fn from_value(value: &Value) -> Result<ClaimSchema, SchemaError> {
        let top = value.as_object().ok_or_else(|| shape("the schema must be a JSON object"))?;
        for (k, v) in top {
            match k.as_str() {
                "$schema" | "$id" | "title" | "description" if v.is_string() => {}
                "$schema" | "$id" | "title" | "description" => {
                    return Err(shape(format!("{k} must be a string")));
                }
                "type" | "properties" | "required" | "additionalProperties" => {}
                other => {
                    return Err(SchemaError::Unsupported {
                        keyword: other.chars().take(64).collect(),
                        place: "at the top level".into(),
                        supported: TOP_KEYWORDS,
                    });
                }
            }
        }
        if top.get("type") != Some(&Value::String("object".into())) {
            return Err(shape("the schema's \"type\" must be \"object\""));
        }
        if top.get("additionalProperties") != Some(&Value::Bool(false)) {
            return Err(shape(
                "the schema must say \"additionalProperties\": false (a license carries only the claims its type names)",
            ));
        }
        let props = top
            .get("properties")
            .and_then(Value::as_object)
            .ok_or_else(|| shape("the schema needs a \"properties\" object naming the claims"))?;
        if props.is_empty() || props.len() > crate::module::MAX_CLAIMS {
            return Err(shape(format!("name 1-{} claims, not {}", crate::module::MAX_CLAIMS, props.len())));
        }
        let mut claims = BTreeMap::new();
        for (name, spec) in props {
            if !claim_name_ok(name) {
                return Err(shape(format!(
                    "claim name {:?} is invalid: use 1-{} characters a-z, 0-9 and '_'",
                    name.chars().take(80).collect::<String>(),
                    crate::module::MAX_CLAIM_NAME
                )));
            }
            claims.insert(name.clone(), parse_property(name, spec)?);
        }
        let mut required = BTreeSet::new();
        if let Some(r) = top.get("required") {
            let list = r.as_array().ok_or_else(|| shape("\"required\" must be an array of claim names"))?;
            for item in list {
                let name = item.as_str().ok_or_else(|| shape("\"required\" must hold strings"))?;
                if !claims.contains_key(name) {
                    return Err(shape(format!(
                        "required claim {:?} is not among the properties",
                        name.chars().take(80).collect::<String>()
                    )));
                }
                required.insert(name.to_owned());
            }
        }
        Ok(ClaimSchema { claims, required })
    }

    /// Accepts `values` or says which claim breaks the schema and how.
    pub fn check(&self, values: &BTreeMap<String, String>) -> Result<(), String> {
        let missing: Vec<&str> =
            self.required.iter().filter(|c| !values.contains_key(*c)).map(String::as_str).collect();
        if !missing.is_empty() {
            return Err(format!("missing required claims: {}", missing.join(", ")));
        }
        let extra: Vec<&str> =
            values.keys().filter(|c| !self.claims.contains_key(*c)).map(String::as_str).collect();
        if !extra.is_empty() {
            return Err(format!("claims not in the type's schema: {}", extra.join(", ")));
        }
        for (name, value) in values {
            let spec = &self.claims[name];
            let chars = value.chars().count();
            if let Some(min) = spec.min_length.filter(|m| chars < *m) {
                return Err(format!("claim {name} must be at least {min} characters, not {chars}"));
            }
            if let Some(max) = spec.max_length.filter(|m| chars > *m) {
                return Err(format!("claim {name} must be at most {max} characters, not {chars}"));
            }
            if let Some(allowed) = &spec.allowed
                && !allowed.contains(value)
            {
                return Err(format!("claim {name} must be one of {}", allowed.join(", ")));
            }
            if spec.format == Format::Date && !is_full_date(value) {
                return Err(format!(
                    "claim {name} must be a date YYYY-MM-DD, not {:?}",
                    value.chars().take(40).collect::<String>()
                ));
            }
        }
        Ok(())
    }

    /// The claims printed on the license (and shown on the public verification page).
    pub fn public_claims(&self) -> impl Iterator<Item = &str> {
        self.claims.iter().filter(|(_, s)| s.public).map(|(n, _)| n.as_str())
    }
}

fn parse_property(name: &str, spec: &Value) -> Result<ClaimSpec, SchemaError> {
    let obj: &Map<String, Value> =
        spec.as_object().ok_or_else(|| shape(format!("property {name} must be a schema object")))?;
    let mut out = ClaimSpec {
        title: None,
        format: Format::Text,
        min_length: None,
        max_length: None,
        allowed: None,
        public: false,
    };
    let mut typed = false;
    for (k, v) in obj {
        match k.as_str() {
            "type" if v == "string" => typed = true,
            "type" => {
                return Err(shape(format!("property {name}: claims are strings (\"type\": \"string\")")));
            }
            "title" => {
                out.title =
                    Some(v.as_str().ok_or_else(|| shape(format!("{name}.title must be a string")))?.into())
            }
            "description" if v.is_string() => {}
            "description" => return Err(shape(format!("{name}.description must be a string"))),
            "minLength" => out.min_length = Some(usize_of(v, &format!("{name}.minLength"))?),
            "maxLength" => out.max_length = Some(usize_of(v, &format!("{name}.maxLength"))?),
            "enum" => {
                let values = v
                    .as_array()
                    .filter(|a| !a.is_empty())
                    .and_then(|a| a.iter().map(|x| x.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>())
                    .ok_or_else(|| shape(format!("{name}.enum must be a non-empty array of strings")))?;
                out.allowed = Some(values);
            }
            "format" if v == "date" => out.format = Format::Date,
            "format" => return Err(shape(format!("{name}.format: only \"date\" is supported"))),
            "x-civic-public" => {
                out.public = v
                    .as_bool()
                    .ok_or_else(|| shape(format!("{name}.x-civic-public must be true or false")))?
            }
            other => {
                return Err(SchemaError::Unsupported {
                    keyword: other.chars().take(64).collect(),
                    place: format!("in property {name}"),
                    supported: PROPERTY_KEYWORDS,
                });
            }
        }
    }
    if !typed {
        return Err(shape(format!("property {name} needs \"type\": \"string\"")));
    }
    if let (Some(min), Some(max)) = (out.min_length, out.max_length)
        && min > max
    {
        return Err(shape(format!("property {name}: minLength {min} is greater than maxLength {max}")));
    }
    Ok(out)
}

/// RFC 3339 `full-date`: `YYYY-MM-DD`, a real calendar day.
pub fn is_full_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lawyer_claims() -> BTreeMap<String, String> {
        [
            ("holder_name", "Li Wei"),
            ("national_id_hash", &"ab".repeat(32)),
            ("license_number", "13101202611001"),
            ("law_firm", "Harbour & Partners"),
            ("practice_area", "civil"),
            ("issue_date", "2026-01-15"),
            ("valid_until", "2027-01-14"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn the_lawyer_schema_accepts_a_license_and_marks_public_claims() {
        let s = ClaimSchema::parse(LAWYER_PRACTICE).unwrap();
        assert_eq!(s.claims.len(), 7);
        assert_eq!(s.required.len(), 7);
        s.check(&lawyer_claims()).unwrap();
        let public: Vec<&str> = s.public_claims().collect();
        assert!(!public.contains(&"national_id_hash"));
        assert!(public.contains(&"holder_name") && public.contains(&"license_number"));
    }

    #[test]
    fn claims_that_break_the_schema_are_named() {
        let s = ClaimSchema::parse(LAWYER_PRACTICE).unwrap();
        let with = |k: &str, v: &str| {
            let mut c = lawyer_claims();
            c.insert(k.into(), v.into());
            s.check(&c).unwrap_err()
        };
        assert!(with("practice_area", "astrology").contains("practice_area must be one of"));
        assert!(with("issue_date", "2026-02-30").contains("issue_date must be a date"));
        assert!(with("national_id_hash", "abc").contains("at least 64"));
        assert!(with("holder_name", "").contains("at least 1"));
        assert!(with("nickname", "x").contains("not in the type's schema: nickname"));
        let mut c = lawyer_claims();
        c.remove("law_firm");
        assert!(s.check(&c).unwrap_err().contains("missing required claims: law_firm"));
    }

    #[test]
    fn unsupported_or_malformed_schemas_are_refused_with_the_reason() {
        let cases = [
            ("[]", "must be a JSON object"),
            ("{", "not a JSON document"),
            (r#"{"type":"object","properties":{"a":{"type":"string"}}}"#, "additionalProperties"),
            (r#"{"type":"array","properties":{},"additionalProperties":false}"#, "\"object\""),
            (r#"{"type":"object","properties":{},"additionalProperties":false}"#, "1-64 claims"),
            (
                r#"{"type":"object","properties":{"a":{"type":"string","pattern":"x"}},"additionalProperties":false}"#,
                "keyword \"pattern\" in property a is not supported",
            ),
            (
                r#"{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":false}"#,
                "strings",
            ),
            (
                r#"{"type":"object","properties":{"A":{"type":"string"}},"additionalProperties":false}"#,
                "invalid",
            ),
            (
                r#"{"type":"object","properties":{"a":{"type":"string"}},"required":["b"],"additionalProperties":false}"#,
                "not among the properties",
            ),
            (
                r#"{"type":"object","if":{},"properties":{"a":{"type":"string"}},"additionalProperties":false}"#,
                "keyword \"if\" at the top level",
            ),
            (
                r#"{"type":"object","properties":{"a":{"type":"string","minLength":5,"maxLength":2}},"additionalProperties":false}"#,
                "greater than maxLength",
            ),
        ];
        for (text, want) in cases {
            let err = ClaimSchema::parse(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
        let huge = format!("\"{}\"", "x".repeat(MAX_SCHEMA_BYTES));
        assert!(matches!(ClaimSchema::parse(&huge), Err(SchemaError::NotJson(_))));
    }

    #[test]
    fn full_dates() {
        for ok in ["2024-02-29", "2000-02-29", "1999-12-31", "2026-01-01"] {
            assert!(is_full_date(ok), "{ok}");
        }
        for bad in [
            "2023-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "2026-01-32",
            "２０２６-01-01",
            "",
        ] {
            assert!(!is_full_date(bad), "{bad}");
        }
    }
}
