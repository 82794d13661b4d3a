//! The encrypted store: `secrets.json` (bindings in clear, values sealed) and
//! `secrets.key` (32 random bytes, 0600) in the data directory.
//!
//! The key is kept in a 0600 file beside the store. The OS keyring (`keyring` crate) is
//! not used on Linux: the one keyring that survives a reboot there is the Secret Service
//! over D-Bus, which headless machines and CI runners lack, and the kernel keyring
//! forgets the key at reboot, which would lose every secret.

use std::fmt;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{Binding, Placeholders, SecretError, SecretName};

const STORE_FILE: &str = "secrets.json";
const KEY_FILE: &str = "secrets.key";
const VERSION: u32 = 1;
/// Longest secret value accepted (a PEM private key fits comfortably).
pub const MAX_VALUE: usize = 64 * 1024;

/// A secret's value: wiped from memory when dropped, never printed.
#[derive(Clone)]
pub struct SecretValue(Zeroizing<String>);

impl SecretValue {
    /// Wraps a value read from the user: one trailing newline is dropped (what `echo`
    /// and a terminal add); empty values, values with other line breaks or NUL, and
    /// values over 64 KiB are refused.
    pub fn from_input(mut s: String) -> Result<Self, SecretError> {
        if s.ends_with('\n') {
            s.pop();
            if s.ends_with('\r') {
                s.pop();
            }
        }
        let s = Zeroizing::new(s);
        if s.is_empty() {
            return Err(SecretError::Invalid("the secret value is empty".into()));
        }
        if s.len() > MAX_VALUE {
            return Err(SecretError::Invalid(format!(
                "the secret value is longer than {MAX_VALUE} bytes"
            )));
        }
        if s.contains(['\n', '\r', '\0']) {
            return Err(SecretError::Invalid(
                "the secret value contains a line break or NUL; it must fit in one HTTP header"
                    .into(),
            ));
        }
        Ok(Self(s))
    }

    /// Wraps a private key (PEM) a credential is minted with: several lines allowed.
    pub fn from_key_input(s: String) -> Result<Self, SecretError> {
        let s = Zeroizing::new(s);
        let trimmed = s.trim();
        if !trimmed.starts_with("-----BEGIN ") || !trimmed.contains("PRIVATE KEY-----") {
            return Err(SecretError::Invalid(
                "a minting key must be a PEM private key (-----BEGIN ... PRIVATE KEY-----)".into(),
            ));
        }
        if s.len() > MAX_VALUE || s.contains('\0') {
            return Err(SecretError::Invalid(
                "the key is too long or contains NUL".into(),
            ));
        }
        Ok(Self(Zeroizing::new(trimmed.to_owned())))
    }

    /// Wraps a credential a minter produced (checked like user input).
    pub fn minted(s: String) -> Result<Self, SecretError> {
        Self::from_input(s)
    }

