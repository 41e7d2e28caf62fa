//! The pure parts of the world: a client's link, its stream transport. Each takes `now`
//! and what happened and returns what follows; none sees the queue, the trace or the
//! scenario file. Imports only `base`.

pub mod client;
pub mod detector;
pub mod link;
pub mod server;
pub mod swim;
pub mod tcp;
