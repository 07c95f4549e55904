//! MP4, M4A and MOV read from their `moov` box alone, with Mozilla's `mp4parse` (the parser
//! Firefox ships): tracks, durations with their edit lists, sample tables and iTunes tags.
//!
//! Nothing in `mdat` is read. Durations and frame rates come from the sample tables; a file cut
//! short is noticed by walking the tables against the file's length, so a two-hour video probes
//! in the time it takes to read its index. symphonia is not used here: it refuses HEVC tracks
//! whose `hvcC` box is over 1 KiB (x265 writes its settings there) and reads every packet to
//! find a frame rate.

use std::io::{self, BufReader, Read, Seek, SeekFrom};

use mp4parse::{
    AudioCodecSpecific, CodecType, MediaContext, SampleEntry, Track, TrackType, UserdataBox,
};

use super::{ProbeError, TRUNCATION_SLACK_MS, shorter_than_header, snap_frame_rate};
use crate::media::{AudioInfo, Tags, VideoInfo};

/// What the `moov` box says, checked against the bytes the file really has.
#[derive(Debug)]
pub(super) struct Mp4Facts {
    pub duration_ms: u64,
    pub audio: Option<AudioInfo>,
    pub video: Option<VideoInfo>,
    pub tags: Tags,
    /// The first `covr` image, for the caller to read its header.
    pub cover: Option<Vec<u8>>,
    pub warnings: Vec<String>,
}

/// Why the `moov` box could not be used; the caller falls back to symphonia's reader.
#[derive(Debug)]
pub(super) struct Unreadable(pub String);

/// The `moov` box is read through a buffer: mp4parse reads field by field.
const READ_BUFFER: usize = 64 * 1024;

/// `cut`: a top-level box runs past the end of the file, so the sample tables are walked to find
/// what is really there; otherwise every sample is inside the file and the walk is skipped.
pub(super) fn read<R: Read + Seek>(
    file: &mut R,
    file_len: u64,
    (moov_at, moov_len): (u64, u64),
    cut: bool,
) -> Result<Result<Mp4Facts, Unreadable>, ProbeError> {
    let fourccs = sample_entry_fourccs(file, moov_at, moov_len)?;
    file.seek(SeekFrom::Start(moov_at))?;
    let mut moov = BufReader::with_capacity(READ_BUFFER, file.by_ref().take(moov_len));
    let context = match mp4parse::read_mp4(&mut moov) {
        Ok(context) => context,
        Err(mp4parse::Error::Io(e)) if e.kind() != io::ErrorKind::UnexpectedEof => {
            return Err(ProbeError::Io(e));
        }
        Err(e) => return Ok(Err(Unreadable(format!("{e:?}")))),
    };
    Ok(facts(&context, &fourccs, cut.then_some(file_len)))
}

fn facts(
    context: &MediaContext,
    fourccs: &[[u8; 4]],
    cut_at: Option<u64>,
) -> Result<Mp4Facts, Unreadable> {
    let movie_scale = context.timescale.map(|t| t.0).filter(|&t| t > 0);
    let tracks: Vec<(&Track, [u8; 4])> = context
        .tracks
        .iter()
        .zip(fourccs.iter().copied().chain(std::iter::repeat(*b"    ")))
        .collect();
    let audio = tracks
        .iter()
        .find(|(t, _)| t.track_type == TrackType::Audio);
    // Cover art and chapter images are single-picture JPEG or PNG tracks, not video.
    let video = tracks.iter().find(|(t, fourcc)| {
        t.track_type == TrackType::Video && !matches!(fourcc, b"jpeg" | b"png ")
    });
    if audio.is_none() && video.is_none() {
        return Err(Unreadable("no audio or video track".into()));
    }

    let mut warnings = Vec::new();
    let mut header_ms = 0u64;
    let mut playable_ms = 0u64;
    let mut cut = false;
    for (track, _) in [audio, video].into_iter().flatten() {
        let Some(times) = track_times(track, movie_scale, cut_at) else {
            continue;
        };
        header_ms = header_ms.max(times.header_ms);
        playable_ms = playable_ms.max(times.playable_ms.min(times.header_ms));
        cut |= times.playable_ms.saturating_add(TRUNCATION_SLACK_MS) < times.header_ms;
    }
    if playable_ms == 0 && cut {
        return Err(Unreadable(
            "truncated: no complete audio or video sample in the file".into(),
        ));
    }
    let duration_ms = if cut {
        warnings.push(shorter_than_header(playable_ms, header_ms));
        playable_ms
    } else {
        header_ms
    };

    let (tags, cover) = context
        .userdata
        .as_ref()
        .and_then(|u| u.as_ref().ok())
        .map(userdata)
        .unwrap_or_default();
    Ok(Mp4Facts {
        duration_ms,
        audio: audio.map(|(t, fourcc)| audio_info(t, *fourcc)),
        video: video.map(|(t, fourcc)| video_info(t, *fourcc)),
        tags,
        cover,
        warnings,
    })
}

