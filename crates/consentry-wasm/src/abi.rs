//! The raw WebAssembly interface, for the page's hand-written JavaScript (no wasm-bindgen:
//! the page needs three functions, and its CLI is one more tool to pin and trust).
//!
//! The contract, as `assets/verify/verify.js` in the server crate uses it:
//! 1. `alloc(len) -> ptr`: a buffer of `len` bytes in the module's memory, for the
//!    document's bytes (JavaScript copies them in);
//! 2. `verify(ptr, len) -> u64`: reads those bytes, verifies them, and returns
//!    `(report_ptr << 32) | report_len`, a UTF-8 JSON report in a new buffer
//!    (`crate::verify_json`); the input buffer is left alone;
//! 3. `verify_pinned(ptr, len, keys_ptr, keys_len) -> u64`: the same, against the keys the
//!    second buffer names (the page pins the serving operator's, or a visitor's);
//! 4. `monitor(ptr, len) -> u64`: checks a view of the log (JSON in, JSON out, see
//!    `crate::monitor_json`), for the portal's and `/verify`'s log monitor;
//! 5. `dealloc(ptr, len)`: gives back each buffer, input and report, exactly once.
//!
//! Every buffer is a `Box<[u8]>` of exactly its length, leaked with `Box::into_raw` and
//! rebuilt with `Box::from_raw`, so `dealloc` needs only what the caller already holds.
//! This is the only module of the workspace allowed `unsafe`; the logic is in the safe,
//! natively tested `crate::verify_json`. The module exists only on wasm32-unknown-unknown,
//! where pointers and `usize` are 32 bits, so the packing into a `u64` is lossless.

use std::ptr;

/// A zeroed buffer of `len` bytes for the caller to fill; give it back with [`dealloc`].
#[unsafe(no_mangle)]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    Box::into_raw(vec![0u8; len].into_boxed_slice()).cast::<u8>()
}

/// Frees a buffer returned by [`alloc`] or [`verify`].
///
/// # Safety
/// `ptr` and `len` must be exactly those of one such buffer, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dealloc(ptr: *mut u8, len: usize) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: by this function's contract, (ptr, len) is a Box<[u8]> of `len` bytes that
    // alloc or verify leaked with Box::into_raw and nobody has freed.
    drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(ptr, len)) });
}

/// Verifies the `len` bytes at `ptr` and returns `(report_ptr << 32) | report_len`.
///
/// # Safety
/// `ptr` must point to `len` initialised bytes (a buffer from [`alloc`]) that stay
/// unchanged during the call; with `len` 0, `ptr` is not read.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn verify(ptr: *const u8, len: usize) -> u64 {
    let input: &[u8] = if len == 0 || ptr.is_null() {
        &[]
    } else {
        // SAFETY: by this function's contract, ptr points to len initialised bytes that
        // nothing writes while the call lasts.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    };
    let report = crate::verify_json(input).into_bytes().into_boxed_slice();
    let report_len = report.len();
    let report_ptr = Box::into_raw(report).cast::<u8>();
    ((report_ptr.addr() as u64) << 32) | report_len as u64
}

/// Like [`verify`], against the keys named by the `keys_len` bytes at `keys_ptr` (JSON
/// `{"seal": […], "log": […]}`, see `crate::verify_pinned`).
///
/// # Safety
/// Both `(ptr, len)` and `(keys_ptr, keys_len)` must be as [`verify`] requires of its
/// input: buffers from [`alloc`], initialised, unchanged during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn verify_pinned(
    ptr: *const u8,
    len: usize,
    keys_ptr: *const u8,
    keys_len: usize,
) -> u64 {
    // SAFETY: by this function's contract, each pointer is to its length's initialised
    // bytes, which nothing writes while the call lasts.
    let input = unsafe { bytes(ptr, len) };
    // SAFETY: as above.
    let keys = unsafe { bytes(keys_ptr, keys_len) };
    pack(crate::verify_pinned_json(input, keys))
}

/// Checks a view of the log (`crate::monitor_json`): the `len` bytes at `ptr` are the
/// page's JSON input; returns `(report_ptr << 32) | report_len`.
///
/// # Safety
/// `(ptr, len)` must be as [`verify`] requires of its input.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn monitor(ptr: *const u8, len: usize) -> u64 {
    // SAFETY: by this function's contract.
    let input = unsafe { bytes(ptr, len) };
    pack(crate::monitor_json(input))
}

/// The `len` bytes at `ptr` (none when `len` is 0).
///
/// # Safety
/// `ptr` must point to `len` initialised bytes that stay unchanged while the slice lives.
unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 || ptr.is_null() {
        &[]
    } else {
        // SAFETY: by this function's contract.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}

/// Leaks `report` as a buffer and packs `(ptr << 32) | len`.
fn pack(report: String) -> u64 {
    let report = report.into_bytes().into_boxed_slice();
    let report_len = report.len();
    let report_ptr = Box::into_raw(report).cast::<u8>();
    ((report_ptr.addr() as u64) << 32) | report_len as u64
}

/// The randomness source the core's dependencies get in the browser: none. Verification
/// never draws random numbers; should a code path ever try, it fails loudly instead of
/// silently using a weak source.
fn no_randomness(_: &mut [u8]) -> Result<(), getrandom::Error> {
    Err(getrandom::Error::UNSUPPORTED)
}

getrandom::register_custom_getrandom!(no_randomness);
