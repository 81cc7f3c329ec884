//! The one error type of this crate.

/// Why a credential could not be canonicalized, signed or verified, or a status list decoded.
///
/// Every variant describes something wrong with the input; none is fatal to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VcError {
    /// The value cannot be written as RFC 8785 canonical JSON.
    #[error("JSON cannot be canonicalized (RFC 8785): {0}")]
    Canonicalization(String),
    /// A document or proof that must be a JSON object is not one.
    #[error("{0} must be a JSON object")]
    NotAnObject(&'static str),
    /// The document to sign already carries a `proof`; proof sets and chains are not supported.
    #[error(
        "the document already has a proof; remove it or sign a fresh document (proof sets are not supported)"
    )]
    AlreadySigned,
    /// The secured document has no `proof`.
    #[error("the document has no proof")]
    MissingProof,
    /// A proof property is missing or has the wrong JSON type.
    #[error("proof property {0:?} is missing or not a string")]
    ProofPropertyInvalid(&'static str),
    /// The proof options already contain a `proofValue`.
    #[error("proof options must not contain a proofValue")]
    ProofValuePresent,
    /// The proof's `type` is not `DataIntegrityProof`.
    #[error("proof type is {0:?}; expected \"DataIntegrityProof\"")]
    WrongProofType(String),
    /// The proof's `cryptosuite` is not `eddsa-jcs-2022`.
    #[error("cryptosuite is {0:?}; expected \"eddsa-jcs-2022\"")]
    WrongCryptosuite(String),
    /// The proof's `@context` differs from the document's.
    #[error("the proof's @context does not match the document's @context")]
    ContextMismatch,
    /// The resolver knows no key for the proof's `verificationMethod`.
    #[error("verification method {0:?} could not be resolved to an Ed25519 key")]
    UnknownVerificationMethod(String),
    /// The `proofValue` is not multibase base58btc (`z…`) of 64 signature bytes.
    #[error("proofValue is malformed: {0}")]
    ProofValueMalformed(&'static str),
    /// The signature does not verify: the document or proof was changed, or the key is wrong.
    #[error("the proof's signature does not verify for this document and key")]
    SignatureInvalid,
    /// A status list shorter than the 131,072 entries the spec requires, or not whole bytes.
    #[error("a status list must have a multiple of 8 and between {min} and {max} entries; got {got}")]
    StatusListLength {
        /// Entries requested or found.
        got: usize,
        /// Smallest length allowed.
        min: usize,
        /// Largest length allowed.
        max: usize,
    },
    /// A status list index past the end of the list.
    #[error("status list index {index} is out of range (the list has {len} entries)")]
    StatusIndexOutOfRange {
        /// Index asked for.
        index: usize,
        /// Entries in the list.
        len: usize,
    },
    /// The `encodedList` is not multibase base64url (no padding) of a GZIP stream.
    #[error("encodedList is malformed: {0}")]
    EncodedListMalformed(String),
    /// The `encodedList` decompresses to more than the accepted maximum.
    #[error("encodedList decompresses to more than {max_bytes} bytes")]
    EncodedListTooLarge {
        /// Largest decompressed size accepted.
        max_bytes: usize,
    },
}
