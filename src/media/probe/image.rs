//! Cover art: its type and size from the first bytes of the image, without decoding it.

/// An image's MIME type and dimensions as its header states them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageHeader {
    pub mime_type: &'static str,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// Reads the PNG IHDR, the JPEG SOFn segment or the GIF screen descriptor. `None` when the bytes
/// are none of these.
pub fn image_header(data: &[u8]) -> Option<ImageHeader> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        let (width, height) = png_size(data).unzip();
        Some(ImageHeader {
            mime_type: "image/png",
            width,
            height,
        })
    } else if data.starts_with(&[0xFF, 0xD8]) {
        let (width, height) = jpeg_size(data).unzip();
        Some(ImageHeader {
            mime_type: "image/jpeg",
            width,
            height,
        })
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        let width = data
            .get(6..8)
            .map(|b| u32::from(u16::from_le_bytes([b[0], b[1]])));
        let height = data
            .get(8..10)
            .map(|b| u32::from(u16::from_le_bytes([b[0], b[1]])));
        Some(ImageHeader {
            mime_type: "image/gif",
            width,
            height,
        })
    } else {
        None
    }
}

fn be_u16(data: &[u8], pos: usize) -> Option<u16> {
    data.get(pos..pos + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
}

fn be_u32(data: &[u8], pos: usize) -> Option<u32> {
    data.get(pos..pos + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// The IHDR chunk must come first, right after the 8-byte signature.
fn png_size(data: &[u8]) -> Option<(u32, u32)> {
    if data.get(12..16)? != b"IHDR" {
        return None;
    }
    Some((be_u32(data, 16)?, be_u32(data, 20)?))
}

/// Walks the JPEG segments up to the first start-of-frame marker.
fn jpeg_size(data: &[u8]) -> Option<(u32, u32)> {
    let mut pos = 2;
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes.
        while *data.get(pos)? != 0xFF {
            pos += 1;
        }
        while *data.get(pos)? == 0xFF {
            pos += 1;
        }
        let marker = *data.get(pos)?;
        pos += 1;
        match marker {
            // Standalone markers carry no length.
            0x01 | 0xD0..=0xD8 => continue,
            // End of image, or start of scan before any frame header: no size to be had.
            0xD9 | 0xDA => return None,
            // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                let height = be_u16(data, pos + 3)?;
                let width = be_u16(data, pos + 5)?;
                return Some((u32::from(width), u32::from(height)));
            }
            _ => {
                let len = usize::from(be_u16(data, pos)?);
                if len < 2 {
                    return None;
                }
                pos += len;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_size_comes_from_ihdr() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&480u32.to_be_bytes());
        let header = image_header(&png).expect("a PNG");
        assert_eq!(
            (header.mime_type, header.width, header.height),
            ("image/png", Some(640), Some(480))
        );
    }

    #[test]
    fn jpeg_size_comes_from_the_first_sof() {
        // SOI, APP0 (JFIF, 16 bytes), DQT stub (4 bytes), SOF0 with 1400 x 1400.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        jpeg.extend_from_slice(&[0; 14]);
        jpeg.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x04, 0x00, 0x00]);
        jpeg.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08, 0x05, 0x78, 0x05, 0x78]);
        let header = image_header(&jpeg).expect("a JPEG");
        assert_eq!((header.width, header.height), (Some(1400), Some(1400)));
    }

    #[test]
    fn truncated_or_foreign_bytes_give_no_size() {
        let header = image_header(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00]).expect("still a JPEG");
        assert_eq!((header.width, header.height), (None, None));
        assert_eq!(image_header(b"RIFF\0\0\0\0WEBP"), None);
        assert_eq!(image_header(&[]), None);
    }
}
