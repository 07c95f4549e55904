//! Timed transcripts as offices upload them: WebVTT (what Apple Podcasts ingests and browsers
//! play as captions) or SubRip (SRT, the common export of transcription services). Parsed into
//! cues so that a file that would show nothing, or show it at the wrong time, is refused on
//! upload rather than found out by a listener.

use serde::Serialize;

use crate::domain::Msg;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TranscriptFormat {
    Vtt,
    Srt,
}

impl TranscriptFormat {
    /// The type served and written in `podcast:transcript` (the namespace's transcript spec).
    pub fn mime_type(self) -> &'static str {
        match self {
            TranscriptFormat::Vtt => "text/vtt",
            TranscriptFormat::Srt => "application/x-subrip",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            TranscriptFormat::Vtt => "vtt",
            TranscriptFormat::Srt => "srt",
        }
    }

    pub fn from_mime_type(mime: &str) -> Option<Self> {
        match mime {
            "text/vtt" => Some(TranscriptFormat::Vtt),
            "application/x-subrip" => Some(TranscriptFormat::Srt),
            _ => None,
        }
    }
}

/// One cue: a span of the recording and the words spoken in it (markup kept as written).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cue {
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    pub format: TranscriptFormat,
    pub cues: Vec<Cue>,
}

/// Reads `bytes` as WebVTT when they start with the `WEBVTT` signature, else as SRT. Every
/// refusal names the line at fault, in both languages.
pub fn parse(bytes: &[u8]) -> Result<Transcript, Msg> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Msg::new(
            format!(
                "Transkrip harus teks UTF-8 (byte tidak sah di posisi {})",
                e.valid_up_to()
            ),
            format!(
                "A transcript must be UTF-8 text (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let is_vtt = text
        .strip_prefix("WEBVTT")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\n']));
    let format = if is_vtt {
        TranscriptFormat::Vtt
    } else {
        TranscriptFormat::Srt
    };
    let cues = cues(&text, format)?;
    if cues.is_empty() {
        return Err(Msg::new(
            "Transkrip tidak berisi satu pun cue (baris waktu '00:00:01.000 --> 00:00:04.000')",
            "The transcript has no cues (timing lines such as '00:00:01.000 --> 00:00:04.000')",
        ));
    }
    Ok(Transcript { format, cues })
}

fn cues(text: &str, format: TranscriptFormat) -> Result<Vec<Cue>, Msg> {
    let mut cues = Vec::new();
    // Blocks are separated by blank lines; line numbers are kept for the error messages.
    let mut block: Vec<(usize, &str)> = Vec::new();
    let mut lines = text.split('\n').enumerate().peekable();
    let mut first = true;
    loop {
        let next = lines.next();
        match next {
            Some((n, line)) if !line.trim().is_empty() => {
                block.push((n + 1, line));
                continue;
            }
            _ => {}
        }
        if !block.is_empty() {
            // The WebVTT header block (signature and header lines) holds no cue.
            if !(first && format == TranscriptFormat::Vtt)
                && let Some(cue) = cue(&block, format)?
            {
                cues.push(cue);
            }
            first = false;
            block.clear();
        }
        if next.is_none() {
            break;
        }
    }
    Ok(cues)
}

/// A block that is a cue, or `None` for the blocks WebVTT allows besides cues (NOTE, STYLE,
/// REGION).
fn cue(block: &[(usize, &str)], format: TranscriptFormat) -> Result<Option<Cue>, Msg> {
    let (first_line, first) = block[0];
    if format == TranscriptFormat::Vtt
        && ["NOTE", "STYLE", "REGION"].iter().any(|k| {
            first == *k
                || first.starts_with(&format!("{k} "))
                || first.starts_with(&format!("{k}\t"))
        })
    {
        return Ok(None);
    }
    // An identifier line (the SRT counter, an optional WebVTT cue id) comes before the timing.
    let timing_at = usize::from(!first.contains("-->"));
    // Neither of the first two lines is a timing line: the block's first line is at fault.
    let Some(&(line_no, timing)) = block.get(timing_at).filter(|(_, l)| l.contains("-->")) else {
        return Err(bad_line(first_line, first));
    };
    let (start, rest) = timing
        .split_once("-->")
        .ok_or_else(|| bad_line(line_no, timing))?;
    let end = rest.split_whitespace().next().unwrap_or_default();
    let (Some(start_ms), Some(end_ms)) = (timestamp(start.trim()), timestamp(end)) else {
        return Err(bad_line(line_no, timing));
    };
    if end_ms < start_ms {
        return Err(Msg::new(
            format!(
                "Baris {line_no}: waktu akhir cue sebelum waktu mulainya ('{}')",
                timing.trim()
            ),
            format!(
                "Line {line_no}: the cue ends before it starts ('{}')",
                timing.trim()
            ),
        ));
    }
    let text = block[timing_at + 1..]
        .iter()
        .map(|(_, l)| *l)
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Some(Cue {
        start_ms,
        end_ms,
        text,
    }))
}

