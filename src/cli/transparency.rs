//! `siaran keys generate|public|retire`, `siaran verify-log URL` and `siaran verify FILE`: the
//! signing key's care and a reader's checks of the transparency log (docs/transparency.md).
//! The checks use nothing of the server but its public answers, the same a journalist's own
//! tool would read.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use chrono::Utc;
use clap::{Args, Subcommand};

use crate::{
    domain::publication::{ChainCheck, Entry, KeySet, PublicKey, SignedHead, find_file, time},
    import::fetch::Fetcher,
    media,
    service::transparency::write_key,
};

/// The most one answer of the server may be.
const MAX_ANSWER_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Write a new Ed25519 signing key (PKCS#8 PEM) to FILE, which must not exist; print its
    /// public key.
    Generate {
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the public key of a signing key file, as the key set lists it.
    Public { key: PathBuf },
    /// Add a key that signs no more to a retired-keys file (SIARAN_SIGNING_KEYS_RETIRED),
    /// valid until --until (default now); the file is created if missing.
    Retire {
        /// The old signing key file (or its public key entry, as `keys public` prints it).
        key: PathBuf,
        #[arg(long)]
        into: PathBuf,
        /// RFC 3339; when it began signing (default: unknown, from the beginning).
        #[arg(long)]
        from: Option<String>,
        /// RFC 3339; when it stopped signing (default: now).
        #[arg(long)]
        until: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct VerifyLogArgs {
    /// The Siaran site (`https://siaran.example.go.id`).
    pub url: String,
    /// Check against this key set (JSON, as `/.well-known/siaran-keys.json`) kept beforehand,
    /// rather than the one the site serves now.
    #[arg(long)]
    pub keys: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The downloaded file.
    pub file: PathBuf,
    /// Check against the site's log (downloaded and verified whole).
    #[arg(long, conflicts_with = "record")]
    pub server: Option<String>,
    /// Offline: the record (`/transparency/records/N`, saved) the file should be in.
    #[arg(long, requires = "keys")]
    pub record: Option<PathBuf>,
    /// Offline or pinned: the key set (JSON).
    #[arg(long)]
    pub keys: Option<PathBuf>,
}

pub fn keys(command: KeysCommand) -> anyhow::Result<String> {
    use crate::domain::publication::SigningIdentity;
    match command {
        KeysCommand::Generate { out } => {
            let key = SigningIdentity::generate();
            write_key(&out, &key)?;
            Ok(serde_json::to_string_pretty(&PublicKey::of(&key.public()))?)
        }
        KeysCommand::Public { key } => {
            let key = read_signing_key(&key)?;
            Ok(serde_json::to_string_pretty(&PublicKey::of(&key.public()))?)
        }
        KeysCommand::Retire {
            key,
            into,
            from,
            until,
        } => {
            let bytes =
                std::fs::read(&key).with_context(|| format!("cannot read {}", key.display()))?;
            let mut entry = match SigningIdentity::from_pkcs8(&bytes) {
                Ok(k) => PublicKey::of(&k.public()),
                Err(_) => {
                    let mut set = KeySet::parse(
                        format!("{{\"keys\":[{}]}}", String::from_utf8_lossy(&bytes)).as_bytes(),
                    )
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "{}: neither a key file nor a public key: {e}",
                            key.display()
                        )
                    })?;
                    set.keys.remove(0)
                }
            };
            for t in from.iter().chain(until.iter()) {
                chrono::DateTime::parse_from_rfc3339(t)
                    .with_context(|| format!("'{t}' is not an RFC 3339 time"))?;
            }
            entry.valid_from = from;
            entry.valid_until = Some(until.unwrap_or_else(|| time(Utc::now())));
            let mut set = if into.exists() {
                KeySet::parse(&std::fs::read(&into)?)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", into.display()))?
            } else {
                KeySet::default()
            };
            set.keys.retain(|k| k.id != entry.id);
            set.keys.push(entry);
            let tmp = into.with_extension("json.tmp");
            std::fs::write(&tmp, serde_json::to_vec_pretty(&set)?)?;
            std::fs::rename(&tmp, &into)?;
            Ok(format!(
                "{} retired keys in {}; set SIARAN_SIGNING_KEYS_RETIRED={} on every instance",
                set.keys.len(),
                into.display(),
                into.display()
            ))
        }
    }
}

