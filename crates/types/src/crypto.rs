//! Ed25519 keys and signatures (RFC 8032) over ed25519-dalek.
//!
//! Single signatures are checked with `verify_strict` (rejects weak keys and non-canonical
//! encodings). [`verify_batch`] is the fast path for many signatures: it accepts a batch only if
//! every key is non-weak and the batch equation holds; when a batch fails it falls back to strict
//! single verification to say exactly which signatures are bad, so its answer per signature is
//! the same as the single check's on everything honest clients produce.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a key or signature was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Not 32 bytes, or not a point on the curve, or a weak (small-order) key.
    #[error("invalid Ed25519 public key: {0}")]
    BadPublicKey(String),
    /// Not 64 bytes of hex.
    #[error("invalid Ed25519 signature encoding: {0}")]
    BadSignatureEncoding(String),
    /// The signature does not verify for this key and message.
    #[error("signature does not verify for this key and message")]
    BadSignature,
    /// Not 32 bytes of hex.
    #[error("invalid Ed25519 secret key: {0}")]
    BadSecretKey(String),
    /// The operating system's random source failed.
    #[error("the operating system random source failed: {0}")]
    Rng(String),
}

/// An Ed25519 public key (32 bytes). Always a valid, non-weak curve point.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(VerifyingKey);

/// An Ed25519 signature (64 bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

/// An Ed25519 secret key (the 32-byte seed). Never serialized in its `Debug` form.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl PublicKey {
    /// Parses and validates 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, CryptoError> {
        let vk = VerifyingKey::from_bytes(bytes)
            .map_err(|_| CryptoError::BadPublicKey("not a point on the curve".into()))?;
        if vk.is_weak() {
            return Err(CryptoError::BadPublicKey("weak (small-order) key".into()));
        }
        Ok(PublicKey(vk))
    }
    /// The 32 encoded bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }
    /// Strict verification of `sig` over `msg`.
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<(), CryptoError> {
        let s = ed25519_dalek::Signature::from_bytes(&sig.0);
        self.0.verify_strict(msg, &s).map_err(|_| CryptoError::BadSignature)
    }
}

impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.as_bytes().cmp(other.0.as_bytes())
    }
}
impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl SecretKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| CryptoError::Rng(e.to_string()))?;
        Ok(Self::from_seed(&seed))
    }
    /// The key whose RFC 8032 seed is `seed`.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        SecretKey(SigningKey::from_bytes(seed))
    }
    /// The 32-byte seed.
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }
    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }
    /// Signs `msg` (deterministic, RFC 8032).
    pub fn sign(&self, msg: &[u8]) -> Signature {
        Signature(self.0.sign(msg).to_bytes())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(public={})", self.public_key())
    }
}

impl FromStr for SecretKey {
    type Err = CryptoError;
    fn from_str(s: &str) -> Result<Self, CryptoError> {
        let mut seed = [0u8; 32];
        hex::decode_to_slice(s.trim(), &mut seed)
            .map_err(|_| CryptoError::BadSecretKey("expected 64 hex characters".into()))?;
        Ok(Self::from_seed(&seed))
    }
}

/// 32 bytes from the operating system's random source (challenge nonces, salts).
pub fn random_bytes() -> Result<[u8; 32], CryptoError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| CryptoError::Rng(e.to_string()))?;
    Ok(b)
}

