//! W3C Bitstring Status List v1.0: the bitstring behind a status list credential's
//! `encodedList`.
//!
//! Entry `i` is bit `7 - i % 8` of byte `i / 8` (index 0 is the left-most bit), as the
//! specification requires. `encodedList` is `u` + base64url without padding (multibase) of the
//! GZIP-compressed bitstring.
//!
//! Guarantees: a [`BitString`] always holds between [`MIN_ENTRIES`] (131,072, i.e. 16 KiB, the
//! specification's minimum) and [`MAX_ENTRIES`] entries, in whole bytes; [`BitString::encode`]
//! is deterministic (the GZIP header carries no timestamp); [`BitString::decode`] never
//! decompresses more than [`MAX_BYTES`] + 1 bytes, so a small hostile input cannot exhaust
//! memory, and it rejects anything but a well-formed, CRC-checked GZIP stream.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use crate::VcError;

/// Fewest entries a status list may have (the specification's 16 KiB minimum).
pub const MIN_ENTRIES: usize = 131_072;
/// Largest uncompressed bitstring accepted, in bytes (2 MiB: 16,777,216 entries).
pub const MAX_BYTES: usize = 2 * 1024 * 1024;
/// Most entries a status list may have.
pub const MAX_ENTRIES: usize = MAX_BYTES * 8;
/// Longest `encodedList` accepted. GZIP never expands data by more than a few bytes per 16 KiB
/// block, so no honest list of [`MAX_BYTES`] needs more than this many base64 characters.
const MAX_ENCODED_CHARS: usize = (MAX_BYTES + MAX_BYTES / 1024 + 64) * 4 / 3 + 4;

/// A status list: one bit per credential, all clear when created.
#[derive(Clone, PartialEq, Eq)]
pub struct BitString {
    bytes: Vec<u8>,
}

impl BitString {
    /// A list of `entries` clear bits. `entries` must be a multiple of 8 between
    /// [`MIN_ENTRIES`] and [`MAX_ENTRIES`].
    pub fn new(entries: usize) -> Result<BitString, VcError> {
        check_len(entries)?;
        Ok(BitString { bytes: vec![0; entries / 8] })
    }

    /// A list of the minimum length, [`MIN_ENTRIES`].
    pub fn with_min_entries() -> BitString {
        BitString { bytes: vec![0; MIN_ENTRIES / 8] }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.bytes.len() * 8
    }

    /// Always false: a status list has at least [`MIN_ENTRIES`] entries.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The bit at `index`.
    pub fn get(&self, index: usize) -> Result<bool, VcError> {
        let (byte, mask) = self.locate(index)?;
        Ok(self.bytes[byte] & mask != 0)
    }

    /// Sets the bit at `index` to `value`.
    pub fn set(&mut self, index: usize, value: bool) -> Result<(), VcError> {
        let (byte, mask) = self.locate(index)?;
        if value {
            self.bytes[byte] |= mask;
        } else {
            self.bytes[byte] &= !mask;
        }
        Ok(())
    }

    /// The raw bitstring, most significant bit of the first byte first.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The `encodedList` value: `u` + base64url (no padding) of GZIP(bitstring).
    pub fn encode(&self) -> String {
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        // Writing into a Vec cannot fail.
        gz.write_all(&self.bytes).expect("writing to a Vec");
        let compressed = gz.finish().expect("writing to a Vec");
        format!("u{}", URL_SAFE_NO_PAD.encode(compressed))
    }

    /// Parses an `encodedList`.
    pub fn decode(encoded: &str) -> Result<BitString, VcError> {
        let malformed = |why: &str| VcError::EncodedListMalformed(why.to_owned());
        let b64 = encoded.strip_prefix('u').ok_or_else(|| malformed("expected multibase base64url ('u')"))?;
        if b64.len() > MAX_ENCODED_CHARS {
            return Err(VcError::EncodedListTooLarge { max_bytes: MAX_BYTES });
        }
        let compressed = URL_SAFE_NO_PAD
            .decode(b64)
            .map_err(|e| malformed(&format!("not base64url without padding: {e}")))?;
        let mut bytes = Vec::new();
        // Read one byte past the cap so an oversized list is detected without inflating it all.
        GzDecoder::new(compressed.as_slice())
            .take(MAX_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| malformed(&format!("not a valid GZIP stream: {e}")))?;
        if bytes.len() > MAX_BYTES {
            return Err(VcError::EncodedListTooLarge { max_bytes: MAX_BYTES });
        }
        check_len(bytes.len() * 8)?;
        Ok(BitString { bytes })
    }

    fn locate(&self, index: usize) -> Result<(usize, u8), VcError> {
        if index >= self.len() {
            return Err(VcError::StatusIndexOutOfRange { index, len: self.len() });
        }
        Ok((index / 8, 0x80 >> (index % 8)))
    }
}

impl std::fmt::Debug for BitString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = self.bytes.iter().map(|b| b.count_ones() as usize).sum::<usize>();
        write!(f, "BitString({} entries, {set} set)", self.len())
    }
}

