//! Opus for the analysis: symphonia 0.6 demuxes Opus from Ogg and Matroska/WebM but ships no
//! decoder, so this is one, over the `opus-pure` crate, registered beside symphonia's own in the
//! analysis' codec registry (`decode::codecs`). Only the analysis uses it; the probe reads Opus
//! without decoding it.
//!
//! Owns what RFC 7845 asks of a player, wherever the packets come from: the identification
//! header (Ogg's first packet, Matroska's `CodecPrivate`) gives the channels, the mapping
//! family (0: mono or stereo; 1: up to 7.1 in Vorbis order, put here in symphonia's canonical
//! order), the output gain and the pre-skip. Output is always 48 kHz. The pre-skip is trimmed
//! from the start whether or not the demuxer says so: symphonia's Ogg reader marks it on the
//! first packets (`trim_start`), its Matroska reader does not; the end padding the Ogg reader
//! marks (`trim_end`) is trimmed too. Memory: one packet's samples (at most 120 ms).

use opus_pure::{ChannelLayout, OpusDecoder as Stream, OpusMSDecoder};
use symphonia::core::audio::{
    AsGenericAudioBufferRef, AudioBuffer, AudioMut, AudioSpec, Channels, GenericAudioBufferRef,
    Position,
};
use symphonia::core::codecs::CodecInfo;
use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;
use symphonia::core::codecs::audio::{
    AudioCodecParameters, AudioDecoder, AudioDecoderOptions, FinalizeResult,
};
use symphonia::core::codecs::registry::{RegisterableAudioDecoder, SupportedAudioCodec};
use symphonia::core::errors::{Error, Result, decode_error, unsupported_error};
use symphonia::core::packet::PacketRef;

/// Opus always decodes at 48 kHz; the rate in its header is only the original input's.
const RATE: u32 = 48_000;
/// The longest packet Opus codes: 120 ms.
const MAX_FRAMES: usize = 5_760;

const SUPPORTED: &[SupportedAudioCodec] = &[SupportedAudioCodec {
    id: CODEC_ID_OPUS,
    info: CodecInfo {
        short_name: "opus",
        long_name: "Opus (opus-pure)",
        profiles: &[],
    },
}];

/// The fields of an Opus identification header (RFC 7845, section 5.1) the decoder needs.
#[derive(Debug, Clone, PartialEq)]
struct Head {
    channels: usize,
    pre_skip: u16,
    /// Q7.8 dB, to be applied to the output.
    gain_q8: i16,
    family: u8,
}

impl Head {
    fn parse(data: &[u8]) -> Result<Head> {
        if data.len() < 19 || &data[..8] != b"OpusHead" {
            return decode_error("opus: no identification header");
        }
        // The upper four bits are the major version; only 0 is defined.
        if data[8] >> 4 != 0 {
            return unsupported_error("opus: identification header version");
        }
        let channels = usize::from(data[9]);
        let head = Head {
            channels,
            pre_skip: u16::from_le_bytes([data[10], data[11]]),
            gain_q8: i16::from_le_bytes([data[16], data[17]]),
            family: data[18],
        };
        match head.family {
            0 if (1..=2).contains(&channels) => Ok(head),
            0 => decode_error("opus: mapping family 0 with more than two channels"),
            1 => {
                let Ok(layout) = ChannelLayout::surround(channels, 1) else {
                    return decode_error("opus: mapping family 1 with more than eight channels");
                };
                // The streams and the mapping table follow; family 1 defines them, and a
                // header that says otherwise would decode some channels from the wrong stream.
                let table = data.get(19..21 + channels);
                let standard = table.is_some_and(|t| {
                    usize::from(t[0]) == layout.nb_streams
                        && usize::from(t[1]) == layout.nb_coupled_streams
                        && t[2..] == layout.mapping[..]
                });
                if standard {
                    Ok(head)
                } else {
                    unsupported_error("opus: a channel mapping other than Vorbis order")
                }
            }
            _ => unsupported_error("opus: channel mapping family (only 0 and 1)"),
        }
    }

