//! The keystore: one JSON file per key under `<home>/keys/<alias>.json`.
//!
//! Secret keys are sealed with ChaCha20-Poly1305 under a key derived from the
//! passphrase by Argon2id, with a fresh salt and nonce per file. Files are
//! written to a temporary file, made owner-only (0600) and renamed into
//! place, so a crash or a wrong passphrase never damages a stored key.
//! Unencrypted keys are for sandbox throwaway accounts only.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use pledgeroll_contracts::crypto::{Address, Curve, PublicKey};
use pledgeroll_contracts::signing::SecretKey;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use zeroize::Zeroizing;

/// Why the keystore could not do what was asked.
#[derive(Debug, Error)]
pub enum KeystoreError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// No key has this alias.
    #[error("no key named `{0}`; `pledgeroll keys list` shows the keys you have")]
    NotFound(String),
    /// A key with this alias exists already.
    #[error("a key named `{0}` exists already; choose another name or remove it first")]
    Exists(String),
    /// An alias with characters that do not belong in a file name.
    #[error("`{0}` is not a valid key name: use letters, digits, `-` and `_`")]
    BadAlias(String),
    /// The passphrase does not open the key.
    #[error("wrong passphrase for key `{0}`")]
    WrongPassphrase(String),
    /// No passphrase could be had (no terminal, no `PLEDGEROLL_PASSPHRASE`).
    #[error("key `{0}` is encrypted and there is no terminal to ask for its passphrase; set PLEDGEROLL_PASSPHRASE")]
    NoPassphrase(String),
    /// The entry holds no secret.
    #[error("`{0}` is watch-only: print the operation with --dry-run, sign its bytes elsewhere, then `pledgeroll submit --unsigned … --signature …`")]
    WatchOnly(String),
    /// The file is not a keystore entry, or was altered.
    #[error("key file {path} is damaged: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// How a key is stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Sealed {
    /// Encrypted under a passphrase.
    Encrypted {
        /// Argon2id memory cost in KiB.
        m_cost: u32,
        /// Argon2id iterations.
        t_cost: u32,
        /// Argon2id parallelism.
        p_cost: u32,
        /// Hex salt.
        salt: String,
        /// Hex ChaCha20-Poly1305 nonce.
        nonce: String,
        /// Hex ciphertext of the 32 secret bytes, with the tag.
        ciphertext: String,
    },
    /// In clear, for throwaway sandbox keys.
    Unencrypted {
        /// The secret key in Octez form.
        secret_key: String,
    },
    /// No secret: an account watched, whose operations are signed
    /// elsewhere (`--dry-run`, then `submit --unsigned … --signature …`).
    WatchOnly,
}

/// One keystore file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    /// Format version.
    pub version: u32,
    /// The key's name.
    pub alias: String,
    /// Its account.
    pub address: String,
    /// Its public key; a watch-only account may be known by address alone.
    pub public_key: Option<String>,
    /// The sealed secret.
    pub secret: Sealed,
}

impl Entry {
    /// The account.
    pub fn address(&self) -> Result<Address, KeystoreError> {
        self.address.parse().map_err(|e| KeystoreError::Corrupt {
            path: PathBuf::from(&self.alias),
            reason: format!("{e}"),
        })
    }

    /// Whether the secret is encrypted.
    pub fn is_encrypted(&self) -> bool {
        matches!(self.secret, Sealed::Encrypted { .. })
    }

    /// Whether the entry holds no secret.
    pub fn is_watch_only(&self) -> bool {
        matches!(self.secret, Sealed::WatchOnly)
    }

    /// The public key, if the entry has one.
    pub fn public_key(&self) -> Result<Option<PublicKey>, KeystoreError> {
        self.public_key
            .as_deref()
            .map(|pk| {
                pk.parse().map_err(|e| KeystoreError::Corrupt {
                    path: PathBuf::from(&self.alias),
                    reason: format!("{e}"),
                })
            })
            .transpose()
    }
}

/// The keystore format this wallet writes and reads.
const VERSION: u32 = 1;

/// The most Argon2id memory a stored key may ask for, in KiB (1 GiB): a
/// file asking for more is refused, not allocated.
const MAX_M_COST: u32 = 1024 * 1024;
/// The most Argon2id passes a stored key may ask for.
const MAX_T_COST: u32 = 64;
/// The most Argon2id lanes a stored key may ask for.
const MAX_P_COST: u32 = 16;

/// Argon2id costs for new keys: 64 MiB, 3 passes (OWASP's recommendation).
const M_COST: u32 = 64 * 1024;
const T_COST: u32 = 3;
const P_COST: u32 = 1;

/// The keystore under a home directory.
#[derive(Debug, Clone)]
pub struct Keystore {
    dir: PathBuf,
}

