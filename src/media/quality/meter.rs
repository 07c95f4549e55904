//! Everything measured in the one pass over the decoded samples, fed one decoded buffer at a
//! time. What it keeps grows only with the length in small steps (a loudness figure per 100 ms
//! block, a waveform pair per 10 ms, the clipping ranges up to a cap); samples are never kept.

use std::collections::VecDeque;

use ebur128::{Channel, EbuR128, Mode};
use symphonia::core::audio::{Channels, Position};

use super::waveform::{self, Waveform};

/// A sample at or beyond this magnitude is at full scale: a 16-bit source's 32,767 (0.99997) is,
/// and lossy decoders overshoot past 1.0 where the source was clipped.
pub(super) const FULL_SCALE: f32 = 0.999;

/// At most this many clipping ranges are kept; past it, nearby ones are merged.
const MAX_CLIP_RANGES: usize = 100;

/// Clipping events closer than this are one range to begin with.
const CLIP_MERGE_MS: u64 = 1_000;

/// 100 ms blocks in a momentary (400 ms) and a short-term (3 s) window.
const MOMENTARY_BLOCKS: usize = 4;
const SHORT_TERM_BLOCKS: usize = 30;

/// BS.1770's loudness of a mean K-weighted energy, and back.
fn energy_to_loudness(energy: f64) -> f64 {
    if energy > 0.0 {
        -0.691 + 10.0 * energy.log10()
    } else {
        f64::NEG_INFINITY
    }
}

fn loudness_to_energy(loudness: f64) -> f64 {
    if loudness.is_finite() {
        10f64.powf((loudness + 0.691) / 10.0)
    } else {
        0.0
    }
}

/// What the pass measured, for `judge` to turn into a report.
pub(super) struct Measured {
    pub rate: u32,
    pub channels: usize,
    pub frames: u64,
    /// Frames per loudness block (100 ms).
    pub block_frames: u64,
    /// K-weighted loudness of each 100 ms block, LUFS (−∞ for digital silence); the last one may
    /// be shorter.
    pub blocks: Vec<f32>,
    /// Integrated loudness, `None` when nothing passes the −70 LUFS gate.
    pub integrated: Option<f64>,
    pub loudness_range: Option<f64>,
    pub max_momentary: Option<f64>,
    pub max_short_term: Option<f64>,
    /// Linear, per channel.
    pub true_peaks: Vec<f64>,
    pub sample_peaks: Vec<f64>,
    /// Mean square of each channel over the whole recording.
    pub channel_power: Vec<f64>,
    /// Mean square of the mid of the first two channels, (L + R) / 2.
    pub mid_power: Option<f64>,
    pub clips: Clips,
    pub waveform: Waveform,
}

pub(super) struct Meter {
    rate: u32,
    channels: usize,
    ebu: EbuR128,
    block_frames: usize,
    in_block: usize,
    blocks: Vec<f32>,
    frames: u64,
    max_momentary: f64,
    max_short_term: f64,
    /// The K-weighted mean energy of the last `SHORT_TERM_BLOCKS` whole blocks.
    recent: VecDeque<f64>,
    energy: Vec<f64>,
    mid_energy: f64,
    clips: Clips,
    waveform: waveform::Builder,
}

impl Meter {
    pub fn new(
        rate: u32,
        layout: &Channels,
        channels: usize,
        clipping_min_run: u32,
    ) -> Result<Meter, ebur128::Error> {
        let count = u32::try_from(channels).map_err(|_| ebur128::Error::NoMem)?;
        let mut ebu = EbuR128::new(
            count,
            rate,
            Mode::I | Mode::LRA | Mode::M | Mode::S | Mode::TRUE_PEAK | Mode::SAMPLE_PEAK,
        )?;
        if let Some(map) = channel_map(layout, channels) {
            ebu.set_channel_map(&map)?;
        }
        Ok(Meter {
            rate,
            channels,
            ebu,
            // ebur128's own 100 ms, so that a block ends where its gating blocks do.
            block_frames: ((rate as usize + 5) / 10).max(1),
            in_block: 0,
            blocks: Vec::new(),
            frames: 0,
            max_momentary: f64::NEG_INFINITY,
            max_short_term: f64::NEG_INFINITY,
            recent: VecDeque::with_capacity(SHORT_TERM_BLOCKS),
            energy: vec![0.0; channels],
            mid_energy: 0.0,
            clips: Clips::new(clipping_min_run, ms_to_frames(CLIP_MERGE_MS, rate)),
            waveform: waveform::Builder::new(rate),
        })
    }

