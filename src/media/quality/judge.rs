//! From what the pass measured to a `QualityReport`: the figures in the units people read (LUFS,
//! dB, milliseconds), the silences found against the programme's own loudness, and the warnings
//! with their figures spelled out in Indonesian and English.

use crate::domain::Msg;
use crate::domain::quality::{Clipping, QualityConfig, QualityReport, QualityWarning, TimeRange};

use super::decode::{Decoded, Stop};
use super::meter::Measured;

/// A decoded length this much shorter than the header's means the file was cut short (smaller
/// gaps are encoder delay and padding).
const TRUNCATION_SLACK_MS: u64 = 500;

/// BS.1770's absolute gate: below it a block is silence whatever the programme's loudness.
const ABSOLUTE_GATE_LUFS: f64 = -70.0;

/// The level given for a channel with no signal at all (JSON has no −∞).
pub(super) const SILENT_DB: f64 = -120.0;

/// A channel this quiet is not worth comparing with the others.
const AUDIBLE_DBFS: f64 = -70.0;

pub(super) fn report(decoded: &Decoded, cfg: &QualityConfig) -> QualityReport {
    let m = &decoded.measured;
    let ms = |frames: u64| frames_to_ms(frames, m.rate);
    let analysed_ms = ms(m.frames);
    let complete = decoded.stop.is_none()
        && !decoded.cut_short
        && decoded
            .header_ms
            .is_none_or(|header| analysed_ms + TRUNCATION_SLACK_MS >= header);

    let true_peaks: Vec<f64> = m.true_peaks.iter().map(|&p| to_db(p)).collect();
    let sample_peaks: Vec<f64> = m.sample_peaks.iter().map(|&p| to_db(p)).collect();
    // Rounded first, so that the messages say what the figures say.
    let integrated = m.integrated.map(round2);
    let true_peak = peak_of(&m.true_peaks).map(round2);
    let sample_peak = peak_of(&m.sample_peaks).map(round2);
    let gain = integrated.map(|i| {
        let to_target = cfg.target_lufs - i;
        round2(true_peak.map_or(to_target, |tp| {
            to_target.min(cfg.true_peak_ceiling_dbtp - tp)
        }))
    });
    let silences = silences(m, cfg);
    let clipping = Clipping {
        count: m.clips.count,
        ranges: m
            .clips
            .ranges
            .iter()
            .map(|&(start, end)| TimeRange {
                start_ms: start * 1000 / u64::from(m.rate),
                end_ms: (end * 1000).div_ceil(u64::from(m.rate)),
            })
            .collect(),
    };

    let mut warnings = Vec::new();
    let mut warn = |code: &str, id: String, en: String| {
        warnings.push(QualityWarning {
            code: code.into(),
            message: Msg::new(id, en),
        });
    };

    if !complete {
        let at_id = clock(analysed_ms);
        let (id, en) = match (&decoded.stop, decoded.header_ms) {
            (Some(Stop::FormatChanged), _) => (
                format!("format audio berubah pada {at_id}; analisis hanya sampai di situ"),
                format!("the audio format changes at {at_id}; analysed up to there"),
            ),
            (None, Some(header)) => (
                format!(
                    "berkas berhenti diputar pada {at_id} dari {}; angka-angka ini hanya untuk bagian yang dapat diputar",
                    clock(header)
                ),
                format!(
                    "the file stops playing at {at_id} of {}; the figures cover what plays",
                    clock(header)
                ),
            ),
            _ => (
                format!(
                    "berkas rusak atau terpotong setelah {at_id}; angka-angka ini hanya untuk bagian yang dapat diputar"
                ),
                format!(
                    "the file is damaged or cut off after {at_id}; the figures cover what plays"
                ),
            ),
        };
        warn("incomplete", id, en);
    }

    let whole_silence =
        matches!(silences.as_slice(), [only] if only.start_ms == 0 && only.end_ms >= analysed_ms);
    if integrated.is_none() && analysed_ms < 400 {
        warn(
            "too-short",
            format!(
                "terlalu pendek untuk diukur kenyaringannya ({})",
                span(analysed_ms, Lang::Id)
            ),
            format!(
                "too short to measure its loudness ({})",
                span(analysed_ms, Lang::En)
            ),
        );
    } else if integrated.is_none() || whole_silence {
        warn(
            "silent",
            "tidak ada suara: rekaman hening dari awal sampai akhir".into(),
            "no sound: the recording is silent from start to end".into(),
        );
    }

    if let (Some(i), Some(gain)) = (integrated, gain) {
        let (lo, hi) = (
            cfg.target_lufs - cfg.loudness_tolerance_lu,
            cfg.target_lufs + cfg.loudness_tolerance_lu,
        );
        let needed = cfg.target_lufs - i;
        let target = cfg.target_lufs;
        let ceiling = cfg.true_peak_ceiling_dbtp;
        if i < lo && !whole_silence {
            let (id, en) = if gain < 0.05 {
                (
                    format!(
                        "terlalu pelan: {} LUFS, tetapi puncak sejati sudah {} dBTP: gunakan limiter atau kompresor sebelum menaikkannya",
                        num(i, Lang::Id),
                        signed(true_peak.unwrap_or(SILENT_DB), Lang::Id)
                    ),
                    format!(
                        "too quiet: {} LUFS, but the true peak already reaches {} dBTP: use a limiter or compressor before raising it",
                        num(i, Lang::En),
                        signed(true_peak.unwrap_or(SILENT_DB), Lang::En)
                    ),
                )
            } else if gain < needed - 0.05 {
                (
                    format!(
                        "terlalu pelan: {} LUFS, naikkan {} dB ({} dB yang dibutuhkan untuk mencapai {} LUFS akan membuat puncak sejati melewati {} dBTP: gunakan limiter)",
                        num(i, Lang::Id),
                        num(gain, Lang::Id),
                        num(needed, Lang::Id),
                        setting(target, Lang::Id),
                        setting(ceiling, Lang::Id)
                    ),
                    format!(
                        "too quiet: {} LUFS, raise by {} dB (the {} dB to reach {} LUFS would push the true peak past {} dBTP: use a limiter)",
                        num(i, Lang::En),
                        num(gain, Lang::En),
                        num(needed, Lang::En),
                        setting(target, Lang::En),
                        setting(ceiling, Lang::En)
                    ),
                )
            } else {
                (
                    format!(
                        "terlalu pelan: {} LUFS, naikkan {} dB",
                        num(i, Lang::Id),
                        num(gain, Lang::Id)
                    ),
                    format!(
                        "too quiet: {} LUFS, raise by {} dB",
                        num(i, Lang::En),
                        num(gain, Lang::En)
                    ),
                )
            };
            warn("too-quiet", id, en);
        } else if i > hi {
            warn(
                "too-loud",
                format!(
                    "terlalu keras: {} LUFS, turunkan {} dB",
                    num(i, Lang::Id),
                    num(-gain, Lang::Id)
                ),
                format!(
                    "too loud: {} LUFS, lower by {} dB",
                    num(i, Lang::En),
                    num(-gain, Lang::En)
                ),
            );
        } else if let Some(tp) = true_peak.filter(|&tp| tp > ceiling) {
            warn(
                "true-peak-high",
                format!(
                    "puncak sejati {} dBTP, di atas {} dBTP: turunkan {} dB atau gunakan limiter",
                    signed(tp, Lang::Id),
                    setting(ceiling, Lang::Id),
                    num(tp - ceiling, Lang::Id)
                ),
                format!(
                    "true peak {} dBTP, above {} dBTP: lower by {} dB or use a limiter",
                    signed(tp, Lang::En),
                    setting(ceiling, Lang::En),
                    num(tp - ceiling, Lang::En)
                ),
            );
        }
    }

    if let (Some(first), Some(last)) = (clipping.ranges.first(), clipping.ranges.last()) {
        let (id, en) = if clipping.count == 1 {
            (
                format!("terpotong (clipping) sekali pada {}", clock(first.start_ms)),
                format!("clipped once at {}", clock(first.start_ms)),
            )
        } else {
            let (from, to) = (clock(first.start_ms), clock(last.end_ms));
            if from == to {
                (
                    format!("terpotong (clipping) {} kali pada {from}", clipping.count),
                    format!("clipped {} times at {from}", clipping.count),
                )
            } else {
                (
                    format!(
                        "terpotong (clipping) {} kali antara {from} dan {to}",
                        clipping.count
                    ),
                    format!("clipped {} times between {from} and {to}", clipping.count),
                )
            }
        };
        warn("clipped", id, en);
    }

    let levels: Vec<f64> = m.channel_power.iter().map(|&p| power_db(p)).collect();
    let loudest = levels
        .iter()
        .copied()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let mut dead = vec![false; levels.len()];
    // Stereo only: a surround mix with silent rear channels or LFE is ordinary.
    if let Some((top, top_db)) = loudest.filter(|&(_, db)| levels.len() == 2 && db > AUDIBLE_DBFS) {
        for (c, &db) in levels.iter().enumerate() {
            if c == top || db >= top_db - cfg.dead_channel_lu {
                continue;
            }
            dead[c] = true;
            let (name_id, name_en) = channel_name(c, levels.len());
            let (other_id, other_en) = channel_name(top, levels.len());
            let (id, en) = if m.channel_power[c] == 0.0 {
                (
                    format!("{name_id} senyap (tanpa sinyal sama sekali)"),
                    format!("{name_en} is silent (no signal at all)"),
                )
            } else {
                (
                    format!(
                        "{name_id} senyap ({} dB lebih pelan dari {other_id})",
                        num(top_db - db, Lang::Id)
                    ),
                    format!(
                        "{name_en} is silent ({} dB quieter than {other_en})",
                        num(top_db - db, Lang::En)
                    ),
                )
            };
            warn("channel-silent", id, en);
        }
        if let (Some(mid), [l, r, ..]) = (m.mid_power, levels.as_slice())
            && !dead[0]
            && !dead[1]
        {
            let drop = l.max(*r) - power_db(mid);
            if drop >= cfg.phase_cancellation_lu {
                let (id, en) = if mid == 0.0 {
                    (
                        "kanal kiri dan kanan berlawanan fase: bila digabung ke mono, suaranya hilang sama sekali".to_string(),
                        "the left and right channels are in opposite phase: mixed to mono, the sound cancels out completely".to_string(),
                    )
                } else {
                    (
                        format!(
                            "kanal kiri dan kanan berlawanan fase: bila digabung ke mono, suaranya turun {} dB",
                            num(drop, Lang::Id)
                        ),
                        format!(
                            "the left and right channels are in opposite phase: mixed to mono, the sound drops by {} dB",
                            num(drop, Lang::En)
                        ),
                    )
                };
                warn("phase-inverted", id, en);
            }
        }
    }

    if !whole_silence {
        let mut gaps = Vec::new();
        for s in &silences {
            let len = s.end_ms - s.start_ms;
            if s.start_ms == 0 {
                if len >= cfg.edge_silence_warn_ms {
                    warn(
                        "leading-silence",
                        format!("{} hening di awal", span(len, Lang::Id)),
                        format!("{} of silence at the start", span(len, Lang::En)),
                    );
                }
            } else if s.end_ms >= analysed_ms {
                if len >= cfg.edge_silence_warn_ms {
                    warn(
                        "trailing-silence",
                        format!("{} hening di akhir", span(len, Lang::Id)),
                        format!("{} of silence at the end", span(len, Lang::En)),
                    );
                }
            } else {
                gaps.push(*s);
            }
        }
        if let Some(longest) = gaps.iter().max_by_key(|s| s.end_ms - s.start_ms) {
            let len = longest.end_ms - longest.start_ms;
            let at = clock(longest.start_ms);
            let (id, en) = if gaps.len() == 1 {
                (
                    format!("{} hening pada {at}", span(len, Lang::Id)),
                    format!("{} of silence at {at}", span(len, Lang::En)),
                )
            } else {
                let min_id = span(cfg.silence_min_gap_ms, Lang::Id);
                let min_en = span(cfg.silence_min_gap_ms, Lang::En);
                (
                    format!(
                        "{} jeda hening lebih dari {min_id} di tengah rekaman, terpanjang {} pada {at}",
                        gaps.len(),
                        span(len, Lang::Id)
                    ),
                    format!(
                        "{} silences longer than {min_en} in the middle, the longest {} at {at}",
                        gaps.len(),
                        span(len, Lang::En)
                    ),
                )
            };
            warn("silence-gaps", id, en);
        }
    }

    if decoded.damaged_packets > 0 {
        let n = decoded.damaged_packets;
        warn(
            "damaged-frames",
            format!("{n} bingkai audio rusak dilewati"),
            if n == 1 {
                "1 damaged audio frame skipped".into()
            } else {
                format!("{n} damaged audio frames skipped")
            },
        );
    }

    QualityReport {
        integrated_lufs: integrated,
        loudness_range_lu: m.loudness_range.map(round2),
        max_momentary_lufs: m.max_momentary.map(round2),
        max_short_term_lufs: m.max_short_term.map(round2),
        true_peak_dbtp: true_peak,
        sample_peak_dbfs: sample_peak,
        true_peak_per_channel_dbtp: true_peaks.into_iter().map(round2).collect(),
        sample_peak_per_channel_dbfs: sample_peaks.into_iter().map(round2).collect(),
        gain_to_target_db: gain,
        target_lufs: cfg.target_lufs,
        silences,
        clipping,
        channels: u32::try_from(m.channels).unwrap_or(u32::MAX),
        sample_rate: m.rate,
        analysed_ms,
        complete,
        warnings,
    }
}