    /// The value.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreFile {
    version: u32,
    secrets: Vec<Sealed>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sealed {
    name: SecretName,
    binding: Binding,
    nonce: String,
    ciphertext: String,
}

type Loaded = (Option<(SystemTime, u64)>, std::sync::Arc<Vec<Sealed>>);

/// The secret store of one data directory.
pub struct SecretStore {
    dir: PathBuf,
    cipher: ChaCha20Poly1305,
    placeholders: Placeholders,
    loaded: Mutex<Loaded>,
}

impl fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretStore")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl SecretStore {
    /// Opens the store in `dir`, creating its key on first use. Refuses a key file other
    /// users can read.
    pub fn open(dir: &Path) -> Result<Self, SecretError> {
        let key = load_or_create_key(&dir.join(KEY_FILE))?;
        let placeholder_key = {
            #[expect(
                clippy::expect_used,
                reason = "HMAC accepts keys of any length; 32 bytes cannot fail"
            )]
            let mut mac =
                <Hmac<Sha256> as Mac>::new_from_slice(key.as_ref()).expect("any key length");
            mac.update(b"mandate placeholder key v1");
            let mut out = [0u8; 32];
            out.copy_from_slice(&mac.finalize().into_bytes());
            out
        };
        Ok(Self {
            dir: dir.to_owned(),
            cipher: ChaCha20Poly1305::new(&Key::from(*key)),
            placeholders: Placeholders::new(placeholder_key),
            loaded: Mutex::new((None, std::sync::Arc::new(Vec::new()))),
        })
    }

    /// The placeholders of this install.
    pub fn placeholders(&self) -> &Placeholders {
        &self.placeholders
    }

    /// Stores (or replaces) a secret.
    pub fn set(
        &self,
        name: &SecretName,
        binding: Binding,
        value: &SecretValue,
    ) -> Result<(), SecretError> {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = associated_data(name, &binding);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: value.expose().as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| SecretError::Invalid("encryption failed".into()))?;
        let mut all: Vec<Sealed> = self.sealed()?.as_ref().clone();
        all.retain(|s| &s.name != name);
        all.push(Sealed {
            name: name.clone(),
            binding,
            nonce: B64.encode(nonce),
            ciphertext: B64.encode(ciphertext),
        });
        all.sort_by(|a, b| a.name.cmp(&b.name));
        self.write(all)
    }

    /// Removes a secret; false if there was none of that name.
    pub fn remove(&self, name: &SecretName) -> Result<bool, SecretError> {
        let mut all: Vec<Sealed> = self.sealed()?.as_ref().clone();
        let before = all.len();
        all.retain(|s| &s.name != name);
        if all.len() == before {
            return Ok(false);
        }
        self.write(all)?;
        Ok(true)
    }

    /// The stored secrets' names and bindings, never their values.
    pub fn list(&self) -> Result<Vec<(SecretName, Binding)>, SecretError> {
        Ok(self
            .sealed()?
            .iter()
            .map(|s| (s.name.clone(), s.binding.clone()))
            .collect())
    }

    /// The binding of `name`, if stored.
    pub fn binding(&self, name: &SecretName) -> Result<Option<Binding>, SecretError> {
        Ok(self
            .sealed()?
            .iter()
            .find(|s| &s.name == name)
            .map(|s| s.binding.clone()))
    }

    /// Decrypts the value of `name`.
    pub fn reveal(&self, name: &SecretName) -> Result<(Binding, SecretValue), SecretError> {
        let all = self.sealed()?;
        let sealed = all
            .iter()
            .find(|s| &s.name == name)
            .ok_or_else(|| SecretError::NotFound(name.to_string()))?;
        let tampered = || SecretError::Tampered(name.to_string());
        let nonce = B64.decode(&sealed.nonce).map_err(|_| tampered())?;
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| tampered())?;
        let ciphertext = B64.decode(&sealed.ciphertext).map_err(|_| tampered())?;
        let aad = associated_data(name, &sealed.binding);
        let plain = Zeroizing::new(
            self.cipher
                .decrypt(
                    &Nonce::from(nonce),
                    Payload {
                        msg: &ciphertext,
                        aad: &aad,
                    },
                )
                .map_err(|_| tampered())?,
        );
        let text = String::from_utf8(plain.to_vec()).map_err(|_| tampered())?;
        Ok((sealed.binding.clone(), SecretValue(Zeroizing::new(text))))
    }

    fn path(&self) -> PathBuf {
        self.dir.join(STORE_FILE)
    }

    /// The sealed entries, re-read when the file changed (another `mandate secret set`
    /// while the broker runs).
    fn sealed(&self) -> Result<std::sync::Arc<Vec<Sealed>>, SecretError> {
        let path = self.path();
        let stamp = match fs::metadata(&path) {
            Ok(m) => Some((
                m.modified().map_err(|e| SecretError::io(&path, e))?,
                m.len(),
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(SecretError::io(&path, e)),
        };
        let mut loaded = self
            .loaded
            .lock()
            .map_err(|_| SecretError::Invalid("the secret store's lock was poisoned".into()))?;
        if loaded.0 == stamp && stamp.is_some() {
            return Ok(loaded.1.clone());
        }
        let entries = match stamp {
            None => Vec::new(),
            Some(_) => {
                let text = fs::read(&path).map_err(|e| SecretError::io(&path, e))?;
                let file: StoreFile =
                    serde_json::from_slice(&text).map_err(|e| SecretError::Corrupt {
                        path: path.clone(),
                        why: e.to_string(),
                    })?;
                if file.version != VERSION {
                    return Err(SecretError::Corrupt {
                        path,
                        why: format!("version {} (this version reads {VERSION})", file.version),
                    });
                }
                file.secrets
            }
        };
        *loaded = (stamp, std::sync::Arc::new(entries));
        Ok(loaded.1.clone())
    }

    /// Replaces the store file atomically (a private temporary file, synced, renamed).
    fn write(&self, secrets: Vec<Sealed>) -> Result<(), SecretError> {
        let path = self.path();
        let body = serde_json::to_vec_pretty(&StoreFile {
            version: VERSION,
            secrets,
        })
        .map_err(|e| SecretError::Invalid(e.to_string()))?;
        write_private(&path, &body)?;
        if let Ok(mut l) = self.loaded.lock() {
            l.0 = None;
        }
        Ok(())
    }
}

/// What binds a sealed value to its name and binding.
fn associated_data(name: &SecretName, binding: &Binding) -> Vec<u8> {
    let mut aad = b"mandate secret v1\0".to_vec();
    aad.extend_from_slice(name.as_str().as_bytes());
    aad.push(0);
    aad.extend_from_slice(
        serde_json::to_string(binding)
            .unwrap_or_default()
            .as_bytes(),
    );
    aad
}

fn load_or_create_key(path: &Path) -> Result<Zeroizing<[u8; 32]>, SecretError> {
    match fs::metadata(path) {
        Ok(m) => {
            if m.permissions().mode() & 0o077 != 0 {
                return Err(SecretError::KeyExposed(path.to_owned()));
            }
            let text =
                Zeroizing::new(fs::read_to_string(path).map_err(|e| SecretError::io(path, e))?);
            let bytes =
                Zeroizing::new(B64.decode(text.trim()).map_err(|_| SecretError::Corrupt {
                    path: path.to_owned(),
                    why: "not base64url".into(),
                })?);
            let mut key = Zeroizing::new([0u8; 32]);
            if bytes.len() != 32 {
                return Err(SecretError::Corrupt {
                    path: path.to_owned(),
                    why: format!("{} bytes, expected 32", bytes.len()),
                });
            }
            key.copy_from_slice(&bytes);
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = Zeroizing::new([0u8; 32]);
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, key.as_mut());
            let text = Zeroizing::new(B64.encode(key.as_ref()));
            create_private(path, text.as_bytes())?;
            Ok(key)
        }
        Err(e) => Err(SecretError::io(path, e)),
    }
}