    /// One decoded buffer, one plane per channel, `frames` long each.
    pub fn add(&mut self, planes: &[Vec<f32>], frames: usize) -> Result<(), ebur128::Error> {
        let mut at = 0;
        while at < frames {
            let take = (frames - at).min(self.block_frames - self.in_block);
            let chunk: Vec<&[f32]> = planes.iter().map(|p| &p[at..at + take]).collect();
            self.ebu.add_frames_planar_f32(&chunk)?;
            self.samples(&chunk, take);
            self.in_block += take;
            if self.in_block == self.block_frames {
                self.end_block()?;
            }
            at += take;
        }
        Ok(())
    }

    /// The per-sample measures ebur128 does not make: channel powers, clipping, the mix.
    fn samples(&mut self, chunk: &[&[f32]], frames: usize) {
        for (energy, plane) in self.energy.iter_mut().zip(chunk) {
            *energy += plane
                .iter()
                .map(|&s| f64::from(s) * f64::from(s))
                .sum::<f64>();
        }
        let scale = 1.0 / self.channels as f32;
        if let [left, right, ..] = chunk {
            let mut mid = 0.0f64;
            for (&l, &r) in left.iter().zip(right.iter()) {
                let m = f64::from(l + r) * 0.5;
                mid += m * m;
            }
            self.mid_energy += mid;
        }
        for i in 0..frames {
            let mut sum = 0.0f32;
            let mut rail = 0i8;
            for plane in chunk {
                let s = plane[i];
                sum += s;
                if rail == 0 {
                    rail = if s >= FULL_SCALE {
                        1
                    } else if s <= -FULL_SCALE {
                        -1
                    } else {
                        0
                    };
                }
            }
            self.clips.frame(self.frames + i as u64, rail);
            self.waveform.push(sum * scale);
        }
        self.frames += frames as u64;
    }

    fn end_block(&mut self) -> Result<(), ebur128::Error> {
        let loudness = self.block_loudness(self.in_block)?;
        self.blocks.push(loudness as f32);
        self.in_block = 0;
        // Momentary (400 ms) and short-term (3 s) loudness are the mean K-weighted energy of the
        // last 4 and 30 blocks: summed from the blocks' energies rather than asked of ebur128,
        // which would sum 3.5 s of samples again every 100 ms (42% of the time when it did).
        if self.recent.len() == SHORT_TERM_BLOCKS {
            self.recent.pop_front();
        }
        self.recent.push_back(loudness_to_energy(loudness));
        let blocks = self.recent.len();
        // Only whole windows: the first 400 ms (3 s) have no momentary (short-term) figure.
        if blocks >= MOMENTARY_BLOCKS {
            let sum: f64 = self.recent.iter().rev().take(MOMENTARY_BLOCKS).sum();
            let momentary = energy_to_loudness(sum / MOMENTARY_BLOCKS as f64);
            self.max_momentary = self.max_momentary.max(momentary);
        }
        if blocks == SHORT_TERM_BLOCKS {
            let sum: f64 = self.recent.iter().sum();
            let short_term = energy_to_loudness(sum / SHORT_TERM_BLOCKS as f64);
            self.max_short_term = self.max_short_term.max(short_term);
        }
        Ok(())
    }

