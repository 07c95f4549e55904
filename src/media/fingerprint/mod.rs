//! Acoustic fingerprints (issue 25): what a recording sounds like, as Chromaprint computes it,
//! so that a clip cut, re-encoded or spliced from it can be found again.
//!
//! Owns the fingerprint of a file (`fingerprint_file`: the audio decoded once by the quality
//! analysis's decoder, `quality::decode`, downmixed to mono and fed to `rusty-chromaprint` with
//! Chromaprint's default configuration, one 32-bit item every ≈ 0.1238 s), the keys an index
//! files each item under (`index_keys`, `lookup_keys`) and the pure alignment of a clip against
//! stored fingerprints (`align`). Blocking and pure: nothing here touches the database or the
//! store; where fingerprints are kept and which episodes may be found is the service's.
//!
//! Why several partial keys: a degraded clip's items differ from the original's in a few bits
//! each (a bit error rate of 0.05–0.2), so almost none of its 32-bit values occur in the
//! original (FINDINGS.md: 2 of 59 in a 10-s Opus clip). Each item is filed under `TABLES` keys,
//! each 20 contiguous bits of the value (contiguous, because Chromaprint's bits come in pairs
//! from one classifier and their errors go together, so a contiguous slice survives more often
//! than scattered bits); an item whose errors miss one of these slices still meets its original
//! there. Candidates gathered that way are then scored on the full 32 bits (`align`).

pub mod align;

use std::fs::File;
use std::path::Path;

use rusty_chromaprint::{Configuration, Fingerprinter};
use symphonia::core::io::MediaSource;

use crate::media::probe;
use crate::media::quality::QualityError;
use crate::media::quality::decode::decode_into;

/// How many keys each indexed item is filed under.
pub const TABLES: u32 = 4;
/// Bits of an item each key holds.
pub const KEY_BITS: u32 = 20;
/// Only items at positions that are a multiple of this are indexed (halving the index); a clip
/// looks up every one of its items, so it still meets every indexed one.
pub const INDEX_EVERY: u32 = 2;

/// A recording's fingerprint.
#[derive(Debug, Clone, PartialEq)]
pub struct Fingerprint {
    /// Chromaprint's items, one every `item_us` microseconds of audio.
    pub items: Vec<u32>,
    /// The length of one item, in microseconds (Chromaprint's default: 1365 samples at 11,025 Hz,
    /// ≈ 123,810 µs).
    pub item_us: u64,
    /// The length of the decoded audio.
    pub duration_ms: u64,
}

/// The length of one item of the default configuration, in microseconds.
pub fn item_us() -> u64 {
    (f64::from(Configuration::preset_test2().item_duration_in_seconds()) * 1e6).round() as u64
}

/// The fingerprint of the audio of the file at `path` (every audio format and the audio track of
/// every video format Siaran accepts). Blocking, with bounded memory (samples are never kept, a
/// fingerprint is 4 bytes per 0.124 s, 116 KB an hour): call it from a blocking task. A panic in
/// a demuxer or decoder is answered as unreadable media.
pub fn fingerprint_file(path: &Path) -> Result<Fingerprint, QualityError> {
    let file = File::open(path)?;
    let size_bytes = file.metadata()?.len();
    fingerprint_source(file, size_bytes)
}

/// `fingerprint_file` on `size_bytes` of media readable from `source`.
pub fn fingerprint_source<S: MediaSource + 'static>(
    source: S,
    size_bytes: u64,
) -> Result<Fingerprint, QualityError> {
    probe::catch_panic(|| fingerprint_uncontained(source, size_bytes)).unwrap_or_else(|panic| {
        tracing::warn!(%panic, "fingerprinting panicked; the file is reported unreadable");
        Err(QualityError::Unreadable(
            "the audio could not be decoded".into(),
        ))
    })
}

/// Downmixes decoded buffers to mono 16-bit samples for Chromaprint, counting frames.
struct Sink {
    printer: Fingerprinter,
    rate: u32,
    frames: u64,
    mono: Vec<i16>,
}

