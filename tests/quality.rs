//! The sound quality analysis (issue 24) on recordings made wrong on purpose by ffmpeg in each
//! test, compared with ffmpeg's own EBU R128 meter (`-af ebur128=peak=sample+true`) run on the
//! same file in the same test: integrated loudness within 0.1 LU, loudness range within 0.5 LU,
//! true peak within 0.3 dB. Most go through `siaran probe --quality` (the JSON a person sees);
//! the waveform through `media::quality::analyse_file`, read back by audiowaveform's documented
//! format rules. Its own test binary: nothing here needs a server or a database.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use siaran::domain::quality::QualityConfig;
use siaran::media::quality::{Waveform, analyse_file};

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("media/briefing-demo.mp3")
}

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg runs (scripts/test installs it)");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes `name` in `dir` with ffmpeg from `inputs` (before the output options).
fn make(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut all = args.to_vec();
    all.push(out.to_str().unwrap());
    ffmpeg(&all);
    out
}

/// ffmpeg's figures for the file's first audio stream.
#[derive(Debug)]
struct Reference {
    integrated: f64,
    lra: f64,
    sample_peak: f64,
    true_peak: f64,
}

fn reference(path: &Path) -> Reference {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-nostats", "-hide_banner", "-i"])
        .arg(path)
        .args([
            "-map",
            "0:a:0",
            "-af",
            "ebur128=peak=sample+true:framelog=verbose",
            "-f",
            "null",
            "-",
        ])
        .output()
        .expect("ffmpeg runs");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ffmpeg ebur128: {text}");
    let summary = &text[text.rfind("Summary:").expect("ebur128 summary")..];
    let values = |label: &str| -> Vec<f64> {
        summary
            .lines()
            .filter_map(|l| l.trim().strip_prefix(label))
            .map(|v| {
                let v = v.split_whitespace().next().unwrap();
                if v == "-inf" {
                    f64::NEG_INFINITY
                } else {
                    v.parse().unwrap()
                }
            })
            .collect()
    };
    let peaks = values("Peak:");
    Reference {
        integrated: values("I:")[0],
        lra: values("LRA:")[0],
        sample_peak: peaks[0],
        true_peak: peaks[1],
    }
}

struct Run {
    status: i32,
    json: Value,
    stderr: String,
}