struct TrackTimes {
    /// The length the header presents (edit list, else media header).
    header_ms: u64,
    /// Where the last sample whose bytes are all in the file ends.
    playable_ms: u64,
}

fn track_times(track: &Track, movie_scale: Option<u64>, cut_at: Option<u64>) -> Option<TrackTimes> {
    let scale = track.timescale.map(|t| t.0).filter(|&t| t > 0)?;
    let media_units = track.duration.map(|d| d.0);
    // The edit list says what is presented: it trims AAC's encoder priming and padding.
    let edited_ms = movie_scale.and_then(|movie| {
        let edited = track.edited_duration?.0;
        let empty = track.empty_duration.map_or(0, |e| e.0);
        Some(units_to_ms(edited.saturating_add(empty), movie))
    });
    let stts = track.stts.as_ref()?;
    let total_units: u64 = stts
        .samples
        .iter()
        .map(|s| u64::from(s.sample_count) * u64::from(s.sample_delta))
        .fold(0, u64::saturating_add);
    let header_ms = edited_ms
        .filter(|&ms| ms > 0)
        .or_else(|| media_units.map(|u| units_to_ms(u, scale)))
        .unwrap_or_else(|| units_to_ms(total_units, scale));

    let complete = cut_at.map_or(Complete::All, |len| complete_samples(track, len));
    let playable_ms = match complete {
        Complete::All => header_ms,
        Complete::First(n) => units_to_ms(time_of_first(stts, n), scale),
    };
    Some(TrackTimes {
        header_ms,
        playable_ms,
    })
}

fn units_to_ms(units: u64, scale: u64) -> u64 {
    u64::try_from((u128::from(units) * 1000 + u128::from(scale) / 2) / u128::from(scale))
        .unwrap_or(u64::MAX)
}

/// The summed durations of the first `n` samples.
fn time_of_first(stts: &mp4parse::TimeToSampleBox, mut n: u64) -> u64 {
    let mut units = 0u64;
    for run in stts.samples.iter() {
        let take = n.min(u64::from(run.sample_count));
        units = units.saturating_add(take * u64::from(run.sample_delta));
        n -= take;
        if n == 0 {
            break;
        }
    }
    units
}

enum Complete {
    All,
    /// Only the first N samples (in decoding order) are wholly inside the file.
    First(u64),
}

