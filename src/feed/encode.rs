//! The document as served, from what `feed::build` wrote: decorated (the stylesheet reference
//! that makes a browser show a readable page, and with a hub its link) and compressed (gzip,
//! brotli). Pure functions of bytes; what to keep and when is `http::feeds::cache`'s.

use bytes::Bytes;

/// Brotli quality for feeds. Measured on a 10,000-episode feed (8.3 MB), in process: quality 3
/// took 18-23 ms for 252 KB, quality 4 36-65 ms for 242 KB, 5 about 90 ms for 223 KB (gzip -6:
/// 275 KB); the top qualities take seconds. Quality 3 takes about as long as gzip -6, which runs
/// beside it on the other core (or, from `BROTLI_LATER_FROM`, before the feed is served).
const BROTLI_QUALITY: i32 = 3;

/// The stylesheet reference, relative to the feed (`/feeds/SLUG.xml`), so it stays on the
/// feed's origin (browsers refuse a cross-origin stylesheet) behind any proxy path prefix.
const STYLESHEET_PI: &str = r#"<?xml-stylesheet type="text/xsl" href="siaran.xsl"?>"#;

/// The document gzipped in one run.
pub fn gzip(data: &[u8]) -> Bytes {
    gzip_of(&[Deflated::new(data, true)])
}

/// The document gzipped in two runs cut at `at` (the same gzip member as `gzip`), on two
/// threads: the tail's run and `beside` on one, the head's on the caller's. Answers the gzip and
/// what `beside` answered.
pub fn gzip_in_two<T: Send>(
    data: &[u8],
    at: usize,
    beside: impl FnOnce() -> T + Send,
) -> (Bytes, T) {
    let (head, tail) = data.split_at(at);
    std::thread::scope(|s| {
        let tail = s.spawn(|| (beside(), Deflated::new(tail, true)));
        let head = Deflated::new(head, false);
        let (other, tail) = tail.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        (gzip_of(&[head, tail]), other)
    })
}

/// A run of a document as raw deflate blocks, and its CRC-32: the runs of a document, made on
/// several threads and joined in order, are one gzip member (as `pigz` makes them). Each run but
/// the last ends with a sync flush (an empty stored block, which leaves the stream on a byte
/// boundary and does not end it); each starts with an empty window, which cost 721 bytes of
/// 308 KB on the 10,000-episode feed cut at 5/8 (zlib, measured whole against cut).
struct Deflated {
    blocks: Vec<u8>,
    crc: flate2::Crc,
}

impl Deflated {
    fn new(data: &[u8], last: bool) -> Deflated {
        use flate2::{Compress, Compression, FlushCompress, Status};
        let mut deflate = Compress::new(Compression::default(), false);
        let flush = if last {
            FlushCompress::Finish
        } else {
            FlushCompress::Sync
        };
        let mut blocks = Vec::with_capacity(data.len() / 4 + 64);
        loop {
            if blocks.len() == blocks.capacity() {
                blocks.reserve(blocks.capacity().max(1 << 16));
            }
            let read = usize::try_from(deflate.total_in()).unwrap_or(usize::MAX);
            let status = deflate
                .compress_vec(&data[read.min(data.len())..], &mut blocks, flush)
                .expect("deflating into a Vec cannot fail");
            let all_read = deflate.total_in() == data.len() as u64;
            // A flush is complete once it returns with room left in the output.
            let done = match status {
                Status::StreamEnd => true,
                Status::Ok | Status::BufError => {
                    !last && all_read && blocks.len() < blocks.capacity()
                }
            };
            if done {
                break;
            }
        }
        let mut crc = flate2::Crc::new();
        crc.update(data);
        Deflated { blocks, crc }
    }
}

