//! What a file is, decided from its first bytes before any demuxer sees it.
//!
//! symphonia's probe scans up to a megabyte for anything that looks like a format marker, so on
//! random bytes it can "find" an MPEG sync word and report a broken MP3 rather than "not media".
//! Deciding the container here first keeps Unsupported and Unplayable apart. The same pass reads
//! the facts symphonia does not expose: the MP4 major brand, the EBML DocType and segment title,
//! and whether an MP3's first frame carries an encoder's frame count (Xing/Info/VBRI).

use std::io::{self, Read, Seek, SeekFrom};

use super::ProbeError;

/// How much of the file is read for sniffing. Large enough that a Matroska segment's Info element
/// (after a SeekHead and its reserved Void) and two MPEG frames after junk are inside it.
const HEAD_LEN: usize = 64 * 1024;

/// How far into the head (after any ID3 tag) an MPEG or ADTS stream may start.
const MAX_SYNC_SEARCH: usize = 4096;

/// ID3v2 tags that may be stacked before the audio (some taggers prepend a second one).
const MAX_ID3_TAGS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// MPEG audio (layer 1, 2 or 3), possibly only an ID3 tag with nothing after it.
    Mpeg,
    Adts,
    Flac,
    Ogg,
    Wav,
    IsoMp4 {
        quicktime: bool,
    },
    Matroska {
        webm: bool,
    },
}

#[derive(Debug, Clone)]
pub(super) struct Sniffed {
    pub kind: Kind,
    /// The first MPEG frame holds a Xing/Info/VBRI tag with a frame count, so the track's
    /// `num_frames` is the encoder's count rather than symphonia's guess from the bit rate.
    pub mpeg_counted_by_encoder: bool,
    /// The Matroska segment title (symphonia reads only the Tags element, not Info).
    pub segment_title: Option<String>,
    /// The Matroska segment claims more bytes than the file has: an upload cut short.
    pub segment_cut: bool,
    /// Where the container starts: after any ID3v2 tags.
    pub header_bytes: u64,
}

/// Decides the container from the file's first bytes.
pub(super) fn sniff<R: Read + Seek>(file: &mut R, file_len: u64) -> Result<Sniffed, ProbeError> {
    let mut offset = 0u64;
    let mut head = read_at(file, offset)?;
    let mut has_id3 = false;

    for _ in 0..MAX_ID3_TAGS {
        let Some(tag_len) = id3v2_len(&head) else {
            break;
        };
        has_id3 = true;
        offset += tag_len;
        if offset >= file_len {
            return Err(ProbeError::Unplayable("no audio frames found".into()));
        }
        head = read_at(file, offset)?;
    }
    let at_eof = offset + head.len() as u64 >= file_len;

    let kind = if head.starts_with(b"fLaC") {
        Some(Kind::Flac)
    } else if head.starts_with(b"OggS") {
        Some(Kind::Ogg)
    } else if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WAVE") {
        Some(Kind::Wav)
    } else if head.get(4..8) == Some(b"ftyp") {
        Some(Kind::IsoMp4 {
            quicktime: head.get(8..12) == Some(b"qt  "),
        })
    } else if head.starts_with(&EBML_ID.to_be_bytes()) {
        Some(Kind::Matroska {
            webm: ebml_doc_type(&head).as_deref() == Some("webm"),
        })
    } else {
        None
    };
    if let Some(kind) = kind {
        let (segment_title, segment_cut) = match kind {
            Kind::Matroska { .. } => (
                segment_title(&head),
                segment_end(&head).is_some_and(|end| end > file_len),
            ),
            _ => (None, false),
        };
        return Ok(Sniffed {
            kind,
            mpeg_counted_by_encoder: false,
            segment_title,
            segment_cut,
            header_bytes: offset,
        });
    }

    // Tolerate some leading junk (zero padding a tagger left outside its tag, a stray byte) as
    // players do; two consecutive frame headers make a false match in noise very unlikely.
    for pos in 0..MAX_SYNC_SEARCH.min(head.len()) {
        if frame_pair_at(&head, pos, at_eof, mpeg_header) {
            return Ok(Sniffed {
                kind: Kind::Mpeg,
                mpeg_counted_by_encoder: has_encoder_frame_count(&head[pos..]),
                segment_title: None,
                segment_cut: false,
                header_bytes: offset,
            });
        }
        if frame_pair_at(&head, pos, at_eof, adts_header) {
            return Ok(Sniffed {
                kind: Kind::Adts,
                mpeg_counted_by_encoder: false,
                segment_title: None,
                segment_cut: false,
                header_bytes: offset,
            });
        }
    }
    if has_id3 {
        // An ID3v2 tag marks an MP3 even when no frame follows at once; symphonia searches further
        // and the caller reports "no audio frames found" if there are none.
        return Ok(Sniffed {
            kind: Kind::Mpeg,
            mpeg_counted_by_encoder: false,
            segment_title: None,
            segment_cut: false,
            header_bytes: offset,
        });
    }
    Err(ProbeError::Unsupported(describe(&head)))
}

