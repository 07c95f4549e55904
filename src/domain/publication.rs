//! Signed publication records and the transparency log (issue 25): what a record holds, its
//! canonical bytes (RFC 8785, JCS), its hash, its Ed25519 signature, the key set that verifies
//! it, and the check of a whole log (each entry's hash, signature, place in the chain and in its
//! episode's chain). Pure: no database, no network, no files — `service::transparency` makes
//! and stores records, `http::transparency` serves them, `siaran verify-log` checks them.

use std::collections::HashMap;

use base64::{Engine as _, engine::general_purpose::STANDARD as B64};
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// The record format's version (`v`).
pub const FORMAT: u32 = 1;
/// What a record says it is (`type`): a head is signed as another type, so one can never be
/// passed off as the other.
pub const RECORD_TYPE: &str = "siaran-publication";
pub const HEAD_TYPE: &str = "siaran-log-head";

/// What happened to the episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Published,
    Changed,
    Withdrawn,
    Restored,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Published => "published",
            Event::Changed => "changed",
            Event::Withdrawn => "withdrawn",
            Event::Restored => "restored",
        }
    }
}

/// One file of a publication, as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// `media`, `rendition`, `transcript`, `chapters` or `document`.
    pub role: String,
    pub url: String,
    pub media_type: String,
    /// Lower-case hex.
    pub sha256: String,
    pub size: u64,
    /// A transcript's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// A publication record: the JSON that is canonicalised, hashed and signed. Strings, integers
/// and booleans only, so its canonical form (JCS) has no number formatting to disagree on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Record {
    #[serde(rename = "type")]
    pub kind: String,
    pub v: u32,
    /// The entry's place in the log, from 1.
    pub seq: u64,
    /// The hash of log entry `seq - 1`; empty for the first.
    pub prev: String,
    pub episode_id: String,
    /// The hash of this episode's previous record; empty for its first.
    pub episode_prev: String,
    pub event: String,
    /// `published` or `withdrawn`.
    pub state: String,
    /// The episode page.
    pub url: String,
    pub guid: String,
    pub title: String,
    /// RFC 3339, UTC, milliseconds.
    pub at: String,
    pub files: Vec<FileEntry>,
    /// The id of the key that signs it (`KeySet`).
    pub key: String,
}

/// A record as the log serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: u64,
    /// Hex SHA-256 of the record's canonical bytes.
    pub hash: String,
    pub record: Record,
    /// Base64 Ed25519 signature of the record's canonical bytes.
    pub signature: String,
}

/// The log's head as `/transparency/head` signs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    #[serde(rename = "type")]
    pub kind: String,
    /// Entries in the log (the last one's `seq`); 0 when empty.
    pub size: u64,
    /// The last entry's hash; empty when the log is.
    pub hash: String,
    /// When this head was signed.
    pub at: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedHead {
    pub head: Head,
    pub signature: String,
}

/// The log's last entry as the database holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogHead {
    pub seq: u64,
    pub hash: String,
    /// The last record's time: the next one is never earlier (`service::transparency`).
    pub at: DateTime<Utc>,
}