fn probe_quality(path: &Path, lang: &str) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_siaran"))
        .args(["probe", "--quality", "--lang", lang])
        .arg(path)
        .env_remove("RUST_LOG")
        .env_remove("SIARAN_LOUDNESS_TARGET")
        .output()
        .unwrap();
    Run {
        status: out.status.code().unwrap_or(-1),
        json: serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The report in English, which must have come out whole.
fn report(path: &Path) -> Value {
    let run = probe_quality(path, "en");
    assert_eq!(run.status, 0, "{}: {}", path.display(), run.stderr);
    assert_eq!(run.stderr, "", "nothing on stderr for a good file");
    for key in [
        "integrated_lufs",
        "loudness_range_lu",
        "true_peak_dbtp",
        "sample_peak_dbfs",
        "gain_to_target_db",
        "silences",
        "clipping",
        "warnings",
    ] {
        assert!(run.json.get(key).is_some(), "no {key} in {}", run.json);
    }
    run.json
}

fn f(json: &Value, key: &str) -> f64 {
    json[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {json}"))
}

fn codes(json: &Value) -> Vec<String> {
    json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap().to_string())
        .collect()
}

fn message(json: &Value, code: &str) -> String {
    json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == code)
        .unwrap_or_else(|| panic!("no {code} warning in {}", json["warnings"]))["message"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Ours against ffmpeg's, to the tolerances. ffmpeg prints one decimal.
fn assert_matches_ffmpeg(path: &Path, ours: &Value) {
    let theirs = reference(path);
    let name = path.file_name().unwrap().to_string_lossy();
    let i = f(ours, "integrated_lufs");
    assert!(
        (i - theirs.integrated).abs() <= 0.1,
        "{name}: integrated {i} against ffmpeg's {}",
        theirs.integrated
    );
    let lra = f(ours, "loudness_range_lu");
    assert!(
        (lra - theirs.lra).abs() <= 0.5,
        "{name}: LRA {lra} against ffmpeg's {}",
        theirs.lra
    );
    let tp = f(ours, "true_peak_dbtp");
    assert!(
        (tp - theirs.true_peak).abs() <= 0.3,
        "{name}: true peak {tp} against ffmpeg's {}",
        theirs.true_peak
    );
    // ffmpeg measures at 48 kHz, resampling other rates first; a sample peak moves a little.
    let sp = f(ours, "sample_peak_dbfs");
    assert!(
        (sp - theirs.sample_peak).abs() <= 0.5,
        "{name}: sample peak {sp} against ffmpeg's {}",
        theirs.sample_peak
    );
}

fn demo_str() -> String {
    demo().to_str().unwrap().to_string()
}

#[test]
fn a_quiet_mp3_of_speech_matches_ffmpeg_and_says_how_much_to_raise_it() {
    let dir = tempfile::tempdir().unwrap();
    let demo = demo_str();
    let path = make(
        dir.path(),
        "quiet.mp3",
        &[
            "-ss",
            "20",
            "-t",
            "90",
            "-i",
            &demo,
            "-af",
            "volume=-15dB",
            "-c:a",
            "libmp3lame",
            "-q:a",
            "4",
        ],
    );
    let r = report(&path);
    assert_matches_ffmpeg(&path, &r);
    let i = f(&r, "integrated_lufs");
    assert!(i < -30.0, "{i}");
    let gain = f(&r, "gain_to_target_db");
    let tp = f(&r, "true_peak_dbtp");
    assert!(
        (gain - (-16.0 - i).min(-1.0 - tp)).abs() < 0.011,
        "{gain} {i} {tp}"
    );
    let en = message(&r, "too-quiet");
    let figure = |x: f64| format!("{:.1}", x.abs());
    assert!(
        en.starts_with(&format!(
            "too quiet: \u{2212}{} LUFS, raise by {} dB",
            figure(i),
            figure(gain)
        )),
        "{en}"
    );
    // The same figures in Indonesian, the CLI's default language.
    let id = probe_quality(&path, "id").json;
    let id = message(&id, "too-quiet");
    assert!(
        id.starts_with(&format!(
            "terlalu pelan: \u{2212}{} LUFS, naikkan {} dB",
            figure(i).replace('.', ","),
            figure(gain).replace('.', ",")
        )),
        "{id}"
    );
    assert_eq!(r["complete"], true);
    assert_eq!(r["clipping"]["count"], 0);
}

#[test]
fn a_clipped_recording_matches_ffmpeg_and_says_where_it_clips() {
    let dir = tempfile::tempdir().unwrap();
    let demo = demo_str();
    // 20 dB too hot into 16-bit PCM: every peak is cut flat at full scale.
    let path = make(
        dir.path(),
        "clipped.wav",
        &[
            "-ss",
            "20",
            "-t",
            "40",
            "-i",
            &demo,
            "-af",
            "volume=20dB",
            "-c:a",
            "pcm_s16le",
        ],
    );
    let r = report(&path);
    assert_matches_ffmpeg(&path, &r);
    let count = r["clipping"]["count"].as_u64().unwrap();
    assert!(count > 10, "{}", r["clipping"]);
    let ranges = r["clipping"]["ranges"].as_array().unwrap();
    assert!(!ranges.is_empty());
    let en = message(&r, "clipped");
    assert!(
        en.starts_with(&format!("clipped {count} times between 0:")),
        "{en}"
    );
}

#[test]
fn a_square_wave_at_full_scale_is_clipped_even_through_a_lossy_codec() {
    let dir = tempfile::tempdir().unwrap();
    let square = "aevalsrc='if(lt(mod(t*220\\,1)\\,0.5)\\,1\\,-1)':s=44100:d=6";
    let wav = make(
        dir.path(),
        "square.wav",
        &["-f", "lavfi", "-i", square, "-c:a", "pcm_s16le"],
    );
    let r = report(&wav);
    // 220 periods a second, two flat halves each.
    let count = r["clipping"]["count"].as_u64().unwrap();
    assert!((2630..=2650).contains(&count), "{count}");
    assert!(
        codes(&r).contains(&"clipped".to_string()),
        "{:?}",
        codes(&r)
    );

    let mp3 = make(
        dir.path(),
        "square.mp3",
        &[
            "-i",
            wav.to_str().unwrap(),
            "-c:a",
            "libmp3lame",
            "-b:a",
            "128k",
        ],
    );
    let r = report(&mp3);
    assert!(
        r["clipping"]["count"].as_u64().unwrap() > 100,
        "{}",
        r["clipping"]
    );
    assert!(codes(&r).contains(&"clipped".to_string()));
}

#[test]
fn a_1_khz_sine_at_minus_23_dbfs_reads_minus_23_lufs_like_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let sine = "aevalsrc='0.0707946*sin(2*PI*1000*t)|0.0707946*sin(2*PI*1000*t)':s=48000:d=20";
    let path = make(
        dir.path(),
        "sine.wav",
        &["-f", "lavfi", "-i", sine, "-c:a", "pcm_s24le"],
    );
    let r = report(&path);
    let i = f(&r, "integrated_lufs");
    assert!((i + 23.0).abs() <= 0.1, "{i}");
    assert_matches_ffmpeg(&path, &r);
    assert_eq!(r["channels"], 2);
    assert!(r["silences"].as_array().unwrap().is_empty());
}

#[test]
fn a_zeroed_channel_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let demo = demo_str();
    let path = make(
        dir.path(),
        "right-dead.flac",
        &[
            "-ss",
            "20",
            "-t",
            "30",
            "-i",
            &demo,
            "-af",
            "pan=stereo|c0=c0|c1=0*c0",
            "-c:a",
            "flac",
        ],
    );
    let r = report(&path);
    assert_matches_ffmpeg(&path, &r);
    assert_eq!(
        message(&r, "channel-silent"),
        "the right channel is silent (no signal at all)"
    );
    assert!(!codes(&r).contains(&"phase-inverted".to_string()));
    let id = probe_quality(&path, "id").json;
    assert_eq!(
        message(&id, "channel-silent"),
        "kanal kanan senyap (tanpa sinyal sama sekali)"
    );
}