fn read_at<R: Read + Seek>(file: &mut R, offset: u64) -> io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(offset))?;
    let mut head = Vec::with_capacity(HEAD_LEN);
    file.take(HEAD_LEN as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// The length of an ID3v2 tag at the start of `buf`, header and footer included.
fn id3v2_len(buf: &[u8]) -> Option<u64> {
    if buf.len() < 10 || !buf.starts_with(b"ID3") || !(2..=4).contains(&buf[3]) {
        return None;
    }
    let size = &buf[6..10];
    if size.iter().any(|b| b & 0x80 != 0) {
        return None;
    }
    let body = size.iter().fold(0u64, |acc, &b| (acc << 7) | u64::from(b));
    let footer = if buf[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + body + footer)
}

/// What a frame header says about the stream; two frames of one stream agree on all of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FrameShape {
    id: u8,
    sample_rate: u32,
}

struct FrameHeader {
    shape: FrameShape,
    len: usize,
}

/// Whether a frame starts at `pos` and the next one (if it is in the head) is of the same stream.
fn frame_pair_at(
    head: &[u8],
    pos: usize,
    at_eof: bool,
    parse: fn(&[u8]) -> Option<FrameHeader>,
) -> bool {
    let Some(first) = parse(&head[pos..]) else {
        return false;
    };
    let next = pos + first.len;
    match head.get(next..).and_then(parse) {
        Some(second) => second.shape == first.shape,
        // A single frame that ends exactly at the end of the file is still a stream.
        None => at_eof && next == head.len(),
    }
}

struct MpegVersion {
    v1: bool,
    sample_rates: [u32; 3],
}

fn mpeg_version(bits: u8) -> Option<MpegVersion> {
    match bits {
        0 => Some(MpegVersion {
            v1: false,
            sample_rates: [11025, 12000, 8000],
        }),
        2 => Some(MpegVersion {
            v1: false,
            sample_rates: [22050, 24000, 16000],
        }),
        3 => Some(MpegVersion {
            v1: true,
            sample_rates: [44100, 48000, 32000],
        }),
        _ => None,
    }
}

/// Parses an MPEG audio frame header (ISO 11172-3 / 13818-3); free-format frames are refused
/// because their length cannot be known from the header.
fn mpeg_header(b: &[u8]) -> Option<FrameHeader> {
    if b.len() < 4 || b[0] != 0xFF || b[1] & 0xE0 != 0xE0 {
        return None;
    }
    let version = mpeg_version((b[1] >> 3) & 3)?;
    let layer = 4 - ((b[1] >> 1) & 3); // 1, 2 or 3; the reserved value 0 becomes 4
    let bitrate_index = usize::from(b[2] >> 4);
    let rate_index = usize::from((b[2] >> 2) & 3);
    if layer == 4 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None;
    }
    let kbps: u32 = match (version.v1, layer) {
        (true, 1) => [
            32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
        ],
        (true, 2) => [
            32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
        ],
        (true, _) => [
            32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ],
        (false, 1) => [
            32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
        ],
        (false, _) => [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    }[bitrate_index - 1];
    let sample_rate = version.sample_rates[rate_index];
    let padding = u32::from((b[2] >> 1) & 1);
    let bits_per_second = kbps * 1000;
    let len = match layer {
        1 => (12 * bits_per_second / sample_rate + padding) * 4,
        3 if !version.v1 => 72 * bits_per_second / sample_rate + padding,
        _ => 144 * bits_per_second / sample_rate + padding,
    };
    Some(FrameHeader {
        shape: FrameShape {
            id: b[1] & 0xFE,
            sample_rate,
        },
        len: len as usize,
    })
}

