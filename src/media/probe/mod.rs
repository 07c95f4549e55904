//! Reading a media file on disk into `MediaInfo`: container, streams, duration, tags and artwork.
//!
//! Owns `probe_file` and `sha256_file`. `sniff` decides the container from the bytes before any
//! demuxer runs and reads the few facts the demuxers do not expose; `wav` checks a WAV file's
//! format chunks before symphonia trusts them. MP4, M4A and MOV are read from their `moov` box
//! alone by `mp4` (Mozilla's mp4parse); everything else goes through symphonia over a bounded
//! `MediaSourceStream` (the file is never read whole into memory). Durations are measured where
//! headers are known to lie: MP3 and ADTS are counted frame by frame, Matroska and WebM are
//! scanned packet by packet, MP4 sample tables are checked against the file's length, and the
//! other audio containers are trusted on their header only once their last second is found where
//! the header says. `image` reads cover-art sizes. `contain` answers a panic in any of it (a
//! parser's bug on hostile bytes) as unplayable media.

mod contain;
mod image;
mod mp4;
#[cfg(test)]
mod regressions;
mod sniff;
#[cfg(test)]
mod tests;
mod wav;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, SeekFrom};
use std::path::Path;
use std::sync::LazyLock;

use sha2::{Digest, Sha256};
use symphonia::core::codecs::CodecParameters;
use symphonia::core::codecs::audio::{AudioCodecId, well_known as audio_codecs};
use symphonia::core::codecs::video::{VideoCodecId, well_known as video_codecs};
use symphonia::core::errors::Error as DemuxError;
use symphonia::core::formats::probe::{Hint, Probe};
use symphonia::core::formats::well_known as formats;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, Track, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::{
    MetadataOptions, MetadataRevision, RawValue, StandardTag, StandardVisualKey, Tag,
};
use symphonia::core::units::{Duration, Time, TimeBase, Timestamp};

pub(in crate::media) use contain::catch_panic;
pub use image::{ImageHeader, image_header};

use super::{Artwork, AudioInfo, MediaInfo, Tags, VideoInfo};
use sniff::{Kind, Sniffed};

/// Why a file is not accepted as media. Every variant names the problem in one line.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("empty file")]
    Empty,
    /// Not a container Siaran knows (random bytes, HTML, text, an image...).
    #[error("not a supported media file: {0}")]
    Unsupported(String),
    /// A known container, but nothing playable in it (an ID3 tag with no frames, a truncated MP4).
    #[error("{0}")]
    Unplayable(String),
    #[error("cannot read file: {0}")]
    Io(#[from] std::io::Error),
}

impl ProbeError {
    /// Stable kebab-case code for API answers.
    pub fn code(&self) -> &'static str {
        match self {
            ProbeError::Empty => "empty-media",
            ProbeError::Unsupported(_) => "unsupported-media",
            ProbeError::Unplayable(_) => "unplayable-media",
            ProbeError::Io(_) => "media-read-failed",
        }
    }
}

/// Lower-case hex SHA-256 of the file, read in 1 MiB chunks.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1024 * 1024];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// A header duration this much longer than the media actually present means the file was cut
/// short. Smaller gaps are encoder delay, padding and rounding, which are normal.
const TRUNCATION_SLACK_MS: u64 = 500;

/// Probes the file at `path`. `sha256` and `size_bytes` of the result are filled by the caller's
/// streaming pass when it has one; this function fills `size_bytes` from the file's length and
/// leaves `sha256` empty.
pub fn probe_file(path: &Path) -> Result<MediaInfo, ProbeError> {
    let file = File::open(path)?;
    let size_bytes = file.metadata()?.len();
    probe_source(file, size_bytes)
}

/// Probes `size_bytes` of media readable from `file` (a `File`, or a `Cursor` over bytes already
/// in memory). Reads are bounded; the source is never read whole. A panic in a parser is
/// answered as unplayable media.
pub fn probe_source<S: MediaSource + 'static>(
    file: S,
    size_bytes: u64,
) -> Result<MediaInfo, ProbeError> {
    contain::contained(move || probe_source_uncontained(file, size_bytes))
}