    fn block_loudness(&self, frames: usize) -> Result<f64, ebur128::Error> {
        let ms = (frames as u64 * 1000 / u64::from(self.rate)).max(1);
        self.ebu
            .loudness_window(u32::try_from(ms).unwrap_or(u32::MAX))
    }

    pub fn finish(mut self) -> Result<Measured, ebur128::Error> {
        if self.in_block > 0 {
            self.blocks.push(self.block_loudness(self.in_block)? as f32);
        }
        self.clips.end(self.frames);
        let frames = self.frames.max(1) as f64;
        let finite = |x: f64| x.is_finite().then_some(x);
        let integrated = finite(self.ebu.loudness_global()?);
        let per_channel = |f: &dyn Fn(u32) -> Result<f64, ebur128::Error>| {
            (0..self.channels as u32)
                .map(f)
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Measured {
            rate: self.rate,
            channels: self.channels,
            frames: self.frames,
            block_frames: self.block_frames as u64,
            integrated,
            loudness_range: integrated
                .and_then(|_| self.ebu.loudness_range().ok())
                .and_then(finite),
            max_momentary: finite(self.max_momentary),
            max_short_term: finite(self.max_short_term),
            true_peaks: per_channel(&|c| self.ebu.true_peak(c))?,
            sample_peaks: per_channel(&|c| self.ebu.sample_peak(c))?,
            channel_power: self.energy.iter().map(|e| e / frames).collect(),
            mid_power: (self.channels >= 2).then(|| self.mid_energy / frames),
            blocks: std::mem::take(&mut self.blocks),
            clips: self.clips,
            waveform: self.waveform.finish(),
        })
    }
}

/// ebur128's weights for symphonia's channel positions (BS.1770: surround channels count 1.41,
/// LFE not at all); `None` keeps ebur128's default (left, right, centre, unused, surrounds).
fn channel_map(layout: &Channels, channels: usize) -> Option<Vec<Channel>> {
    let Channels::Positioned(positions) = layout else {
        return None;
    };
    let map: Vec<Channel> = positions
        .iter()
        .map(|position| {
            if position == Position::FRONT_LEFT {
                Channel::Left
            } else if position == Position::FRONT_RIGHT {
                Channel::Right
            } else if position == Position::LFE1 || position == Position::LFE2 {
                Channel::Unused
            } else if position == Position::REAR_LEFT || position == Position::SIDE_LEFT {
                Channel::LeftSurround
            } else if position == Position::REAR_RIGHT || position == Position::SIDE_RIGHT {
                Channel::RightSurround
            } else {
                Channel::Center
            }
        })
        .collect();
    // A mono file is one channel counted once, as ffmpeg's ebur128 filter counts it.
    (map.len() == channels && channels > 1).then_some(map)
}

fn ms_to_frames(ms: u64, rate: u32) -> u64 {
    ms * u64::from(rate) / 1000
}

/// Runs of consecutive frames with a channel at full scale on the same rail (a square wave's
/// top and bottom are two runs): counted, and their places kept as a bounded list of ranges
/// (frames) that covers every one of them.
pub(super) struct Clips {
    min_run: u64,
    merge_gap: u64,
    run: u64,
    /// +1 or −1: the rail the current run is on.
    rail: i8,
    pub count: u64,
    /// `[start, end)` in frames.
    pub ranges: Vec<(u64, u64)>,
}

impl Clips {
    fn new(min_run: u32, merge_gap: u64) -> Clips {
        Clips {
            min_run: u64::from(min_run.max(1)),
            merge_gap,
            run: 0,
            rail: 0,
            count: 0,
            ranges: Vec::new(),
        }
    }

    /// Frame `index` is on a rail (+1 or −1) or not (0).
    #[inline]
    fn frame(&mut self, index: u64, rail: i8) {
        if rail != 0 && rail == self.rail {
            self.run += 1;
            return;
        }
        if self.run > 0 {
            self.end(index);
        }
        if rail != 0 {
            self.rail = rail;
            self.run = 1;
        }
    }