/// RFC 3339 as records write times.
pub fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The canonical bytes (RFC 8785) of any serialisable value.
pub fn canonical<T: Serialize>(value: &T) -> Vec<u8> {
    serde_jcs::to_vec(value).expect("records hold only strings, integers and arrays")
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Record {
    pub fn canonical(&self) -> Vec<u8> {
        canonical(self)
    }

    pub fn hash(&self) -> String {
        sha256_hex(&self.canonical())
    }

    /// The record's content apart from where and when it was logged: two records equal by
    /// this say the same of the episode.
    pub fn same_content(&self, other: &Record) -> bool {
        self.episode_id == other.episode_id
            && self.state == other.state
            && self.url == other.url
            && self.guid == other.guid
            && self.title == other.title
            && self.files == other.files
    }
}

/// A key's id: the first 16 hex digits of the SHA-256 of its 32 public bytes.
pub fn key_id(key: &VerifyingKey) -> String {
    sha256_hex(key.as_bytes())[..16].to_owned()
}

/// The key this instance signs with.
#[derive(Clone)]
pub struct SigningIdentity {
    key: SigningKey,
    id: String,
}

impl std::fmt::Debug for SigningIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningIdentity")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SigningIdentity {
    pub fn new(key: SigningKey) -> Self {
        let id = key_id(&key.verifying_key());
        SigningIdentity { key, id }
    }

    /// From a PKCS#8 file's contents, PEM or DER.
    pub fn from_pkcs8(bytes: &[u8]) -> Result<Self, String> {
        use ed25519_dalek::pkcs8::DecodePrivateKey as _;
        let key = match std::str::from_utf8(bytes) {
            Ok(pem) if pem.contains("-----BEGIN") => SigningKey::from_pkcs8_pem(pem.trim()),
            _ => SigningKey::from_pkcs8_der(bytes),
        }
        .map_err(|e| format!("not an Ed25519 PKCS#8 key: {e}"))?;
        Ok(SigningIdentity::new(key))
    }

    /// A new key from 32 random bytes.
    pub fn generate() -> Self {
        let secret: [u8; 32] = rand::random();
        SigningIdentity::new(SigningKey::from_bytes(&secret))
    }

    /// PKCS#8 PEM, as `siaran keys generate` writes it.
    pub fn to_pkcs8_pem(&self) -> String {
        use ed25519_dalek::pkcs8::{EncodePrivateKey as _, spki::der::pem::LineEnding};
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .expect("an Ed25519 key encodes")
            .to_string()
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn public(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// Base64 signature of `bytes`.
    pub fn sign(&self, bytes: &[u8]) -> String {
        B64.encode(self.key.sign(bytes).to_bytes())
    }

    /// Hashes and signs `record` (whose `key` must be this key's id) into a log entry.
    pub fn entry(&self, record: Record) -> Entry {
        debug_assert_eq!(record.key, self.id);
        let bytes = record.canonical();
        Entry {
            seq: record.seq,
            hash: sha256_hex(&bytes),
            signature: self.sign(&bytes),
            record,
        }
    }

    pub fn sign_head(&self, size: u64, hash: String, at: DateTime<Utc>) -> SignedHead {
        let head = Head {
            kind: HEAD_TYPE.into(),
            size,
            hash,
            at: time(at),
            key: self.id.clone(),
        };
        let signature = self.sign(&canonical(&head));
        SignedHead { head, signature }
    }
}

/// One public key of `/.well-known/siaran-keys.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKey {
    /// Recomputed from `public_key` when read; given for people and other tools.
    #[serde(default)]
    pub id: String,
    #[serde(default = "ed25519")]
    pub alg: String,
    /// Base64 of the 32 public bytes.
    pub public_key: String,
    /// From when it signs (RFC 3339); `None`: since the beginning.
    #[serde(default)]
    pub valid_from: Option<String>,
    /// Until when it signed; `None`: it still signs.
    #[serde(default)]
    pub valid_until: Option<String>,
}

fn ed25519() -> String {
    "Ed25519".into()
}

impl PublicKey {
    pub fn of(key: &VerifyingKey) -> Self {
        PublicKey {
            id: key_id(key),
            alg: ed25519(),
            public_key: B64.encode(key.as_bytes()),
            valid_from: None,
            valid_until: None,
        }
    }

    fn decode(&self) -> Result<VerifyingKey, String> {
        let bytes: [u8; 32] = B64
            .decode(self.public_key.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| format!("key {}: public_key is not 32 bytes of base64", self.id))?;
        VerifyingKey::from_bytes(&bytes).map_err(|e| format!("key {}: {e}", self.id))
    }
}

/// The public keys records are checked with: the current one and the retired ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct KeySet {
    pub keys: Vec<PublicKey>,
}

/// What checking a log or a record found wrong: the first broken entry and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry {seq}: {why}")]
pub struct Broken {
    pub seq: u64,
    pub why: String,
}

fn broken(seq: u64, why: impl Into<String>) -> Broken {
    Broken {
        seq,
        why: why.into(),
    }
}

impl KeySet {
    /// Parses the JSON of a key set, each key's id recomputed from its bytes.
    pub fn parse(json: &[u8]) -> Result<KeySet, String> {
        let mut set: KeySet =
            serde_json::from_slice(json).map_err(|e| format!("not a key set: {e}"))?;
        for key in &mut set.keys {
            key.id = key_id(&key.decode()?);
        }
        Ok(set)
    }