/// `probe_source` without its net for panics: for the fuzz target and the regression test, to
/// which a panic is a bug to report, not an answer.
#[doc(hidden)]
pub fn probe_source_uncontained<S: MediaSource + 'static>(
    mut file: S,
    size_bytes: u64,
) -> Result<MediaInfo, ProbeError> {
    if size_bytes == 0 {
        return Err(ProbeError::Empty);
    }
    let sniffed = sniff::sniff(&mut file, size_bytes)?;
    if sniffed.kind == Kind::Wav {
        wav::check_format(&mut file, sniffed.header_bytes, size_bytes)?;
    }

    let mut warnings = Vec::new();
    if let Kind::IsoMp4 { .. } = sniffed.kind {
        let layout = sniff::mp4_layout(&mut file, size_bytes)?;
        if !layout.has_moov {
            return Err(ProbeError::Unplayable("truncated: moov box missing".into()));
        }
        if let Some(([b'm', b'o', b'o', b'v'], missing)) = layout.truncated {
            return Err(ProbeError::Unplayable(format!(
                "truncated: the moov box runs {missing} bytes past the end of the file"
            )));
        }
        if let Some(moov) = layout.moov {
            match mp4::read(&mut file, size_bytes, moov, layout.truncated.is_some())? {
                Ok(facts) => return Ok(mp4_info(&sniffed, size_bytes, facts)),
                Err(mp4::Unreadable(why)) if why.starts_with("truncated:") => {
                    return Err(ProbeError::Unplayable(why));
                }
                // symphonia gets its own try below; its error names the problem if it fails too.
                Err(mp4::Unreadable(why)) => {
                    tracing::debug!(%why, "mp4parse could not read the moov box");
                    mp4::check_sample_counts(&mut file, moov)?;
                }
            }
        }
        // A cut-off upload: the index promises samples the file does not have, so players
        // would stall or fail at that point. Refused rather than served with a false length.
        if let Some((kind, missing)) = layout.truncated {
            return Err(ProbeError::Unplayable(format!(
                "truncated: the {} box runs {missing} bytes past the end of the file",
                String::from_utf8_lossy(&kind)
            )));
        }
    }

    file.seek(SeekFrom::Start(0))?;
    // symphonia refuses a Matroska file whose Segment claims more bytes than the file has (an
    // upload cut short), and follows its SeekHead to Cues and Tags past the end. Read as a live
    // stream (no length, no seeking), the clusters that are there still play; the scan below
    // measures them and says what is missing.
    let source: Box<dyn MediaSource> = if sniffed.segment_cut {
        Box::new(LiveStream(file))
    } else {
        Box::new(file)
    };
    let source = MediaSourceStream::new(source, MediaSourceStreamOptions::default());
    let mut reader = demuxers(sniffed.kind)
        .probe(
            &Hint::new(),
            source,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| open_error(sniffed.kind, &e))?;

    let container = Container::of(reader.format_info().format, &sniffed)
        .ok_or_else(|| ProbeError::Unsupported("a container Siaran does not serve".into()))?;
    let audio_track = reader.default_track(TrackType::Audio).cloned();
    let video_track = reader
        .tracks()
        .iter()
        .find(|t| is_moving_picture(t))
        .cloned();
    if audio_track.is_none() && video_track.is_none() {
        return Err(ProbeError::Unplayable("no audio or video track".into()));
    }
    let tracks = reader.tracks().to_vec();
    let (tags, artwork) = read_metadata(reader.as_mut(), sniffed.segment_title.clone());

    let header_ms = header_duration_ms(reader.as_ref(), &tracks);
    // An Ogg file with several logical streams is scanned rather than seeked: symphonia 0.6's
    // Ogg seek loops for ever when the next packet belongs to another stream (it `continue`s
    // without discarding it; fuzzer input `tests/fuzz/regressions/timeout-4f27…`). Scanning reads
    // each packet once.
    let mut must_scan = matches!(container, Container::Mp3 | Container::Aac)
        || matches!(container, Container::Webm | Container::Mkv)
        || (container == Container::Ogg && tracks.len() > 1)
        || video_track.is_some()
        || header_ms.unwrap_or(0) == 0;
    let scan = if must_scan {
        scan_packets(reader.as_mut(), &tracks, u64::MAX)
    } else {
        // One packet proves there is something to play behind the header, and the last second
        // that the header's length is really there. Only a file that fails that is scanned.
        let first = scan_packets(reader.as_mut(), &tracks, 1);
        let track = audio_track.as_ref().or(video_track.as_ref());
        match (track, header_ms) {
            (Some(track), Some(header_ms))
                if first.packets > 0 && !reaches_end(reader.as_mut(), track, header_ms) =>
            {
                must_scan = true;
                rewind(reader.as_mut(), track)?;
                scan_packets(reader.as_mut(), &tracks, u64::MAX)
            }
            _ => first,
        }
    };
    if scan.packets == 0 {
        let why = if video_track.is_some() {
            "no audio or video frames found"
        } else {
            "no audio frames found"
        };
        return Err(ProbeError::Unplayable(why.into()));
    }

    let duration_ms = if container == Container::Mp3 {
        audio_track.as_ref().map_or(0, |track| {
            mpeg_duration_ms(track, &scan, sniffed.mpeg_counted_by_encoder, &mut warnings)
        })
    } else if must_scan {
        let scanned = scan.end_ms(&tracks);
        // ADTS has no header duration; symphonia's figure is its own guess from the first frames.
        let header = if container == Container::Aac {
            None
        } else {
            header_ms
        };
        reconcile(header, scanned, &mut warnings)
    } else {
        header_ms.unwrap_or(0)
    };
    if let Some(e) = &scan.error {
        warnings.push(format!(
            "unreadable data after {}: {e}",
            seconds(scan.end_ms(&tracks))
        ));
    }

    let has_video = video_track.is_some();
    let audio = audio_track.as_ref().and_then(audio_info);
    let video = video_track
        .as_ref()
        .and_then(|t| video_info(t, scan.tracks.get(&t.id)));
    let (mime_type, extension) = container.mime_and_extension(has_video, audio.as_ref());
    Ok(MediaInfo {
        container: container.name().into(),
        mime_type: mime_type.into(),
        extension: extension.into(),
        duration_ms,
        size_bytes,
        header_bytes: sniffed.header_bytes,
        sha256: String::new(),
        bit_rate: (duration_ms > 0).then(|| size_bytes.saturating_mul(8000) / duration_ms),
        audio,
        video,
        tags,
        artwork,
        warnings,
    })
}

/// A file's demuxer opened for decoding its audio (`media::quality`), past the same checks the
/// probe makes, with what the sniff learned that a decoder needs to know.
pub(in crate::media) struct ForDecoding {
    pub reader: Box<dyn FormatReader>,
    /// False for MPEG audio without an encoder's frame count: symphonia's length there is a
    /// guess from the first frames, and it trims every packet past the guess to nothing.
    pub trim_end_trusted: bool,
    /// The audio track's length as its header states it, when that is the muxer's figure (not
    /// for ADTS, MPEG audio without a frame count, or Matroska unless its segment is cut):
    /// decoding less means a cut.
    pub header_ms: Option<u64>,
    /// The container already says it was cut short (a Matroska segment longer than the file).
    pub cut_short: bool,
}