/// Walks the chunk offsets (`stco`), the samples per chunk (`stsc`) and the sample sizes (`stsz`)
/// to find the first sample that runs past the end of the file.
fn complete_samples(track: &Track, file_len: u64) -> Complete {
    let (Some(stco), Some(stsc), Some(stsz)) = (&track.stco, &track.stsc, &track.stsz) else {
        return Complete::All;
    };
    let sample_count = if stsz.sample_size > 0 {
        // A constant size: the count is in the time table.
        track.stts.as_ref().map_or(0, |stts| {
            stts.samples
                .iter()
                .map(|s| u64::from(s.sample_count))
                .fold(0, u64::saturating_add)
        })
    } else {
        stsz.sample_sizes.len() as u64
    };
    let size_of = |i: u64| -> u64 {
        if stsz.sample_size > 0 {
            u64::from(stsz.sample_size)
        } else {
            usize::try_from(i)
                .ok()
                .and_then(|i| stsz.sample_sizes.get(i))
                .map_or(0, |&s| u64::from(s))
        }
    };
    let mut sample = 0u64;
    // The runs are sorted by their first chunk: one pass over chunks and runs together.
    let runs = &stsc.samples;
    let mut run = 0usize;
    for (chunk, &offset) in stco.offsets.iter().enumerate() {
        let chunk_number = chunk as u64 + 1;
        while runs
            .get(run + 1)
            .is_some_and(|next| u64::from(next.first_chunk) <= chunk_number)
        {
            run += 1;
        }
        let per_chunk = runs
            .get(run)
            .filter(|r| u64::from(r.first_chunk) <= chunk_number)
            .map_or(0, |r| u64::from(r.samples_per_chunk));
        let mut at = offset;
        for _ in 0..per_chunk {
            if sample >= sample_count {
                return Complete::All;
            }
            at = at.saturating_add(size_of(sample));
            if at > file_len {
                return Complete::First(sample);
            }
            sample += 1;
        }
    }
    Complete::All
}

fn audio_info(track: &Track, fourcc: [u8; 4]) -> AudioInfo {
    let entry = track
        .stsd
        .as_ref()
        .and_then(|stsd| stsd.descriptions.first());
    let Some(SampleEntry::Audio(entry)) = entry else {
        return AudioInfo {
            codec: codec_name(fourcc, None),
            sample_rate: None,
            channels: None,
        };
    };
    let (mut sample_rate, mut channels) = (
        Some(entry.samplerate.round() as u32).filter(|&r| r > 0),
        Some(entry.channelcount).filter(|&c| c > 0),
    );
    let mut codec = Some(entry.codec_type);
    match &entry.codec_specific {
        // The sample entry's rate is a 16.16 field that cannot hold 96 kHz; the decoder
        // configuration is the truth for AAC.
        AudioCodecSpecific::ES_Descriptor(esds) => {
            sample_rate = esds.audio_sample_rate.or(sample_rate);
            channels = esds.audio_channel_count.map(u32::from).or(channels);
            codec = Some(esds.audio_codec);
        }
        // Opus always decodes at 48 kHz.
        AudioCodecSpecific::OpusSpecificBox(_) => sample_rate = Some(48_000),
        _ => {}
    }
    AudioInfo {
        codec: codec_name(fourcc, codec),
        sample_rate,
        channels,
    }
}

fn video_info(track: &Track, fourcc: [u8; 4]) -> VideoInfo {
    let entry = track
        .stsd
        .as_ref()
        .and_then(|stsd| stsd.descriptions.first());
    let (codec, width, height) = match entry {
        Some(SampleEntry::Video(v)) => (
            Some(v.codec_type),
            Some(u32::from(v.width)),
            Some(u32::from(v.height)),
        ),
        // mp4parse keeps no sample entry for codecs it does not know (HEVC); the track header
        // has the display size in 16.16 fixed point.
        _ => (
            None,
            track.tkhd.as_ref().map(|t| t.width >> 16),
            track.tkhd.as_ref().map(|t| t.height >> 16),
        ),
    };
    VideoInfo {
        codec: codec_name(fourcc, codec),
        width: width.filter(|&w| w > 0),
        height: height.filter(|&h| h > 0),
        frame_rate: frame_rate(track),
    }
}

/// Frames per second from the sample tables: the number of samples over the time they span.
fn frame_rate(track: &Track) -> Option<f64> {
    let scale = track.timescale.map(|t| t.0).filter(|&t| t > 0)?;
    let stts = track.stts.as_ref()?;
    let (frames, units) = stts
        .samples
        .iter()
        .fold((0u64, 0u64), |(frames, units), s| {
            (
                frames.saturating_add(u64::from(s.sample_count)),
                units.saturating_add(u64::from(s.sample_count) * u64::from(s.sample_delta)),
            )
        });
    if frames < 2 || units == 0 {
        return None;
    }
    Some(snap_frame_rate(frames as f64 * scale as f64 / units as f64))
}