/// Parses an ADTS (AAC) frame header.
fn adts_header(b: &[u8]) -> Option<FrameHeader> {
    // The layer bits are 00 in ADTS, a value reserved in MPEG audio, so the two never overlap.
    if b.len() < 7 || b[0] != 0xFF || b[1] & 0xF6 != 0xF0 {
        return None;
    }
    const RATES: [u32; 13] = [
        96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
    ];
    let sample_rate = *RATES.get(usize::from((b[2] >> 2) & 0xF))?;
    let len = (usize::from(b[3] & 3) << 11) | (usize::from(b[4]) << 3) | usize::from(b[5] >> 5);
    let header_len = if b[1] & 1 == 0 { 9 } else { 7 };
    if len < header_len {
        return None;
    }
    Some(FrameHeader {
        shape: FrameShape {
            id: b[1] & 0xF8,
            sample_rate,
        },
        len,
    })
}

/// Whether the MPEG frame at the start of `frame` carries a frame count from its encoder. The
/// offsets are where symphonia looks too: after the side information, ignoring any CRC.
fn has_encoder_frame_count(frame: &[u8]) -> bool {
    if frame.len() < 4 || (frame[1] >> 1) & 3 != 1 {
        return false; // only layer 3 carries these tags
    }
    let v1 = (frame[1] >> 3) & 3 == 3;
    let mono = frame[3] >> 6 == 3;
    let side_info = match (v1, mono) {
        (true, true) => 17,
        (true, false) => 32,
        (false, true) => 9,
        (false, false) => 17,
    };
    let xing = 4 + side_info;
    if let Some(tag) = frame.get(xing..xing + 8)
        && (&tag[..4] == b"Xing" || &tag[..4] == b"Info")
    {
        return tag[7] & 1 != 0; // the "frames" field is present
    }
    frame.get(36..40) == Some(b"VBRI")
}

const EBML_ID: u32 = 0x1A45_DFA3;
const DOC_TYPE_ID: u32 = 0x4282;
const SEGMENT_ID: u32 = 0x1853_8067;
const INFO_ID: u32 = 0x1549_A966;
const TITLE_ID: u32 = 0x7BA9;
const CLUSTER_ID: u32 = 0x1F43_B675;

/// One EBML element header: its ID, where its data starts and how long it is (`None` when the
/// size is "unknown", as live recorders write for the segment).
struct Element {
    id: u32,
    data: usize,
    len: Option<usize>,
}

fn ebml_element(buf: &[u8], pos: usize) -> Option<Element> {
    let first = *buf.get(pos)?;
    let id_len = first.leading_zeros() as usize + 1;
    if id_len > 4 {
        return None;
    }
    let id = buf
        .get(pos..pos + id_len)?
        .iter()
        .fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
    let size_pos = pos + id_len;
    let first = *buf.get(size_pos)?;
    let size_len = first.leading_zeros() as usize + 1;
    if size_len > 8 {
        return None;
    }
    let bytes = buf.get(size_pos..size_pos + size_len)?;
    let marker_cleared = u64::from(first) & (0xFF >> size_len);
    let size = bytes[1..]
        .iter()
        .fold(marker_cleared, |acc, &b| (acc << 8) | u64::from(b));
    let unknown = size == (1u64 << (7 * size_len)) - 1;
    let len = if unknown {
        None
    } else {
        Some(usize::try_from(size).ok()?)
    };
    Some(Element {
        id,
        data: size_pos + size_len,
        len,
    })
}