fn curve_tag(curve: Curve) -> u8 {
    match curve {
        Curve::Ed25519 => 0,
        Curve::Secp256k1 => 1,
        Curve::P256 => 2,
    }
}

fn derive(
    passphrase: &str,
    salt: &[u8],
    m: u32,
    t: u32,
    p: u32,
) -> Result<Zeroizing<[u8; 32]>, String> {
    let params = Params::new(m, t, p, Some(32)).map_err(|e| e.to_string())?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|e| e.to_string())?;
    Ok(key)
}

impl Keystore {
    /// The keystore in `<home>/keys`.
    pub fn new(home: &Path) -> Self {
        Self {
            dir: home.join("keys"),
        }
    }

    fn path(&self, alias: &str) -> Result<PathBuf, KeystoreError> {
        let ok = !alias.is_empty()
            && alias.len() <= 64
            && alias
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(KeystoreError::BadAlias(alias.to_owned()));
        }
        Ok(self.dir.join(format!("{alias}.json")))
    }

    /// Seals `key` under `alias`, encrypted with `passphrase` or, when it is
    /// `None`, in clear. Refuses to replace an existing key.
    pub fn add(
        &self,
        alias: &str,
        key: &SecretKey,
        passphrase: Option<&str>,
    ) -> Result<Entry, KeystoreError> {
        let path = self.path(alias)?;
        if path.exists() {
            return Err(KeystoreError::Exists(alias.to_owned()));
        }
        let secret = match passphrase {
            None => Sealed::Unencrypted {
                secret_key: key.to_string(),
            },
            Some(pass) => {
                let mut salt = [0u8; 16];
                let mut nonce = [0u8; 12];
                rand::rngs::OsRng.fill_bytes(&mut salt);
                rand::rngs::OsRng.fill_bytes(&mut nonce);
                let k = derive(pass, &salt, M_COST, T_COST, P_COST).map_err(|reason| {
                    KeystoreError::Corrupt {
                        path: path.clone(),
                        reason,
                    }
                })?;
                let cipher = ChaCha20Poly1305::new(Key::from_slice(k.as_ref()));
                let mut plain = Zeroizing::new(Vec::with_capacity(33));
                plain.push(curve_tag(key.curve()));
                plain.extend_from_slice(key.secret_bytes());
                let ciphertext = cipher
                    .encrypt(Nonce::from_slice(&nonce), plain.as_slice())
                    .map_err(|_| KeystoreError::Corrupt {
                        path: path.clone(),
                        reason: "encryption failed".into(),
                    })?;
                Sealed::Encrypted {
                    m_cost: M_COST,
                    t_cost: T_COST,
                    p_cost: P_COST,
                    salt: hex::encode(salt),
                    nonce: hex::encode(nonce),
                    ciphertext: hex::encode(ciphertext),
                }
            }
        };
        let pk = key.public_key();
        let entry = Entry {
            version: VERSION,
            alias: alias.to_owned(),
            address: pk.address().to_string(),
            public_key: Some(pk.to_string()),
            secret,
        };
        self.write_atomically(&path, &entry)?;
        Ok(entry)
    }

    /// Stores a watch-only account under `alias`: its public key, or its
    /// address alone. Refuses to replace an existing key.
    pub fn add_watch(
        &self,
        alias: &str,
        public_key: Option<&PublicKey>,
        address: &Address,
    ) -> Result<Entry, KeystoreError> {
        let path = self.path(alias)?;
        if path.exists() {
            return Err(KeystoreError::Exists(alias.to_owned()));
        }
        let entry = Entry {
            version: VERSION,
            alias: alias.to_owned(),
            address: address.to_string(),
            public_key: public_key.map(PublicKey::to_string),
            secret: Sealed::WatchOnly,
        };
        self.write_atomically(&path, &entry)?;
        Ok(entry)
    }

    fn write_atomically(&self, path: &Path, entry: &Entry) -> Result<(), KeystoreError> {
        let io = |source| KeystoreError::Io {
            path: path.to_owned(),
            source,
        };
        fs::create_dir_all(&self.dir).map_err(io)?;
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(entry).map_err(|e| KeystoreError::Corrupt {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(io)?;
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        drop(file);
        fs::rename(&tmp, path).map_err(io)
    }

    /// The entry stored under `alias`.
    pub fn entry(&self, alias: &str) -> Result<Entry, KeystoreError> {
        let path = self.path(alias)?;
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeystoreError::NotFound(alias.to_owned()))
            }
            Err(source) => return Err(KeystoreError::Io { path, source }),
        };
        let corrupt = |reason: String| KeystoreError::Corrupt {
            path: path.clone(),
            reason,
        };
        let entry: Entry = serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
        if entry.version != VERSION {
            return Err(corrupt(format!(
                "it is keystore version {}, this wallet reads version {VERSION}",
                entry.version
            )));
        }
        let address: Address = entry.address.parse().map_err(|e| corrupt(format!("{e}")))?;
        let matches = match &entry.public_key {
            Some(pk) => {
                pk.parse::<PublicKey>()
                    .map_err(|e| corrupt(format!("{e}")))?
                    .address()
                    == address
            }
            None => entry.is_watch_only(),
        };
        if !matches || entry.alias != alias {
            return Err(corrupt(
                "the address, public key and name do not belong together".into(),
            ));
        }
        if let Sealed::Encrypted {
            m_cost,
            t_cost,
            p_cost,
            ..
        } = entry.secret
        {
            if m_cost > MAX_M_COST || t_cost > MAX_T_COST || p_cost > MAX_P_COST {
                return Err(corrupt(format!(
                    "it asks Argon2id for {m_cost} KiB, {t_cost} passes and {p_cost} lanes; \
                     at most {MAX_M_COST} KiB, {MAX_T_COST} passes and {MAX_P_COST} lanes are read"
                )));
            }
        }
        Ok(entry)
    }

    /// Every stored entry by alias, each read on its own: a damaged file is
    /// an error in its place, not the end of the list.
    pub fn list(&self) -> Result<Vec<Result<Entry, KeystoreError>>, KeystoreError> {
        let mut out: Vec<(String, Result<Entry, KeystoreError>)> = Vec::new();
        let dir = match fs::read_dir(&self.dir) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(KeystoreError::Io {
                    path: self.dir.clone(),
                    source,
                })
            }
        };
        for item in dir {
            let item = item.map_err(|source| KeystoreError::Io {
                path: self.dir.clone(),
                source,
            })?;
            let name = item.file_name().to_string_lossy().into_owned();
            if let Some(alias) = name.strip_suffix(".json") {
                out.push((alias.to_owned(), self.entry(alias)));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out.into_iter().map(|(_, entry)| entry).collect())
    }

    /// Opens the secret key of `alias`; `passphrase` is asked for only when
    /// the key is encrypted.
    pub fn open(
        &self,
        alias: &str,
        passphrase: impl FnOnce() -> Option<String>,
    ) -> Result<SecretKey, KeystoreError> {
        let entry = self.entry(alias)?;
        let path = self.path(alias)?;
        let corrupt = |reason: &str| KeystoreError::Corrupt {
            path: path.clone(),
            reason: reason.to_owned(),
        };
        let key = match &entry.secret {
            Sealed::WatchOnly => return Err(KeystoreError::WatchOnly(alias.to_owned())),
            Sealed::Unencrypted { secret_key } => secret_key
                .parse::<SecretKey>()
                .map_err(|e| corrupt(&e.to_string()))?,
            Sealed::Encrypted {
                m_cost,
                t_cost,
                p_cost,
                salt,
                nonce,
                ciphertext,
            } => {
                let pass = Zeroizing::new(
                    passphrase().ok_or_else(|| KeystoreError::NoPassphrase(alias.to_owned()))?,
                );
                let salt = hex::decode(salt).map_err(|_| corrupt("salt is not hex"))?;
                let nonce = hex::decode(nonce).map_err(|_| corrupt("nonce is not hex"))?;
                let ciphertext =
                    hex::decode(ciphertext).map_err(|_| corrupt("ciphertext is not hex"))?;
                if nonce.len() != 12 {
                    return Err(corrupt("nonce is not 12 bytes"));
                }
                let k = derive(&pass, &salt, *m_cost, *t_cost, *p_cost).map_err(|e| corrupt(&e))?;
                let cipher = ChaCha20Poly1305::new(Key::from_slice(k.as_ref()));
                let plain = Zeroizing::new(
                    cipher
                        .decrypt(Nonce::from_slice(&nonce), ciphertext.as_slice())
                        .map_err(|_| KeystoreError::WrongPassphrase(alias.to_owned()))?,
                );
                let (tag, secret) = plain.split_first().ok_or_else(|| corrupt("empty secret"))?;
                let curve = match tag {
                    0 => Curve::Ed25519,
                    1 => Curve::Secp256k1,
                    2 => Curve::P256,
                    _ => return Err(corrupt("unknown curve")),
                };
                let bytes: [u8; 32] = secret
                    .try_into()
                    .map_err(|_| corrupt("secret is not 32 bytes"))?;
                let bytes = Zeroizing::new(bytes);
                SecretKey::from_bytes(curve, *bytes).map_err(|e| corrupt(&e.to_string()))?
            }
        };
        if Some(key.public_key().to_string()) != entry.public_key {
            return Err(corrupt("the secret does not match the stored public key"));
        }
        Ok(key)
    }

    /// Deletes the key stored under `alias`.
    pub fn remove(&self, alias: &str) -> Result<(), KeystoreError> {
        let path = self.path(alias)?;
        self.entry(alias)?;
        fs::remove_file(&path).map_err(|source| KeystoreError::Io { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOOTSTRAP1: &str = "edsk3gUfUPyBSfrS9CCgmCiQsTCHGkviBDusMxDJstFtojtc1zcpsh";

    fn store() -> (tempfile::TempDir, Keystore) {
        let dir = tempfile::tempdir().expect("temp dir");
        let ks = Keystore::new(dir.path());
        (dir, ks)
    }

    #[test]
    fn importing_bootstrap1_gives_its_address() {
        let (_d, ks) = store();
        let key: SecretKey = format!("unencrypted:{BOOTSTRAP1}").parse().expect("valid");
        let entry = ks.add("alice", &key, None).expect("stored");
        assert_eq!(entry.address, "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx");
        assert_eq!(
            ks.open("alice", || None).expect("opens").to_string(),
            BOOTSTRAP1
        );
    }

    #[test]
    fn encrypted_keys_round_trip_and_stay_private() {
        let (_d, ks) = store();
        for (i, curve) in [Curve::Ed25519, Curve::Secp256k1, Curve::P256]
            .into_iter()
            .enumerate()
        {
            let key = SecretKey::from_bytes(curve, [i as u8 + 9; 32]).expect("valid");
            let alias = format!("k{i}");
            ks.add(&alias, &key, Some("correct horse")).expect("stored");
            let opened = ks
                .open(&alias, || Some("correct horse".into()))
                .expect("opens");
            assert_eq!(opened, key);
            let text = std::fs::read_to_string(ks.path(&alias).expect("path")).expect("read");
            assert!(!text.contains(&key.to_string()));
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(ks.path(&alias).expect("path"))
                    .expect("meta")
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600);
            }
        }
        assert_eq!(ks.list().expect("list").len(), 3);
    }

    #[test]
    fn a_wrong_passphrase_is_one_clear_error_and_changes_nothing() {
        let (_d, ks) = store();
        let key: SecretKey = BOOTSTRAP1.parse().expect("valid");
        ks.add("alice", &key, Some("right")).expect("stored");
        let path = ks.path("alice").expect("path");
        let before = std::fs::read(&path).expect("read");
        let err = ks
            .open("alice", || Some("wrong".into()))
            .expect_err("refused");
        assert!(matches!(err, KeystoreError::WrongPassphrase(_)));
        assert_eq!(err.to_string(), "wrong passphrase for key `alice`");
        assert_eq!(std::fs::read(&path).expect("read"), before);
        assert!(ks.open("alice", || Some("right".into())).is_ok());
    }

    #[test]
    fn a_corrupted_file_is_reported_not_misread() {
        let (_d, ks) = store();
        let key: SecretKey = BOOTSTRAP1.parse().expect("valid");
        ks.add("alice", &key, Some("pw")).expect("stored");
        let path = ks.path("alice").expect("path");
        let mut entry: Entry =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        if let Sealed::Encrypted { ciphertext, .. } = &mut entry.secret {
            let mut bytes = hex::decode(&*ciphertext).expect("hex");
            bytes[3] ^= 1;
            *ciphertext = hex::encode(bytes);
        }
        std::fs::write(&path, serde_json::to_string(&entry).expect("json")).expect("write");
        assert!(ks.open("alice", || Some("pw".into())).is_err());

        std::fs::write(&path, "{ not json").expect("write");
        assert!(matches!(
            ks.entry("alice"),
            Err(KeystoreError::Corrupt { .. })
        ));

        entry.address = "tz1gjaF81ZRRvdzjobyfVNsAeSC6PScjfQwN".into();
        std::fs::write(&path, serde_json::to_string(&entry).expect("json")).expect("write");
        assert!(matches!(
            ks.entry("alice"),
            Err(KeystoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn names_are_checked_and_never_overwritten() {
        let (_d, ks) = store();
        let key: SecretKey = BOOTSTRAP1.parse().expect("valid");
        assert!(matches!(
            ks.add("../evil", &key, None),
            Err(KeystoreError::BadAlias(_))
        ));
        ks.add("alice", &key, None).expect("stored");
        assert!(matches!(
            ks.add("alice", &key, None),
            Err(KeystoreError::Exists(_))
        ));
        assert!(matches!(
            ks.open("bob", || None),
            Err(KeystoreError::NotFound(_))
        ));
        ks.remove("alice").expect("removed");
        assert!(ks.list().expect("list").is_empty());
    }
}
