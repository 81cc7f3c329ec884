//! The W3C Data Integrity cryptosuite `eddsa-jcs-2022` (vc-di-eddsa v1.0, §3.3).
//!
//! A proof is an Ed25519 signature over `hashData = SHA-256(JCS(proofConfig)) ‖
//! SHA-256(JCS(unsecuredDocument))`, where `proofConfig` is the proof without its `proofValue`
//! and carries the document's `@context` when the document has one. The signature is stored as
//! `proofValue`, multibase base58btc (`z…`).
//!
//! Guarantees: [`sign`] is deterministic and reproduces the published test vectors; [`verify`]
//! accepts a document only if neither the document nor any proof property (other than the
//! signature itself) changed since signing. Verification is stricter than the specification in
//! one place: a proof `@context`, if either side has one, must equal the document's `@context`
//! (the specification accepts a prefix), so a verified credential has exactly the context the
//! issuer signed. Proof sets (an array of proofs) are not supported.

use civic_types::{PublicKey, SecretKey, Signature, sha256};
use serde_json::{Map, Value};

use crate::{VcError, jcs};

/// The proof `type` of every Data Integrity proof.
pub const PROOF_TYPE: &str = "DataIntegrityProof";
/// The `cryptosuite` identifier this module implements.
pub const CRYPTOSUITE: &str = "eddsa-jcs-2022";

/// Returns `document` with a `proof` made from `proof_options` and signed by `key`.
///
/// `proof_options` must be an object with `type` = `DataIntegrityProof`, `cryptosuite` =
/// `eddsa-jcs-2022` and a string `verificationMethod` naming `key`, and no `proofValue`.
pub fn sign(document: &Value, proof_options: &Value, key: &SecretKey) -> Result<Value, VcError> {
    let unsecured = document.as_object().ok_or(VcError::NotAnObject("the document"))?;
    if unsecured.contains_key("proof") {
        return Err(VcError::AlreadySigned);
    }
    let mut proof = proof_options.as_object().ok_or(VcError::NotAnObject("the proof options"))?.clone();
    if proof.contains_key("proofValue") {
        return Err(VcError::ProofValuePresent);
    }
    // The proof takes the document's context so that it stays valid inside a proof set or chain.
    if let Some(context) = unsecured.get("@context") {
        proof.insert("@context".into(), context.clone());
    }
    check_proof_config(&proof)?;
    let signature = key.sign(&hash_data(&proof, document)?);
    proof.insert("proofValue".into(), Value::String(format!("z{}", bs58::encode(signature.0).into_string())));
    let mut secured = unsecured.clone();
    secured.insert("proof".into(), Value::Object(proof));
    Ok(Value::Object(secured))
}

/// Verifies the `eddsa-jcs-2022` proof of `secured`, asking `resolve_key` for the Ed25519 key of
/// the proof's `verificationMethod`.
///
/// `resolve_key` must answer only keys that the verification method's controller authorised for
/// the proof's purpose; this function does not look at `proofPurpose` or `created`.
pub fn verify(secured: &Value, resolve_key: impl Fn(&str) -> Option<PublicKey>) -> Result<(), VcError> {
    let mut unsecured = secured.as_object().ok_or(VcError::NotAnObject("the document"))?.clone();
    let proof = unsecured.remove("proof").ok_or(VcError::MissingProof)?;
    let mut proof_config = match proof {
        Value::Object(proof) => proof,
        _ => return Err(VcError::NotAnObject("the proof")),
    };
    let proof_value = match proof_config.remove("proofValue") {
        Some(Value::String(s)) => s,
        _ => return Err(VcError::ProofPropertyInvalid("proofValue")),
    };
    check_proof_config(&proof_config)?;
    if proof_config.get("@context") != unsecured.get("@context") {
        return Err(VcError::ContextMismatch);
    }
    let signature = parse_proof_value(&proof_value)?;
    let method = string_property(&proof_config, "verificationMethod")?;
    let key = resolve_key(method).ok_or_else(|| VcError::UnknownVerificationMethod(method.to_owned()))?;
    let hash = hash_data(&proof_config, &Value::Object(unsecured))?;
    key.verify(&hash, &signature).map_err(|_| VcError::SignatureInvalid)
}

