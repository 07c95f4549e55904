//! Sound quality of a recording (issue 24): what the analysis measured, the thresholds it judged
//! against, and where each media record stands with it. Pure values: `media::quality` computes a
//! `QualityReport`, the database stores it with the media, the API and the pages show it.

use serde::{Deserialize, Serialize};

use super::Msg;

/// The thresholds a report is judged against. `Default` is Apple's guidance (−16 LUFS
/// integrated, true peaks under −1 dBTP); the serving configuration may change each one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityConfig {
    /// Integrated loudness to aim for, LUFS (`SIARAN_LOUDNESS_TARGET`).
    pub target_lufs: f64,
    /// The highest true peak the gain to the target may reach, dBTP.
    pub true_peak_ceiling_dbtp: f64,
    /// How far from the target (LU, either way) before "too quiet" / "too loud" is said.
    pub loudness_tolerance_lu: f64,
    /// A gap is silence when it stays this many LU under the programme loudness...
    pub silence_below_programme_lu: f64,
    /// ...for at least this long, in ms (leading and trailing silence are always listed).
    pub silence_min_gap_ms: u64,
    /// Leading or trailing silence longer than this, in ms, is warned about.
    pub edge_silence_warn_ms: u64,
    /// Consecutive samples at full scale that count as one clipping event.
    pub clipping_min_run: u32,
    /// A channel this many LU quieter than the loudest is "silent".
    pub dead_channel_lu: f64,
    /// A mono downmix this many LU quieter than the loudest channel means opposite phase.
    pub phase_cancellation_lu: f64,
}

impl Default for QualityConfig {
    fn default() -> Self {
        QualityConfig {
            target_lufs: -16.0,
            true_peak_ceiling_dbtp: -1.0,
            loudness_tolerance_lu: 3.0,
            silence_below_programme_lu: 25.0,
            silence_min_gap_ms: 3_000,
            edge_silence_warn_ms: 10_000,
            clipping_min_run: 3,
            dead_channel_lu: 30.0,
            phase_cancellation_lu: 10.0,
        }
    }
}

/// A stretch of a recording, in milliseconds from its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    pub start_ms: u64,
    pub end_ms: u64,
}

/// Clipping: how many runs of consecutive full-scale samples, and where.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Clipping {
    pub count: u64,
    pub ranges: Vec<TimeRange>,
}

/// Something a person should fix, with a stable `code` (`too-quiet`, `clipped`,
/// `leading-silence`, `channel-silent`, `phase-inverted`, `incomplete`, ...) and the figures
/// spelled out in both languages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityWarning {
    pub code: String,
    pub message: Msg,
}

/// What the analysis of one recording's audio measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    /// `None` for a recording too short or too quiet to gate (all silence).
    pub integrated_lufs: Option<f64>,
    pub loudness_range_lu: Option<f64>,
    pub max_momentary_lufs: Option<f64>,
    pub max_short_term_lufs: Option<f64>,
    /// The highest true peak of any channel (4× oversampling), dBTP.
    pub true_peak_dbtp: Option<f64>,
    /// The highest sample of any channel, dBFS.
    pub sample_peak_dbfs: Option<f64>,
    /// Per channel, in channel order.
    pub true_peak_per_channel_dbtp: Vec<f64>,
    pub sample_peak_per_channel_dbfs: Vec<f64>,
    /// Gain that brings the integrated loudness to the target, lowered so the true peak stays
    /// under the ceiling.
    pub gain_to_target_db: Option<f64>,
    pub target_lufs: f64,
    /// Leading and trailing silence and every gap longer than the configured minimum.
    pub silences: Vec<TimeRange>,
    pub clipping: Clipping,
    pub channels: u32,
    pub sample_rate: u32,
    /// How much audio was analysed; shorter than the recording when it decodes only partly.
    pub analysed_ms: u64,
    /// False when decoding stopped early (a cut-off upload): the figures cover `analysed_ms`.
    pub complete: bool,
    pub warnings: Vec<QualityWarning>,
}

/// Where a media record stands with its analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum QualityState {
    Pending,
    Done,
    Failed,
}

/// A warning with its message in one language.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocalizedWarning<'a> {
    pub code: &'a str,
    pub message: &'a str,
}