#[test]
fn an_inverted_channel_is_flagged_through_a_lossy_codec_too() {
    let dir = tempfile::tempdir().unwrap();
    let demo = demo_str();
    for (name, codec) in [("inverted.flac", "flac"), ("inverted.mp3", "libmp3lame")] {
        let path = make(
            dir.path(),
            name,
            &[
                "-ss",
                "20",
                "-t",
                "30",
                "-i",
                &demo,
                "-af",
                "pan=stereo|c0=c0|c1=-1*c0",
                "-c:a",
                codec,
            ],
        );
        let r = report(&path);
        assert_matches_ffmpeg(&path, &r);
        let en = message(&r, "phase-inverted");
        assert!(
            en.starts_with("the left and right channels are in opposite phase"),
            "{name}: {en}"
        );
        assert!(!codes(&r).contains(&"channel-silent".to_string()), "{name}");
    }
    // The same speech in both channels in phase is not flagged.
    let path = make(
        dir.path(),
        "dual.flac",
        &[
            "-ss",
            "20",
            "-t",
            "30",
            "-i",
            &demo,
            "-af",
            "pan=stereo|c0=c0|c1=c0",
            "-c:a",
            "flac",
        ],
    );
    let r = report(&path);
    assert!(
        codes(&r)
            .iter()
            .all(|c| c != "phase-inverted" && c != "channel-silent")
    );
}

