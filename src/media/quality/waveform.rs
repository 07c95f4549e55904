//! Waveform peaks in BBC audiowaveform's data formats (its `doc/DataFormat.md`), so that
//! waveform-data.js and peaks.js read them unchanged: the binary `.dat` (version 1: one channel,
//! 16-bit) and the JSON (version 2, `channels: 1`), written byte for byte as audiowaveform writes
//! them. All channels are mixed to one as audiowaveform mixes them (the mean of the channels).

use std::fmt::Write as _;

/// About this many min/max pairs per second of audio in the fine level.
pub const PAIRS_PER_SECOND: u32 = 100;

/// Min/max peaks of the audio (all channels mixed), at `samples_per_pixel` samples per pair,
/// in BBC audiowaveform's data format (version 1, 16-bit).
#[derive(Debug, Clone, PartialEq)]
pub struct Waveform {
    pub sample_rate: u32,
    pub samples_per_pixel: u32,
    /// min, max, min, max, ... one pair per pixel.
    pub data: Vec<i16>,
}

impl Waveform {
    /// Min/max pairs.
    pub fn len(&self) -> usize {
        self.data.len() / 2
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// audiowaveform's binary `.dat`: a 20-byte version-1 header (version 1, flags 0 = 16-bit,
    /// sample rate, samples per pixel, length in pairs), then the pairs as little-endian i16.
    pub fn to_dat(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(20 + self.data.len() * 2);
        out.extend_from_slice(&1i32.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&clamp_i32(self.sample_rate).to_le_bytes());
        out.extend_from_slice(&clamp_i32(self.samples_per_pixel).to_le_bytes());
        out.extend_from_slice(&u32::try_from(self.len()).unwrap_or(u32::MAX).to_le_bytes());
        for value in &self.data {
            out.extend_from_slice(&value.to_le_bytes());
        }
        out
    }

    /// audiowaveform's JSON, with its keys in its order and its closing newline:
    /// `{"version":2,"channels":1,"sample_rate":…,"samples_per_pixel":…,"bits":16,"length":…,"data":[…]}`.
    pub fn to_json(&self) -> String {
        // Each value is at most 6 characters and a comma.
        let mut out = String::with_capacity(128 + self.data.len() * 7);
        let _ = write!(
            out,
            "{{\"version\":2,\"channels\":1,\"sample_rate\":{},\"samples_per_pixel\":{},\"bits\":16,\"length\":{},\"data\":[",
            self.sample_rate,
            self.samples_per_pixel,
            self.len()
        );
        for (i, value) in self.data.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{value}");
        }
        out.push_str("]}\n");
        out
    }

    /// The same peaks with `factor` pairs merged into one (the smallest min, the largest max),
    /// as waveform-data.js's `resample` does: a coarser level for whole-file views.
    pub fn resample(&self, factor: u32) -> Waveform {
        let factor = factor.max(1) as usize;
        let data = self
            .data
            .chunks(2 * factor)
            .flat_map(|pairs| {
                let min = pairs.iter().step_by(2).copied().min().unwrap_or(0);
                let max = pairs.iter().skip(1).step_by(2).copied().max().unwrap_or(0);
                [min, max]
            })
            .collect();
        Waveform {
            sample_rate: self.sample_rate,
            samples_per_pixel: self
                .samples_per_pixel
                .saturating_mul(u32::try_from(factor).unwrap_or(u32::MAX)),
            data,
        }
    }

    /// The peaks at no more than `pixels` pairs, neighbouring pairs merged (`resample`): the
    /// whole recording in one view.
    pub fn at_most(&self, pixels: usize) -> Waveform {
        let factor = self.len().div_ceil(pixels.max(1)).max(1);
        if factor == 1 {
            return self.clone();
        }
        self.resample(u32::try_from(factor).unwrap_or(u32::MAX))
    }
}

fn clamp_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// Samples per pair for a sample rate: about `PAIRS_PER_SECOND` pairs a second (441 at 44.1 kHz,
/// 480 at 48 kHz, 221 at 22.05 kHz). A player places pair `i` at `i × samples_per_pixel /
/// sample_rate` seconds, so a rate that does not divide evenly is still drawn in the right place.
pub(super) fn samples_per_pixel(sample_rate: u32) -> u32 {
    (sample_rate.saturating_add(PAIRS_PER_SECOND / 2) / PAIRS_PER_SECOND).max(1)
}