    /// Checks the signature of `bytes` by key `id` made at `at`: the key must be in the set and
    /// valid then.
    pub fn verify(&self, id: &str, at: &str, bytes: &[u8], signature: &str) -> Result<(), String> {
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| format!("signed by key {id}, which the key set does not list"))?;
        let at = DateTime::parse_from_rfc3339(at).map_err(|_| format!("bad time '{at}'"))?;
        let parse = |t: &Option<String>| -> Result<Option<DateTime<Utc>>, String> {
            t.as_deref()
                .map(|t| {
                    DateTime::parse_from_rfc3339(t)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|_| format!("key {id}: bad validity time '{t}'"))
                })
                .transpose()
        };
        if parse(&key.valid_from)?.is_some_and(|from| at < from) {
            return Err(format!("signed before key {id} was valid"));
        }
        if parse(&key.valid_until)?.is_some_and(|until| at > until) {
            return Err(format!("signed after key {id} was retired"));
        }
        let signature: [u8; 64] = B64
            .decode(signature)
            .ok()
            .and_then(|s| s.try_into().ok())
            .ok_or("the signature is not 64 bytes of base64")?;
        key.decode()?
            .verify_strict(bytes, &Signature::from_bytes(&signature))
            .map_err(|_| format!("the signature does not verify with key {id}"))
    }

    /// Checks one entry alone: its hash and its signature.
    pub fn verify_entry(&self, entry: &Entry) -> Result<(), Broken> {
        let bytes = entry.record.canonical();
        if entry.record.kind != RECORD_TYPE || entry.record.v != FORMAT {
            return Err(broken(entry.seq, "not a version 1 publication record"));
        }
        if entry.record.seq != entry.seq {
            return Err(broken(
                entry.seq,
                "the record names another place in the log",
            ));
        }
        if sha256_hex(&bytes) != entry.hash {
            return Err(broken(
                entry.seq,
                "its hash does not match the record (the record was changed)",
            ));
        }
        self.verify(
            &entry.record.key,
            &entry.record.at,
            &bytes,
            &entry.signature,
        )
        .map_err(|why| broken(entry.seq, why))
    }

    pub fn verify_head(&self, head: &SignedHead) -> Result<(), String> {
        if head.head.kind != HEAD_TYPE {
            return Err("not a log head".into());
        }
        self.verify(
            &head.head.key,
            &head.head.at,
            &canonical(&head.head),
            &head.signature,
        )
    }
}

/// Checks a log as a verifier reads it, entry after entry from the first.
#[derive(Debug, Clone, Default)]
pub struct ChainCheck {
    /// Entries checked.
    pub size: u64,
    /// The last entry's hash.
    pub hash: String,
    episodes: HashMap<String, String>,
    /// The last entry's time: records are written in time order (a record dated before the
    /// one it follows was backdated).
    at: String,
}

impl ChainCheck {
    /// The next entry: contiguous, naming the previous entry's hash and its episode's previous
    /// record, hashed and signed right.
    pub fn push(&mut self, keys: &KeySet, entry: &Entry) -> Result<(), Broken> {
        let expected = self.size + 1;
        if entry.seq != expected {
            return Err(broken(
                expected,
                format!("missing: the log goes on with entry {}", entry.seq),
            ));
        }
        keys.verify_entry(entry)?;
        if entry.record.prev != self.hash {
            return Err(broken(
                entry.seq,
                "it does not name the hash of the entry before it (the chain is broken)",
            ));
        }
        // Times are written alike (`time`: UTC, milliseconds), so their text orders as they do.
        if entry.record.at < self.at {
            return Err(broken(
                entry.seq,
                format!(
                    "its time {} is before the entry before it ({}): it was backdated",
                    entry.record.at, self.at
                ),
            ));
        }
        let episode_prev = self
            .episodes
            .get(&entry.record.episode_id)
            .map_or("", String::as_str);
        if entry.record.episode_prev != episode_prev {
            return Err(broken(
                entry.seq,
                "it does not name the hash of its episode's previous record",
            ));
        }
        self.episodes
            .insert(entry.record.episode_id.clone(), entry.hash.clone());
        self.size = entry.seq;
        self.hash.clone_from(&entry.hash);
        self.at.clone_from(&entry.record.at);
        Ok(())
    }

    /// The signed head must be the log as checked (or an earlier point of it is not enough:
    /// a head the entries do not reach means entries were held back).
    pub fn matches(&self, head: &Head) -> Result<(), Broken> {
        if head.size != self.size || head.hash != self.hash {
            return Err(broken(
                head.size.max(self.size),
                format!(
                    "the signed head (size {}, hash {}) is not the log served (size {}, hash {})",
                    head.size, head.hash, self.size, self.hash
                ),
            ));
        }
        Ok(())
    }
}

/// Where a file's bytes are found among records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<'a> {
    pub entry: &'a Entry,
    pub file: &'a FileEntry,
}