/// Runs of blocks quieter than the programme by the configured margin (and always those under
/// the absolute gate): the leading and trailing ones, and the gaps long enough to list.
fn silences(m: &Measured, cfg: &QualityConfig) -> Vec<TimeRange> {
    let threshold = m.integrated.map_or(ABSOLUTE_GATE_LUFS, |i| {
        (i - cfg.silence_below_programme_lu).max(ABSOLUTE_GATE_LUFS)
    }) as f32;
    let blocks = m.blocks.len();
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (k, &loudness) in m.blocks.iter().chain([&f32::INFINITY]).enumerate() {
        let silent = k < blocks && loudness < threshold;
        match (silent, start) {
            (true, None) => start = Some(k),
            (false, Some(s)) => {
                start = None;
                let start_ms = frames_to_ms(s as u64 * m.block_frames, m.rate);
                let end_ms = frames_to_ms((k as u64 * m.block_frames).min(m.frames), m.rate);
                let edge = s == 0 || k == blocks;
                if edge || end_ms - start_ms >= cfg.silence_min_gap_ms {
                    out.push(TimeRange { start_ms, end_ms });
                }
            }
            _ => {}
        }
    }
    out
}

fn frames_to_ms(frames: u64, rate: u32) -> u64 {
    (frames * 1000 + u64::from(rate) / 2) / u64::from(rate.max(1))
}