fn read_signing_key(path: &Path) -> anyhow::Result<crate::domain::publication::SigningIdentity> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    crate::domain::publication::SigningIdentity::from_pkcs8(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// A site's public answers.
struct Site {
    base: String,
    fetcher: Fetcher,
}

impl Site {
    fn new(url: &str) -> anyhow::Result<Site> {
        let base = url
            .trim_end_matches('/')
            .trim_end_matches("/transparency/log")
            .trim_end_matches("/transparency/head")
            .to_owned();
        url::Url::parse(&base).with_context(|| format!("'{url}' is not a URL"))?;
        // The reader chose the site: a private address is allowed (an office's intranet).
        Ok(Site {
            base,
            fetcher: Fetcher::new(true)?,
        })
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let url = url::Url::parse(&format!("{}{path}", self.base))?;
        let (_, body) = self
            .fetcher
            .get_bytes(&url, MAX_ANSWER_BYTES)
            .await
            .with_context(|| format!("cannot fetch {url}"))?;
        serde_json::from_slice(&body)
            .with_context(|| format!("{url} did not answer what it should"))
    }

    /// The whole log, each entry checked as it comes and the head signed by the site checked
    /// against it. Fails naming the first broken entry.
    async fn verified_log(&self, keys: &KeySet) -> anyhow::Result<(Vec<Entry>, SignedHead)> {
        #[derive(serde::Deserialize)]
        struct Page {
            entries: Vec<Entry>,
            next: Option<u64>,
        }
        let head: SignedHead = self.get("/transparency/head").await?;
        keys.verify_head(&head)
            .map_err(|e| anyhow::anyhow!("the log's signed head: {e}"))?;
        let mut check = ChainCheck::default();
        let mut entries = Vec::new();
        let mut hash_at_head = (head.head.size == 0).then(String::new);
        let mut after = 0;
        loop {
            let page: Page = self
                .get(&format!("/transparency/log?after={after}"))
                .await?;
            // A page that brings nothing yet promises more would keep the reader asking forever.
            if page.entries.is_empty() && page.next.is_some() {
                anyhow::bail!(
                    "entry {}: the log promises entries after {after} but serves none",
                    after + 1
                );
            }
            for entry in page.entries {
                check.push(keys, &entry)?;
                if entry.seq == head.head.size {
                    hash_at_head = Some(entry.hash.clone());
                }
                after = entry.seq;
                entries.push(entry);
            }
            if page.next.is_none() {
                break;
            }
        }
        match hash_at_head {
            Some(h) if h == head.head.hash => Ok((entries, head)),
            _ => Err(anyhow::anyhow!(
                "entry {}: the signed head (size {}, hash {}) is not in the log served ({} entries)",
                head.head.size,
                head.head.size,
                head.head.hash,
                check.size
            )),
        }
    }

    async fn keys(&self, pinned: Option<&Path>) -> anyhow::Result<KeySet> {
        match pinned {
            Some(path) => read_key_set(path),
            None => {
                let url = format!("{}/.well-known/siaran-keys.json", self.base);
                let (_, body) = self
                    .fetcher
                    .get_bytes(&url::Url::parse(&url)?, MAX_ANSWER_BYTES)
                    .await
                    .with_context(|| format!("cannot fetch {url}"))?;
                KeySet::parse(&body).map_err(|e| anyhow::anyhow!("{url}: {e}"))
            }
        }
    }
}

fn read_key_set(path: &Path) -> anyhow::Result<KeySet> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    KeySet::parse(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

pub async fn verify_log(args: &VerifyLogArgs) -> anyhow::Result<String> {
    let site = Site::new(&args.url)?;
    let keys = site.keys(args.keys.as_deref()).await?;
    let (entries, head) = site.verified_log(&keys).await?;
    Ok(format!(
        "ok: {} entries, each hash, signature and link checked; head {} signed by key {}",
        entries.len(),
        if head.head.hash.is_empty() {
            "(empty)"
        } else {
            &head.head.hash
        },
        head.head.key
    ))
}

/// `Ok` with what the file is when it is exactly a published file; an error saying so when not.
pub async fn verify(args: &VerifyArgs) -> anyhow::Result<String> {
    let path = args.file.clone();
    let (sha256, size) = tokio::task::spawn_blocking(move || {
        let size = std::fs::metadata(&path)?.len();
        anyhow::Ok((media::probe::sha256_file(&path)?, size))
    })
    .await??;
    let entries = match (&args.server, &args.record) {
        (Some(server), _) => {
            let site = Site::new(server)?;
            let keys = site.keys(args.keys.as_deref()).await?;
            site.verified_log(&keys).await?.0
        }
        (None, Some(record)) => {
            let keys = read_key_set(args.keys.as_deref().context("--keys is needed")?)?;
            let bytes = std::fs::read(record)
                .with_context(|| format!("cannot read {}", record.display()))?;
            let entry: Entry = serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not a publication record", record.display()))?;
            keys.verify_entry(&entry)?;
            vec![entry]
        }
        (None, None) => bail!("give --server URL, or --record FILE and --keys FILE"),
    };
    let found = find_file(&entries, &sha256, size);
    let Some(first) = found.first() else {
        bail!(
            "NOT an archived publication: no signed record names a file with SHA-256 {sha256} \
             and {size} bytes"
        );
    };
    let last = found.last().unwrap_or(first);
    let r = &first.entry.record;
    Ok(format!(
        "YES: {} is exactly the {} of \u{ab}{}\u{bb} ({}), first recorded in entry {} at {}; \
         latest record naming it: entry {} ({})",
        args.file.display(),
        first.file.role,
        r.title,
        r.url,
        first.entry.seq,
        r.at,
        last.entry.seq,
        last.entry.record.state
    ))
}