    /// The channels' positions, and for each decoded channel (Vorbis order) the index of its
    /// plane in symphonia's canonical order (the order of the positions' bits).
    fn layout(&self) -> (Channels, &'static [usize]) {
        const FL: Position = Position::FRONT_LEFT;
        const FR: Position = Position::FRONT_RIGHT;
        const FC: Position = Position::FRONT_CENTER;
        const LFE: Position = Position::LFE1;
        const RL: Position = Position::REAR_LEFT;
        const RR: Position = Position::REAR_RIGHT;
        const RC: Position = Position::REAR_CENTER;
        const SL: Position = Position::SIDE_LEFT;
        const SR: Position = Position::SIDE_RIGHT;
        // RFC 7845 section 5.1.1.2, as symphonia's Ogg reader and Vorbis decoder lay them out.
        let (positions, order): (Position, &'static [usize]) = match self.channels {
            1 => (FL, &[0]),
            2 => (FL | FR, &[0, 1]),
            3 => (FL | FC | FR, &[0, 2, 1]),
            4 => (FL | FR | RL | RR, &[0, 1, 2, 3]),
            5 => (FL | FC | FR | RL | RR, &[0, 2, 1, 3, 4]),
            6 => (FL | FC | FR | RL | RR | LFE, &[0, 2, 1, 4, 5, 3]),
            7 => (FL | FC | FR | SL | SR | RC | LFE, &[0, 2, 1, 5, 6, 4, 3]),
            _ => (
                FL | FC | FR | SL | SR | RL | RR | LFE,
                &[0, 2, 1, 6, 7, 4, 5, 3],
            ),
        };
        (Channels::Positioned(positions), order)
    }
}

enum Streams {
    /// Mapping family 0: one stream, mono or stereo (10 KB of state, boxed like the other's).
    One(Box<Stream>),
    /// Mapping family 1: several streams, mixed to the header's channels.
    Many(OpusMSDecoder),
}

pub(super) struct OpusDecoder {
    params: AudioCodecParameters,
    gapless: bool,
    streams: Streams,
    /// Decoded channel (Vorbis order) to plane.
    order: &'static [usize],
    pre_skip: u16,
    /// Frames of the pre-skip not yet trimmed.
    to_skip: usize,
    interleaved: Vec<f32>,
    buf: AudioBuffer<f32>,
}

impl OpusDecoder {
    fn try_new(params: &AudioCodecParameters, opts: &AudioDecoderOptions) -> Result<Self> {
        if params.codec != CODEC_ID_OPUS {
            return unsupported_error("opus: not an Opus track");
        }
        let head = match &params.extra_data {
            Some(data) => Head::parse(data)?,
            // Matroska requires the header in `CodecPrivate`; without it, what the track says.
            None => match params.channels.as_ref().map(Channels::count) {
                Some(channels @ 1..=2) => Head {
                    channels,
                    pre_skip: 0,
                    gain_q8: 0,
                    family: 0,
                },
                _ => return unsupported_error("opus: no identification header"),
            },
        };
        let opus = |e: opus_pure::Error| {
            tracing::debug!(error = %e, "the Opus decoder refused the stream's header");
            Error::Unsupported("opus: the decoder refused the stream's header")
        };
        let streams = if head.family == 0 {
            let mut one = Stream::new(RATE as i32, head.channels).map_err(opus)?;
            one.gain_q8 = i32::from(head.gain_q8);
            Streams::One(Box::new(one))
        } else {
            let mut many = OpusMSDecoder::new(RATE as i32, head.channels, 1).map_err(opus)?;
            for stream in many.streams_mut() {
                stream.gain_q8 = i32::from(head.gain_q8);
            }
            Streams::Many(many)
        };
        let (channels, order) = head.layout();
        let mut params = params.clone();
        params
            .with_sample_rate(RATE)
            .with_channels(channels.clone());
        Ok(OpusDecoder {
            params,
            gapless: opts.gapless,
            streams,
            order,
            pre_skip: head.pre_skip,
            to_skip: usize::from(head.pre_skip),
            interleaved: vec![0.0; MAX_FRAMES * head.channels],
            buf: AudioBuffer::new(AudioSpec::new(RATE, channels), MAX_FRAMES),
        })
    }

