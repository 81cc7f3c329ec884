//! RFC 8785 JSON Canonicalization Scheme (JCS) over `serde_json_canonicalizer`.
//!
//! Guarantees: the output is the unique canonical UTF-8 form of the value — object members sorted
//! by UTF-16 code units, no insignificant whitespace, ECMAScript number formatting, minimal string
//! escaping — so two values that are equal as JSON data canonicalize to identical bytes.

use serde_json::Value;

use crate::VcError;

/// The canonical UTF-8 bytes of `value`.
pub fn canonicalize(value: &Value) -> Result<Vec<u8>, VcError> {
    serde_json_canonicalizer::to_vec(value).map_err(|e| VcError::Canonicalization(e.to_string()))
}

/// The canonical form of `value` as a string.
pub fn canonicalize_to_string(value: &Value) -> Result<String, VcError> {
    serde_json_canonicalizer::to_string(value).map_err(|e| VcError::Canonicalization(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Input/output pairs copied byte for byte from
    /// <https://github.com/cyberphone/json-canonicalization> `testdata/input/*.json` and
    /// `testdata/output/*.json` (commit 19d51d7fe467d4706a3ff08adf8a748f29fc21e0).
    const CASES: [(&str, &str, &str); 6] = [
        (
            "arrays",
            include_str!("../testdata/jcs/input/arrays.json"),
            include_str!("../testdata/jcs/output/arrays.json"),
        ),
        (
            "french",
            include_str!("../testdata/jcs/input/french.json"),
            include_str!("../testdata/jcs/output/french.json"),
        ),
        (
            "structures",
            include_str!("../testdata/jcs/input/structures.json"),
            include_str!("../testdata/jcs/output/structures.json"),
        ),
        (
            "unicode",
            include_str!("../testdata/jcs/input/unicode.json"),
            include_str!("../testdata/jcs/output/unicode.json"),
        ),
        (
            "values",
            include_str!("../testdata/jcs/input/values.json"),
            include_str!("../testdata/jcs/output/values.json"),
        ),
        (
            "weird",
            include_str!("../testdata/jcs/input/weird.json"),
            include_str!("../testdata/jcs/output/weird.json"),
        ),
    ];

    #[test]
    fn cyberphone_testdata() {
        for (name, input, expected) in CASES {
            let value: Value = serde_json::from_str(input).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(canonicalize_to_string(&value).unwrap(), expected, "{name}");
            assert_eq!(canonicalize(&value).unwrap(), expected.as_bytes(), "{name}");
        }
    }

    #[test]
    fn canonical_form_is_a_fixed_point() {
        for (name, _, expected) in CASES {
            let value: Value = serde_json::from_str(expected).unwrap();
            assert_eq!(canonicalize_to_string(&value).unwrap(), expected, "{name}");
        }
    }
}