/// The records naming a file of that hash and size, oldest first.
pub fn find_file<'a>(entries: &'a [Entry], sha256: &str, size: u64) -> Vec<Found<'a>> {
    entries
        .iter()
        .flat_map(|entry| {
            entry
                .record
                .files
                .iter()
                .filter(move |f| f.sha256 == sha256 && f.size == size)
                .map(move |file| Found { entry, file })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u64, prev: &str, episode_prev: &str, key: &SigningIdentity) -> Record {
        Record {
            kind: RECORD_TYPE.into(),
            v: FORMAT,
            seq,
            prev: prev.into(),
            episode_id: "e1".into(),
            episode_prev: episode_prev.into(),
            event: Event::Published.as_str().into(),
            state: "published".into(),
            url: "https://x/shows/a/b".into(),
            guid: "g".into(),
            title: "Jumpa pers \u{2014} \"kutipan\"".into(),
            at: "2026-12-05T04:00:00.000Z".into(),
            files: vec![FileEntry {
                role: "media".into(),
                url: "https://x/media/1.mp3".into(),
                media_type: "audio/mpeg".into(),
                sha256: "ab".repeat(32),
                size: 1234,
                language: None,
            }],
            key: key.id().into(),
        }
    }

    fn keyset(keys: &[&SigningIdentity]) -> KeySet {
        KeySet {
            keys: keys.iter().map(|k| PublicKey::of(&k.public())).collect(),
        }
    }

    #[test]
    fn canonical_bytes_sort_keys_and_escape_as_rfc_8785() {
        let key = SigningIdentity::generate();
        let text = String::from_utf8(record(1, "", "", &key).canonical()).unwrap();
        assert!(text.starts_with(r#"{"at":"2026-12-05T04:00:00.000Z","episode_id":"e1""#));
        assert!(
            text.contains(r#""title":"Jumpa pers — \"kutipan\"""#),
            "{text}"
        );
    }

    #[test]
    fn a_chain_verifies_and_an_edited_record_is_named() {
        let key = SigningIdentity::generate();
        let keys = keyset(&[&key]);
        let first = key.entry(record(1, "", "", &key));
        let second = key.entry(record(2, &first.hash, &first.hash, &key));
        let mut check = ChainCheck::default();
        check.push(&keys, &first).unwrap();
        check.push(&keys, &second).unwrap();
        assert_eq!(check.size, 2);

        let mut edited = second.clone();
        edited.record.title = "Dipalsukan".into();
        let mut check = ChainCheck::default();
        check.push(&keys, &first).unwrap();
        let err = check.push(&keys, &edited).unwrap_err();
        assert_eq!(err.seq, 2);
        assert!(err.why.contains("hash"), "{err}");

        // Re-hashed by the forger: the signature still gives it away.
        edited.hash = edited.record.hash();
        let err = keys.verify_entry(&edited).unwrap_err();
        assert!(err.why.contains("signature"), "{err}");
    }

    #[test]
    fn a_fork_or_a_gap_is_named() {
        let key = SigningIdentity::generate();
        let keys = keyset(&[&key]);
        let first = key.entry(record(1, "", "", &key));
        let forked = key.entry(record(2, "00", &first.hash, &key));
        let mut check = ChainCheck::default();
        check.push(&keys, &first).unwrap();
        assert_eq!(check.push(&keys, &forked).unwrap_err().seq, 2);
        let third = key.entry(record(3, &first.hash, &first.hash, &key));
        let err = check.push(&keys, &third).unwrap_err();
        assert_eq!(err.seq, 2, "{err}");
    }

    #[test]
    fn a_backdated_record_is_named_even_when_signed() {
        let key = SigningIdentity::generate();
        let keys = keyset(&[&key]);
        let first = key.entry(record(1, "", "", &key));
        let mut same_time = record(2, &first.hash, &first.hash, &key);
        same_time.at = first.record.at.clone();
        let mut earlier = record(2, &first.hash, &first.hash, &key);
        earlier.at = "2026-12-05T03:59:59.999Z".into();
        let mut check = ChainCheck::default();
        check.push(&keys, &first).unwrap();
        check.clone().push(&keys, &key.entry(same_time)).unwrap();
        let err = check.push(&keys, &key.entry(earlier)).unwrap_err();
        assert_eq!(err.seq, 2);
        assert!(err.why.contains("backdated"), "{err}");
    }

    #[test]
    fn a_retired_key_verifies_what_it_signed_while_valid_only() {
        let old = SigningIdentity::generate();
        let new = SigningIdentity::generate();
        let mut keys = keyset(&[&new, &old]);
        keys.keys[1].valid_until = Some("2026-12-05T04:30:00.000Z".into());
        let entry = old.entry(record(1, "", "", &old));
        keys.verify_entry(&entry).unwrap();
        let mut late = record(1, "", "", &old);
        late.at = "2026-12-05T05:00:00.000Z".into();
        let err = keys.verify_entry(&old.entry(late)).unwrap_err();
        assert!(err.why.contains("retired"), "{err}");
        assert!(keyset(&[&new]).verify_entry(&entry).is_err());
    }

    #[test]
    fn pkcs8_round_trips_and_heads_verify() {
        let key = SigningIdentity::generate();
        let again = SigningIdentity::from_pkcs8(key.to_pkcs8_pem().as_bytes()).unwrap();
        assert_eq!(again.id(), key.id());
        let head = key.sign_head(3, "ff".into(), Utc::now());
        keyset(&[&again]).verify_head(&head).unwrap();
        let parsed = KeySet::parse(&serde_json::to_vec(&keyset(&[&key])).unwrap()).unwrap();
        assert_eq!(parsed.keys[0].id, key.id());
    }
}
