//! The analysis on signals written here sample by sample, with answers known in advance. The
//! comparisons with ffmpeg's own figures on encoded files are in `tests/quality.rs`.

use std::f64::consts::PI;
use std::fs;
use std::io::Cursor;
use std::panic;
use std::path::Path;

use super::*;

const RATE: u32 = 48_000;

/// A 16-bit PCM WAV of `frames` frames; `sample(channel, frame)` in ±1.0.
fn wav(channels: u16, frames: usize, sample: impl Fn(usize, usize) -> f64) -> Vec<u8> {
    let data_len = frames * usize::from(channels) * 2;
    let mut out = Vec::with_capacity(44 + data_len);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&u32::try_from(36 + data_len).unwrap().to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * u32::from(channels) * 2).to_le_bytes());
    out.extend_from_slice(&(channels * 2).to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&u32::try_from(data_len).unwrap().to_le_bytes());
    for f in 0..frames {
        for c in 0..usize::from(channels) {
            let v = (sample(c, f) * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

fn analyse(bytes: Vec<u8>) -> Result<Analysis, QualityError> {
    let len = bytes.len() as u64;
    analyse_uncontained(Cursor::new(bytes), len, &QualityConfig::default())
}

fn seconds(s: f64) -> usize {
    (s * f64::from(RATE)) as usize
}

fn sine(amplitude: f64, hz: f64) -> impl Fn(usize, usize) -> f64 {
    move |_, f| amplitude * (2.0 * PI * hz * f as f64 / f64::from(RATE)).sin()
}

/// A speech-like signal: a 200 Hz tone with its level moving slowly by ±6 dB, never silent.
fn speechlike(amplitude: f64) -> impl Fn(usize, usize) -> f64 {
    move |_, f| {
        let t = f as f64 / f64::from(RATE);
        let level = 10f64.powf(6.0 * (2.0 * PI * 0.3 * t).sin() / 20.0);
        amplitude * level * (2.0 * PI * 200.0 * t).sin()
    }
}

fn codes(a: &Analysis) -> Vec<&str> {
    a.report.warnings.iter().map(|w| w.code.as_str()).collect()
}

fn warning<'a>(a: &'a Analysis, code: &str) -> &'a crate::domain::quality::QualityWarning {
    a.report
        .warnings
        .iter()
        .find(|w| w.code == code)
        .unwrap_or_else(|| panic!("no {code} warning in {:#?}", a.report.warnings))
}

#[test]
fn a_1_khz_sine_at_minus_23_dbfs_in_both_channels_reads_minus_23_lufs() {
    let a = analyse(wav(
        2,
        seconds(10.0),
        sine(10f64.powf(-23.0 / 20.0), 1000.0),
    ))
    .unwrap();
    let r = &a.report;
    let i = r.integrated_lufs.unwrap();
    assert!((i + 23.0).abs() <= 0.05, "{i}");
    assert!(r.loudness_range_lu.unwrap() < 0.1);
    assert!((r.sample_peak_dbfs.unwrap() + 23.0).abs() < 0.01);
    assert!((r.true_peak_dbtp.unwrap() + 23.0).abs() < 0.1);
    assert!((r.max_momentary_lufs.unwrap() + 23.0).abs() < 0.05);
    assert!((r.max_short_term_lufs.unwrap() + 23.0).abs() < 0.05);
    assert_eq!(
        (r.channels, r.sample_rate, r.analysed_ms),
        (2, RATE, 10_000)
    );
    assert!(r.complete);
    assert_eq!(r.true_peak_per_channel_dbtp.len(), 2);
    // −23 to −16 is 7 dB up, and the peak (−23 dBTP) stays far under −1.
    assert!((r.gain_to_target_db.unwrap() - 7.0).abs() < 0.06);
    assert_eq!(codes(&a), ["too-quiet"]);
    assert!(r.silences.is_empty(), "{:?}", r.silences);
    assert_eq!(r.clipping.count, 0);
}

#[test]
fn too_quiet_says_by_how_much_in_both_languages() {
    let a = analyse(wav(1, seconds(8.0), speechlike(0.02))).unwrap();
    let i = a.report.integrated_lufs.unwrap();
    let gain = a.report.gain_to_target_db.unwrap();
    assert!((gain - (-16.0 - i)).abs() < 0.011, "{i} {gain}");
    let w = warning(&a, "too-quiet");
    let fig = |x: f64| format!("{:.1}", x.abs());
    assert_eq!(
        w.message.en,
        format!(
            "too quiet: \u{2212}{} LUFS, raise by {} dB",
            fig(i),
            fig(gain)
        )
    );
    assert_eq!(
        w.message.id,
        format!(
            "terlalu pelan: \u{2212}{} LUFS, naikkan {} dB",
            fig(i).replace('.', ","),
            fig(gain).replace('.', ",")
        )
    );
}

#[test]
fn the_gain_to_target_stops_at_the_true_peak_ceiling() {
    // Quiet on average, but with a full-scale click: raising it all the way would clip.
    let quiet = speechlike(0.02);
    let a = analyse(wav(1, seconds(6.0), |c, f| {
        if f == seconds(3.0) { 0.5 } else { quiet(c, f) }
    }))
    .unwrap();
    let r = &a.report;
    let tp = r.true_peak_dbtp.unwrap();
    assert!((r.gain_to_target_db.unwrap() - (-1.0 - tp)).abs() < 0.011);
    let en = &warning(&a, "too-quiet").message.en;
    assert!(en.contains("use a limiter"), "{en}");
}

#[test]
fn a_full_scale_square_wave_is_clipped_with_its_times() {
    // 2 s of quiet tone, 1 s of a full-scale 100 Hz square wave, 2 s of tone.
    let tone = sine(0.1, 440.0);
    let a = analyse(wav(2, seconds(5.0), |c, f| {
        if (seconds(2.0)..seconds(3.0)).contains(&f) {
            if (f / 240) % 2 == 0 { 1.0 } else { -1.0 }
        } else {
            tone(c, f)
        }
    }))
    .unwrap();
    let clip = &a.report.clipping;
    // 100 half-periods of 240 samples each, every one a run at full scale.
    assert_eq!(clip.count, 200, "{clip:?}");
    assert_eq!(clip.ranges.len(), 1);
    assert_eq!(clip.ranges[0].start_ms, 2000);
    assert_eq!(clip.ranges[0].end_ms, 3000);
    let w = warning(&a, "clipped");
    assert_eq!(w.message.en, "clipped 200 times between 0:02 and 0:03");
    assert_eq!(
        w.message.id,
        "terpotong (clipping) 200 kali antara 0:02 dan 0:03"
    );
}

#[test]
fn a_loud_tone_below_full_scale_is_not_clipped() {
    let a = analyse(wav(1, seconds(3.0), sine(0.99, 1000.0))).unwrap();
    assert_eq!(a.report.clipping.count, 0);
    assert!(!codes(&a).contains(&"clipped"));
}

#[test]
fn a_zeroed_channel_is_named() {
    let tone = speechlike(0.1);
    let a = analyse(wav(
        2,
        seconds(5.0),
        |c, f| if c == 1 { 0.0 } else { tone(c, f) },
    ))
    .unwrap();
    let w = warning(&a, "channel-silent");
    assert_eq!(
        w.message.en,
        "the right channel is silent (no signal at all)"
    );
    assert_eq!(
        w.message.id,
        "kanal kanan senyap (tanpa sinyal sama sekali)"
    );
    assert!(!codes(&a).contains(&"phase-inverted"), "{:?}", codes(&a));
    assert_eq!(a.report.sample_peak_per_channel_dbfs[1], judge::SILENT_DB);

    // Hum 50 dB under the other channel is as good as silent.
    let a = analyse(wav(2, seconds(5.0), |c, f| {
        if c == 0 {
            0.0003 * tone(c, f) / 0.1
        } else {
            tone(c, f)
        }
    }))
    .unwrap();
    let en = &warning(&a, "channel-silent").message.en;
    assert!(en.starts_with("the left channel is silent (50."), "{en}");
}

#[test]
fn a_surround_mix_with_silent_rear_channels_is_not_a_fault() {
    // Dialogue in the front three channels, nothing in the LFE and the surrounds.
    let tone = speechlike(0.1);
    let a = analyse(wav(
        6,
        seconds(4.0),
        |c, f| if c < 3 { tone(c, f) } else { 0.0 },
    ))
    .unwrap();
    assert_eq!(a.report.channels, 6);
    assert!(a.report.integrated_lufs.is_some());
    assert!(!codes(&a).contains(&"channel-silent"), "{:?}", codes(&a));
    assert!(!codes(&a).contains(&"phase-inverted"));
}

#[test]
fn an_inverted_channel_is_flagged_and_ordinary_stereo_is_not() {
    let tone = speechlike(0.1);
    let a = analyse(wav(2, seconds(5.0), |c, f| {
        if c == 1 { -tone(c, f) } else { tone(c, f) }
    }))
    .unwrap();
    let w = warning(&a, "phase-inverted");
    assert!(
        w.message.en.contains("cancels out completely"),
        "{}",
        w.message.en
    );
    assert!(!codes(&a).contains(&"channel-silent"));

    // Two different tones: a mono mix loses about 3 dB, which is normal.
    let other = sine(0.1, 330.0);
    let a = analyse(wav(2, seconds(5.0), |c, f| {
        if c == 1 { other(c, f) } else { tone(c, f) }
    }))
    .unwrap();
    assert!(!codes(&a).contains(&"phase-inverted"), "{:?}", codes(&a));
}

#[test]
fn silences_are_found_at_their_place_and_the_edges_listed() {
    // 12 s of silence, tone to 70 s with 5 s of digital silence at 60 s, 2 s of silence.
    let tone = speechlike(0.1);
    let a = analyse(wav(1, seconds(72.0), |c, f| {
        let t = f as f64 / f64::from(RATE);
        if t < 12.0 || (60.0..65.0).contains(&t) || t >= 70.0 {
            0.0
        } else {
            tone(c, f)
        }
    }))
    .unwrap();
    let s: Vec<(u64, u64)> = a
        .report
        .silences
        .iter()
        .map(|r| (r.start_ms, r.end_ms))
        .collect();
    assert_eq!(s, [(0, 12_000), (60_000, 65_000), (70_000, 72_000)]);
    assert_eq!(
        warning(&a, "leading-silence").message.en,
        "12 s of silence at the start"
    );
    assert_eq!(
        warning(&a, "leading-silence").message.id,
        "12 detik hening di awal"
    );
    // 2 s at the end is listed, not warned about.
    assert!(!codes(&a).contains(&"trailing-silence"));
    assert_eq!(
        warning(&a, "silence-gaps").message.en,
        "5 s of silence at 1:00"
    );
}

#[test]
fn room_noise_far_under_the_programme_is_silence_and_a_short_pause_is_not() {
    let tone = speechlike(0.2);
    let a = analyse(wav(1, seconds(30.0), |c, f| {
        let t = f as f64 / f64::from(RATE);
        // Noise-like hiss about 40 dB under the speech, then speech with a 2 s pause.
        if t < 10.0 {
            0.002 * ((f * 7919) % 1000) as f64 / 1000.0 - 0.001
        } else if (20.0..22.0).contains(&t) {
            0.0
        } else {
            tone(c, f)
        }
    }))
    .unwrap();
    let s: Vec<(u64, u64)> = a
        .report
        .silences
        .iter()
        .map(|r| (r.start_ms, r.end_ms))
        .collect();
    assert_eq!(s, [(0, 10_000)], "the 2 s pause is under the 3 s minimum");
}

#[test]
fn a_silent_file_is_one_silence_and_one_warning() {
    let a = analyse(wav(2, seconds(4.0), |_, _| 0.0)).unwrap();
    let r = &a.report;
    assert_eq!(r.integrated_lufs, None);
    assert_eq!(r.true_peak_dbtp, None);
    assert_eq!(r.gain_to_target_db, None);
    assert_eq!(
        r.silences,
        [crate::domain::quality::TimeRange {
            start_ms: 0,
            end_ms: 4000
        }]
    );
    assert_eq!(codes(&a), ["silent"]);
    // −∞ has no JSON form: the report must survive a round trip through the database.
    let json = serde_json::to_string(r).unwrap();
    let back: QualityReport = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, r);
}

