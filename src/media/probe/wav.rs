//! A WAV file's format chunks, checked before symphonia reads them.
//!
//! symphonia trusts the fields of a `fmt ` chunk: with 32,768 channels of 16 bits it computes the
//! block size in 16 bits, which overflows (a panic in a debug build, a silent wrap to 0 in a
//! release one; `docs/upstream/symphonia-riff-overflow.md`). A format no player can play is
//! refused here first, naming the field, so symphonia only ever sees values it handles.
//! Owns only that check: symphonia still reads the file.

use std::io::{self, Read, Seek, SeekFrom};

use super::ProbeError;

/// Channels in one WAV stream. The format's channel mask has 32 speaker bits; symphonia maps at
/// most 26 channels. 32 channels of 64-bit samples are a 2,048-byte frame, far inside a `u16`.
const MAX_CHANNELS: u16 = 32;

/// Chunks read before the audio data. A real file has a handful (`fmt `, `fact`, `LIST`, `bext`,
/// `JUNK`); the cap bounds the seeks on hostile input.
const MAX_CHUNKS: usize = 1024;

const WAVE_FORMAT_PCM: u16 = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT: u16 = 0x0003;
const WAVE_FORMAT_ALAW: u16 = 0x0006;
const WAVE_FORMAT_MULAW: u16 = 0x0007;
const WAVE_FORMAT_EXTENSIBLE: u16 = 0xFFFE;

/// Checks every `fmt ` chunk before the `data` chunk of the RIFF header at `riff_at` (after any
/// ID3 tag: symphonia reads a WAV file behind one, fuzzer input
/// `tests/fuzz/regressions/crash-b62b…`), walking the chunks as symphonia does (each padded to an
/// even length). What is missing or cut short is left to symphonia to name.
pub(super) fn check_format<R: Read + Seek>(
    file: &mut R,
    riff_at: u64,
    file_len: u64,
) -> Result<(), ProbeError> {
    // After "RIFF", the RIFF size and "WAVE".
    let mut pos = riff_at + 12;
    for _ in 0..MAX_CHUNKS {
        // Padding follows a chunk of odd length: even relative to the RIFF header.
        pos += (pos - riff_at) & 1;
        let Some(header) = read_at::<_, 8>(file, pos)? else {
            return Ok(());
        };
        let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        match &header[..4] {
            b"data" => return Ok(()),
            b"fmt " if len < 16 => {
                return Err(damaged(&format!("a format chunk of {len} bytes")));
            }
            b"fmt " => {
                if let Some(fields) = read_at::<_, 16>(file, pos + 8)? {
                    check_fields(&fields).map_err(|why| damaged(&why))?;
                }
            }
            _ => {}
        }
        pos += 8 + u64::from(len);
        if pos >= file_len {
            return Ok(());
        }
    }
    Err(damaged(&format!(
        "more than {MAX_CHUNKS} chunks before the audio data"
    )))
}

fn damaged(why: &str) -> ProbeError {
    ProbeError::Unplayable(format!("damaged WAV file: {why}"))
}

/// The 16 bytes every format chunk starts with (`WAVEFORMAT` and its bits per sample).
fn check_fields(fmt: &[u8; 16]) -> Result<(), String> {
    let u16_at = |i: usize| u16::from_le_bytes([fmt[i], fmt[i + 1]]);
    let format = u16_at(0);
    let channels = u16_at(2);
    let sample_rate = u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]);
    let block_align = u16_at(12);
    let bits = u16_at(14);
    if !(1..=MAX_CHANNELS).contains(&channels) {
        return Err(format!("the format chunk declares {channels} channels"));
    }
    if sample_rate == 0 {
        return Err("the format chunk declares a sample rate of 0 Hz".into());
    }
    if block_align == 0 {
        return Err("the format chunk declares a block size of 0 bytes".into());
    }
    let uncompressed = matches!(
        format,
        WAVE_FORMAT_PCM
            | WAVE_FORMAT_IEEE_FLOAT
            | WAVE_FORMAT_ALAW
            | WAVE_FORMAT_MULAW
            | WAVE_FORMAT_EXTENSIBLE
    );
    if uncompressed {
        if !(1..=64).contains(&bits) {
            return Err(format!("the format chunk declares {bits} bits per sample"));
        }
        // A block holds at least one sample of each channel. A larger one is accepted: some
        // encoders write the frame's size in bits, and players (symphonia among them) go by the
        // channels and bits per sample.
        let frame = channels * bits.div_ceil(8);
        if block_align < frame {
            return Err(format!(
                "the format chunk declares a block size of {block_align} bytes, too small for \
                 {channels} channels of {bits} bits"
            ));
        }
    }
    Ok(())
}

