//! `probe_file` against the sample recordings in `media/` (durations as ffprobe reports them) and
//! against broken inputs built here.

use std::path::{Path, PathBuf};

use super::*;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("media")
        .join(name)
}

fn probe_sample(name: &str) -> MediaInfo {
    probe_file(&sample(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn assert_duration(info: &MediaInfo, expected_ms: u64) {
    assert!(
        info.duration_ms.abs_diff(expected_ms) <= 100,
        "duration {} ms, expected {expected_ms} ms",
        info.duration_ms
    );
}

fn assert_kind(info: &MediaInfo, container: &str, mime_type: &str, extension: &str) {
    assert_eq!(
        (
            info.container.as_str(),
            info.mime_type.as_str(),
            info.extension.as_str()
        ),
        (container, mime_type, extension)
    );
}

fn audio(info: &MediaInfo) -> &AudioInfo {
    info.audio.as_ref().expect("an audio stream")
}

fn video(info: &MediaInfo) -> &VideoInfo {
    info.video.as_ref().expect("a video stream")
}

/// Writes `bytes` to a file in a fresh temporary directory.
fn temp_file(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write temp file");
    (dir, path)
}

fn probe_bytes(name: &str, bytes: &[u8]) -> Result<MediaInfo, ProbeError> {
    let (_dir, path) = temp_file(name, bytes);
    probe_file(&path)
}

fn read_sample(name: &str) -> Vec<u8> {
    std::fs::read(sample(name)).expect("sample file")
}

#[test]
fn mp3_sample_is_counted_and_tagged() {
    let info = probe_sample("briefing-demo.mp3");
    assert_kind(&info, "mp3", "audio/mpeg", "mp3");
    assert_duration(&info, 166_922);
    assert_eq!(
        audio(&info),
        &AudioInfo {
            codec: "mp3".into(),
            sample_rate: Some(22050),
            channels: Some(1)
        }
    );
    assert_eq!(
        info.tags.title.as_deref(),
        Some("Pejabat Pemerintah Harus Punya Mindset Digital")
    );
    assert_eq!(info.tags.artist.as_deref(), Some("Diskominfo (contoh)"));
    assert_eq!(info.tags.album.as_deref(), Some("Siaran Demo"));
    assert_eq!(info.tags.date.as_deref(), Some("2026"));
    assert_eq!(
        info.size_bytes,
        std::fs::metadata(sample("briefing-demo.mp3"))
            .unwrap()
            .len()
    );
    assert_eq!(info.sha256, "");
    // CBR 48 kbit/s plus the ID3 tag and the Info frame.
    let bit_rate = info.bit_rate.expect("a bit rate");
    assert!((48_000..49_000).contains(&bit_rate), "bit rate {bit_rate}");
    assert!(info.video.is_none() && info.artwork.is_none());
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
}

#[test]
fn m4a_sample_is_audio_only_mp4() {
    let info = probe_sample("sample.m4a");
    assert_kind(&info, "mp4", "audio/mp4", "m4a");
    assert_duration(&info, 6_000);
    assert_eq!(audio(&info).codec, "aac");
    assert_eq!(audio(&info).sample_rate, Some(22050));
    assert!(info.video.is_none());
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
}

#[test]
fn ogg_opus_sample_is_audio_opus() {
    let info = probe_sample("sample.opus");
    assert_kind(&info, "ogg", "audio/opus", "opus");
    assert_duration(&info, 6_006);
    assert_eq!(audio(&info).codec, "opus");
    assert_eq!(audio(&info).sample_rate, Some(48000));
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
}

#[test]
fn flac_sample() {
    let info = probe_sample("sample.flac");
    assert_kind(&info, "flac", "audio/flac", "flac");
    assert_duration(&info, 4_000);
    assert_eq!(audio(&info).codec, "flac");
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
}

#[test]
fn wav_sample() {
    let info = probe_sample("sample.wav");
    assert_kind(&info, "wav", "audio/wav", "wav");
    assert_duration(&info, 2_000);
    assert_eq!(
        audio(&info),
        &AudioInfo {
            codec: "pcm_s16le".into(),
            sample_rate: Some(8000),
            channels: Some(1)
        }
    );
    assert_eq!(
        info.bit_rate.map(|b| b / 1000),
        Some(128),
        "8 kHz 16-bit mono plus the header"
    );
}

#[test]
fn mp4_sample_has_video_and_audio() {
    let info = probe_sample("sample.mp4");
    assert_kind(&info, "mp4", "video/mp4", "mp4");
    assert_duration(&info, 4_000);
    assert_eq!(
        video(&info),
        &VideoInfo {
            codec: "h264".into(),
            width: Some(160),
            height: Some(120),
            frame_rate: Some(25.0)
        }
    );
    assert_eq!(audio(&info).codec, "aac");
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
}

#[test]
fn webm_sample_has_video_and_audio() {
    let info = probe_sample("sample.webm");
    assert_kind(&info, "webm", "video/webm", "webm");
    assert_duration(&info, 4_008);
    assert_eq!(
        video(&info),
        &VideoInfo {
            codec: "vp8".into(),
            width: Some(160),
            height: Some(120),
            frame_rate: Some(25.0)
        }
    );
    assert_eq!(audio(&info).codec, "opus");
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
}

#[test]
fn sha256_file_matches_an_in_memory_hash() {
    let path = sample("sample.flac");
    let expected = hex::encode(Sha256::digest(std::fs::read(&path).unwrap()));
    assert_eq!(sha256_file(&path).unwrap(), expected);
    assert_eq!(expected.len(), 64);
}

/// An MPEG-2 layer 3 frame (22.05 kHz, mono) of `kbps` with a zero body: valid to a demuxer.
fn mpeg2_frame(kbps: u32) -> Vec<u8> {
    let index = [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]
        .iter()
        .position(|&k| k == kbps)
        .expect("an MPEG-2 bit rate") as u8
        + 1;
    let len = (72 * kbps * 1000 / 22050) as usize;
    let mut frame = vec![0u8; len];
    frame[..4].copy_from_slice(&[0xFF, 0xF3, index << 4, 0xC0]);
    frame
}

#[test]
fn vbr_mp3_without_xing_header_is_counted_not_guessed() {
    // Quiet frames first make symphonia's bit-rate guess far too long (about 95 s here).
    let mut bytes = Vec::new();
    for _ in 0..40 {
        bytes.extend(mpeg2_frame(8));
    }
    for _ in 0..360 {
        bytes.extend(mpeg2_frame(160));
    }
    let info = probe_bytes("vbr.mp3", &bytes).unwrap();
    assert_kind(&info, "mp3", "audio/mpeg", "mp3");
    // 400 frames of 576 samples at 22.05 kHz.
    assert_eq!(info.duration_ms, 10_449);
    assert!(
        info.warnings.is_empty(),
        "a guessed header must not read as truncation: {:?}",
        info.warnings
    );
}

#[test]
fn truncated_mp3_reports_what_is_there_and_warns() {
    let bytes = read_sample("briefing-demo.mp3");
    let info = probe_bytes("cut.mp3", &bytes[..60_000]).unwrap();
    // About 59.6 kB of 48 kbit/s audio after the tag and the Info frame.
    assert!(
        (9_700..10_100).contains(&info.duration_ms),
        "duration {} ms",
        info.duration_ms
    );
    assert_eq!(info.warnings.len(), 1, "{:?}", info.warnings);
    assert!(
        info.warnings[0].starts_with("file is shorter than its header says (9.9 s of 166.9 s)"),
        "{}",
        info.warnings[0]
    );

    // Zero padding left after the ID3 tag (outside its declared size) hides nothing.
    let tag_len = 173;
    let mut padded = bytes[..tag_len].to_vec();
    padded.extend([0u8; 100]);
    padded.extend(&bytes[tag_len..60_000]);
    let info = probe_bytes("padded.mp3", &padded).unwrap();
    assert!(
        (9_700..10_100).contains(&info.duration_ms),
        "duration {} ms",
        info.duration_ms
    );
    assert_eq!(info.warnings.len(), 1, "{:?}", info.warnings);
}

#[test]
fn empty_file_is_empty() {
    assert!(matches!(
        probe_bytes("empty.mp3", b""),
        Err(ProbeError::Empty)
    ));
}

#[test]
fn random_bytes_are_unsupported() {
    // Noise holds MPEG and ADTS sync words every few kilobytes; none may pass for a stream.
    for seed in 0..16 {
        let mut state: u64 = 0x5EED + seed;
        let bytes: Vec<u8> = (0..64 * 1024)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (state >> 33) as u8
            })
            .collect();
        let err = probe_bytes("noise.mp3", &bytes).unwrap_err();
        assert!(
            matches!(err, ProbeError::Unsupported(_)),
            "seed {seed}: {err:?}"
        );
    }
}

#[test]
fn html_named_mp3_is_unsupported() {
    let page = b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n<body><h1>Not Found</h1></body></html>\n";
    let err = probe_bytes("episode.mp3", page).unwrap_err();
    assert!(
        matches!(&err, ProbeError::Unsupported(m) if m.contains("HTML")),
        "{err:?}"
    );
    assert_eq!(err.code(), "unsupported-media");
}

#[test]
fn id3_tag_without_frames_is_unplayable() {
    let mut bytes = b"ID3\x03\x00\x00\x00\x00\x10\x00".to_vec(); // tag body of 2048 bytes
    bytes.resize(10 + 2048, 0);
    let err = probe_bytes("tag-only.mp3", &bytes).unwrap_err();
    assert!(
        matches!(&err, ProbeError::Unplayable(m) if m == "no audio frames found"),
        "{err:?}"
    );

    // The same tag followed by text instead of audio.
    bytes.extend(b"this is not audio\n".repeat(200));
    let err = probe_bytes("tag-and-text.mp3", &bytes).unwrap_err();
    assert!(
        matches!(&err, ProbeError::Unplayable(m) if m == "no audio frames found"),
        "{err:?}"
    );
}

#[test]
fn mp4_cut_before_its_moov_is_unplayable() {
    let bytes = read_sample("sample.mp4");
    let err = probe_bytes("half.mp4", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(
        matches!(&err, ProbeError::Unplayable(m) if m == "truncated: moov box missing"),
        "{err:?}"
    );
    assert_eq!(err.code(), "unplayable-media");
}

#[test]
fn faststart_mp4_cut_in_its_media_data_plays_what_is_there_and_warns() {
    let bytes = read_sample("sample-faststart.mp4");
    let whole = probe_bytes("whole.mp4", &bytes).unwrap();
    assert!(whole.warnings.is_empty(), "{:?}", whole.warnings);
    let cut = probe_bytes("cut.mp4", &bytes[..bytes.len() / 2]).unwrap();
    assert!(
        cut.duration_ms > 500 && cut.duration_ms + 1000 < whole.duration_ms,
        "{} of {}",
        cut.duration_ms,
        whole.duration_ms
    );
    assert!(
        cut.warnings[0].starts_with("file is shorter than its header says"),
        "{:?}",
        cut.warnings
    );
    // Cut right after the mdat header (at 3,319): no sample is complete.
    let err = probe_bytes("stub.mp4", &bytes[..3_330]).unwrap_err();
    assert!(
        matches!(&err, ProbeError::Unplayable(m) if m.starts_with("truncated:")),
        "{err:?}"
    );
}

#[test]
fn webm_cut_to_its_header_is_unplayable() {
    let bytes = read_sample("sample.webm");
    let err = probe_bytes("cut.webm", &bytes[..300]).unwrap_err();
    assert!(matches!(err, ProbeError::Unplayable(_)), "{err:?}");
}

#[test]
fn wav_with_no_samples_is_unplayable() {
    let mut wav = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00".to_vec();
    wav.extend_from_slice(&[1, 0, 1, 0]); // PCM, mono
    wav.extend_from_slice(&8000u32.to_le_bytes());
    wav.extend_from_slice(&16000u32.to_le_bytes());
    wav.extend_from_slice(&[2, 0, 16, 0]);
    wav.extend_from_slice(b"data\x00\x00\x00\x00");
    let err = probe_bytes("silence.wav", &wav).unwrap_err();
    assert!(matches!(err, ProbeError::Unplayable(_)), "{err:?}");
}

#[test]
fn every_prefix_of_a_sample_probes_without_panicking() {
    // Cut points across the header, the first packets and the middle of each container.
    for name in [
        "briefing-demo.mp3",
        "sample.m4a",
        "sample.opus",
        "sample.flac",
        "sample.wav",
        "sample.mp4",
        "sample.webm",
    ] {
        let bytes = read_sample(name);
        let (dir, path) = temp_file(name, &[]);
        for cut in (1..600)
            .step_by(7)
            .chain((600..bytes.len()).step_by(bytes.len() / 40 + 1))
        {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            let _ = probe_file(&path);
        }
        drop(dir);
    }
}

#[test]
fn an_mp4_counting_2_pow_31_samples_is_refused() {
    // A track whose handler mp4parse does not know (so symphonia reads it), with a time-to-sample
    // table of 2^32 + 1 samples (`tests/fuzz/regressions/crash-1179…`).
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/regressions/crash-1179bd5b586ecb970cc89fc9ea6b31aa26937988");
    let bytes = std::fs::read(path).expect("regression input");
    match probe_bytes("overflow.m4a", &bytes) {
        Err(ProbeError::Unplayable(why)) => assert!(why.contains("2^31 samples"), "{why}"),
        other => panic!("expected unplayable, got {other:?}"),
    }
}