#[test]
fn a_cut_off_wav_is_analysed_up_to_the_cut() {
    let mut bytes = wav(1, seconds(10.0), speechlike(0.1));
    bytes.truncate(44 + seconds(4.0) * 2);
    let a = analyse(bytes).unwrap();
    let r = &a.report;
    assert!(!r.complete);
    assert_eq!(r.analysed_ms, 4000);
    assert!(r.integrated_lufs.is_some());
    assert_eq!(
        warning(&a, "incomplete").message.en,
        "the file stops playing at 0:04 of 0:10; the figures cover what plays"
    );
}

#[test]
fn the_waveform_has_a_pair_per_10_ms_of_the_mixed_channels() {
    // Left at +0.5 and right at −0.5 (constant) mix to 0; then both at 0.5.
    let a = analyse(wav(2, seconds(2.0), |c, f| {
        if f < seconds(1.0) && c == 1 {
            -0.5
        } else {
            0.5
        }
    }))
    .unwrap();
    let w = &a.waveform;
    assert_eq!((w.sample_rate, w.samples_per_pixel), (RATE, 480));
    assert_eq!(w.len(), 200);
    assert_eq!(&w.data[..2], &[0, 0]);
    assert_eq!(&w.data[w.data.len() - 2..], &[16384, 16384]);
    assert_eq!(w.resample(10).len(), 20);
}

