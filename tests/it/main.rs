//! The one integration-test binary: goldens, determinism, oracles against theory, the
//! command line, property tests and a tidy check of the source.

mod check;
mod cli;
mod common;
mod determinism;
mod fidelity;
mod fuzz;
mod golden;
mod integrations;
mod interfaces;
mod keepalive;
mod literature;
mod network;
mod oracle;
mod phi;
mod ping;
mod props;
mod robustness;
mod schema;
mod sweep;
mod swim;
mod tidy;
