//! A hint to the processor that memory will be read soon.
//!
//! At a million clients the state an event touches is a cache miss away; the run loop
//! names the client of an event a few places ahead in the queue so that its state is in
//! cache when its turn comes. The hint changes no result: it neither reads nor writes
//! the memory as far as the program can tell.

/// Asks the processor to bring the cache lines holding `r` closer: its first line, and
/// its last where it straddles two (a 56-byte value in an array often does).
#[inline(always)]
pub fn prefetch<T>(r: &T) {
    let first = (r as *const T).cast::<i8>();
    line(first);
    let size = std::mem::size_of::<T>();
    if size > 1 {
        let last = first.wrapping_add(size - 1);
        if (first as usize) / 64 != (last as usize) / 64 {
            line(last);
        }
    }
}

/// Prefetches the line holding `p`.
#[inline(always)]
fn line(p: *const i8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 only hints the cache; it never faults and has no effect the
    // program can observe, and `p` points into a live value anyway. SSE is part of the
    // x86-64 baseline, so the instruction exists on every x86-64 processor.
    unsafe {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
