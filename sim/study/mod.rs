//! Many runs of one scenario: checking expectations, sweeping parameters, tuning.

pub mod check;
pub mod run;
pub mod sweep;
pub mod tune;