/// Opens `file` for decoding as `probe_source` opens it for probing: the container decided from
/// the bytes, a WAV's format checked, a Matroska file cut short read as a live stream. An MP4
/// whose `moov` is missing or cut is refused; one cut inside its media data is opened, so that
/// what is there can be decoded. Not contained: the caller holds the net for panics.
pub(in crate::media) fn open_for_decoding<S: MediaSource + 'static>(
    mut file: S,
    size_bytes: u64,
) -> Result<ForDecoding, ProbeError> {
    if size_bytes == 0 {
        return Err(ProbeError::Empty);
    }
    let sniffed = sniff::sniff(&mut file, size_bytes)?;
    let mut mdat_cut = false;
    match sniffed.kind {
        Kind::Wav => wav::check_format(&mut file, sniffed.header_bytes, size_bytes)?,
        Kind::IsoMp4 { .. } => {
            let layout = sniff::mp4_layout(&mut file, size_bytes)?;
            if !layout.has_moov {
                return Err(ProbeError::Unplayable("truncated: moov box missing".into()));
            }
            match layout.truncated {
                Some(([b'm', b'o', b'o', b'v'], missing)) => {
                    return Err(ProbeError::Unplayable(format!(
                        "truncated: the moov box runs {missing} bytes past the end of the file"
                    )));
                }
                Some(_) => mdat_cut = true,
                None => {}
            }
            // symphonia reads every MP4 here, so its sample tables are checked first.
            if let Some(moov) = layout.moov {
                mp4::check_sample_counts(&mut file, moov)?;
            }
        }
        _ => {}
    }
    file.seek(SeekFrom::Start(0))?;
    // symphonia skips a top-level box that runs past the file's length, and with it every sample
    // of a cut `mdat`. Read as a live stream, it stops its scan at the `mdat` (the `moov` is
    // before it, or the file was refused above) and reads the samples up to the cut.
    let source: Box<dyn MediaSource> = if sniffed.segment_cut || mdat_cut {
        Box::new(LiveStream(file))
    } else {
        Box::new(file)
    };
    let source = MediaSourceStream::new(source, MediaSourceStreamOptions::default());
    let reader = demuxers(sniffed.kind)
        .probe(
            &Hint::new(),
            source,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| open_error(sniffed.kind, &e))?;
    let format = reader.format_info().format;
    let mpeg = [
        formats::FORMAT_ID_MP1,
        formats::FORMAT_ID_MP2,
        formats::FORMAT_ID_MP3,
    ]
    .contains(&format);
    let trim_end_trusted = !mpeg || sniffed.mpeg_counted_by_encoder;
    let header_ms = match reader.default_track(TrackType::Audio) {
        Some(track)
            if trim_end_trusted
                && format != formats::FORMAT_ID_ADTS
                && format != formats::FORMAT_ID_MKV =>
        {
            track.time_base.and_then(|time_base| {
                let frames = track
                    .duration
                    .or_else(|| track.num_frames.map(Duration::from))?;
                duration_ms(time_base, frames)
            })
        }
        // A Matroska segment's duration may be the video's, longer than the audio: it only
        // names the length of a file already known to be cut.
        Some(_) if format == formats::FORMAT_ID_MKV && sniffed.segment_cut => {
            header_duration_ms(reader.as_ref(), reader.tracks())
        }
        _ => None,
    };
    Ok(ForDecoding {
        reader,
        trim_end_trusted,
        header_ms,
        cut_short: sniffed.segment_cut,
    })
}

fn mp4_info(sniffed: &Sniffed, size_bytes: u64, facts: mp4::Mp4Facts) -> MediaInfo {
    let container = match sniffed.kind {
        Kind::IsoMp4 { quicktime: true } => Container::Mov,
        _ => Container::Mp4,
    };
    let (mime_type, extension) =
        container.mime_and_extension(facts.video.is_some(), facts.audio.as_ref());
    let duration_ms = facts.duration_ms;
    MediaInfo {
        container: container.name().into(),
        mime_type: mime_type.into(),
        extension: extension.into(),
        duration_ms,
        size_bytes,
        header_bytes: sniffed.header_bytes,
        sha256: String::new(),
        bit_rate: (duration_ms > 0).then(|| size_bytes.saturating_mul(8000) / duration_ms),
        audio: facts.audio,
        video: facts.video,
        tags: facts.tags,
        artwork: facts.cover.map(|data| picture(&data, None, None)),
        warnings: facts.warnings,
    }
}