#[test]
fn what_is_not_audio_is_an_error_with_a_code() {
    let err = analyse(Vec::new()).unwrap_err();
    assert_eq!(err.code(), "no-audio");
    let err = analyse(b"<html>not media</html>".repeat(100)).unwrap_err();
    assert_eq!(err.code(), "unreadable-media");
    assert!(!err.is_transient());
    // A sample rate past what the meter takes (2.8 MHz).
    let mut fast = wav(1, 48_000, sine(0.5, 1000.0));
    fast[24..28].copy_from_slice(&3_000_000u32.to_le_bytes());
    fast[28..32].copy_from_slice(&6_000_000u32.to_le_bytes());
    let err = analyse(fast).unwrap_err();
    assert_eq!(err.code(), "unsupported-audio", "{err}");
    let media = Path::new(env!("CARGO_MANIFEST_DIR")).join("media");
    let err = analyse_file(&media.join("no-such-file.mp3"), &QualityConfig::default()).unwrap_err();
    assert!(err.is_transient());
}

/// Opus, which symphonia demuxes and `opus::OpusDecoder` decodes, in Ogg and in WebM: 48 kHz,
/// the pre-skip trimmed (6.000 s from the Ogg sample, as ffmpeg decodes it), figures
/// within reach of ffmpeg's (`tests/quality.rs` compares them to the tenth).
#[test]
fn opus_in_ogg_and_webm_is_analysed() {
    let media = Path::new(env!("CARGO_MANIFEST_DIR")).join("media");
    for (name, ms) in [("sample.opus", 6_000), ("sample.webm", 4_000)] {
        let a = analyse(fs::read(media.join(name)).unwrap()).unwrap();
        let r = &a.report;
        assert_eq!((r.sample_rate, r.channels), (48_000, 1), "{name}");
        // The pre-skip trimmed once; Matroska's end padding is not (less than 20 ms).
        let most = if name.ends_with(".webm") { ms + 19 } else { ms };
        assert!(
            (ms..=most).contains(&r.analysed_ms),
            "{name}: {}",
            r.analysed_ms
        );
        assert!(r.complete, "{name}");
        let i = r.integrated_lufs.unwrap();
        assert!((-30.0..-15.0).contains(&i), "{name}: {i}");
        assert!(r.warnings.iter().all(|w| w.code != "incomplete"), "{name}");
    }
}

