//! Inputs the fuzzer found troublesome, kept as regression tests (filled by the fuzz work).
