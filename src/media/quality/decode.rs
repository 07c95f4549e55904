//! Decoding a file's audio track once, packet by packet, into a sink: the quality analysis's
//! meter, or the acoustic fingerprint (`media::fingerprint`). Owns the decisions about a damaged
//! stream: a packet that does not decode is skipped and counted, a demuxer that fails ends the
//! decoding where the file stops playing, and a change of sample rate or channels mid-stream
//! (concatenated files) ends it there too.

use std::io;
use std::sync::OnceLock;

use symphonia::core::audio::Channels;
use symphonia::core::codecs::CodecParameters;
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::codecs::registry::CodecRegistry;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::TrackType;
use symphonia::core::units::Duration;

use super::QualityError;
use super::meter::{Measured, Meter};
use super::opus::OpusDecoder;
use crate::domain::quality::QualityConfig;
use crate::media::probe::{ForDecoding, audio_codec_name};

/// Why decoding ended before the end of the stream.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::media) enum Stop {
    /// The demuxer or decoder failed for good (damaged or cut data).
    Damaged(String),
    /// The sample rate or the number of channels changed.
    FormatChanged,
}

pub(super) struct Decoded {
    pub measured: Measured,
    pub stop: Option<Stop>,
    /// Packets that did not decode and were skipped.
    pub damaged_packets: u64,
    pub header_ms: Option<u64>,
    pub cut_short: bool,
}

/// What `decode_into` hands back: the sink, fed with every decoded buffer, and how decoding
/// ended.
pub(in crate::media) struct DecodedInto<S> {
    pub sink: S,
    /// The codec's short name, for messages.
    pub codec: &'static str,
    pub stop: Option<Stop>,
    /// Packets that did not decode and were skipped.
    pub damaged_packets: u64,
    pub header_ms: Option<u64>,
    pub cut_short: bool,
}

/// symphonia's decoders, and Opus, which symphonia demuxes but does not decode.
fn codecs() -> &'static CodecRegistry {
    static CODECS: OnceLock<CodecRegistry> = OnceLock::new();
    CODECS.get_or_init(|| {
        let mut codecs = CodecRegistry::new();
        symphonia::default::register_enabled_codecs(&mut codecs);
        codecs.register_audio_decoder::<OpusDecoder>();
        codecs
    })
}

/// Decodes the default audio track of `opened` to its end (or where it stops playing), feeding
/// every decoded buffer to a meter.
pub(super) fn decode(opened: ForDecoding, cfg: &QualityConfig) -> Result<Decoded, QualityError> {
    let decoded = decode_into(
        opened,
        |rate, layout, channels| {
            Meter::new(rate, layout, channels, cfg.clipping_min_run).map_err(|e| e.to_string())
        },
        |meter, planes, frames| meter.add(planes, frames).map_err(|e| e.to_string()),
    )?;
    let codec = decoded.codec;
    let measured = decoded
        .sink
        .finish()
        .map_err(|e| QualityError::Unsupported(format!("{codec} ({e})")))?;
    Ok(Decoded {
        measured,
        stop: decoded.stop,
        damaged_packets: decoded.damaged_packets,
        header_ms: decoded.header_ms,
        cut_short: decoded.cut_short,
    })
}

/// Decodes the default audio track of `opened` to its end (or where it stops playing): the sink
/// is made by `make` (sample rate, channel layout, channel count) at the first decoded buffer,
/// and `add` gets every decoded buffer as planes of `f32` (non-finite samples zeroed) with its
/// frame count. A failure of `make` or `add` is reported as audio that cannot be decoded.
pub(in crate::media) fn decode_into<S>(
    opened: ForDecoding,
    mut make: impl FnMut(u32, &Channels, usize) -> Result<S, String>,
    mut add: impl FnMut(&mut S, &[Vec<f32>], usize) -> Result<(), String>,
) -> Result<DecodedInto<S>, QualityError> {
    let ForDecoding {
        mut reader,
        trim_end_trusted,
        header_ms,
        cut_short,
    } = opened;
    let track = reader
        .default_track(TrackType::Audio)
        .cloned()
        .ok_or_else(|| QualityError::NoAudio("the file has no audio track".into()))?;
    let Some(CodecParameters::Audio(params)) = &track.codec_params else {
        return Err(QualityError::NoAudio("the file has no audio track".into()));
    };
    let codec = audio_codec_name(params.codec);
    let mut decoder = codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|_| QualityError::Unsupported(codec.into()))?;

    let mut meter: Option<(S, u32, usize)> = None;
    let mut planes: Vec<Vec<f32>> = Vec::new();
    let mut damaged_packets = 0u64;
    let mut first_error: Option<String> = None;
    let stop = loop {
        let mut packet = match reader.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break None,
            // A file cut off mid-packet ends there; the header says whether that is early. A
            // chained Ogg stream's next link is another recording.
            Err(SymphoniaError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                break None;
            }
            Err(SymphoniaError::ResetRequired) => break None,
            Err(e) => break Some(Stop::Damaged(e.to_string())),
        };
        if packet.track_id != track.id {
            continue;
        }
        if !trim_end_trusted {
            packet.trim_end = Duration::ZERO;
        }
        let buffer = match decoder.decode(&packet) {
            Ok(buffer) => buffer,
            Err(SymphoniaError::DecodeError(e)) => {
                damaged_packets += 1;
                first_error.get_or_insert_with(|| e.to_string());
                continue;
            }
            Err(SymphoniaError::Unsupported(what)) if meter.is_none() => {
                return Err(QualityError::Unsupported(format!("{codec} ({what})")));
            }
            Err(e) => break Some(Stop::Damaged(e.to_string())),
        };
        let frames = buffer.frames();
        let spec = buffer.spec().clone();
        let channels = spec.channels().count();
        if frames == 0 || channels == 0 || spec.rate() == 0 {
            continue;
        }
        buffer.copy_to_vecs_planar::<f32>(&mut planes);
        for plane in &mut planes {
            // A decoder's garbage on damaged data must not poison every sum after it.
            for s in plane.iter_mut().filter(|s| !s.is_finite()) {
                *s = 0.0;
            }
        }
        let sink = match &mut meter {
            Some((s, rate, count)) if *rate == spec.rate() && *count == channels => s,
            Some(_) => break Some(Stop::FormatChanged),
            None => {
                let made = make(spec.rate(), spec.channels(), channels)
                    .map_err(|e| QualityError::Unsupported(format!("{codec} ({e})")))?;
                &mut meter.insert((made, spec.rate(), channels)).0
            }
        };
        add(sink, &planes, frames)
            .map_err(|e| QualityError::Unsupported(format!("{codec} ({e})")))?;
    };

    let Some((sink, _, _)) = meter else {
        let why = match (&stop, first_error) {
            (Some(Stop::Damaged(e)), _) => format!("no {codec} audio could be decoded ({e})"),
            (_, Some(e)) => format!("no {codec} audio could be decoded ({e})"),
            _ => format!("the {codec} track holds no audio"),
        };
        return Err(QualityError::NoAudio(why));
    };
    Ok(DecodedInto {
        sink,
        codec,
        stop,
        damaged_packets,
        header_ms,
        cut_short,
    })
}