fn to_db(linear: f64) -> f64 {
    if linear > 0.0 && linear.is_finite() {
        (20.0 * linear.log10()).max(SILENT_DB)
    } else {
        SILENT_DB
    }
}

fn power_db(power: f64) -> f64 {
    if power > 0.0 && power.is_finite() {
        10.0 * power.log10()
    } else {
        f64::NEG_INFINITY
    }
}

/// The highest of the channels' peaks in dB, `None` for digital silence.
fn peak_of(linear: &[f64]) -> Option<f64> {
    let max = linear.iter().copied().fold(0.0, f64::max);
    (max > 0.0).then(|| to_db(max))
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    Id,
    En,
}

/// One decimal, a true minus sign, and Indonesian's decimal comma: "−31,2" / "−31.2".
fn num(x: f64, lang: Lang) -> String {
    let text = format!("{:.1}", x.abs());
    let text = if lang == Lang::Id {
        text.replace('.', ",")
    } else {
        text
    };
    if x < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        format!("\u{2212}{text}")
    } else {
        text
    }
}

/// `num` without a decimal for whole numbers: a setting such as "−16 LUFS".
fn setting(x: f64, lang: Lang) -> String {
    let text = num(x, lang);
    text.strip_suffix(".0")
        .or_else(|| text.strip_suffix(",0"))
        .map_or_else(|| text.clone(), str::to_string)
}

