//! How long each database call takes, for the metrics (`http::metrics`): every `AnyDb` method
//! runs inside its `#[tracing::instrument]` span, so a tracing layer that times `siaran::db`
//! spans from creation to close measures each call — waiting for a connection included — by
//! the method's name (a fixed set, never the SQL). `main` installs `layer()` for `serve`;
//! the figures are process-wide, as the error counts (`db::errors`) are.

use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex},
    time::Instant,
};

use tracing::{Level, Subscriber, span};
use tracing_subscriber::{
    Layer,
    filter::{Filtered, Targets},
    layer::Context,
    registry::LookupSpan,
};

/// Upper bounds of the buckets, in seconds (those of every other duration in the metrics).
pub const BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// One call's durations: how many fell in each bucket (not cumulative), their count and sum.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timing {
    pub buckets: [u64; BUCKETS.len()],
    pub count: u64,
    pub sum: f64,
}

impl Timing {
    fn record(&mut self, seconds: f64) {
        if let Some(i) = BUCKETS.iter().position(|&le| seconds <= le) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }
}

static CALLS: LazyLock<Mutex<HashMap<&'static str, Timing>>> = LazyLock::new(Mutex::default);

/// Every call timed since the process started, by method name, sorted by name.
pub fn calls() -> Vec<(&'static str, Timing)> {
    let calls = CALLS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut all: Vec<_> = calls.iter().map(|(k, v)| (*k, *v)).collect();
    all.sort_unstable_by_key(|(k, _)| *k);
    all
}

fn record(call: &'static str, seconds: f64) {
    CALLS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(call)
        .or_default()
        .record(seconds);
}

/// The layer, filtered to this module's spans whatever the log level says.
pub fn layer<S>() -> Filtered<CallTimer, Targets, S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    CallTimer.with_filter(Targets::new().with_target("siaran::db", Level::TRACE))
}

/// Times each span from its creation to its close.
#[derive(Debug)]
pub struct CallTimer;

struct Started(Instant);

impl<S> Layer<S> for CallTimer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, _attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Started(Instant::now()));
        }
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let started = span.extensions().get::<Started>().map(|s| s.0);
        if let Some(started) = started {
            record(span.name(), started.elapsed().as_secs_f64());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt as _;

    #[tracing::instrument]
    fn timing_test_call() {
        std::thread::sleep(std::time::Duration::from_millis(3));
    }

    #[test]
    fn a_call_in_this_module_is_timed_by_its_name_and_others_are_not() {
        let subscriber = tracing_subscriber::registry().with(layer());
        tracing::subscriber::with_default(subscriber, || {
            timing_test_call();
            timing_test_call();
            let _outside = tracing::info_span!(target: "siaran::http", "outside").entered();
        });
        let calls = calls();
        let (_, t) = calls
            .iter()
            .find(|(name, _)| *name == "timing_test_call")
            .expect("timed");
        assert_eq!(t.count, 2);
        assert!(t.sum >= 0.006, "{t:?}");
        // Each call slept 3 ms at least (more on a busy machine): none in the buckets below 5 ms.
        assert_eq!(t.buckets[..2], [0, 0], "{t:?}");
        assert_eq!(t.buckets.iter().sum::<u64>(), 2, "{t:?}");
        assert!(!calls.iter().any(|(name, _)| *name == "outside"));
    }

    #[test]
    fn a_duration_falls_in_the_first_bucket_that_holds_it() {
        let mut t = Timing::default();
        for seconds in [0.003, 0.005, 0.0051, 20.0] {
            t.record(seconds);
        }
        // 3 ms and 5 ms in the 5-ms bucket, 5.1 ms in the 10-ms one; 20 s is counted in none.
        assert_eq!(t.buckets[2..4], [2, 1]);
        assert_eq!(t.buckets.iter().sum::<u64>(), 3);
        assert_eq!(t.count, 4);
    }
}