#[test]
fn five_seconds_of_silence_inserted_at_one_minute_is_found_there() {
    let dir = tempfile::tempdir().unwrap();
    let demo = demo_str();
    let graph = "[0:a]atrim=0:60,asetpts=N/SR/TB[a];aevalsrc=0:d=5:s=22050[s];\
                 [0:a]atrim=60:100,asetpts=N/SR/TB[b];[a][s][b]concat=n=3:v=0:a=1";
    for (name, codec) in [("gap.flac", "flac"), ("gap.mp3", "libmp3lame")] {
        let path = make(
            dir.path(),
            name,
            &["-i", &demo, "-filter_complex", graph, "-c:a", codec],
        );
        let r = report(&path);
        let gaps: Vec<&Value> = r["silences"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["end_ms"].as_u64().unwrap() - s["start_ms"].as_u64().unwrap() >= 3000)
            .collect();
        assert_eq!(gaps.len(), 1, "{name}: {}", r["silences"]);
        let start = gaps[0]["start_ms"].as_f64().unwrap() / 1000.0;
        let end = gaps[0]["end_ms"].as_f64().unwrap() / 1000.0;
        assert!((start - 60.0).abs() <= 0.1, "{name}: starts at {start}");
        assert!((end - 65.0).abs() <= 0.1, "{name}: ends at {end}");
        assert_eq!(
            message(&r, "silence-gaps"),
            "5 s of silence at 1:00",
            "{name}"
        );
    }
}

#[test]
fn leading_room_noise_is_silence_at_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let demo = demo_str();
    // 15 s of quiet pink noise (room tone, about 40 dB under the speech), then speech.
    let graph = "anoisesrc=color=pink:amplitude=0.003:d=15:r=22050[n];\
                 [0:a]atrim=20:50,asetpts=N/SR/TB[b];[n][b]concat=n=2:v=0:a=1";
    let path = make(
        dir.path(),
        "room-tone.flac",
        &["-i", &demo, "-filter_complex", graph, "-c:a", "flac"],
    );
    let r = report(&path);
    let first = &r["silences"][0];
    assert_eq!(first["start_ms"], 0);
    let end = first["end_ms"].as_u64().unwrap();
    assert!((14_900..=15_600).contains(&end), "{}", r["silences"]);
    let en = message(&r, "leading-silence");
    assert!(en.ends_with("s of silence at the start"), "{en}");
}

#[test]
fn the_audio_of_video_files_is_analysed() {
    let dir = tempfile::tempdir().unwrap();
    let demo = demo_str();
    let video = "testsrc2=size=160x120:rate=10";
    let cases: [(&str, &[&str]); 3] = [
        (
            "video.mp4",
            &["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"],
        ),
        (
            "video.mov",
            &["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"],
        ),
        (
            "video.webm",
            &[
                "-c:v",
                "libvpx",
                "-deadline",
                "realtime",
                "-c:a",
                "libvorbis",
            ],
        ),
    ];
    for (name, codecs) in cases {
        let mut args = vec![
            "-f",
            "lavfi",
            "-i",
            video,
            "-ss",
            "20",
            "-t",
            "30",
            "-i",
            &demo,
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-shortest",
            "-af",
            "volume=-6dB",
        ];
        args.extend_from_slice(codecs);
        let path = make(dir.path(), name, &args);
        let r = report(&path);
        assert_matches_ffmpeg(&path, &r);
        let analysed = r["analysed_ms"].as_u64().unwrap();
        assert!((29_500..=30_500).contains(&analysed), "{name}: {analysed}");
        assert_eq!(r["complete"], true, "{name}: {}", r["warnings"]);
    }
}