/// Builds the pairs from the mixed-down samples as they are decoded.
pub(super) struct Builder {
    waveform: Waveform,
    count: u32,
    min: f32,
    max: f32,
}

impl Builder {
    pub fn new(sample_rate: u32) -> Builder {
        Builder {
            waveform: Waveform {
                sample_rate,
                samples_per_pixel: samples_per_pixel(sample_rate),
                data: Vec::new(),
            },
            count: 0,
            min: f32::INFINITY,
            max: f32::NEG_INFINITY,
        }
    }

    /// One mixed-down sample (full scale is ±1.0).
    #[inline]
    pub fn push(&mut self, sample: f32) {
        self.min = self.min.min(sample);
        self.max = self.max.max(sample);
        self.count += 1;
        if self.count == self.waveform.samples_per_pixel {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.waveform.data.push(to_i16(self.min));
        self.waveform.data.push(to_i16(self.max));
        self.count = 0;
        self.min = f32::INFINITY;
        self.max = f32::NEG_INFINITY;
    }

    /// The waveform, the last partial pair included (as audiowaveform ends it).
    pub fn finish(mut self) -> Waveform {
        if self.count > 0 {
            self.flush();
        }
        self.waveform
    }
}

/// A sample in 16-bit terms: a 16-bit source's sample `n` (decoded as `n / 32768`) is `n` again.
fn to_i16(sample: f32) -> i16 {
    if sample.is_nan() {
        return 0;
    }
    // In range after the clamp, so the cast neither saturates nor wraps.
    (sample * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Waveform {
        Waveform {
            sample_rate: 44_100,
            samples_per_pixel: 441,
            data: vec![-3, 5, -32768, 32767, 0, 0],
        }
    }

    #[test]
    fn dat_is_the_version_1_header_then_little_endian_pairs() {
        let dat = sample().to_dat();
        let word = |i: usize| u32::from_le_bytes(dat[i..i + 4].try_into().unwrap());
        assert_eq!(dat.len(), 20 + 6 * 2);
        assert_eq!(word(0), 1, "version");
        assert_eq!(word(4), 0, "flags: 16-bit");
        assert_eq!(word(8), 44_100);
        assert_eq!(word(12), 441);
        assert_eq!(word(16), 3, "length counts pairs");
        assert_eq!(&dat[20..24], &[0xfd, 0xff, 0x05, 0x00]);
        assert_eq!(&dat[24..28], &[0x00, 0x80, 0xff, 0x7f]);
    }

    #[test]
    fn json_is_audiowaveforms_byte_for_byte() {
        assert_eq!(
            sample().to_json(),
            "{\"version\":2,\"channels\":1,\"sample_rate\":44100,\"samples_per_pixel\":441,\
             \"bits\":16,\"length\":3,\"data\":[-3,5,-32768,32767,0,0]}\n"
        );
        let empty = Waveform {
            data: vec![],
            ..sample()
        };
        assert!(empty.to_json().ends_with("\"length\":0,\"data\":[]}\n"));
    }

    #[test]
    fn builder_makes_a_pair_per_pixel_and_keeps_the_last_partial_one() {
        let mut b = Builder::new(200);
        assert_eq!(b.waveform.samples_per_pixel, 2);
        for s in [0.5, -0.25, 1.5, 0.0, -1.0] {
            b.push(s);
        }
        let w = b.finish();
        assert_eq!(w.data, vec![-8192, 16384, 0, 32767, -32768, -32768]);
    }

    #[test]
    fn samples_per_pixel_is_about_a_hundredth_of_a_second() {
        assert_eq!(samples_per_pixel(44_100), 441);
        assert_eq!(samples_per_pixel(48_000), 480);
        assert_eq!(samples_per_pixel(22_050), 221);
        assert_eq!(samples_per_pixel(8), 1);
    }

    #[test]
    fn resampling_merges_pairs() {
        let w = Waveform {
            sample_rate: 1000,
            samples_per_pixel: 10,
            data: vec![-1, 1, -5, 2, 0, 9],
        };
        let r = w.resample(2);
        assert_eq!(r.samples_per_pixel, 20);
        assert_eq!(r.data, vec![-5, 2, 0, 9]);
        assert_eq!(w.resample(1), w);
    }
}