/// The codec's short name, from the sample entry's four-character code; for `mp4a` the decoder
/// configuration says which MPEG audio it really is.
fn codec_name(fourcc: [u8; 4], parsed: Option<CodecType>) -> String {
    let name = match (&fourcc, parsed) {
        (b"mp4a", Some(CodecType::MP3)) => "mp3",
        (b"mp4a", _) => "aac",
        (b".mp3", _) => "mp3",
        (b"avc1" | b"avc3", _) => "h264",
        (b"hvc1" | b"hev1", _) => "hevc",
        (b"vvc1" | b"vvi1", _) => "vvc",
        (b"vp08", _) => "vp8",
        (b"vp09", _) => "vp9",
        (b"av01", _) => "av1",
        (b"mp4v", _) => "mpeg4",
        (b"s263" | b"h263", _) => "h263",
        (b"jpeg", _) => "mjpeg",
        (b"apch" | b"apcn" | b"apcs" | b"apco" | b"ap4h", _) => "prores",
        (b"Opus", _) => "opus",
        (b"fLaC", _) => "flac",
        (b"alac", _) => "alac",
        (b"ac-3", _) => "ac3",
        (b"ec-3", _) => "eac3",
        (b"sowt", _) => "pcm_s16le",
        (b"twos", _) => "pcm_s16be",
        (b"in24", _) => "pcm_s24be",
        (b"fl32", _) => "pcm_f32be",
        (b"lpcm", _) => "pcm",
        (b"ulaw", _) => "pcm_mulaw",
        (b"alaw", _) => "pcm_alaw",
        _ => {
            let raw = String::from_utf8_lossy(&fourcc).trim().to_ascii_lowercase();
            return if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_graphic()) {
                "unknown".into()
            } else {
                raw
            };
        }
    };
    name.into()
}

