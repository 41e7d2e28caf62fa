//! The `hbsim` commands beyond `run` and `validate`.

pub mod check;
pub mod diff;
pub mod sweep;
pub mod tune;