/// Whether the media reaches the length its header states: seeks to a second before that end and
/// reads on. A header trusted blindly would give a cut-off WAV or FLAC upload its full length.
fn reaches_end(reader: &mut dyn FormatReader, track: &Track, header_ms: u64) -> bool {
    let Some(time_base) = track.time_base else {
        return true;
    };
    let target = Time::from_millis_u64(header_ms.saturating_sub(1000));
    let to = SeekTo::Time {
        time: target,
        track_id: Some(track.id),
    };
    if reader.seek(SeekMode::Coarse, to).is_err() {
        return false;
    }
    let mut end_ms = 0;
    // A second of audio is at most a few hundred packets in any of these containers.
    for _ in 0..10_000 {
        match reader.next_packet() {
            Ok(Some(packet)) if packet.track_id == track.id => {
                let end = packet.pts.saturating_add(packet.dur);
                end_ms = end_ms.max(time_base.calc_time(end).map_or(0, time_ms));
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    end_ms + TRUNCATION_SLACK_MS >= header_ms
}

fn rewind(reader: &mut dyn FormatReader, track: &Track) -> Result<(), ProbeError> {
    let to = SeekTo::Timestamp {
        ts: Timestamp::new(0),
        track_id: track.id,
    };
    reader
        .seek(SeekMode::Accurate, to)
        .map(|_| ())
        .map_err(|e| ProbeError::Unplayable(format!("cannot read the media from its start ({e})")))
}

/// A source read as a live stream: no length, no seeking.
struct LiveStream<S>(S);

impl<S: MediaSource> io::Read for LiveStream<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<S: MediaSource> io::Seek for LiveStream<S> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.0.seek(pos)
    }
}

impl<S: MediaSource> MediaSource for LiveStream<S> {
    fn is_seekable(&self) -> bool {
        false
    }

    fn byte_len(&self) -> Option<u64> {
        None
    }
}

/// symphonia's probe limited to the demuxers of the container the sniff decided, and the ID3 tags
/// around it. symphonia's default probe opens whichever format marker it meets first, however
/// deep in the file: an MP3 carrying a WAV header in its data was opened as that WAV, past the
/// checks made on the container the file starts with (fuzzer input
/// `tests/fuzz/regressions/crash-9383…`).
fn demuxers(kind: Kind) -> &'static Probe {
    use symphonia::default::{formats as demux, meta};
    fn with_tags(register: fn(&mut Probe)) -> Probe {
        let mut probe = Probe::new();
        probe.register_metadata::<meta::Id3v1Reader<'_>>();
        probe.register_metadata::<meta::Id3v2Reader<'_>>();
        register(&mut probe);
        probe
    }
    // The sniff tells MPEG audio from ADTS by their first frames; after an ID3 tag with no frame
    // in sight it says MPEG, and symphonia looks further for either.
    static ELEMENTARY: LazyLock<Probe> = LazyLock::new(|| {
        with_tags(|p| {
            p.register_format::<demux::MpaReader<'_>>();
            p.register_format::<demux::AdtsReader<'_>>();
        })
    });
    static FLAC: LazyLock<Probe> =
        LazyLock::new(|| with_tags(|p| p.register_format::<demux::FlacReader<'_>>()));
    static OGG: LazyLock<Probe> =
        LazyLock::new(|| with_tags(|p| p.register_format::<demux::OggReader<'_>>()));
    static WAV: LazyLock<Probe> =
        LazyLock::new(|| with_tags(|p| p.register_format::<demux::WavReader<'_>>()));
    static ISO_MP4: LazyLock<Probe> =
        LazyLock::new(|| with_tags(|p| p.register_format::<demux::IsoMp4Reader<'_>>()));
    static MATROSKA: LazyLock<Probe> =
        LazyLock::new(|| with_tags(|p| p.register_format::<demux::MkvReader<'_>>()));
    match kind {
        Kind::Mpeg | Kind::Adts => &ELEMENTARY,
        Kind::Flac => &FLAC,
        Kind::Ogg => &OGG,
        Kind::Wav => &WAV,
        Kind::IsoMp4 { .. } => &ISO_MP4,
        Kind::Matroska { .. } => &MATROSKA,
    }
}

fn open_error(kind: Kind, error: &DemuxError) -> ProbeError {
    let label = match kind {
        // For MPEG audio the sniff has at most seen an ID3 tag; symphonia failing to open the
        // stream means it found no frame after it.
        Kind::Mpeg => return ProbeError::Unplayable("no audio frames found".into()),
        Kind::Adts => "AAC",
        Kind::Flac => "FLAC",
        Kind::Ogg => "Ogg",
        Kind::Wav => "WAV",
        Kind::IsoMp4 { quicktime: false } => "MP4",
        Kind::IsoMp4 { quicktime: true } => "QuickTime",
        Kind::Matroska { webm: true } => "WebM",
        Kind::Matroska { webm: false } => "Matroska",
    };
    ProbeError::Unplayable(format!("damaged or truncated {label} file ({error})"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Mp3,
    Aac,
    Flac,
    Ogg,
    Wav,
    Mp4,
    Mov,
    Webm,
    Mkv,
}

impl Container {
    /// Trusts the demuxer symphonia chose over the sniff, and the sniff for what only it read.
    fn of(format: symphonia::core::formats::FormatId, sniffed: &Sniffed) -> Option<Container> {
        let container = if [
            formats::FORMAT_ID_MP1,
            formats::FORMAT_ID_MP2,
            formats::FORMAT_ID_MP3,
        ]
        .contains(&format)
        {
            Container::Mp3
        } else if format == formats::FORMAT_ID_ADTS {
            Container::Aac
        } else if format == formats::FORMAT_ID_FLAC {
            Container::Flac
        } else if format == formats::FORMAT_ID_OGG {
            Container::Ogg
        } else if format == formats::FORMAT_ID_WAVE {
            Container::Wav
        } else if format == formats::FORMAT_ID_ISOMP4 {
            match sniffed.kind {
                Kind::IsoMp4 { quicktime: true } => Container::Mov,
                _ => Container::Mp4,
            }
        } else if format == formats::FORMAT_ID_MKV {
            match sniffed.kind {
                Kind::Matroska { webm: true } => Container::Webm,
                _ => Container::Mkv,
            }
        } else {
            return None;
        };
        Some(container)
    }

    fn name(self) -> &'static str {
        match self {
            Container::Mp3 => "mp3",
            Container::Aac => "aac",
            Container::Flac => "flac",
            Container::Ogg => "ogg",
            Container::Wav => "wav",
            Container::Mp4 => "mp4",
            Container::Mov => "mov",
            Container::Webm => "webm",
            Container::Mkv => "mkv",
        }
    }

    fn mime_and_extension(
        self,
        has_video: bool,
        audio: Option<&AudioInfo>,
    ) -> (&'static str, &'static str) {
        match (self, has_video) {
            (Container::Mp3, _) => ("audio/mpeg", "mp3"),
            (Container::Aac, _) => ("audio/aac", "aac"),
            (Container::Flac, _) => ("audio/flac", "flac"),
            (Container::Wav, _) => ("audio/wav", "wav"),
            (Container::Ogg, _) if audio.is_some_and(|a| a.codec == "opus") => {
                ("audio/opus", "opus")
            }
            (Container::Ogg, _) => ("audio/ogg", "ogg"),
            (Container::Mp4, true) => ("video/mp4", "mp4"),
            (Container::Mp4, false) => ("audio/mp4", "m4a"),
            (Container::Mov, _) => ("video/quicktime", "mov"),
            (Container::Webm, true) => ("video/webm", "webm"),
            (Container::Webm, false) => ("audio/webm", "webm"),
            (Container::Mkv, true) => ("video/x-matroska", "mkv"),
            (Container::Mkv, false) => ("audio/x-matroska", "mkv"),
        }
    }
}

/// A video track that moves: MP4 files may carry cover art or chapter images as single-picture
/// JPEG tracks, which do not make an audio file a video.
fn is_moving_picture(track: &Track) -> bool {
    match &track.codec_params {
        Some(CodecParameters::Video(params)) => {
            params.codec != video_codecs::CODEC_ID_MJPEG
                && params.codec != symphonia::core::codecs::video::CODEC_ID_NULL_VIDEO
        }
        _ => false,
    }
}

fn time_ms(time: Time) -> u64 {
    u64::try_from((time.as_nanos() + 500_000) / 1_000_000).unwrap_or(0)
}

fn duration_ms(time_base: TimeBase, duration: Duration) -> Option<u64> {
    time_base.calc_duration(duration).map(time_ms)
}

fn seconds(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// The duration the container's header states: the whole media's if it has one, else the
/// longest track's.
fn header_duration_ms(reader: &dyn FormatReader, tracks: &[Track]) -> Option<u64> {
    let media = reader.media_info();
    if let (Some(time_base), Some(duration)) = (media.time_base, media.duration) {
        return duration_ms(time_base, duration);
    }
    tracks
        .iter()
        .filter_map(|t| {
            let time_base = t.time_base?;
            let duration = t.duration.or_else(|| t.num_frames.map(Duration::from))?;
            duration_ms(time_base, duration)
        })
        .max()
}

#[derive(Debug, Default)]
struct TrackScan {
    packets: u64,
    first_pts: Option<Timestamp>,
    last_pts: Option<Timestamp>,
    end: Option<Timestamp>,
    longest_packet: Duration,
}

#[derive(Debug, Default)]
struct Scan {
    packets: u64,
    tracks: HashMap<u32, TrackScan>,
    /// What ended the scan early, if it was not the end of the stream.
    error: Option<DemuxError>,
}

impl Scan {
    /// Where the last packet of the longest track ends.
    fn end_ms(&self, tracks: &[Track]) -> u64 {
        tracks
            .iter()
            .filter_map(|t| {
                let end = self.tracks.get(&t.id)?.end?;
                t.time_base?.calc_time(end).map(time_ms)
            })
            .max()
            .unwrap_or(0)
    }
}

/// Reads up to `limit` packets without decoding them.
fn scan_packets(reader: &mut dyn FormatReader, tracks: &[Track], limit: u64) -> Scan {
    let opus_tracks: HashMap<u32, TimeBase> = tracks
        .iter()
        .filter(|t| {
            matches!(&t.codec_params, Some(CodecParameters::Audio(a)) if a.codec == audio_codecs::CODEC_ID_OPUS)
        })
        .filter_map(|t| Some((t.id, t.time_base?)))
        .collect();
    let mut scan = Scan::default();
    while scan.packets < limit {
        let packet = match reader.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // A stream cut off mid-packet simply ends there; the duration check says how much is
            // missing. A chained Ogg stream's next link is not part of this recording's length.
            Err(DemuxError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(DemuxError::ResetRequired) => break,
            Err(e) => {
                scan.error = Some(e);
                break;
            }
        };
        scan.packets += 1;
        let mut dur = packet.dur;
        // Matroska gives Opus packets no duration; the packet's TOC byte states it.
        if dur.is_zero()
            && let Some(time_base) = opus_tracks.get(&packet.track_id)
        {
            dur = opus_packet_duration(&packet.data, *time_base).unwrap_or(dur);
        }
        let track = scan.tracks.entry(packet.track_id).or_default();
        track.packets += 1;
        track.first_pts = Some(track.first_pts.map_or(packet.pts, |t| t.min(packet.pts)));
        track.last_pts = Some(track.last_pts.map_or(packet.pts, |t| t.max(packet.pts)));
        let end = packet.pts.saturating_add(dur);
        track.end = Some(track.end.map_or(end, |t| t.max(end)));
        track.longest_packet = track.longest_packet.max(dur);
    }
    scan
}

/// The duration of an Opus packet (RFC 6716, section 3.1) in `time_base` units.
fn opus_packet_duration(data: &[u8], time_base: TimeBase) -> Option<Duration> {
    let toc = *data.first()?;
    let config = usize::from(toc >> 3);
    // Frame sizes in 48 kHz samples: SILK 10/20/40/60 ms, hybrid 10/20 ms, CELT 2.5/5/10/20 ms.
    let frame = match config {
        0..=11 => [480, 960, 1920, 2880][config % 4],
        12..=15 => [480, 960][config % 2],
        _ => [120, 240, 480, 960][config % 4],
    };
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => u64::from(*data.get(1)? & 0x3F),
    };
    let samples = u128::from(frame * frames);
    let numer = u128::from(time_base.numer.get());
    let denom = u128::from(time_base.denom.get());
    u64::try_from(samples * denom / (48_000 * numer))
        .ok()
        .map(Duration::from)
}

/// MPEG audio's length from the frames actually present. The header's figure is either the
/// encoder's frame count (wrong when the upload was cut short) or symphonia's guess from the
/// first frames' bit rate (wrong for VBR), so it is only used to notice a cut.
fn mpeg_duration_ms(
    track: &Track,
    scan: &Scan,
    counted_by_encoder: bool,
    warnings: &mut Vec<String>,
) -> u64 {
    let Some(time_base) = track.time_base else {
        return 0;
    };
    let Some(frames) = scan.tracks.get(&track.id) else {
        return 0;
    };
    // Every frame of one MPEG stream holds the same number of samples; the longest packet is one
    // that no delay or padding trimmed. (The packets' own trimmed durations are not used: with a
    // guessed length symphonia trims everything past the guess.)
    let decoded = frames.packets.saturating_mul(frames.longest_packet.get());
    let delay = u64::from(track.delay.unwrap_or(0));
    let padding = u64::from(track.padding.unwrap_or(0));
    let present = decoded.saturating_sub(delay);
    let to_ms = |samples: u64| duration_ms(time_base, Duration::from(samples)).unwrap_or(0);
    let present_ms = to_ms(present);
    if let Some(header) = track.num_frames.filter(|_| counted_by_encoder) {
        let header_ms = to_ms(header);
        if header_ms > present_ms + TRUNCATION_SLACK_MS {
            warnings.push(shorter_than_header(present_ms, header_ms));
            // The encoder's padding sits at the end that is missing.
            return present_ms;
        }
    }
    to_ms(present.saturating_sub(padding))
}

/// Chooses between a header's duration and the scanned one. The header is the muxer's exact
/// figure (it knows the trimmed padding a packet scan cannot see), unless the file disagrees.
fn reconcile(header_ms: Option<u64>, scanned_ms: u64, warnings: &mut Vec<String>) -> u64 {
    match header_ms {
        Some(header) if header > scanned_ms + TRUNCATION_SLACK_MS => {
            warnings.push(shorter_than_header(scanned_ms, header));
            scanned_ms
        }
        // Recorders that stream (browsers' MediaRecorder) write a placeholder or nothing.
        Some(header) if header > 0 && scanned_ms <= header + TRUNCATION_SLACK_MS => header,
        _ => scanned_ms,
    }
}

fn shorter_than_header(present_ms: u64, header_ms: u64) -> String {
    format!(
        "file is shorter than its header says ({} of {})",
        seconds(present_ms),
        seconds(header_ms)
    )
}

fn audio_info(track: &Track) -> Option<AudioInfo> {
    let Some(CodecParameters::Audio(params)) = &track.codec_params else {
        return None;
    };
    // Opus always decodes at 48 kHz; the rate in its header is only the original input's.
    let sample_rate = if params.codec == audio_codecs::CODEC_ID_OPUS {
        Some(48_000)
    } else {
        params.sample_rate
    };
    Some(AudioInfo {
        codec: audio_codec_name(params.codec).into(),
        sample_rate,
        channels: params
            .channels
            .as_ref()
            .and_then(|c| u32::try_from(c.count()).ok()),
    })
}

fn video_info(track: &Track, scan: Option<&TrackScan>) -> Option<VideoInfo> {
    let Some(CodecParameters::Video(params)) = &track.codec_params else {
        return None;
    };
    Some(VideoInfo {
        codec: video_codec_name(params.codec).into(),
        width: params.width.map(u32::from),
        height: params.height.map(u32::from),
        frame_rate: scan
            .zip(track.time_base)
            .and_then(|(scan, tb)| frame_rate(scan, tb)),
    })
}

/// Frames per second from the spread of the video packets' timestamps: N frames span N - 1
/// frame intervals from the first to the last.
fn frame_rate(scan: &TrackScan, time_base: TimeBase) -> Option<f64> {
    let (first, last) = (scan.first_pts?, scan.last_pts?);
    if scan.packets < 2 {
        return None;
    }
    let span = time_base.calc_time(last)?.as_secs_f64() - time_base.calc_time(first)?.as_secs_f64();
    if span <= 0.0 {
        return None;
    }
    Some(snap_frame_rate((scan.packets - 1) as f64 / span))
}

/// Millisecond timestamps (Matroska) blur 29.97 into 29.96 or 29.98; snaps to the nominal rate
/// when within 0.1 %, else rounds to three decimals.
fn snap_frame_rate(rate: f64) -> f64 {
    const NOMINAL: [f64; 9] = [
        24000.0 / 1001.0,
        24.0,
        25.0,
        30000.0 / 1001.0,
        30.0,
        48.0,
        50.0,
        60000.0 / 1001.0,
        60.0,
    ];
    let rate = NOMINAL
        .iter()
        .copied()
        .filter(|n| (rate - n).abs() <= n * 0.001)
        // 23.99 is within 0.1 % of both 23.976 and 24: the nearer one.
        .min_by(|a, b| (rate - a).abs().total_cmp(&(rate - b).abs()))
        .unwrap_or(rate);
    (rate * 1000.0).round() / 1000.0
}

pub(in crate::media) fn audio_codec_name(codec: AudioCodecId) -> &'static str {
    use audio_codecs::*;
    match codec {
        CODEC_ID_MP1 => "mp1",
        CODEC_ID_MP2 => "mp2",
        CODEC_ID_MP3 => "mp3",
        CODEC_ID_AAC => "aac",
        CODEC_ID_OPUS => "opus",
        CODEC_ID_VORBIS => "vorbis",
        CODEC_ID_FLAC => "flac",
        CODEC_ID_ALAC => "alac",
        CODEC_ID_SPEEX => "speex",
        CODEC_ID_AC3 => "ac3",
        CODEC_ID_EAC3 => "eac3",
        CODEC_ID_WAVPACK => "wavpack",
        CODEC_ID_ADPCM_MS => "adpcm_ms",
        CODEC_ID_ADPCM_IMA_WAV => "adpcm_ima_wav",
        CODEC_ID_ADPCM_IMA_QT => "adpcm_ima_qt",
        CODEC_ID_PCM_ALAW => "pcm_alaw",
        CODEC_ID_PCM_MULAW => "pcm_mulaw",
        CODEC_ID_PCM_S8 | CODEC_ID_PCM_S8_PLANAR => "pcm_s8",
        CODEC_ID_PCM_U8 | CODEC_ID_PCM_U8_PLANAR => "pcm_u8",
        CODEC_ID_PCM_S16LE | CODEC_ID_PCM_S16LE_PLANAR => "pcm_s16le",
        CODEC_ID_PCM_S16BE | CODEC_ID_PCM_S16BE_PLANAR => "pcm_s16be",
        CODEC_ID_PCM_U16LE | CODEC_ID_PCM_U16LE_PLANAR => "pcm_u16le",
        CODEC_ID_PCM_U16BE | CODEC_ID_PCM_U16BE_PLANAR => "pcm_u16be",
        CODEC_ID_PCM_S24LE | CODEC_ID_PCM_S24LE_PLANAR => "pcm_s24le",
        CODEC_ID_PCM_S24BE | CODEC_ID_PCM_S24BE_PLANAR => "pcm_s24be",
        CODEC_ID_PCM_U24LE | CODEC_ID_PCM_U24LE_PLANAR => "pcm_u24le",
        CODEC_ID_PCM_U24BE | CODEC_ID_PCM_U24BE_PLANAR => "pcm_u24be",
        CODEC_ID_PCM_S32LE | CODEC_ID_PCM_S32LE_PLANAR => "pcm_s32le",
        CODEC_ID_PCM_S32BE | CODEC_ID_PCM_S32BE_PLANAR => "pcm_s32be",
        CODEC_ID_PCM_U32LE | CODEC_ID_PCM_U32LE_PLANAR => "pcm_u32le",
        CODEC_ID_PCM_U32BE | CODEC_ID_PCM_U32BE_PLANAR => "pcm_u32be",
        CODEC_ID_PCM_F32LE | CODEC_ID_PCM_F32LE_PLANAR => "pcm_f32le",
        CODEC_ID_PCM_F32BE | CODEC_ID_PCM_F32BE_PLANAR => "pcm_f32be",
        CODEC_ID_PCM_F64LE | CODEC_ID_PCM_F64LE_PLANAR => "pcm_f64le",
        CODEC_ID_PCM_F64BE | CODEC_ID_PCM_F64BE_PLANAR => "pcm_f64be",
        _ => "unknown",
    }
}

fn video_codec_name(codec: VideoCodecId) -> &'static str {
    use video_codecs::*;
    match codec {
        CODEC_ID_H264 => "h264",
        CODEC_ID_HEVC => "hevc",
        CODEC_ID_VVC => "vvc",
        CODEC_ID_VP8 => "vp8",
        CODEC_ID_VP9 => "vp9",
        CODEC_ID_AV1 => "av1",
        CODEC_ID_MPEG4 => "mpeg4",
        CODEC_ID_MPEG2 => "mpeg2video",
        CODEC_ID_MPEG1 => "mpeg1video",
        CODEC_ID_H263 => "h263",
        CODEC_ID_THEORA => "theora",
        CODEC_ID_MJPEG => "mjpeg",
        _ => "unknown",
    }
}

/// The fields of one metadata revision that Siaran keeps.
#[derive(Debug, Default)]
struct Fields {
    title: Option<String>,
    artist: Option<String>,
    album_artist: Option<String>,
    album: Option<String>,
    comment: Option<String>,
    full_date: Option<String>,
    year: Option<u16>,
    /// ID3v2.3 keeps the day and month ("DDMM") apart from the year.
    day_month: Option<String>,
}

/// Tags and artwork from every metadata revision, newest first. `skip_to_latest` alone would drop
/// an older revision's fields: an MP3's trailing ID3v1 tag is read before its leading ID3v2 tag.
fn read_metadata(
    reader: &mut dyn FormatReader,
    segment_title: Option<String>,
) -> (Tags, Option<Artwork>) {
    let mut metadata = reader.metadata();
    let mut revisions: Vec<MetadataRevision> = std::iter::from_fn(|| metadata.pop()).collect();
    revisions.extend(metadata.current().cloned());
    revisions.reverse();

    let mut merged = Fields::default();
    for revision in &revisions {
        let fields = revision_fields(revision);
        merged.title = merged.title.or(fields.title);
        merged.artist = merged.artist.or(fields.artist);
        merged.album_artist = merged.album_artist.or(fields.album_artist);
        merged.album = merged.album.or(fields.album);
        merged.comment = merged.comment.or(fields.comment);
        merged.full_date = merged.full_date.or(fields.full_date);
        merged.year = merged.year.or(fields.year);
        merged.day_month = merged.day_month.or(fields.day_month);
    }
    let tags = Tags {
        title: merged.title.or(segment_title),
        artist: merged.artist.or(merged.album_artist),
        album: merged.album,
        date: merged.full_date.or_else(|| {
            let year = merged.year?;
            Some(
                merged
                    .day_month
                    .as_deref()
                    .and_then(|dm| ymd(year, dm))
                    .unwrap_or_else(|| year.to_string()),
            )
        }),
        comment: merged.comment,
    };
    (tags, artwork(&revisions))
}

fn ymd(year: u16, day_month: &str) -> Option<String> {
    let day: u8 = day_month.get(..2)?.parse().ok()?;
    let month: u8 = day_month.get(2..4)?.parse().ok()?;
    ((1..=31).contains(&day) && (1..=12).contains(&month) && day_month.len() == 4)
        .then(|| format!("{year:04}-{month:02}-{day:02}"))
}

fn revision_fields(revision: &MetadataRevision) -> Fields {
    let mut fields = Fields::default();
    for tag in &revision.media.tags {
        let set = |slot: &mut Option<String>, value: &str| {
            let value = value.trim();
            if slot.is_none() && !value.is_empty() {
                *slot = Some(value.to_owned());
            }
        };
        match &tag.std {
            Some(StandardTag::TrackTitle(s)) => set(&mut fields.title, s),
            Some(StandardTag::Artist(s)) => set(&mut fields.artist, s),
            Some(StandardTag::AlbumArtist(s)) => set(&mut fields.album_artist, s),
            Some(StandardTag::Album(s)) => set(&mut fields.album, s),
            // iTunes hides its loudness and gapless data in COMM frames named "iTun...".
            Some(StandardTag::Comment(s)) if !is_itunes_comment(tag) => set(&mut fields.comment, s),
            Some(StandardTag::RecordingDate(s)) if tag.raw.key == "TDAT" => {
                fields.day_month.get_or_insert_with(|| s.trim().to_owned());
            }
            Some(
                StandardTag::ReleaseDate(s)
                | StandardTag::ReleaseTime(s)
                | StandardTag::RecordingDate(s)
                | StandardTag::RecordingTime(s)
                | StandardTag::OriginalReleaseDate(s),
            ) if s
                .trim()
                .get(..4)
                .is_some_and(|y| y.bytes().all(|b| b.is_ascii_digit())) =>
            {
                set(&mut fields.full_date, s)
            }
            Some(StandardTag::RecordingYear(y) | StandardTag::ReleaseYear(y)) => {
                fields.year.get_or_insert(*y);
            }
            Some(_) => {}
            None => {
                // Tags symphonia leaves unmapped: Matroska's "TARGET@NAME" keys and ID3 TXXX
                // frames named after a field.
                let name = tag
                    .raw
                    .sub_fields
                    .iter()
                    .flatten()
                    .find(|f| tag.raw.key == "TXXX" && f.field == "DESCRIPTION")
                    .map(|f| f.value.to_string())
                    .unwrap_or_else(|| {
                        tag.raw
                            .key
                            .rsplit('@')
                            .next()
                            .unwrap_or_default()
                            .to_owned()
                    })
                    .to_ascii_uppercase();
                let value = match &tag.raw.value {
                    RawValue::String(s) => s.to_string(),
                    RawValue::StringList(list) => list.join("; "),
                    _ => continue,
                };
                match name.as_str() {
                    "TITLE" => set(&mut fields.title, &value),
                    "ARTIST" => set(&mut fields.artist, &value),
                    "ALBUM" => set(&mut fields.album, &value),
                    "COMMENT" | "DESCRIPTION" => set(&mut fields.comment, &value),
                    "DATE" | "DATE_RELEASED" | "DATE_RECORDED" => {
                        set(&mut fields.full_date, &value)
                    }
                    _ => {}
                }
            }
        }
    }
    fields
}

fn is_itunes_comment(tag: &Tag) -> bool {
    tag.raw
        .sub_fields
        .iter()
        .flatten()
        .any(|f| f.field == "SHORT_DESCRIPTION" && f.value.to_string().starts_with("iTun"))
}

/// The front cover if one is marked as such, else the first picture, from the newest revision
/// that has any.
fn artwork(revisions: &[MetadataRevision]) -> Option<Artwork> {
    let visuals = &revisions
        .iter()
        .find(|r| !r.media.visuals.is_empty())?
        .media
        .visuals;
    let visual = visuals
        .iter()
        .find(|v| v.usage == Some(StandardVisualKey::FrontCover))
        .or_else(|| visuals.first())?;
    let declared = visual
        .media_type
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty());
    Some(picture(
        &visual.data,
        declared,
        visual.dimensions.map(|d| (d.width, d.height)),
    ))
}

/// An embedded picture's type and size, read from the image's own header.
fn picture(data: &[u8], declared: Option<&str>, dimensions: Option<(u32, u32)>) -> Artwork {
    let header = image::image_header(data);
    Artwork {
        // The bytes are the better witness: taggers write "image/jpg" or nothing at all.
        mime_type: header
            .as_ref()
            .map(|h| h.mime_type)
            .or(declared)
            .unwrap_or("application/octet-stream")
            .to_owned(),
        width: header
            .as_ref()
            .and_then(|h| h.width)
            .or(dimensions.map(|d| d.0)),
        height: header
            .as_ref()
            .and_then(|h| h.height)
            .or(dimensions.map(|d| d.1)),
        size_bytes: data.len() as u64,
    }
}