fn userdata(udta: &UserdataBox) -> (Tags, Option<Vec<u8>>) {
    let Some(meta) = &udta.meta else {
        return Default::default();
    };
    let text = |value: &Option<mp4parse::TryString>| {
        value
            .as_ref()
            .map(|v| String::from_utf8_lossy(v).trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let tags = Tags {
        title: text(&meta.title),
        artist: text(&meta.artist).or_else(|| text(&meta.album_artist)),
        album: text(&meta.album),
        date: text(&meta.year),
        comment: text(&meta.comment).or_else(|| text(&meta.description)),
    };
    let cover = meta
        .cover_art
        .as_ref()
        .and_then(|covers| covers.first())
        .map(|c| c.to_vec());
    (tags, cover)
}

/// The four-character code of each track's first sample entry (`trak/mdia/minf/stbl/stsd`), in
/// track order. mp4parse drops the entries of codecs it does not know, HEVC among them.
fn sample_entry_fourccs<R: Read + Seek>(
    file: &mut R,
    moov_at: u64,
    moov_len: u64,
) -> io::Result<Vec<[u8; 4]>> {
    let mut fourccs = Vec::new();
    for range in track_boxes(file, (moov_at, moov_len), b"stsd")? {
        // stsd: version and flags (4 bytes), entry count (4), then the first entry's header.
        let fourcc = match range {
            Some((stsd, end)) if stsd.saturating_add(16) <= end => {
                file.seek(SeekFrom::Start(stsd + 12))?;
                let mut fourcc = [0u8; 4];
                file.read_exact(&mut fourcc)?;
                fourcc
            }
            _ => *b"    ",
        };
        fourccs.push(fourcc);
    }
    Ok(fourccs)
}

/// For each `trak` in the `moov` box, the payload of its sample table's box `kind`
/// (`moov/trak/mdia/minf/stbl/{kind}`), when it has one.
fn track_boxes<R: Read + Seek>(
    file: &mut R,
    (moov_at, moov_len): (u64, u64),
    kind: &[u8; 4],
) -> io::Result<Vec<Option<(u64, u64)>>> {
    let path: [&[u8; 4]; 4] = [b"mdia", b"minf", b"stbl", kind];
    let moov_end = moov_at.saturating_add(moov_len);
    let mut found = Vec::new();
    for (child, start, end) in children(file, moov_at.saturating_add(8), moov_end)? {
        if child != *b"trak" {
            continue;
        }
        let mut range = Some((start, end));
        for step in path {
            range = match range {
                Some((s, e)) => children(file, s, e)?
                    .into_iter()
                    .find(|(k, _, _)| k == step)
                    .map(|(_, s, e)| (s, e)),
                None => None,
            };
        }
        found.push(range);
    }
    Ok(found)
}

/// Refuses a file whose time-to-sample table (`stts`) counts 2^31 samples or more, over a year
/// of 60 fps video: symphonia's MP4 reader, which the probe falls back to when mp4parse cannot
/// read the `moov` box, adds sample numbers and counts in 32 bits (`sample_num + count`, the
/// running total), which overflows past 2^32 (a panic in a debug build, a wrong sample time in a
/// release one; `tests/fuzz/regressions/crash-1179…`). Below 2^31 no such sum can.
pub(super) fn check_sample_counts<R: Read + Seek>(
    file: &mut R,
    moov: (u64, u64),
) -> Result<(), ProbeError> {
    for (start, end) in track_boxes(file, moov, b"stts")?.into_iter().flatten() {
        // stts: version and flags (4 bytes), entry count (4), then (count, delta) pairs.
        if start.saturating_add(8) > end {
            continue;
        }
        file.seek(SeekFrom::Start(start + 4))?;
        let mut word = [0u8; 4];
        file.read_exact(&mut word)?;
        let entries = u64::from(u32::from_be_bytes(word));
        // Only the entries inside the box: the count comes from the file.
        let entries = entries.min((end - start - 8) / 8);
        let mut table = BufReader::with_capacity(READ_BUFFER, file.by_ref().take(entries * 8));
        let mut samples = 0u64;
        let mut pair = [0u8; 8];
        for _ in 0..entries {
            table.read_exact(&mut pair)?;
            samples += u64::from(u32::from_be_bytes(pair[..4].try_into().expect("4 bytes")));
            if samples >= 1 << 31 {
                return Err(ProbeError::Unplayable(
                    "the MP4 sample table counts 2^31 samples or more".into(),
                ));
            }
        }
    }
    Ok(())
}

/// The boxes directly inside `start..end`: their type and where their payload starts and ends.
fn children<R: Read + Seek>(
    file: &mut R,
    start: u64,
    end: u64,
) -> io::Result<Vec<([u8; 4], u64, u64)>> {
    // A moov holds a few dozen boxes per level; the cap bounds the seeks on hostile input.
    const MAX_CHILDREN: usize = 4096;
    let mut boxes = Vec::new();
    let mut at = start;
    // Sizes come from the file: `at` may reach u64::MAX, so nothing here may overflow.
    while at.saturating_add(8) <= end && boxes.len() < MAX_CHILDREN {
        file.seek(SeekFrom::Start(at))?;
        let mut header = [0u8; 16];
        let got = file.by_ref().take(16).read(&mut header)?;
        if got < 8 {
            break;
        }
        let kind: [u8; 4] = header[4..8].try_into().expect("slice of 4");
        let (size, header_len) = match u32::from_be_bytes(header[..4].try_into().expect("4")) {
            0 => (end - at, 8),
            1 if got == 16 => (
                u64::from_be_bytes(header[8..16].try_into().expect("slice of 8")),
                16,
            ),
            size => (u64::from(size), 8),
        };
        if size < header_len {
            break;
        }
        let box_end = at.saturating_add(size).min(end);
        boxes.push((kind, at.saturating_add(header_len), box_end));
        at = at.saturating_add(size);
    }
    Ok(boxes)
}