/// `num` with a plus sign for positive values (a true peak of "+0.4 dBTP").
fn signed(x: f64, lang: Lang) -> String {
    let text = num(x, lang);
    if x > 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        format!("+{text}")
    } else {
        text
    }
}

/// A moment as a player shows it: "12:03", "1:02:03".
fn clock(ms: u64) -> String {
    let s = ms / 1000;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// A length: "1 min 52 s" / "1 menit 52 detik", "5 s", "1 h 2 min"; under 10 s with a decimal.
fn span(ms: u64, lang: Lang) -> String {
    let (h_unit, m_unit, s_unit) = match lang {
        Lang::Id => ("jam", "menit", "detik"),
        Lang::En => ("h", "min", "s"),
    };
    if ms < 10_000 {
        let s = num(ms as f64 / 1000.0, lang);
        let s = s
            .strip_suffix(",0")
            .or_else(|| s.strip_suffix(".0"))
            .unwrap_or(&s)
            .to_string();
        return format!("{s} {s_unit}");
    }
    let total = (ms + 500) / 1000;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s} {s_unit}"),
        (0, m, 0) => format!("{m} {m_unit}"),
        (0, m, s) => format!("{m} {m_unit} {s} {s_unit}"),
        (h, 0, _) => format!("{h} {h_unit}"),
        (h, m, _) => format!("{h} {h_unit} {m} {m_unit}"),
    }
}