/// `N` bytes at `pos`, or `None` when the file ends first.
fn read_at<R: Read + Seek, const N: usize>(
    file: &mut R,
    pos: u64,
) -> Result<Option<[u8; N]>, ProbeError> {
    file.seek(SeekFrom::Start(pos))?;
    let mut buf = [0u8; N];
    match file.read_exact(&mut buf) {
        Ok(()) => Ok(Some(buf)),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    /// A WAV file of `data_len` zero bytes after one format chunk.
    fn wav(format: u16, channels: u16, rate: u32, block_align: u16, bits: u16) -> Vec<u8> {
        let mut fmt = Vec::new();
        fmt.extend(format.to_le_bytes());
        fmt.extend(channels.to_le_bytes());
        fmt.extend(rate.to_le_bytes());
        fmt.extend((rate * u32::from(block_align)).to_le_bytes());
        fmt.extend(block_align.to_le_bytes());
        fmt.extend(bits.to_le_bytes());
        let data = [0u8; 64];
        let mut file = b"RIFF".to_vec();
        file.extend((4 + 8 + 16 + 8 + data.len() as u32).to_le_bytes());
        file.extend(b"WAVEfmt ");
        file.extend(16u32.to_le_bytes());
        file.extend(fmt);
        file.extend(b"data");
        file.extend((data.len() as u32).to_le_bytes());
        file.extend(data);
        file
    }

    fn check(file: &[u8]) -> Result<(), String> {
        check_format(&mut Cursor::new(file), 0, file.len() as u64).map_err(|e| e.to_string())
    }

    #[test]
    fn formats_players_can_read_pass() {
        assert_eq!(check(&wav(WAVE_FORMAT_PCM, 2, 44_100, 4, 16)), Ok(()));
        assert_eq!(check(&wav(WAVE_FORMAT_PCM, 1, 8_000, 1, 8)), Ok(()));
        assert_eq!(
            check(&wav(WAVE_FORMAT_IEEE_FLOAT, 6, 48_000, 24, 32)),
            Ok(())
        );
        // The frame's size in bits where its bytes belong: a known encoder slip players accept.
        assert_eq!(check(&wav(WAVE_FORMAT_PCM, 2, 44_100, 32, 16)), Ok(()));
        // MS ADPCM: the block size is the codec's, not a frame's.
        assert_eq!(check(&wav(0x0002, 1, 22_050, 256, 4)), Ok(()));
    }

    #[test]
    fn impossible_fields_are_named() {
        let cases = [
            (wav(WAVE_FORMAT_PCM, 32_768, 8_000, 0, 16), "32768 channels"),
            (wav(WAVE_FORMAT_PCM, 0, 8_000, 2, 16), "0 channels"),
            (wav(WAVE_FORMAT_PCM, 1, 0, 2, 16), "a sample rate of 0 Hz"),
            (wav(0x0002, 1, 8_000, 0, 4), "a block size of 0 bytes"),
            (wav(WAVE_FORMAT_PCM, 2, 8_000, 4, 0), "0 bits per sample"),
            (
                wav(WAVE_FORMAT_PCM, 2, 8_000, 4, 128),
                "128 bits per sample",
            ),
            (
                wav(WAVE_FORMAT_PCM, 2, 8_000, 2, 16),
                "a block size of 2 bytes, too small for 2 channels of 16 bits",
            ),
        ];
        for (file, why) in cases {
            let error = check(&file).expect_err(why);
            assert!(error.starts_with("damaged WAV file: "), "{error}");
            assert!(error.contains(why), "{error}");
        }
    }

    #[test]
    fn a_format_chunk_after_other_chunks_is_found() {
        // A LIST chunk of odd length (padded) before the format chunk.
        let forty_channels = wav(WAVE_FORMAT_PCM, 40, 8_000, 80, 16);
        let mut file = forty_channels[..12].to_vec();
        file.extend(b"LIST");
        file.extend(3u32.to_le_bytes());
        file.extend(b"abc\0");
        file.extend(&forty_channels[12..]);
        assert!(check(&file).unwrap_err().contains("40 channels"));
    }

    #[test]
    fn a_wav_file_behind_an_id3_tag_is_checked() {
        // An ID3 tag of odd length (13 bytes): the chunks' padding is even from the RIFF header.
        let mut file = b"ID3\x04\0\0\0\0\0\x03abc".to_vec();
        let forty_channels = wav(WAVE_FORMAT_PCM, 40, 8_000, 80, 16);
        file.extend(&forty_channels[..12]);
        file.extend(b"LIST");
        file.extend(3u32.to_le_bytes());
        file.extend(b"abc\0");
        file.extend(&forty_channels[12..]);
        let error = check_format(&mut Cursor::new(&file), 13, file.len() as u64).unwrap_err();
        assert!(error.to_string().contains("40 channels"), "{error}");
    }
}