#[test]
fn a_cut_off_upload_is_analysed_up_to_where_it_plays() {
    let dir = tempfile::tempdir().unwrap();
    let demo = demo_str();
    // An MP3 with its encoder's frame count (Xing), a WAV, an MP4 with its index first and a
    // WebM, each cut in the middle of its audio.
    let cases: [(&str, &[&str]); 4] = [
        ("cut.mp3", &["-c:a", "libmp3lame"]),
        ("cut.wav", &["-c:a", "pcm_s16le"]),
        ("cut.m4a", &["-c:a", "aac", "-movflags", "+faststart"]),
        ("cut.webm", &["-c:a", "libvorbis"]),
    ];
    for (name, codec) in cases {
        let mut args = vec!["-ss", "20", "-t", "60", "-i", &demo];
        args.extend_from_slice(codec);
        let whole = make(dir.path(), name, &args);
        let bytes = std::fs::read(&whole).unwrap();
        std::fs::write(&whole, &bytes[..bytes.len() / 2]).unwrap();
        let r = report(&whole);
        assert_eq!(r["complete"], false, "{name}");
        let analysed = r["analysed_ms"].as_u64().unwrap();
        assert!((20_000..=40_000).contains(&analysed), "{name}: {analysed}");
        assert!(r["integrated_lufs"].is_f64(), "{name}");
        let en = message(&r, "incomplete");
        assert!(
            en.starts_with("the file stops playing at 0:"),
            "{name}: {en}"
        );
        assert!(
            en.ends_with("of 1:00; the figures cover what plays"),
            "{name}: {en}"
        );
    }
}

/// Opus, which symphonia demuxes and `opus-pure` decodes (`media::quality::opus`): the samples
/// in Ogg and in WebM, and 90 s of speech made here in Ogg and WebM, stereo, mono at a rate
/// low enough for SILK, and 5.1 (mapping family 1, each channel at its own level so that a
/// channel put in the wrong place moves the loudness), against ffmpeg's own decoder and meter.
#[test]
fn opus_in_ogg_and_webm_matches_ffmpeg() {
    let media = Path::new(env!("CARGO_MANIFEST_DIR")).join("media");
    // As long as ffmpeg decodes them: the pre-skip (6.5 ms here) trimmed once. The Ogg end is
    // trimmed to its last granule; Matroska's DiscardPadding is not read (up to 20 ms more).
    for (sample, ms) in [("sample.opus", 6_000), ("sample.webm", 4_000)] {
        let path = media.join(sample);
        let r = report(&path);
        assert_matches_ffmpeg(&path, &r);
        assert_eq!(r["complete"], true, "{sample}: {}", r["warnings"]);
        assert_lasts(sample, &r, ms);
    }

    let dir = tempfile::tempdir().unwrap();
    let demo = demo_str();
    let stereo = "pan=stereo|c0=c0|c1=0.5*c0";
    let surround = "pan=5.1|FL=c0|FR=0.7*c0|FC=0.5*c0|LFE=0.9*c0|BL=0.25*c0|BR=0.35*c0";
    let cases: [(&str, &[&str], u64); 5] = [
        ("stereo.opus", &["-af", stereo, "-c:a", "libopus"], 2),
        ("stereo.webm", &["-af", stereo, "-c:a", "libopus"], 2),
        (
            "mono.opus",
            &["-ac", "1", "-c:a", "libopus", "-b:a", "12k"],
            1,
        ),
        (
            "mono.webm",
            &["-ac", "1", "-c:a", "libopus", "-b:a", "12k"],
            1,
        ),
        (
            "surround.opus",
            &["-af", surround, "-c:a", "libopus", "-mapping_family", "1"],
            6,
        ),
    ];
    for (name, codec, channels) in cases {
        let mut args = vec!["-ss", "20", "-t", "90", "-i", &demo];
        args.extend_from_slice(codec);
        let path = make(dir.path(), name, &args);
        let r = report(&path);
        assert_matches_ffmpeg(&path, &r);
        assert_eq!(r["channels"], channels, "{name}");
        assert_eq!(r["complete"], true, "{name}: {}", r["warnings"]);
        assert_lasts(name, &r, 90_000);
    }
}

/// An Opus recording's analysis covers `ms`, as ffmpeg decodes it: exactly in Ogg, up to the
/// last packet's padding (less than 20 ms) more in WebM.
fn assert_lasts(name: &str, r: &Value, ms: u64) {
    let analysed = r["analysed_ms"].as_u64().unwrap();
    let most = if name.ends_with(".webm") { ms + 19 } else { ms };
    assert!((ms..=most).contains(&analysed), "{name}: {analysed} ms");
}

