//! Every input the probe fuzzer starts from (`tests/fuzz/seeds/probe/`) or found troublesome
//! (`tests/fuzz/regressions/`, filled by `scripts/fuzz`), probed again on each test run: a probe
//! ends in `Ok` or `Err`, never a panic. What each probe answers is the business of `tests.rs`.

use std::fs;
use std::io::Cursor;
use std::panic;
use std::path::Path;

#[test]
fn fuzz_inputs_are_probed_without_panicking() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    let mut probed = 0;
    let mut panicked = Vec::new();
    for dir in ["seeds/probe", "regressions"] {
        let mut paths: Vec<_> = fs::read_dir(fuzz.join(dir))
            .unwrap_or_else(|e| panic!("tests/fuzz/{dir}: {e}"))
            .map(|entry| entry.expect("directory entry").path())
            .collect();
        paths.sort();
        for path in paths {
            let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let len = bytes.len() as u64;
            // Caught so that one run names every input that still panics, not only the first.
            // Uncontained: the probe's own net would turn the panic into an error.
            if panic::catch_unwind(|| super::probe_source_uncontained(Cursor::new(bytes), len))
                .is_err()
            {
                panicked.push(path.display().to_string());
            }
            probed += 1;
        }
    }
    assert!(probed > 0, "no fuzz inputs found under {}", fuzz.display());
    assert!(panicked.is_empty(), "the probe panicked on {panicked:#?}");
}