/// Every input the probe fuzzer starts from or found troublesome, analysed without the net: an
/// analysis ends in `Ok` or `Err`, never a panic.
#[test]
fn fuzz_inputs_are_analysed_without_panicking() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    let mut analysed = 0;
    let mut panicked = Vec::new();
    for dir in ["seeds/probe", "regressions"] {
        let mut paths: Vec<_> = fs::read_dir(fuzz.join(dir))
            .unwrap_or_else(|e| panic!("tests/fuzz/{dir}: {e}"))
            .map(|entry| entry.expect("directory entry").path())
            .collect();
        paths.sort();
        for path in paths {
            let bytes = fs::read(&path).unwrap();
            if panic::catch_unwind(|| analyse(bytes)).is_err() {
                panicked.push(path.display().to_string());
            }
            analysed += 1;
        }
    }
    assert!(analysed > 0);
    assert!(
        panicked.is_empty(),
        "the analysis panicked on {panicked:#?}"
    );
}

#[test]
fn an_overview_merges_neighbouring_peaks() {
    let w = Waveform {
        sample_rate: 44_100,
        samples_per_pixel: 441,
        data: vec![-1, 1, -5, 2, -2, 9, -3, 3, -4, 4],
    };
    let o = w.at_most(2);
    assert_eq!(o.samples_per_pixel, 441 * 3);
    assert_eq!(o.data, [-5, 9, -4, 4]);
    assert_eq!(w.at_most(5), w);
    assert_eq!(w.at_most(100), w);
}
