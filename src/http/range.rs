//! `Range` request headers (RFC 9110 §14), as a pure function of the header and the size.
//!
//! Hand-written rather than taken from `http-range-header`: that crate rejects a suffix range
//! longer than the file (`bytes=-5000` on a 1,000-byte file), which RFC 9110 says must be served
//! as the whole file, and Apple's and browsers' players send such requests.

use crate::storage::ByteRange;

/// What to do with a request's `Range` header for an object of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeDecision {
    /// No usable range: answer 200 with the whole object. Covers an absent header, a unit
    /// other than bytes, a syntax error (RFC 9110: ignore it) and several ranges (which Siaran
    /// answers with the whole object, as RFC 9110 allows).
    Full,
    /// Answer 206 with this part.
    Partial(ByteRange),
    /// Answer 416 with `Content-Range: bytes */SIZE`.
    Unsatisfiable,
}

pub fn decide(header: Option<&str>, size: u64) -> RangeDecision {
    let Some(header) = header else {
        return RangeDecision::Full;
    };
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return RangeDecision::Full;
    };
    let specs: Vec<&str> = spec.split(',').map(str::trim).collect();
    let parsed: Option<Vec<Spec>> = specs.iter().map(|s| parse_spec(s)).collect();
    let Some(parsed) = parsed else {
        return RangeDecision::Full;
    };
    let satisfiable: Vec<ByteRange> = parsed.iter().filter_map(|s| s.resolve(size)).collect();
    match (parsed.len(), satisfiable.as_slice()) {
        (_, []) => RangeDecision::Unsatisfiable,
        (1, [one]) => RangeDecision::Partial(*one),
        _ => RangeDecision::Full,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    /// `a-b` or `a-` (end `None`).
    From { start: u64, end: Option<u64> },
    /// `-n`: the last n bytes.
    Suffix(u64),
}

fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_spec(s: &str) -> Option<Spec> {
    let (a, b) = s.split_once('-')?;
    if a.is_empty() {
        return Some(Spec::Suffix(digits(b)?));
    }
    let start = digits(a)?;
    if b.is_empty() {
        return Some(Spec::From { start, end: None });
    }
    let end = digits(b)?;
    // `a-b` with b < a is a syntax error: the header is ignored.
    (end >= start).then_some(Spec::From {
        start,
        end: Some(end),
    })
}

impl Spec {
    fn resolve(self, size: u64) -> Option<ByteRange> {
        if size == 0 {
            return None;
        }
        match self {
            Spec::From { start, end } if start < size => Some(ByteRange {
                start,
                end: end.map_or(size - 1, |e| e.min(size - 1)),
            }),
            Spec::From { .. } | Spec::Suffix(0) => None,
            Spec::Suffix(n) => Some(ByteRange {
                start: size.saturating_sub(n),
                end: size - 1,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(start: u64, end: u64) -> RangeDecision {
        RangeDecision::Partial(ByteRange { start, end })
    }

    #[test]
    fn single_ranges_of_every_form() {
        assert_eq!(decide(Some("bytes=0-1"), 1000), part(0, 1));
        assert_eq!(decide(Some("bytes=100-"), 1000), part(100, 999));
        assert_eq!(decide(Some("bytes=-100"), 1000), part(900, 999));
        assert_eq!(decide(Some("bytes=990-5000"), 1000), part(990, 999));
        assert_eq!(decide(Some("bytes=-5000"), 1000), part(0, 999));
        assert_eq!(decide(Some("bytes=999-999"), 1000), part(999, 999));
    }

    #[test]
    fn unsatisfiable_ranges() {
        assert_eq!(
            decide(Some("bytes=1000-"), 1000),
            RangeDecision::Unsatisfiable
        );
        assert_eq!(
            decide(Some("bytes=1000-2000"), 1000),
            RangeDecision::Unsatisfiable
        );
        assert_eq!(decide(Some("bytes=-0"), 1000), RangeDecision::Unsatisfiable);
        assert_eq!(decide(Some("bytes=0-"), 0), RangeDecision::Unsatisfiable);
    }

    #[test]
    fn ignored_headers_give_the_whole_file() {
        for h in [
            "items=0-1",
            "bytes=5-1",
            "bytes=a-b",
            "bytes=",
            "bytes=--1",
            "bytes=0-1,5-9",
        ] {
            assert_eq!(decide(Some(h), 1000), RangeDecision::Full, "{h}");
        }
        assert_eq!(decide(None, 1000), RangeDecision::Full);
        // Several ranges of which none fits are still unsatisfiable.
        assert_eq!(
            decide(Some("bytes=2000-,3000-"), 1000),
            RangeDecision::Unsatisfiable
        );
    }
}