fn check_len(entries: usize) -> Result<(), VcError> {
    if !(MIN_ENTRIES..=MAX_ENTRIES).contains(&entries) || !entries.is_multiple_of(8) {
        return Err(VcError::StatusListLength { got: entries, min: MIN_ENTRIES, max: MAX_ENTRIES });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `encodedList` of the example BitstringStatusListCredential in the W3C Bitstring Status
    /// List v1.0 specification (https://github.com/w3c/vc-bitstring-status-list, `index.html`,
    /// commit 74fcae11e5b389aa44d1b7d3f84ee079eaa169a4).
    const SPEC_EXAMPLE: &str = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA";

    fn gzip_b64(data: &[u8]) -> String {
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(data).unwrap();
        format!("u{}", URL_SAFE_NO_PAD.encode(gz.finish().unwrap()))
    }

    #[test]
    fn spec_example_is_all_zeros() {
        let list = BitString::decode(SPEC_EXAMPLE).unwrap();
        assert_eq!(list.len(), MIN_ENTRIES);
        assert!(list.as_bytes().iter().all(|b| *b == 0));
        assert_eq!(list, BitString::with_min_entries());
    }

    #[test]
    fn round_trip() {
        let mut list = BitString::new(MIN_ENTRIES * 2).unwrap();
        for i in [0, 1, 7, 8, 9, 1000, MIN_ENTRIES, MIN_ENTRIES * 2 - 1] {
            list.set(i, true).unwrap();
        }
        let encoded = list.encode();
        assert!(encoded.starts_with('u'));
        assert!(!encoded.contains(['=', '+', '/']));
        assert_eq!(encoded, list.encode(), "encoding is deterministic");
        let decoded = BitString::decode(&encoded).unwrap();
        assert_eq!(decoded, list);
        for i in 0..list.len() {
            assert_eq!(
                decoded.get(i).unwrap(),
                [0, 1, 7, 8, 9, 1000, MIN_ENTRIES, MIN_ENTRIES * 2 - 1].contains(&i)
            );
        }
        let mut cleared = decoded;
        cleared.set(1000, false).unwrap();
        assert!(!cleared.get(1000).unwrap());
        assert!(cleared.get(999).is_ok_and(|b| !b));
    }

    #[test]
    fn index_zero_is_the_left_most_bit() {
        let mut list = BitString::with_min_entries();
        list.set(0, true).unwrap();
        list.set(15, true).unwrap();
        assert_eq!(&list.as_bytes()[..2], &[0x80, 0x01]);
    }

    #[test]
    fn sizes() {
        assert_eq!(BitString::with_min_entries().len(), 131_072);
        assert_eq!(BitString::with_min_entries().as_bytes().len(), 16 * 1024);
        assert!(BitString::new(MIN_ENTRIES - 8).is_err());
        assert!(BitString::new(MIN_ENTRIES + 1).is_err());
        assert!(BitString::new(MAX_ENTRIES + 8).is_err());
        assert_eq!(BitString::new(MAX_ENTRIES).unwrap().len(), MAX_ENTRIES);
        let mut list = BitString::with_min_entries();
        assert_eq!(
            list.get(MIN_ENTRIES),
            Err(VcError::StatusIndexOutOfRange { index: MIN_ENTRIES, len: MIN_ENTRIES })
        );
        assert!(list.set(usize::MAX, true).is_err());
        // Too short once decoded, though well formed.
        assert!(matches!(
            BitString::decode(&gzip_b64(&[0; 1024])),
            Err(VcError::StatusListLength { got: 8192, .. })
        ));
        assert_eq!(BitString::decode(&gzip_b64(&[0; 16 * 1024 + 1])).unwrap().len(), MIN_ENTRIES + 8);
        assert_eq!(BitString::decode(&gzip_b64(&[0; 32 * 1024])).unwrap().len(), 2 * MIN_ENTRIES);
    }

    #[test]
    fn bad_input_is_an_error() {
        let bad = |s: &str| BitString::decode(s).unwrap_err();
        assert!(matches!(bad(""), VcError::EncodedListMalformed(_)));
        assert!(matches!(bad(&SPEC_EXAMPLE.replacen('u', "z", 1)), VcError::EncodedListMalformed(_)));
        assert!(matches!(bad(&SPEC_EXAMPLE[1..]), VcError::EncodedListMalformed(_)));
        assert!(matches!(bad("u!!!!"), VcError::EncodedListMalformed(_)));
        assert!(matches!(bad(&format!("{SPEC_EXAMPLE}==")), VcError::EncodedListMalformed(_)));
        assert!(matches!(bad(&SPEC_EXAMPLE.replace('-', "+")), VcError::EncodedListMalformed(_)));
        assert!(matches!(bad("uAAAAAAAAAAA"), VcError::EncodedListMalformed(_)));
        assert!(matches!(bad("u"), VcError::EncodedListMalformed(_)));
        // Truncated GZIP, and a corrupted CRC.
        assert!(matches!(bad(&SPEC_EXAMPLE[..SPEC_EXAMPLE.len() - 10]), VcError::EncodedListMalformed(_)));
        let mut raw = URL_SAFE_NO_PAD.decode(&SPEC_EXAMPLE[1..]).unwrap();
        let crc = raw.len() - 8;
        raw[crc] ^= 1;
        assert!(matches!(
            bad(&format!("u{}", URL_SAFE_NO_PAD.encode(&raw))),
            VcError::EncodedListMalformed(_)
        ));
    }

    #[test]
    fn oversized_decompression_is_refused() {
        // A few KiB that inflate past the cap: refused without allocating the whole output.
        let bomb = gzip_b64(&vec![0; MAX_BYTES + 8]);
        assert!(bomb.len() < 10_000);
        assert_eq!(BitString::decode(&bomb), Err(VcError::EncodedListTooLarge { max_bytes: MAX_BYTES }));
        let long = format!("u{}", "A".repeat(MAX_ENCODED_CHARS + 1));
        assert_eq!(BitString::decode(&long), Err(VcError::EncodedListTooLarge { max_bytes: MAX_BYTES }));
    }
}