/// `SHA-256(JCS(proofConfig)) ‖ SHA-256(JCS(unsecuredDocument))`.
fn hash_data(proof_config: &Map<String, Value>, unsecured: &Value) -> Result<[u8; 64], VcError> {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(sha256(&jcs::canonicalize(&Value::Object(proof_config.clone()))?).as_bytes());
    out[32..].copy_from_slice(sha256(&jcs::canonicalize(unsecured)?).as_bytes());
    Ok(out)
}

/// The checks the specification's proof configuration and transformation steps make.
fn check_proof_config(proof: &Map<String, Value>) -> Result<(), VcError> {
    let kind = string_property(proof, "type")?;
    if kind != PROOF_TYPE {
        return Err(VcError::WrongProofType(kind.to_owned()));
    }
    let suite = string_property(proof, "cryptosuite")?;
    if suite != CRYPTOSUITE {
        return Err(VcError::WrongCryptosuite(suite.to_owned()));
    }
    string_property(proof, "verificationMethod")?;
    if proof.get("created").is_some_and(|c| !c.is_string()) {
        return Err(VcError::ProofPropertyInvalid("created"));
    }
    Ok(())
}

fn string_property<'a>(proof: &'a Map<String, Value>, name: &'static str) -> Result<&'a str, VcError> {
    proof.get(name).and_then(Value::as_str).ok_or(VcError::ProofPropertyInvalid(name))
}

fn parse_proof_value(s: &str) -> Result<Signature, VcError> {
    let b58 =
        s.strip_prefix('z').ok_or(VcError::ProofValueMalformed("expected multibase base58btc ('z')"))?;
    // 64 bytes are at most 88 base58 characters; refuse longer input before decoding it.
    if b58.len() > 88 {
        return Err(VcError::ProofValueMalformed("longer than a 64-byte signature"));
    }
    let bytes = bs58::decode(b58).into_vec().map_err(|_| VcError::ProofValueMalformed("not base58btc"))?;
    let bytes: [u8; 64] =
        bytes.try_into().map_err(|_| VcError::ProofValueMalformed("not 64 signature bytes"))?;
    Ok(Signature(bytes))
}

#[cfg(test)]
mod tests {
    use civic_identity::did::{parse_multikey, parse_secret_multikey};
    use serde_json::json;

    use super::*;