/// One gzip member (RFC 1952) of `runs`, in order; the last must be deflated as the last.
fn gzip_of(runs: &[Deflated]) -> Bytes {
    // No name, no time, deflate at the default level, unknown OS: as `GzEncoder` writes it.
    const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let len = runs.iter().map(|r| r.blocks.len()).sum::<usize>();
    let mut out = Vec::with_capacity(HEADER.len() + len + 8);
    out.extend_from_slice(&HEADER);
    let mut crc = flate2::Crc::new();
    for run in runs {
        out.extend_from_slice(&run.blocks);
        crc.combine(&run.crc);
    }
    out.extend_from_slice(&crc.sum().to_le_bytes());
    // ISIZE is the length modulo 2^32.
    out.extend_from_slice(&crc.amount().to_le_bytes());
    Bytes::from(out)
}

pub fn brotli(data: &[u8]) -> Bytes {
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY,
        size_hint: data.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(data.len() / 4);
    brotli::BrotliCompress(&mut &data[..], &mut out, &params)
        .expect("compressing into a Vec has no I/O to fail");
    Bytes::from(out)
}

/// The feed as served: the stylesheet reference after the XML declaration and, with a hub, its
/// `<atom:link rel="hub">` after the channel's self link. Only insertions: every element
/// `feed::build` wrote stays as it was. Done in place: the document's first lines are replaced
/// by their decorated form and the rest moves along within the same buffer, which for a
/// 10,000-episode feed (8.3 MB) spares a second buffer of that size, its page faults and a copy.
pub fn decorate(mut xml: String, hub: Option<&str>) -> String {
    let (replaced, head) = decorated_head(&xml, hub);
    xml.replace_range(..replaced, &head);
    xml
}

/// How many bytes at the start of `xml` the decoration rewrites, and what they become.
fn decorated_head(xml: &str, hub: Option<&str>) -> (usize, String) {
    let mut out = String::with_capacity(512);
    let rest = match xml
        .strip_prefix("<?xml")
        .and_then(|_| xml.find("?>"))
        .map(|end| end + 2)
    {
        Some(end) => {
            out.push_str(&xml[..end]);
            out.push('\n');
            out.push_str(STYLESHEET_PI);
            &xml[end..]
        }
        None => {
            out.push_str(STYLESHEET_PI);
            out.push('\n');
            xml
        }
    };
    let consumed = xml.len() - rest.len();
    match hub.and_then(|hub| hub_position(rest).map(|at| (hub, at))) {
        Some((hub, (at, indent))) => {
            out.push_str(&rest[..at]);
            out.push('\n');
            out.push_str(indent);
            out.push_str(&format!(
                r#"<atom:link href="{}" rel="hub"></atom:link>"#,
                quick_xml::escape::escape(hub)
            ));
            (consumed + at, out)
        }
        None => (consumed, out),
    }
}

