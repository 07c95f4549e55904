//! A panic inside a probe (a parser's bug on hostile bytes) ends that probe as unplayable media.
//!
//! The header checks (`wav`, `sniff`, `mp4`) keep symphonia and mp4parse from the inputs known to
//! break them; this is the net under bugs nobody has found yet, so that one upload cannot crash a
//! job or a command, and the log gets one warning line rather than a backtrace. The fuzz target and
//! the regression test call the probe without the net: there a panic must stay a failure.
//! `catch_panic` is the same net for the quality analysis (`media::quality`), which decodes what
//! the probe only demuxes.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use super::ProbeError;

thread_local! {
    /// Set while this thread runs a contained probe.
    static CONTAINING: Cell<bool> = const { Cell::new(false) };
    /// Where and why the contained probe panicked, recorded by the panic hook.
    static PANICKED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `probe`, turning a panic in it into `ProbeError::Unplayable` and one warning.
pub(super) fn contained<T>(probe: impl FnOnce() -> Result<T, ProbeError>) -> Result<T, ProbeError> {
    catch_panic(probe).unwrap_or_else(|panic| {
        tracing::warn!(%panic, "the media probe panicked; the file is refused as unplayable");
        Err(ProbeError::Unplayable(
            "the file could not be read as media".into(),
        ))
    })
}

/// Runs `run`; a panic in it comes back as `Err` with the panic's message and place, printed by
/// no hook (the caller says in one line what it means).
pub(in crate::media) fn catch_panic<T>(run: impl FnOnce() -> T) -> Result<T, String> {
    quiet_hook();
    let outer = CONTAINING.replace(true);
    let result = panic::catch_unwind(AssertUnwindSafe(run));
    CONTAINING.set(outer);
    result.map_err(|_| PANICKED.take().unwrap_or_default())
}

/// Installs, once per process, a panic hook that records a contained probe's panic instead of
/// printing it with a backtrace; every other panic goes to the hook that was there before.
fn quiet_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CONTAINING.get() {
                let location = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
                    .unwrap_or("(no message)");
                PANICKED.set(Some(format!("{message}{location}")));
            } else {
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// What a test's tracing subscriber wrote.
    #[derive(Clone, Default)]
    struct Log(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Log {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().expect("log lock").extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Log {
        type Writer = Log;

        fn make_writer(&'a self) -> Log {
            self.clone()
        }
    }

    #[test]
    fn a_panicking_probe_is_unplayable_media_and_one_warning() {
        let log = Log::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(log.clone())
            .with_ansi(false)
            .finish();
        let result: Result<(), ProbeError> = tracing::subscriber::with_default(subscriber, || {
            contained(|| panic!("attempt to multiply with overflow"))
        });
        let error = result.expect_err("a panic is an error");
        assert_eq!(error.code(), "unplayable-media");
        assert_eq!(error.to_string(), "the file could not be read as media");

        let log = String::from_utf8(log.0.lock().expect("log lock").clone()).expect("UTF-8");
        assert_eq!(log.lines().count(), 1, "{log}");
        assert!(log.contains("WARN"), "{log}");
        assert!(
            log.contains("attempt to multiply with overflow at src/media/probe/contain.rs:"),
            "the panic's message and place: {log}"
        );
        assert!(!CONTAINING.get(), "the thread has left the contained probe");
        // A panic outside a probe is not the probe's to swallow.
        assert!(panic::catch_unwind(|| panic!("outside a probe")).is_err());
        assert_eq!(PANICKED.take(), None);
    }

    #[test]
    fn a_probe_that_returns_is_answered_unchanged() {
        assert_eq!(contained(|| Ok(7)).ok(), Some(7));
        let error = contained::<()>(|| Err(ProbeError::Empty)).expect_err("an error");
        assert_eq!(error.code(), "empty-media");
    }
}