/// A report as a person reads it in one language: every figure of `QualityReport`, in its
/// order, and each warning's message in Indonesian or English. What `siaran probe --quality`
/// prints; an API answer chosen by `Accept-Language` can serialize the same.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocalizedReport<'a> {
    pub integrated_lufs: Option<f64>,
    pub loudness_range_lu: Option<f64>,
    pub max_momentary_lufs: Option<f64>,
    pub max_short_term_lufs: Option<f64>,
    pub true_peak_dbtp: Option<f64>,
    pub sample_peak_dbfs: Option<f64>,
    pub true_peak_per_channel_dbtp: &'a [f64],
    pub sample_peak_per_channel_dbfs: &'a [f64],
    pub gain_to_target_db: Option<f64>,
    pub target_lufs: f64,
    pub silences: &'a [TimeRange],
    pub clipping: &'a Clipping,
    pub channels: u32,
    pub sample_rate: u32,
    pub analysed_ms: u64,
    pub complete: bool,
    pub warnings: Vec<LocalizedWarning<'a>>,
}

impl QualityReport {
    /// The report with its warnings in English (`english`) or Indonesian.
    pub fn localized(&self, english: bool) -> LocalizedReport<'_> {
        LocalizedReport {
            integrated_lufs: self.integrated_lufs,
            loudness_range_lu: self.loudness_range_lu,
            max_momentary_lufs: self.max_momentary_lufs,
            max_short_term_lufs: self.max_short_term_lufs,
            true_peak_dbtp: self.true_peak_dbtp,
            sample_peak_dbfs: self.sample_peak_dbfs,
            true_peak_per_channel_dbtp: &self.true_peak_per_channel_dbtp,
            sample_peak_per_channel_dbfs: &self.sample_peak_per_channel_dbfs,
            gain_to_target_db: self.gain_to_target_db,
            target_lufs: self.target_lufs,
            silences: &self.silences,
            clipping: &self.clipping,
            channels: self.channels,
            sample_rate: self.sample_rate,
            analysed_ms: self.analysed_ms,
            complete: self.complete,
            warnings: self
                .warnings
                .iter()
                .map(|w| LocalizedWarning {
                    code: &w.code,
                    message: if english {
                        &w.message.en
                    } else {
                        &w.message.id
                    },
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_localized_report_has_every_figure_in_the_same_order() {
        let report = QualityReport {
            integrated_lufs: Some(-31.2),
            loudness_range_lu: Some(4.0),
            max_momentary_lufs: None,
            max_short_term_lufs: None,
            true_peak_dbtp: Some(-3.0),
            sample_peak_dbfs: Some(-3.1),
            true_peak_per_channel_dbtp: vec![-3.0],
            sample_peak_per_channel_dbfs: vec![-3.1],
            gain_to_target_db: Some(15.2),
            target_lufs: -16.0,
            silences: vec![TimeRange {
                start_ms: 0,
                end_ms: 112_000,
            }],
            clipping: Clipping::default(),
            channels: 1,
            sample_rate: 44_100,
            analysed_ms: 600_000,
            complete: true,
            warnings: vec![QualityWarning {
                code: "too-quiet".into(),
                message: Msg::new("terlalu pelan", "too quiet"),
            }],
        };
        let keys = |json: String| -> Vec<String> {
            // Top-level keys in the order written.
            let value: serde_json::Value = serde_json::from_str(&json).unwrap();
            let mut keys: Vec<(usize, String)> = value
                .as_object()
                .unwrap()
                .keys()
                .map(|k| (json.find(&format!("\"{k}\":")).unwrap(), k.clone()))
                .collect();
            keys.sort();
            keys.into_iter().map(|(_, k)| k).collect()
        };
        let full = serde_json::to_string(&report).unwrap();
        let id = serde_json::to_string(&report.localized(false)).unwrap();
        assert_eq!(keys(full), keys(id.clone()));
        assert!(id.ends_with(r#""warnings":[{"code":"too-quiet","message":"terlalu pelan"}]}"#));
        let en = serde_json::to_string(&report.localized(true)).unwrap();
        assert!(en.contains(r#""message":"too quiet""#), "{en}");
    }
}
