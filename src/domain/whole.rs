//! Whole numbers as the API's contract counts them. JSON Schema's `integer` is any number
//! without a fraction, so `820.0` is the integer 820; serde reads only `820` into a `u64`. A
//! client whose language writes numbers as floats (Python's `json.dumps(820.0)`) is understood;
//! fractions, negatives and numbers past 2^53 (where a float stops being exact) are refused.

use std::fmt;

use serde::{
    Deserialize, Deserializer,
    de::{Error, Unexpected, Visitor},
};

/// The largest whole number a float holds exactly.
const EXACT: f64 = 9_007_199_254_740_992.0;

struct Whole;

impl Visitor<'_> for Whole {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a whole number, 0 or more")
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<u64, E> {
        if v.fract() == 0.0 && (0.0..=EXACT).contains(&v) {
            Ok(v as u64)
        } else {
            Err(E::invalid_value(Unexpected::Float(v), &self))
        }
    }
}

pub fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    d.deserialize_any(Whole)
}

#[derive(Deserialize)]
struct Some64(#[serde(deserialize_with = "u64")] u64);

pub fn option_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(Option::<Some64>::deserialize(d)?.map(|s| s.0))
}

pub fn option_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    option_u64(d)?
        .map(|v| {
            u32::try_from(v).map_err(|_| {
                D::Error::invalid_value(Unexpected::Unsigned(v), &"a whole number below 2^32")
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Sample {
        #[serde(deserialize_with = "super::u64")]
        at: u64,
        #[serde(default, deserialize_with = "super::option_u32")]
        season: Option<u32>,
    }

    fn read(json: &str) -> Result<Sample, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn an_integral_float_is_the_whole_number() {
        assert_eq!(
            read(r#"{"at": 820.0, "season": 2.0}"#).unwrap(),
            Sample {
                at: 820,
                season: Some(2)
            }
        );
        assert_eq!(
            read(r#"{"at": 820, "season": null}"#).unwrap(),
            Sample {
                at: 820,
                season: None
            }
        );
        assert_eq!(
            read(r#"{"at": 1}"#).unwrap(),
            Sample {
                at: 1,
                season: None
            }
        );
    }

    #[test]
    fn fractions_negatives_strings_and_inexact_floats_are_refused() {
        for bad in [
            r#"{"at": 820.5}"#,
            r#"{"at": -1}"#,
            r#"{"at": -1.0}"#,
            r#"{"at": "820"}"#,
            r#"{"at": 1e300}"#,
            r#"{"at": 1, "season": 4294967296}"#,
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
}