fn bad_line(n: usize, line: &str) -> Msg {
    let shown: String = line.trim().chars().take(80).collect();
    Msg::new(
        format!(
            "Baris {n}: diharapkan baris waktu '00:00:01.000 --> 00:00:04.000', tertulis '{shown}'"
        ),
        format!(
            "Line {n}: expected a timing line '00:00:01.000 --> 00:00:04.000', found '{shown}'"
        ),
    )
}

/// `[HH:]MM:SS.mmm` (WebVTT) or `HH:MM:SS,mmm` (SRT); either separator is taken in both.
fn timestamp(s: &str) -> Option<u64> {
    let (clock, frac) = s.split_once(['.', ','])?;
    if frac.len() != 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let parts: Vec<&str> = clock.split(':').collect();
    let (h, m, sec) = match parts.as_slice() {
        [h, m, s] => (*h, *m, *s),
        [m, s] => ("0", *m, *s),
        _ => return None,
    };
    let num = |v: &str, max: u64| -> Option<u64> {
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        v.parse::<u64>().ok().filter(|n| *n < max)
    };
    let (h, m, sec) = (num(h, 1_000_000)?, num(m, 60)?, num(sec, 60)?);
    let ms: u64 = frac.parse().ok()?;
    Some(((h * 60 + m) * 60 + sec) * 1000 + ms)
}

/// A cue's text for reading: a WebVTT voice tag becomes "Name: ", other markup goes.
pub fn plain_text(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    // `<v Name>` or `<v.class Name>`.
    let voice = rest.strip_prefix("<v ").or_else(|| {
        rest.strip_prefix("<v.")
            .and_then(|v| v.split_once(' '))
            .map(|(_, name)| name)
    });
    if let Some(voice) = voice
        && let Some((name, after)) = voice.split_once('>')
    {
        let name = name.trim();
        out.push_str(name);
        out.push_str(": ");
        rest = after;
    }
    let mut in_tag = false;
    for ch in rest.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(if c == '\n' { ' ' } else { c }),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webvtt_with_header_notes_ids_and_voices() {
        let t = parse(
            "\u{feff}WEBVTT - briefing\r\nKind: captions\r\n\r\nNOTE made by hand\r\n\r\n\
             intro\r\n00:01.000 --> 00:04.500 align:start\r\n<v Kepala Dinas>Selamat pagi.\r\n\r\n\
             01:00:00.250 --> 01:00:02.000\r\nDua\r\nbaris\r\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(t.format, TranscriptFormat::Vtt);
        assert_eq!(
            t.cues,
            vec![
                Cue {
                    start_ms: 1000,
                    end_ms: 4500,
                    text: "<v Kepala Dinas>Selamat pagi.".into()
                },
                Cue {
                    start_ms: 3_600_250,
                    end_ms: 3_602_000,
                    text: "Dua\nbaris".into()
                },
            ]
        );
    }

    #[test]
    fn srt() {
        let t = parse(b"1\n00:00:00,000 --> 00:00:02,760\nSarah: In today's episode,\n\n2\n00:00:02,760 --> 00:00:06,090\nshould\n").unwrap();
        assert_eq!(t.format, TranscriptFormat::Srt);
        assert_eq!(t.cues.len(), 2);
        assert_eq!((t.cues[1].start_ms, t.cues[1].end_ms), (2760, 6090));
    }

    #[test]
    fn refusals_name_the_line() {
        let e = parse(b"WEBVTT\n\n00:01.000 -> 00:02.000\nx\n").unwrap_err();
        assert!(e.en.starts_with("Line 3:"), "{}", e.en);
        let e = parse(b"1\n00:00:05,000 --> 00:00:01,000\nx\n").unwrap_err();
        assert!(e.en.contains("ends before it starts"), "{}", e.en);
        assert!(parse(b"WEBVTT\n").unwrap_err().en.contains("no cues"));
        assert!(parse(b"<html>hello</html>").is_err());
        assert!(parse(&[0xff, 0xfe, 0x00]).unwrap_err().en.contains("UTF-8"));
        assert!(parse(b"1\n00:00:61,000 --> 00:01:02,000\nx\n").is_err());
    }
}