    fn decode_inner(&mut self, packet: &PacketRef<'_>) -> Result<()> {
        self.buf.clear();
        // An empty packet would ask for concealment; a file has no lost packets to conceal.
        if packet.data.is_empty() {
            return decode_error("opus: empty packet");
        }
        let decoded = match &mut self.streams {
            Streams::One(one) => one.decode(packet.data, MAX_FRAMES, &mut self.interleaved),
            Streams::Many(many) => many.decode(packet.data, MAX_FRAMES, &mut self.interleaved),
        };
        let frames = match decoded {
            Ok(frames) => frames.min(MAX_FRAMES),
            Err(e) => {
                tracing::debug!(error = %e, "an Opus packet did not decode");
                return decode_error("opus: a packet did not decode");
            }
        };
        self.buf.render_uninit(Some(frames));
        let channels = self.order.len();
        for (decoded, &plane) in self.order.iter().enumerate() {
            let Some(plane) = self.buf.plane_mut(plane) else {
                return decode_error("opus: missing audio plane");
            };
            let samples = self.interleaved[..frames * channels]
                .iter()
                .skip(decoded)
                .step_by(channels);
            for (out, &sample) in plane.iter_mut().zip(samples) {
                *out = sample;
            }
        }
        if self.gapless {
            // The pre-skip, whether the demuxer marked it (Ogg) or not (Matroska).
            let skip = usize::try_from(packet.trim_start.get())
                .unwrap_or(usize::MAX)
                .max(self.to_skip.min(frames));
            self.to_skip = self.to_skip.saturating_sub(skip);
            let end = usize::try_from(packet.trim_end.get()).unwrap_or(usize::MAX);
            self.buf
                .trim(skip.min(frames), end.min(frames - skip.min(frames)));
        }
        Ok(())
    }
}

impl AudioDecoder for OpusDecoder {
    fn reset(&mut self) {
        let reset = match &mut self.streams {
            Streams::One(one) => one.reset_state(),
            Streams::Many(many) => many.reset_state(),
        };
        if let Err(e) = reset {
            tracing::debug!(error = %e, "resetting the Opus decoder failed");
        }
        // After a seek the decoder starts cold again: RFC 7845 wants the pre-roll discarded.
        self.to_skip = usize::from(self.pre_skip);
        self.buf.clear();
    }

    fn codec_info(&self) -> &CodecInfo {
        &SUPPORTED[0].info
    }

    fn codec_params(&self) -> &AudioCodecParameters {
        &self.params
    }

    fn decode_ref(&mut self, packet: &PacketRef<'_>) -> Result<GenericAudioBufferRef<'_>> {
        if let Err(e) = self.decode_inner(packet) {
            self.buf.clear();
            return Err(e);
        }
        Ok(self.buf.as_generic_audio_buffer_ref())
    }

    fn finalize(&mut self) -> FinalizeResult {
        FinalizeResult::default()
    }

    fn last_decoded(&self) -> GenericAudioBufferRef<'_> {
        self.buf.as_generic_audio_buffer_ref()
    }
}

impl RegisterableAudioDecoder for OpusDecoder {
    fn try_registry_new(
        params: &AudioCodecParameters,
        opts: &AudioDecoderOptions,
    ) -> Result<Box<dyn AudioDecoder>> {
        Ok(Box::new(OpusDecoder::try_new(params, opts)?))
    }

    fn supported_codecs() -> &'static [SupportedAudioCodec] {
        SUPPORTED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(channels: u8, family: u8, table: &[u8]) -> Vec<u8> {
        let mut h = b"OpusHead".to_vec();
        h.extend_from_slice(&[1, channels]);
        h.extend_from_slice(&312u16.to_le_bytes());
        h.extend_from_slice(&44_100u32.to_le_bytes());
        h.extend_from_slice(&(-256i16).to_le_bytes());
        h.push(family);
        h.extend_from_slice(table);
        h
    }

    #[test]
    fn the_identification_header_is_read_as_rfc_7845_defines_it() {
        assert_eq!(
            Head::parse(&head(2, 0, &[])).unwrap(),
            Head {
                channels: 2,
                pre_skip: 312,
                gain_q8: -256,
                family: 0
            }
        );
        // 5.1 in Vorbis order: four streams, two coupled.
        let surround = Head::parse(&head(6, 1, &[4, 2, 0, 4, 1, 2, 3, 5])).unwrap();
        assert_eq!(surround.channels, 6);
        let (channels, order) = surround.layout();
        assert_eq!(channels.count(), 6);
        assert_eq!(order, [0, 2, 1, 4, 5, 3]);

        for (bad, why) in [
            (head(3, 0, &[]), "family 0 is mono or stereo"),
            (head(6, 1, &[4, 2, 0, 1, 2, 3, 4, 5]), "not Vorbis order"),
            (head(6, 1, &[4, 2]), "table cut short"),
            (head(2, 2, &[]), "ambisonics"),
            (b"OpusHead".to_vec(), "too short"),
            (
                b"OpusTags\x01\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec(),
                "not a head",
            ),
        ] {
            assert!(Head::parse(&bad).is_err(), "{why}");
        }
    }
}
