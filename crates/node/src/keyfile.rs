//! Key files: one JSON file per key, `{"account", "public_key", "secret_key"}`, hex encoded,
//! written readable by the owner only.

use std::path::Path;

use civic_types::{AccountId, PublicKey, SecretKey};
use serde::{Deserialize, Serialize};

/// Why a key file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// Not a key file.
    #[error("{path} is not a Civic key file: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// A key file's contents.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyFile {
    /// The account this key belongs to, if it is an account key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountId>,
    /// The public key (hex).
    pub public_key: PublicKey,
    /// The 32-byte secret seed (hex).
    pub secret_key: String,
}

impl KeyFile {
    /// A key file for `key`.
    pub fn new(account: Option<AccountId>, key: &SecretKey) -> KeyFile {
        KeyFile { account, public_key: key.public_key(), secret_key: hex_encode(&key.seed()) }
    }

    /// The secret key, checked against the stored public key.
    pub fn secret(&self) -> Result<SecretKey, String> {
        let sk: SecretKey = self.secret_key.parse().map_err(|e: civic_types::CryptoError| e.to_string())?;
        if sk.public_key() != self.public_key {
            return Err("secret_key does not match public_key".into());
        }
        Ok(sk)
    }

    /// Reads and validates a key file.
    pub fn read(path: &Path) -> Result<KeyFile, KeyFileError> {
        let p = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| KeyFileError::Io { path: p.clone(), source })?;
        let kf: KeyFile = serde_json::from_str(&text)
            .map_err(|e| KeyFileError::Invalid { path: p.clone(), reason: e.to_string() })?;
        kf.secret().map_err(|reason| KeyFileError::Invalid { path: p, reason })?;
        Ok(kf)
    }

    /// Writes the key file (mode 0600 on Unix). Refuses to overwrite an existing file.
    pub fn write(&self, path: &Path) -> Result<(), KeyFileError> {
        use std::io::Write;
        let p = path.display().to_string();
        let io = |source| KeyFileError::Io { path: p.clone(), source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(io)?;
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| KeyFileError::Invalid { path: p.clone(), reason: e.to_string() })?;
        f.write_all(json.as_bytes()).map_err(io)?;
        f.write_all(b"\n").map_err(io)?;
        f.sync_all().map_err(io)
    }
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