/// "the right channel" / "kanal kanan" for stereo, "channel 3" / "kanal 3" otherwise.
fn channel_name(index: usize, channels: usize) -> (String, String) {
    match (channels, index) {
        (2, 0) => ("kanal kiri".into(), "the left channel".into()),
        (2, 1) => ("kanal kanan".into(), "the right channel".into()),
        _ => (
            format!("kanal {}", index + 1),
            format!("channel {}", index + 1),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(num(-31.24, Lang::En), "\u{2212}31.2");
        assert_eq!(num(-31.24, Lang::Id), "\u{2212}31,2");
        assert_eq!(num(15.25, Lang::Id), "15,2");
        assert_eq!(
            num(-0.01, Lang::En),
            "0.0",
            "no minus on a figure that rounds to zero"
        );
        assert_eq!(signed(0.44, Lang::En), "+0.4");
        assert_eq!(setting(-16.0, Lang::Id), "\u{2212}16");
        assert_eq!(setting(-16.5, Lang::Id), "\u{2212}16,5");
        assert_eq!(signed(-1.0, Lang::En), "\u{2212}1.0");
    }

    #[test]
    fn moments_and_lengths() {
        assert_eq!(clock(723_400), "12:03");
        assert_eq!(clock(3_723_000), "1:02:03");
        assert_eq!(clock(59_999), "0:59");
        assert_eq!(span(112_000, Lang::En), "1 min 52 s");
        assert_eq!(span(112_000, Lang::Id), "1 menit 52 detik");
        assert_eq!(span(5_000, Lang::En), "5 s");
        assert_eq!(span(3_500, Lang::Id), "3,5 detik");
        assert_eq!(span(120_200, Lang::En), "2 min");
        assert_eq!(span(3_720_000, Lang::En), "1 h 2 min");
    }
}
