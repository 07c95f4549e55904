//! Probing arbitrary bytes must end in `Ok` or `Err`: never a panic, a hang or an unbounded
//! allocation. The bytes come in as an in-memory file of exactly their length, as an upload would.

#![no_main]
// To name the code that asked for too much memory before the process aborts.
#![feature(alloc_error_hook)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Cursor;

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        std::alloc::set_alloc_error_hook(|layout| {
            let trace = std::backtrace::Backtrace::force_capture();
            eprintln!("memory allocation of {} bytes refused\n{trace}", layout.size());
        });
    },
    |data: &[u8]| {
        let len = data.len() as u64;
        // Uncontained: `probe_source` would answer a panic as unplayable media, hiding the bug.
        let _ = siaran::media::probe::probe_source_uncontained(Cursor::new(data.to_vec()), len);
    }
);

/// Larger allocations fail, as they would on a server with a memory limit. Inputs are at most a
/// few KiB, so asking for more means a size field in the file was trusted. A fallible request
/// (`try_reserve`, as mp4parse makes for its sample tables) must then end in an error; any other
/// aborts, which libFuzzer records as a crash. libFuzzer's own `-malloc_limit_mb` needs a
/// sanitizer's allocator, and `-rss_limit_mb` misses large allocations that are never touched.
const MAX_ALLOCATION: usize = 256 << 20;

struct Capped;

// SAFETY: calls go unchanged to the system allocator, except oversized ones, which report failure
// with a null pointer as `GlobalAlloc` allows.
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > MAX_ALLOCATION {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > MAX_ALLOCATION {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > MAX_ALLOCATION {
            return std::ptr::null_mut();
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Capped = Capped;