/// Where the hub link goes (the end of the self link's line, else of the `<channel>` tag's) and
/// the indentation of that line.
fn hub_position(xml: &str) -> Option<(usize, &str)> {
    let channel = xml.find("<channel>")?;
    let after_channel = channel + "<channel>".len();
    let line_end = |from: usize| xml[from..].find('\n').map_or(xml.len(), |n| from + n);
    let indent_of = |start: usize| {
        let line_start = xml[..start].rfind('\n').map_or(0, |n| n + 1);
        let indent = &xml[line_start..start];
        indent.chars().all(char::is_whitespace).then_some(indent)
    };
    let mut from = after_channel;
    while let Some(n) = xml[from..].find("<atom:link") {
        let start = from + n;
        let tag_end = start + xml[start..].find('>')? + 1;
        if xml[start..tag_end].contains(r#"rel="self""#) {
            let end = if xml[..tag_end].ends_with("/>") {
                tag_end
            } else {
                tag_end + xml[tag_end..].find("</atom:link>")? + "</atom:link>".len()
            };
            // On its own line (as `feed::build` writes it): the new one goes on the next.
            return match indent_of(start) {
                Some(indent)
                    if line_end(end) == end || xml[end..line_end(end)].trim().is_empty() =>
                {
                    Some((line_end(end), indent))
                }
                _ => Some((end, "")),
            };
        }
        from = tag_end;
    }
    let indent = xml[after_channel..]
        .strip_prefix('\n')
        .map(|next| &next[..next.len() - next.trim_start().len()])
        .unwrap_or("");
    Some((after_channel, indent))
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\">\n  <channel>\n    <title>T</title>\n    <atom:link href=\"https://x/feeds/a.xml\" rel=\"self\" type=\"application/rss+xml\"></atom:link>\n    <podcast:guid>g</podcast:guid>\n  </channel>\n</rss>\n";

    #[test]
    fn decorate_inserts_the_stylesheet_and_the_hub_only() {
        let out = decorate(XML.to_owned(), Some("https://hub.example/?a=1&b=2"));
        assert_eq!(
            out,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
             <?xml-stylesheet type=\"text/xsl\" href=\"siaran.xsl\"?>\n\
             <rss version=\"2.0\">\n  <channel>\n    <title>T</title>\n    \
             <atom:link href=\"https://x/feeds/a.xml\" rel=\"self\" type=\"application/rss+xml\"></atom:link>\n    \
             <atom:link href=\"https://hub.example/?a=1&amp;b=2\" rel=\"hub\"></atom:link>\n    \
             <podcast:guid>g</podcast:guid>\n  </channel>\n</rss>\n"
        );
        let plain = decorate(XML.to_owned(), None);
        assert_eq!(
            plain.replace(
                "<?xml-stylesheet type=\"text/xsl\" href=\"siaran.xsl\"?>\n",
                ""
            ),
            XML
        );
    }

    #[test]
    fn the_hub_goes_into_the_channel_without_a_self_link() {
        let xml = "<rss><channel><title>T</title></channel></rss>";
        let out = decorate(xml.to_owned(), Some("https://hub.example/"));
        assert_eq!(
            out,
            "<?xml-stylesheet type=\"text/xsl\" href=\"siaran.xsl\"?>\n<rss><channel>\n\
             <atom:link href=\"https://hub.example/\" rel=\"hub\"></atom:link><title>T</title></channel></rss>"
        );
        // A self-closing self link on a shared line: right after it.
        let xml =
            "<rss><channel><atom:link rel=\"self\" href=\"u\"/><title>T</title></channel></rss>";
        let out = decorate(xml.to_owned(), Some("h"));
        assert!(
            out.contains("<atom:link rel=\"self\" href=\"u\"/>\n<atom:link href=\"h\" rel=\"hub\"></atom:link><title>"),
            "{out}"
        );
    }

    #[test]
    fn gzip_in_runs_is_one_gzip_member_of_the_document() {
        use std::io::Read as _;
        let doc = XML.repeat(3000);
        let bytes = doc.as_bytes();
        for cuts in [
            vec![],
            vec![1],
            vec![bytes.len() / 2],
            vec![7, 70_000, bytes.len() - 1],
        ] {
            let mut runs = Vec::new();
            let mut from = 0;
            for &cut in &cuts {
                runs.push(Deflated::new(&bytes[from..cut], false));
                from = cut;
            }
            runs.push(Deflated::new(&bytes[from..], true));
            let gz = gzip_of(&runs);
            // Read as a single member: a decoder that stops after the first member still gets
            // everything, and the trailer's CRC and length are checked.
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_end(&mut back)
                .unwrap();
            assert!(back == bytes, "cuts {cuts:?}");
            assert!(gz.len() < bytes.len() / 10, "cuts {cuts:?}: {}", gz.len());
        }
        // Whole, the same bytes as flate2's own encoder.
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut encoder, bytes).unwrap();
        assert!(gzip(bytes) == encoder.finish().unwrap());
    }

    #[test]
    fn compressed_variants_decode_to_the_document() {
        use std::io::Read as _;
        let doc = XML.repeat(200);
        let gz = gzip(doc.as_bytes());
        let mut back = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, doc);
        let br = brotli(doc.as_bytes());
        let mut back = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut back).unwrap();
        assert_eq!(back, doc.as_bytes());
        assert!(gz.len() < doc.len() / 10 && br.len() < doc.len() / 10);
    }
}