#[test]
fn what_cannot_be_analysed_exits_non_zero_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let demo = demo_str();
    let text = dir.path().join("notes.mp3");
    std::fs::write(&text, "not a recording\n".repeat(100)).unwrap();
    // ALAC, which symphonia reads in MP4 but Siaran builds no decoder for.
    let alac = make(
        dir.path(),
        "speech.m4a",
        &["-t", "5", "-i", &demo, "-c:a", "alac"],
    );
    let image = make(
        dir.path(),
        "still.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=10",
            "-t",
            "2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ],
    );
    for (path, code) in [
        (text, "cannot be read as media"),
        (alac, "alac"),
        (image, "no audio"),
    ] {
        let run = probe_quality(&path, "id");
        assert_eq!(run.status, 2, "{}: {}", path.display(), run.stderr);
        assert_eq!(run.json, Value::Null, "nothing on stdout");
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.starts_with("error: ") && run.stderr.contains(code),
            "{}",
            run.stderr
        );
    }
}

/// A `.dat` read by the rules of audiowaveform's `doc/DataFormat.md`, as waveform-data.js reads
/// it: a version, then for version 1 flags, rate, scale and length, then `length` pairs of
/// 8- or 16-bit little-endian values.
fn read_dat(bytes: &[u8]) -> Waveform {
    let i32_at = |at: usize| i32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!(i32_at(0), 1, "version 1: one channel, no channel count");
    let flags = u32_at(4);
    assert_eq!(flags & 1, 0, "16-bit");
    let length = u32_at(16) as usize;
    let data: Vec<i16> = bytes[20..]
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    assert_eq!(data.len(), length * 2, "length counts min/max pairs");
    Waveform {
        sample_rate: u32::try_from(i32_at(8)).unwrap(),
        samples_per_pixel: u32::try_from(i32_at(12)).unwrap(),
        data,
    }
}

#[test]
fn the_waveform_is_audiowaveform_data_of_the_decoded_samples() {
    let dir = tempfile::tempdir().unwrap();
    let demo = demo_str();
    let path = make(
        dir.path(),
        "speech.flac",
        &[
            "-ss",
            "20",
            "-t",
            "12.345",
            "-i",
            &demo,
            "-c:a",
            "flac",
            "-sample_fmt",
            "s16",
        ],
    );
    let analysis = analyse_file(&path, &QualityConfig::default()).unwrap();
    let w = &analysis.waveform;
    assert_eq!((w.sample_rate, w.samples_per_pixel), (22_050, 221));

    // The peaks are those of the samples: ffmpeg decodes the same FLAC to 16-bit.
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(&path)
        .args(["-f", "s16le", "-"])
        .output()
        .unwrap();
    let samples: Vec<i16> = out
        .stdout
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let expected: Vec<i16> = samples
        .chunks(221)
        .flat_map(|px| [*px.iter().min().unwrap(), *px.iter().max().unwrap()])
        .collect();
    assert_eq!(w.data.len(), expected.len());
    let differ = w.data.iter().zip(&expected).position(|(a, b)| a != b);
    assert_eq!(differ, None, "pair values differ from the decoded samples'");

    // The binary and JSON forms carry the same, by the format's documented rules.
    let dat = w.to_dat();
    assert_eq!(&read_dat(&dat), w);
    let json: Value = serde_json::from_str(&w.to_json()).unwrap();
    assert_eq!(json["version"], 2);
    assert_eq!(json["channels"], 1);
    assert_eq!(json["bits"], 16);
    assert_eq!(json["sample_rate"], 22_050);
    assert_eq!(json["samples_per_pixel"], 221);
    assert_eq!(json["length"].as_u64().unwrap() as usize, w.len());
    let data: Vec<i16> = json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| i16::try_from(v.as_i64().unwrap()).unwrap())
        .collect();
    assert_eq!(data, w.data);

    // The coarse level for whole-file views: ten fine pairs in one.
    let coarse = w.resample(10);
    assert_eq!(coarse.samples_per_pixel, 2210);
    assert_eq!(coarse.len(), w.len().div_ceil(10));
    assert_eq!(
        coarse.data[0],
        *w.data[..20].iter().step_by(2).min().unwrap()
    );
}