    /// The run so far, if any, ends before frame `index`.
    fn end(&mut self, index: u64) {
        let run = std::mem::take(&mut self.run);
        self.rail = 0;
        if run < self.min_run {
            return;
        }
        self.count += 1;
        let start = index - run;
        match self.ranges.last_mut() {
            Some(last) if start.saturating_sub(last.1) <= self.merge_gap => last.1 = index,
            _ => self.ranges.push((start, index)),
        }
        if self.ranges.len() > MAX_CLIP_RANGES {
            // Twice the gap until the list fits again: still a cover of every event.
            while self.ranges.len() > MAX_CLIP_RANGES / 2 {
                self.merge_gap = self.merge_gap.saturating_mul(2).max(1);
                let gap = self.merge_gap;
                let mut merged: Vec<(u64, u64)> = Vec::with_capacity(self.ranges.len());
                for &(s, e) in &self.ranges {
                    match merged.last_mut() {
                        Some(last) if s.saturating_sub(last.1) <= gap => last.1 = e,
                        _ => merged.push((s, e)),
                    }
                }
                self.ranges = merged;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn momentary_and_short_term_maxima_are_ebur128s() {
        // A tone that steps up 10 dB after 5 s, for 5 s, then down again: the windows summed
        // from blocks must read what ebur128 reads over the same samples.
        let rate = 48_000;
        let mut meter = Meter::new(rate, &Channels::None, 1, 3).unwrap();
        let mut ebu = EbuR128::new(1, rate, Mode::M | Mode::S).unwrap();
        let (mut max_m, mut max_s) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        for block in 0..150 {
            let gain = if (50..100).contains(&block) { 0.3 } else { 0.1 };
            let plane: Vec<f32> = (0..4800)
                .map(|i| {
                    let t = f64::from(block * 4800 + i) / f64::from(rate);
                    (gain * (2.0 * std::f64::consts::PI * 997.0 * t).sin()) as f32
                })
                .collect();
            meter
                .add(std::slice::from_ref(&plane), plane.len())
                .unwrap();
            ebu.add_frames_f32(&plane).unwrap();
            if block >= 3 {
                max_m = max_m.max(ebu.loudness_momentary().unwrap());
            }
            if block >= 29 {
                max_s = max_s.max(ebu.loudness_shortterm().unwrap());
            }
        }
        let measured = meter.finish().unwrap();
        assert!((measured.max_momentary.unwrap() - max_m).abs() < 1e-6);
        assert!((measured.max_short_term.unwrap() - max_s).abs() < 1e-6);
    }

    #[test]
    fn a_run_counts_once_it_is_long_enough() {
        let mut c = Clips::new(3, 10);
        for (i, rail) in [1, 1, 0, -1, -1, -1, 0, 1, 1, 1, -1, -1, -1, 1]
            .iter()
            .enumerate()
        {
            c.frame(i as u64, *rail);
        }
        c.end(14);
        assert_eq!(c.count, 3, "a run is on one rail");
        assert_eq!(c.ranges, vec![(3, 13)]);
    }

    #[test]
    fn nearby_runs_merge_and_the_list_stays_bounded() {
        let mut c = Clips::new(1, 10);
        c.frame(0, 1);
        c.frame(1, 0);
        c.frame(5, 1);
        c.frame(6, 0);
        c.frame(100, -1);
        c.frame(101, 0);
        assert_eq!(c.count, 3);
        assert_eq!(c.ranges, vec![(0, 6), (100, 101)]);

        let mut c = Clips::new(1, 0);
        for i in 0..10_000u64 {
            c.frame(i * 50, 1);
            c.frame(i * 50 + 1, 0);
        }
        assert_eq!(c.count, 10_000);
        assert!(c.ranges.len() <= MAX_CLIP_RANGES, "{}", c.ranges.len());
        assert_eq!(c.ranges.first().unwrap().0, 0);
        assert_eq!(c.ranges.last().unwrap().1, 9_999 * 50 + 1);
    }
}
