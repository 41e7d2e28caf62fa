//! Writes the raw 64-bit draws of hbsim's random streams to stdout, for an external test
//! battery: `cargo run --release --example draws | dieharder -a -g 200`.
//!
//! The streams are those of one purpose (uplink loss) of a group of `CLIENTS` clients,
//! keyed by seed 2026 as a run keys them; their draws are interleaved client by client
//! (client 0's first draw, client 1's first, …, then everyone's second), so that a
//! correlation between adjacent clients' streams shows in the battery as a pattern in
//! one sequence. Runs until stdout closes. Arguments: `[clients] [seed]`.

use hbsim::base::rng::{key, stream, Purpose};
use std::io::Write;

fn main() {
    let mut args = std::env::args().skip(1);
    let clients: u32 = args
        .next()
        .map_or(64, |a| a.parse().expect("a client count"));
    let seed: u64 = args.next().map_or(2026, |a| a.parse().expect("a seed"));
    let k = key(seed, Purpose::UplinkLoss, "clients");
    let mut streams: Vec<_> = (0..clients).map(|i| stream(k, i)).collect();
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out.lock());
    let mut buf = Vec::with_capacity(8 * clients as usize);
    loop {
        buf.clear();
        for s in &mut streams {
            buf.extend_from_slice(&s.next_u64().to_le_bytes());
        }
        if out.write_all(&buf).is_err() {
            return;
        }
    }
}