    // Test vectors from the W3C vc-di-eddsa repository, https://github.com/w3c/vc-di-eddsa,
    // copied exactly: `TestVectors/keyPair.json`, `TestVectors/unsigned.json`, and
    // `TestVectors/eddsa-jcs-2022/{proofConfigJCS,signedJCS}.json` at commit
    // abb673eb9df673e24a8eaf939337de74759b5f8d (did:key verification method, unchanged since
    // 0c5c862b609948c16039c3e9e5b2e52f3fe5ca77), and the same files at commit
    // 369f0f00ad3d08fb51abafc7935f3b6fa6e693c8 (https verification method, superseded in August 2024).
    const PUBLIC_KEY_MULTIBASE: &str = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";
    const SECRET_KEY_MULTIBASE: &str = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq";
    const UNSIGNED: &str = r#"{
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/ns/credentials/examples/v2"
    ],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {
        "id": "did:example:abcdefgh",
        "alumniOf": "The School of Examples"
    }
}"#;
    const DID_KEY_VM: &str = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";
    const HTTPS_VM: &str = "https://vc.example/issuers/5678#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";
    const PROOF_VALUE_DID_KEY: &str =
        "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX";
    const PROOF_VALUE_HTTPS: &str =
        "z63t83Y53KfzJ5ZosfKTnqfMcKB2dmTrfjSaQjeNNjAD5srBowQfmWqeRb8rRjmeEuCBEsddF9LsVogtuTsijJKh4";
    const PROOF_CONFIG_DID_KEY: &str = r#"{
  "type": "DataIntegrityProof",
  "cryptosuite": "eddsa-jcs-2022",
  "created": "2023-02-24T23:36:38Z",
  "verificationMethod": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
  "proofPurpose": "assertionMethod",
  "@context": [
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/ns/credentials/examples/v2"
  ]
}"#;
    const SIGNED_DID_KEY: &str = r#"{
  "@context": [
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/ns/credentials/examples/v2"
  ],
  "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
  "type": [
    "VerifiableCredential",
    "AlumniCredential"
  ],
  "name": "Alumni Credential",
  "description": "A minimum viable example of an Alumni Credential.",
  "issuer": "https://vc.example/issuers/5678",
  "validFrom": "2023-01-01T00:00:00Z",
  "credentialSubject": {
    "id": "did:example:abcdefgh",
    "alumniOf": "The School of Examples"
  },
  "proof": {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-jcs-2022",
    "created": "2023-02-24T23:36:38Z",
    "verificationMethod": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
    "proofPurpose": "assertionMethod",
    "@context": [
      "https://www.w3.org/ns/credentials/v2",
      "https://www.w3.org/ns/credentials/examples/v2"
    ],
    "proofValue": "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"
  }
}"#;
    const PROOF_CONFIG_HTTPS: &str = r#"{
  "type": "DataIntegrityProof",
  "cryptosuite": "eddsa-jcs-2022",
  "created": "2023-02-24T23:36:38Z",
  "verificationMethod": "https://vc.example/issuers/5678#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
  "proofPurpose": "assertionMethod",
  "@context": [
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/ns/credentials/examples/v2"
  ]
}"#;

    fn secret() -> SecretKey {
        SecretKey::from_seed(&parse_secret_multikey(SECRET_KEY_MULTIBASE).unwrap())
    }
    fn parse(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }
    /// Resolves both published verification methods to the published key, nothing else.
    fn resolver(vm: &str) -> Option<PublicKey> {
        (vm == DID_KEY_VM || vm == HTTPS_VM).then(|| parse_multikey(PUBLIC_KEY_MULTIBASE).unwrap())
    }
    /// The options without `@context`, which `sign` must copy in from the document.
    fn options_without_context(config: &str) -> Value {
        let mut options = parse(config);
        options.as_object_mut().unwrap().remove("@context");
        options
    }

    #[test]
    fn key_pair_matches() {
        assert_eq!(secret().public_key(), parse_multikey(PUBLIC_KEY_MULTIBASE).unwrap());
    }

    #[test]
    fn did_key_vector_reproduces_published_proof() {
        for options in [parse(PROOF_CONFIG_DID_KEY), options_without_context(PROOF_CONFIG_DID_KEY)] {
            let signed = sign(&parse(UNSIGNED), &options, &secret()).unwrap();
            assert_eq!(signed["proof"]["proofValue"], PROOF_VALUE_DID_KEY);
            assert_eq!(signed, parse(SIGNED_DID_KEY));
        }
        verify(&parse(SIGNED_DID_KEY), resolver).unwrap();
    }

    #[test]
    fn https_vector_reproduces_published_proof() {
        for options in [parse(PROOF_CONFIG_HTTPS), options_without_context(PROOF_CONFIG_HTTPS)] {
            let signed = sign(&parse(UNSIGNED), &options, &secret()).unwrap();
            assert_eq!(signed["proof"]["proofValue"], PROOF_VALUE_HTTPS);
            assert_eq!(signed["proof"], {
                let mut proof = parse(PROOF_CONFIG_HTTPS);
                proof["proofValue"] = json!(PROOF_VALUE_HTTPS);
                proof
            });
            verify(&signed, resolver).unwrap();
        }
    }

    /// Every way of changing one value, including adding a property and removing one.
    fn mutations(value: &Value) -> Vec<Value> {
        let mut out = vec![];
        if let Value::Object(map) = value {
            for (k, v) in map {
                let mut removed = map.clone();
                removed.remove(k);
                out.push(Value::Object(removed));
                for changed in mutations(v) {
                    let mut m = map.clone();
                    m.insert(k.clone(), changed);
                    out.push(Value::Object(m));
                }
            }
            let mut added = map.clone();
            added.insert("extra".into(), json!(true));
            out.push(Value::Object(added));
        } else if let Value::Array(items) = value {
            for (i, v) in items.iter().enumerate() {
                for changed in mutations(v) {
                    let mut a = items.clone();
                    a[i] = changed;
                    out.push(Value::Array(a));
                }
            }
            let mut reversed = items.clone();
            reversed.reverse();
            if reversed != *items {
                out.push(Value::Array(reversed));
            }
        } else if let Value::String(s) = value {
            let mut flipped = s.clone();
            // Change the last character (which keeps a proofValue base58) and append one.
            let last = flipped.pop().map_or('a', |c| if c == 'a' { 'b' } else { 'a' });
            flipped.push(last);
            out.push(Value::String(flipped));
            out.push(Value::String(format!("{s}x")));
        } else {
            out.push(json!("changed"));
        }
        out
    }

    #[test]
    fn any_change_to_document_or_proof_fails() {
        let signed = parse(SIGNED_DID_KEY);
        let all = mutations(&signed);
        assert!(all.len() > 50, "only {} mutations", all.len());
        for changed in all {
            assert_ne!(changed, signed);
            assert!(verify(&changed, resolver).is_err(), "accepted: {changed:#}");
        }
    }

    #[test]
    fn wrong_key_and_unknown_method_fail() {
        let signed = parse(SIGNED_DID_KEY);
        let other = SecretKey::from_seed(&[7; 32]).public_key();
        assert_eq!(verify(&signed, |_| Some(other)), Err(VcError::SignatureInvalid));
        assert_eq!(verify(&signed, |_| None), Err(VcError::UnknownVerificationMethod(DID_KEY_VM.into())));
    }

    #[test]
    fn specific_rejections() {
        let signed = parse(SIGNED_DID_KEY);
        let with = |path: &str, v: Value| {
            let mut s = signed.clone();
            *s.pointer_mut(path).unwrap() = v;
            verify(&s, resolver)
        };
        assert_eq!(
            with("/proof/type", json!("Ed25519Signature2020")),
            Err(VcError::WrongProofType("Ed25519Signature2020".into()))
        );
        assert_eq!(
            with("/proof/cryptosuite", json!("eddsa-rdfc-2022")),
            Err(VcError::WrongCryptosuite("eddsa-rdfc-2022".into()))
        );
        assert_eq!(
            with("/proof/@context", json!(["https://www.w3.org/ns/credentials/v2"])),
            Err(VcError::ContextMismatch)
        );
        assert_eq!(
            with("/@context", json!(["https://www.w3.org/ns/credentials/v2"])),
            Err(VcError::ContextMismatch)
        );
        assert!(matches!(with("/proof/proofValue", json!("u2HnF")), Err(VcError::ProofValueMalformed(_))));
        assert!(matches!(with("/proof/proofValue", json!("z0OIl")), Err(VcError::ProofValueMalformed(_))));
        assert!(matches!(with("/proof/proofValue", json!("z2HnF")), Err(VcError::ProofValueMalformed(_))));
        assert!(matches!(
            with("/proof/proofValue", json!(format!("z{}", "2".repeat(10_000)))),
            Err(VcError::ProofValueMalformed(_))
        ));
        assert_eq!(with("/proof", json!([signed["proof"].clone()])), Err(VcError::NotAnObject("the proof")));
        let mut unsigned = signed.clone();
        unsigned.as_object_mut().unwrap().remove("proof");
        assert_eq!(verify(&unsigned, resolver), Err(VcError::MissingProof));
        assert_eq!(verify(&json!([1]), resolver), Err(VcError::NotAnObject("the document")));
    }

    #[test]
    fn sign_rejects_bad_input() {
        let key = secret();
        let options = parse(PROOF_CONFIG_DID_KEY);
        assert_eq!(sign(&parse(SIGNED_DID_KEY), &options, &key), Err(VcError::AlreadySigned));
        assert_eq!(sign(&json!("x"), &options, &key), Err(VcError::NotAnObject("the document")));
        let mut bad = options.clone();
        bad["cryptosuite"] = json!("eddsa-rdfc-2022");
        assert_eq!(
            sign(&parse(UNSIGNED), &bad, &key),
            Err(VcError::WrongCryptosuite("eddsa-rdfc-2022".into()))
        );
        let mut bad = options.clone();
        bad["proofValue"] = json!("z1");
        assert_eq!(sign(&parse(UNSIGNED), &bad, &key), Err(VcError::ProofValuePresent));
        let mut bad = options;
        bad.as_object_mut().unwrap().remove("verificationMethod");
        assert_eq!(
            sign(&parse(UNSIGNED), &bad, &key),
            Err(VcError::ProofPropertyInvalid("verificationMethod"))
        );
    }

    #[test]
    fn document_without_context_round_trips() {
        let doc = json!({"id": "urn:example:1", "claim": 5});
        let mut options = options_without_context(PROOF_CONFIG_DID_KEY);
        let signed = sign(&doc, &options, &secret()).unwrap();
        assert!(signed["proof"].get("@context").is_none());
        verify(&signed, resolver).unwrap();
        // A proof that claims a context the document lacks is rejected.
        options["@context"] = json!(["https://www.w3.org/ns/credentials/v2"]);
        let mut forged = signed.clone();
        forged["proof"]["@context"] = options["@context"].clone();
        assert_eq!(verify(&forged, resolver), Err(VcError::ContextMismatch));
    }
}