fn fingerprint_uncontained<S: MediaSource + 'static>(
    source: S,
    size_bytes: u64,
) -> Result<Fingerprint, QualityError> {
    let opened = probe::open_for_decoding(source, size_bytes)?;
    let config = Configuration::preset_test2();
    let decoded = decode_into(
        opened,
        |rate, _layout, _channels| {
            let mut printer = Fingerprinter::new(&config);
            printer.start(rate, 1).map_err(|e| format!("{e:?}"))?;
            Ok(Sink {
                printer,
                rate,
                frames: 0,
                mono: Vec::new(),
            })
        },
        |sink, planes, frames| {
            let scale = 32767.0 / planes.len().max(1) as f32;
            sink.mono.clear();
            sink.mono.extend((0..frames).map(|i| {
                let sum: f32 = planes
                    .iter()
                    .map(|p| p.get(i).copied().unwrap_or(0.0))
                    .sum();
                (sum * scale).clamp(-32768.0, 32767.0) as i16
            }));
            sink.printer.consume(&sink.mono);
            sink.frames += frames as u64;
            Ok(())
        },
    )?;
    let mut sink = decoded.sink;
    sink.printer.finish();
    Ok(Fingerprint {
        items: sink.printer.fingerprint().to_vec(),
        item_us: item_us(),
        duration_ms: sink.frames * 1000 / u64::from(sink.rate.max(1)),
    })
}

/// The key of `item` in table `table` (0..TABLES): 20 contiguous bits, rotated by 8 per table,
/// tagged with the table so that all tables share one key space.
pub fn key(item: u32, table: u32) -> i64 {
    let bits = item.rotate_right(table * 8) & ((1 << KEY_BITS) - 1);
    (i64::from(table) << KEY_BITS) | i64::from(bits)
}

/// The (key, position) pairs under which a stored fingerprint is indexed.
pub fn index_keys(items: &[u32]) -> impl Iterator<Item = (i64, u32)> + '_ {
    items
        .iter()
        .enumerate()
        .filter(|(pos, _)| (*pos as u32).is_multiple_of(INDEX_EVERY))
        .flat_map(|(pos, &item)| (0..TABLES).map(move |t| (key(item, t), pos as u32)))
}

/// The keys a clip looks up, each with the clip positions it comes from.
pub fn lookup_keys(items: &[u32]) -> Vec<(i64, Vec<u32>)> {
    let mut keys: std::collections::BTreeMap<i64, Vec<u32>> = std::collections::BTreeMap::new();
    for (pos, &item) in items.iter().enumerate() {
        for t in 0..TABLES {
            keys.entry(key(item, t)).or_default().push(pos as u32);
        }
    }
    keys.into_iter().collect()
}

/// A fingerprint's items as stored: 4 bytes each, little-endian.
pub fn items_to_bytes(items: &[u32]) -> Vec<u8> {
    items.iter().flat_map(|i| i.to_le_bytes()).collect()
}

/// The items of a stored fingerprint (a trailing partial item is ignored).
pub fn items_from_bytes(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_20_bit_slices_tagged_by_table() {
        let item = 0xAABB_CCDD;
        assert_eq!(key(item, 0), 0xB_CCDD);
        assert_eq!(key(item, 1), (1 << 20) | 0xA_BBCC);
        assert_eq!(key(item, 2), (2 << 20) | 0xD_AABB);
        assert_eq!(key(item, 3), (3 << 20) | 0xC_DDAA);
        // Two bits flipped in the low byte leave the keys that do not hold it as they were.
        let degraded = item ^ 0b101;
        assert_ne!(key(degraded, 0), key(item, 0));
        assert_eq!(key(degraded, 1), key(item, 1));
    }

    #[test]
    fn only_every_other_item_is_indexed_but_every_clip_item_is_looked_up() {
        let items = [1, 2, 3, 4, 5];
        let indexed: Vec<_> = index_keys(&items).collect();
        assert_eq!(indexed.len(), 3 * TABLES as usize);
        assert!(indexed.iter().all(|(_, pos)| pos % 2 == 0));
        let looked: usize = lookup_keys(&items).iter().map(|(_, p)| p.len()).sum();
        assert_eq!(looked, 5 * TABLES as usize);
    }

    #[test]
    fn items_round_trip_through_bytes() {
        let items = vec![0, 1, u32::MAX, 0xDEAD_BEEF];
        assert_eq!(items_from_bytes(&items_to_bytes(&items)), items);
    }

    #[test]
    fn an_item_lasts_about_an_eighth_of_a_second() {
        assert!((123_000..124_500).contains(&item_us()), "{}", item_us());
    }
}