/// Verifies many `(key, message, signature)` triples, using batch verification on the happy path.
/// Returns one result per item, in order.
pub fn verify_batch(items: &[(PublicKey, &[u8], Signature)]) -> Vec<bool> {
    if items.is_empty() {
        return Vec::new();
    }
    let msgs: Vec<&[u8]> = items.iter().map(|(_, m, _)| *m).collect();
    let sigs: Vec<ed25519_dalek::Signature> =
        items.iter().map(|(_, _, s)| ed25519_dalek::Signature::from_bytes(&s.0)).collect();
    let keys: Vec<VerifyingKey> = items.iter().map(|(k, _, _)| k.0).collect();
    if ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok() {
        return vec![true; items.len()];
    }
    items.iter().map(|(k, m, s)| k.verify(m, s).is_ok()).collect()
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0.as_bytes()))
    }
}
impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}
impl FromStr for PublicKey {
    type Err = CryptoError;
    fn from_str(s: &str) -> Result<Self, CryptoError> {
        let mut b = [0u8; 32];
        hex::decode_to_slice(s, &mut b)
            .map_err(|_| CryptoError::BadPublicKey("expected 64 hex characters".into()))?;
        PublicKey::from_bytes(&b)
    }
}
impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}
impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}
impl FromStr for Signature {
    type Err = CryptoError;
    fn from_str(s: &str) -> Result<Self, CryptoError> {
        let mut b = [0u8; 64];
        hex::decode_to_slice(s, &mut b)
            .map_err(|_| CryptoError::BadSignatureEncoding("expected 128 hex characters".into()))?;
        Ok(Signature(b))
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() { s.serialize_str(&self.to_string()) } else { self.to_bytes().serialize(s) }
    }
}
impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
        } else {
            PublicKey::from_bytes(&<[u8; 32]>::deserialize(d)?).map_err(serde::de::Error::custom)
        }
    }
}

/// Serde has no impls for 64-byte arrays, so the binary form is two 32-byte halves (64 raw bytes).
impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.to_string())
        } else {
            let mut a = [0u8; 32];
            let mut b = [0u8; 32];
            a.copy_from_slice(&self.0[..32]);
            b.copy_from_slice(&self.0[32..]);
            (a, b).serialize(s)
        }
    }
}
impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
        } else {
            let (a, b) = <([u8; 32], [u8; 32])>::deserialize(d)?;
            let mut out = [0u8; 64];
            out[..32].copy_from_slice(&a);
            out[32..].copy_from_slice(&b);
            Ok(Signature(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h32(s: &str) -> [u8; 32] {
        let mut b = [0u8; 32];
        hex::decode_to_slice(s, &mut b).unwrap();
        b
    }

    /// RFC 8032 §7.1 test vectors (TEST 1, 2, 3 and SHA(abc)).
    const RFC8032: &[(&str, &str, &str, &str)] = &[
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
        (
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
        ),
        (
            "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
            "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
            "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
        ),
    ];

    #[test]
    fn rfc8032_vectors() {
        for (seed, public, msg, sig) in RFC8032 {
            let sk = SecretKey::from_seed(&h32(seed));
            assert_eq!(sk.public_key().to_string(), *public);
            let msg = hex::decode(msg).unwrap();
            let produced = sk.sign(&msg);
            assert_eq!(produced.to_string(), *sig);
            let pk: PublicKey = public.parse().unwrap();
            pk.verify(&msg, &produced).unwrap();
            let mut tampered = msg.clone();
            tampered.push(0);
            assert_eq!(pk.verify(&tampered, &produced), Err(CryptoError::BadSignature));
        }
    }

    #[test]
    fn batch_flags_exactly_the_bad_signature() {
        let keys: Vec<SecretKey> = (0u8..8).map(|i| SecretKey::from_seed(&[i; 32])).collect();
        let msgs: Vec<Vec<u8>> = (0u8..8).map(|i| vec![i; 10]).collect();
        let mut items: Vec<(PublicKey, &[u8], Signature)> =
            keys.iter().zip(&msgs).map(|(k, m)| (k.public_key(), m.as_slice(), k.sign(m))).collect();
        assert!(verify_batch(&items).iter().all(|ok| *ok));
        items[3].2.0[5] ^= 1;
        let res = verify_batch(&items);
        assert_eq!(res.iter().filter(|ok| !**ok).count(), 1);
        assert!(!res[3]);
    }

    #[test]
    fn weak_keys_are_rejected() {
        // The identity point encodes as 0x01 followed by zeros: small order.
        let mut b = [0u8; 32];
        b[0] = 1;
        assert!(PublicKey::from_bytes(&b).is_err());
    }

    #[test]
    fn binary_forms_are_raw_bytes() {
        let sk = SecretKey::from_seed(&[7; 32]);
        let sig = sk.sign(b"m");
        assert_eq!(bcs::to_bytes(&sig).unwrap(), sig.0.to_vec());
        assert_eq!(bcs::to_bytes(&sk.public_key()).unwrap(), sk.public_key().to_bytes().to_vec());
        let back: Signature = bcs::from_bytes(&bcs::to_bytes(&sig).unwrap()).unwrap();
        assert_eq!(back, sig);
    }
}
