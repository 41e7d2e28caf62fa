//! SVG pictures of a run and of a sweep, written by a small writer of our own.

pub mod pictures;
pub mod svg;
pub mod sweep;
pub mod timeline;