/// Finds the first child with `id` among the elements in `buf[start..end]`, stopping at a
/// cluster (media data follows; anything after it is too far for a sniff).
fn find_child(buf: &[u8], start: usize, end: usize, id: u32) -> Option<Element> {
    let mut pos = start;
    while pos < end {
        let element = ebml_element(buf, pos)?;
        if element.id == id {
            return Some(element);
        }
        if element.id == CLUSTER_ID {
            return None;
        }
        pos = element.data.checked_add(element.len?)?;
    }
    None
}

fn ebml_string(buf: &[u8], element: &Element) -> Option<String> {
    let bytes = buf.get(element.data..element.data.checked_add(element.len?)?)?;
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end_matches('\0').trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The EBML header's DocType ("webm" or "matroska").
fn ebml_doc_type(head: &[u8]) -> Option<String> {
    let header = ebml_element(head, 0)?;
    let end = header.data.checked_add(header.len?)?.min(head.len());
    let doc_type = find_child(head, header.data, end, DOC_TYPE_ID)?;
    ebml_string(head, &doc_type)
}

/// Where the segment ends in the file, when its size is known (live recorders leave it unknown).
fn segment_end(head: &[u8]) -> Option<u64> {
    let header = ebml_element(head, 0)?;
    let segment_pos = header.data.checked_add(header.len?)?;
    let segment = ebml_element(head, segment_pos)?;
    (segment.id == SEGMENT_ID).then_some(())?;
    u64::try_from(segment.data.checked_add(segment.len?)?).ok()
}

/// The segment's Info/Title, when it is within the head.
fn segment_title(head: &[u8]) -> Option<String> {
    let header = ebml_element(head, 0)?;
    let segment_pos = header.data.checked_add(header.len?)?;
    let segment = ebml_element(head, segment_pos)?;
    if segment.id != SEGMENT_ID {
        return None;
    }
    let segment_end = segment
        .len
        .map_or(head.len(), |len| segment.data.saturating_add(len));
    let info = find_child(head, segment.data, segment_end.min(head.len()), INFO_ID)?;
    let info_end = info.data.checked_add(info.len?)?.min(head.len());
    let title = find_child(head, info.data, info_end, TITLE_ID)?;
    ebml_string(head, &title)
}

/// The top-level layout of an ISO BMFF (MP4/MOV) file.
pub(super) struct Mp4Layout {
    pub has_moov: bool,
    /// Where the (first) `moov` box starts and how long it is.
    pub moov: Option<(u64, u64)>,
    /// The box that runs past the end of the file, and by how many bytes.
    pub truncated: Option<([u8; 4], u64)>,
}

/// Walks the top-level boxes. symphonia's error for a missing `moov` does not say why it is
/// missing; an upload cut short before a trailing `moov` is the common cause worth naming.
pub(super) fn mp4_layout<R: Read + Seek>(file: &mut R, file_len: u64) -> io::Result<Mp4Layout> {
    // Every box is at least 8 bytes, so the walk ends; the cap bounds the seeks on hostile input.
    const MAX_BOXES: usize = 100_000;
    let mut layout = Mp4Layout {
        has_moov: false,
        moov: None,
        truncated: None,
    };
    let mut offset = 0u64;
    for _ in 0..MAX_BOXES {
        if offset + 8 > file_len {
            break;
        }
        file.seek(SeekFrom::Start(offset))?;
        let mut header = [0u8; 16];
        let got = file.by_ref().take(16).read(&mut header)?;
        if got < 8 {
            break;
        }
        let kind: [u8; 4] = header[4..8].try_into().expect("slice of 4");
        let size = match u32::from_be_bytes(header[..4].try_into().expect("slice of 4")) {
            0 => file_len - offset,
            1 if got == 16 => u64::from_be_bytes(header[8..16].try_into().expect("slice of 8")),
            size => u64::from(size),
        };
        if kind == *b"moov" {
            layout.has_moov = true;
            layout.moov.get_or_insert((offset, size));
        }
        if size < 8 {
            break;
        }
        let end = offset.saturating_add(size);
        if end > file_len {
            layout.truncated = Some((kind, end - file_len));
            break;
        }
        offset = end;
    }
    Ok(layout)
}

/// Names what a file that is not media looks like, for the error message.
fn describe(head: &[u8]) -> String {
    const SIGNATURES: [(&[u8], &str); 7] = [
        (b"\x89PNG", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"%PDF", "a PDF document"),
        (b"PK\x03\x04", "a ZIP archive (or an office document)"),
        (b"\x1F\x8B", "a gzip archive"),
        (b"FORM", "an AIFF or IFF file"),
    ];
    if let Some((_, name)) = SIGNATURES.iter().find(|(magic, _)| head.starts_with(magic)) {
        return (*name).to_owned();
    }
    let sample = &head[..head.len().min(1024)];
    let text = match std::str::from_utf8(sample) {
        Ok(text) => text,
        // The sample may end inside a multi-byte character.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&sample[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return "unrecognised bytes (no known audio or video container)".into(),
    };
    if text.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return "unrecognised bytes (no known audio or video container)".into();
    }
    let start = text
        .trim_start_matches('\u{FEFF}')
        .trim_start()
        .to_ascii_lowercase();
    if start.starts_with("<!doctype html") || start.starts_with("<html") {
        "an HTML page".into()
    } else if start.starts_with('<') {
        "an XML or HTML document".into()
    } else {
        "a text file".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mpeg_header_lengths_match_the_standard() {
        // MPEG-1 layer 3, 128 kbit/s, 44.1 kHz, no padding: 417 bytes.
        assert_eq!(
            mpeg_header(&[0xFF, 0xFB, 0x90, 0x00]).map(|h| h.len),
            Some(417)
        );
        // MPEG-2 layer 3, 56 kbit/s, 22.05 kHz, no padding: 182 bytes (briefing-demo.mp3's Info
        // frame).
        assert_eq!(
            mpeg_header(&[0xFF, 0xF3, 0x70, 0xC0]).map(|h| h.len),
            Some(182)
        );
        assert!(
            mpeg_header(&[0xFF, 0xFB, 0xF0, 0x00]).is_none(),
            "bad bit rate index"
        );
        assert!(
            mpeg_header(&[0xFF, 0xFB, 0x0C, 0x00]).is_none(),
            "free format"
        );
        assert!(
            mpeg_header(&[0xFF, 0xF9, 0x90, 0x00]).is_none(),
            "ADTS is not MPEG audio"
        );
    }

    #[test]
    fn ebml_doc_type_and_title_are_read() {
        // EBML header { DocType "webm" }, Segment (unknown size) { Info { Title "Hai" } }.
        let mut file = vec![0x1A, 0x45, 0xDF, 0xA3, 0x87, 0x42, 0x82, 0x84];
        file.extend_from_slice(b"webm");
        file.extend_from_slice(&[
            0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        file.extend_from_slice(&[0x15, 0x49, 0xA9, 0x66, 0x86, 0x7B, 0xA9, 0x83]);
        file.extend_from_slice(b"Hai");
        assert_eq!(ebml_doc_type(&file).as_deref(), Some("webm"));
        assert_eq!(segment_title(&file).as_deref(), Some("Hai"));
        assert_eq!(segment_title(&file[..20]), None);
    }

    #[test]
    fn non_media_is_described() {
        assert_eq!(describe(b"<!DOCTYPE html><html></html>"), "an HTML page");
        assert_eq!(describe(b"hello\n"), "a text file");
        assert_eq!(describe(b"\x89PNG\r\n\x1a\n"), "a PNG image");
        assert!(describe(&[0, 1, 2, 3, 200, 201]).starts_with("unrecognised"));
    }
}