/// Creates `path` with mode 0600; fails if it exists (two processes racing to create
/// the key must not both win).
fn create_private(path: &Path, body: &[u8]) -> Result<(), SecretError> {
    let io = |e| SecretError::io(path, e);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    f.write_all(body).map_err(io)?;
    f.sync_all().map_err(io)
}

fn write_private(path: &Path, body: &[u8]) -> Result<(), SecretError> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    create_private(&tmp, body)?;
    fs::rename(&tmp, path).map_err(|e| SecretError::io(path, e))?;
    if let Some(dir) = path.parent()
        && let Ok(d) = fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o600));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Destination;

    fn binding() -> Binding {
        Binding::new(
            vec![Destination::parse("api.example.com").unwrap()],
            None,
            None,
            Some("Bearer {}"),
            None,
        )
        .unwrap()
    }

    fn value(s: &str) -> SecretValue {
        SecretValue::from_input(s.to_owned()).unwrap()
    }

    #[test]
    fn values_are_encrypted_at_rest_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = SecretStore::open(dir.path()).unwrap();
        let name = SecretName::parse("API_TOKEN").unwrap();
        store
            .set(&name, binding(), &value("canary-4f1d9e\n"))
            .unwrap();
        let on_disk = fs::read_to_string(dir.path().join(STORE_FILE)).unwrap();
        assert!(!on_disk.contains("canary-4f1d9e"));
        assert!(on_disk.contains("api.example.com"));
        let mode = fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // A second opening (another process) reads it with the same key.
        let again = SecretStore::open(dir.path()).unwrap();
        let (b, v) = again.reveal(&name).unwrap();
        assert_eq!(v.expose(), "canary-4f1d9e");
        assert_eq!(b, binding());
        assert_eq!(again.list().unwrap().len(), 1);
        assert!(again.remove(&name).unwrap());
        assert!(!again.remove(&name).unwrap());
        assert!(matches!(again.reveal(&name), Err(SecretError::NotFound(_))));
    }

    #[test]
    fn a_value_moved_to_another_binding_does_not_decrypt() {
        let dir = tempfile::tempdir().unwrap();
        let store = SecretStore::open(dir.path()).unwrap();
        let name = SecretName::parse("API_TOKEN").unwrap();
        store.set(&name, binding(), &value("v")).unwrap();
        let path = dir.path().join(STORE_FILE);
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, text.replace("api.example.com", "evil.example.net")).unwrap();
        let store = SecretStore::open(dir.path()).unwrap();
        assert!(matches!(store.reveal(&name), Err(SecretError::Tampered(_))));
    }

    #[test]
    fn an_exposed_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        SecretStore::open(dir.path()).unwrap();
        let key = dir.path().join(KEY_FILE);
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            SecretStore::open(dir.path()),
            Err(SecretError::KeyExposed(_))
        ));
    }

    #[test]
    fn values_that_cannot_travel_in_a_header_are_refused() {
        assert!(SecretValue::from_input(String::new()).is_err());
        assert!(SecretValue::from_input("a\nb".into()).is_err());
        assert!(SecretValue::from_input("a\0".into()).is_err());
        assert_eq!(
            SecretValue::from_input("tok\r\n".into()).unwrap().expose(),
            "tok"
        );
        assert_eq!(format!("{:?}", value("x")), "SecretValue(<redacted>)");
    }
}
