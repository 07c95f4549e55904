//! Country of a listener's address, from a MaxMind DB file (GeoLite2-Country, DB-IP's free
//! country database, or any file with a `country.iso_code`) configured by `SIARAN_GEOIP_DB`.
//! The file is read once at start-up; lookups never touch the network.

use std::{net::IpAddr, path::Path};

use anyhow::Context as _;
use maxminddb::{Reader, path};

pub struct GeoIp {
    reader: Reader<Vec<u8>>,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp")
            .field("database", &self.reader.metadata().database_type)
            .finish()
    }
}

impl GeoIp {
    pub fn open(file: &Path) -> anyhow::Result<GeoIp> {
        let reader = Reader::open_readfile(file)
            .with_context(|| format!("cannot read GeoIP database {}", file.display()))?;
        Ok(GeoIp { reader })
    }

    /// The ISO 3166-1 code of the country `ip` is in, when the database knows it.
    pub fn country(&self, ip: IpAddr) -> Option<String> {
        let found = self.reader.lookup(ip.to_canonical()).ok()?;
        let code: Option<&str> = found.decode_path(&path!["country", "iso_code"]).ok()?;
        code.map(str::to_owned)
    }
}
