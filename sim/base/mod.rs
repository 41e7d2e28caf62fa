//! The leaves every layer builds on: virtual time, random streams and distributions, the
//! fixed hash functions, the event queue, interval statistics and numbers for people.
//! Imports nothing else of the crate.

pub mod ci;
pub mod hash;
pub mod human;
pub mod prefetch;
pub mod queue;
pub mod rng;
pub mod time;
