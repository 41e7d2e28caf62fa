//! Goal: the server-to-client ping detector behaves as the reference's probe formulas say:
//! after a crash at a uniform time, detection takes the wait for the next ping plus the
//! timeout (in [τ, h + τ), mean h/2 + τ); independent losses make mistakes at the rate of
//! `misses` consecutive failed round trips; pings cost traffic both ways.

use crate::common::run;
use serde_json::{json, Value};

fn scenario(ping: Value, loss: f64, crash: bool) -> Value {
    let mut s = json!({
        "name": "ping", "seed": 12, "duration": "1h",
        "clients": [{ "group": "c", "count": 500, "heartbeat": { "interval": "1s" },
            "uplink": { "loss": { "model": "bernoulli", "p": loss } } }],
        "detectors": [ping]
    });
    if crash {
        s["faults"] = json!([{ "at": "30m", "action": "crash", "clients": "c" }]);
    }
    s
}

#[test]
fn detection_takes_the_wait_for_the_next_ping_plus_the_timeout() {
    let ping = json!({ "name": "p", "kind": "ping", "interval": "10s", "timeout": "2s" });
    let r = run(&scenario(ping, 0.0, true).to_string());
    let l = &r.detectors.get("p").unwrap().detection_latency;
    assert_eq!(l.count, 500);
    // L ∈ [τ, h + τ) = [2 s, 12 s), mean h/2 + τ = 7 s; sd = h/√12 = 2.89 s, standard
    // error over 500 crashes 0.13 s; tolerance 0.6 s (4.6 standard errors).
    assert!(
        l.stats.min_ns.unwrap() >= 2_000_000_000 && l.stats.max_ns.unwrap() < 12_000_000_000,
        "{l:?}"
    );
    let mean = l.stats.mean_ns.unwrap() as f64 / 1e9;
    assert!((mean - 7.0).abs() < 0.6, "mean {mean}");
    assert_eq!(r.detectors.get("p").unwrap().false_positives.total, 0);
}

#[test]
fn losses_make_mistakes_at_the_rate_of_consecutive_failed_round_trips() {
    // Loss p both ways: a round trip fails with q = 1 − (1 − p)² = 0.19; three misses in
    // a row after an answered ping: (1 − q)·q³ per ping; 360 pings per client-hour.
    let ping =
        json!({ "name": "p", "kind": "ping", "interval": "10s", "timeout": "2s", "misses": 3 });
    let r = run(&scenario(ping, 0.1, false).to_string());
    let d = r.detectors.get("p").unwrap();
    let q: f64 = 1.0 - 0.9 * 0.9;
    let expected = (1.0 - q) * q.powi(3) * 360.0 * 500.0;
    let got = d.false_positives.spurious as f64;
    // Poisson sd √expected ≈ 31; tolerance 4 sd.
    assert!(
        (got - expected).abs() < 4.0 * expected.sqrt(),
        "{got} vs {expected}"
    );
    // Traffic: one ping per client every 10 s, bytes both ways.
    let t = &r.traffic;
    assert!((t.probes_sent as i64 - 500 * 360).abs() <= 500, "{t:?}");
    let answered = t.probe_replies as f64 / t.probes_sent as f64;
    assert!((answered - 0.81).abs() < 0.01, "{answered}");
    assert!(t.bytes_down >= t.probes_sent * 64);
}

#[test]
fn a_paused_client_cannot_answer_and_adding_a_ping_changes_nothing_else() {
    let fixed =
        json!({ "name": "f", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" });
    let ping =
        json!({ "name": "p", "kind": "ping", "interval": "1s", "timeout": "500ms", "misses": 2 });
    let mut s = scenario(fixed.clone(), 0.05, true);
    s["clients"][0]["count"] = json!(50);
    s["faults"].as_array_mut().unwrap().push(json!(
        { "at": "10m", "action": "pause", "clients": "c[0..10]", "for": "10s" }));
    let alone = run(&s.to_string());
    s["detectors"] = json!([fixed, ping]);
    let both = run(&s.to_string());
    assert_eq!(alone.detectors.get("f"), both.detectors.get("f"));
    let p = both.detectors.get("p").unwrap();
    assert!(
        p.false_positives.during_fault >= 10,
        "{:?}",
        p.false_positives
    );
    assert_eq!(
        p.detection_latency.count
            + p.detection_latency.missed
            + p.detection_latency.already_offline,
        50
    );
}

fn outage(ping: Value, loss: f64) -> Value {
    json!({
        "name": "c2s", "seed": 13, "duration": "1h",
        "clients": [{ "group": "c", "count": 200, "heartbeat": { "interval": "1s" },
            "uplink": { "delay": { "dist": "constant", "value": "20ms" },
                        "loss": { "model": "bernoulli", "p": loss } } }],
        "detectors": [ping, { "name": "scanner", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" }],
        "faults": [{ "at": "30m", "action": "server-crash" }, { "at": "40m", "action": "server-restart" }]
    })
}

#[test]
fn clients_detect_the_servers_death_with_their_own_pings() {
    // The 5-step scheme: every client probes the server every 10 s and gives up after a
    // 2 s timeout. The server dies at 30 min: each client notices at its next probe plus
    // the timeout, in [τ, h + τ) = [2 s, 12 s), mean h/2 + τ = 7 s (sd 2.9 s, standard
    // error over 200 clients 0.2 s; tolerance 1 s).
    let ping = json!({ "name": "probe", "kind": "ping", "direction": "client-to-server",
                       "interval": "10s", "timeout": "2s" });
    let r = run(&outage(ping, 0.0).to_string());
    let p = r.detectors.get("probe").unwrap();
    let l = &p.detection_latency;
    assert_eq!(l.count, 200, "every client notices: {l:?}");
    assert!(
        l.stats.min_ns.unwrap() >= 2_000_000_000 && l.stats.max_ns.unwrap() < 12_000_000_000,
        "{l:?}"
    );
    let mean = l.stats.mean_ns.unwrap() as f64 / 1e9;
    assert!((mean - 7.0).abs() < 1.0, "{mean}");
    // Without loss nobody is wrong about a running server, and after the restart every
    // client finds it again.
    assert_eq!(p.false_positives.total, 0);
    assert_eq!(l.missed, 0);
    // The server-side scanner was dead during the outage: no mistakes, and it knows its
    // clients again after the restart (probes and heartbeats flow).
    let s = r.detectors.get("scanner").unwrap();
    assert_eq!(s.false_positives.total, 0);
    assert!(r.traffic.probes_sent > 0 && r.traffic.probe_replies < r.traffic.probes_sent);
}

#[test]
fn lossy_links_make_clients_wrongly_give_up_on_a_running_server() {
    // Round trip fails with q = 1 − (1 − p)² = 0.19; two misses in a row after an
    // answered probe: (1 − q)·q² per probe, 360 probes per client-hour, 50 minutes of
    // the hour with the server up.
    let ping = json!({ "name": "probe", "kind": "ping", "direction": "client-to-server",
                       "interval": "10s", "timeout": "2s", "misses": 2 });
    let r = run(&outage(ping, 0.1).to_string());
    let p = r.detectors.get("probe").unwrap();
    let q: f64 = 1.0 - 0.9 * 0.9;
    let expected = (1.0 - q) * q * q * 360.0 * (50.0 / 60.0) * 200.0;
    let got = p.false_positives.total as f64;
    assert!(
        (got - expected).abs() < 5.0 * expected.sqrt(),
        "{got} vs {expected}"
    );
}

#[test]
fn server_faults_take_no_client_selector() {
    let mut s = outage(
        json!({ "name": "probe", "kind": "ping", "direction": "client-to-server",
                               "interval": "10s", "timeout": "2s" }),
        0.0,
    );
    s["faults"][0]["clients"] = json!("c");
    let err = hbsim::parse(&s.to_string()).unwrap_err().to_string();
    assert!(
        err.contains("faults[0].clients: unknown field (expected one of: at, action)"),
        "{err}"
    );
}

#[test]
fn a_stalled_server_leaves_client_probes_unanswered() {
    // A 30 s stall with 10 s probes and a 2 s timeout: every client's probe in the stall
    // goes unanswered, so each client gives up on the (running) server exactly once; its
    // next probe after the stall is answered again. These are mistakes during a fault,
    // not spurious ones.
    let ping = json!({ "name": "probe", "kind": "ping", "direction": "client-to-server",
                       "interval": "10s", "timeout": "2s" });
    let mut s = outage(ping, 0.0);
    s["faults"] = json!([{ "at": "30m", "action": "server-stall", "for": "30s" }]);
    let r = run(&s.to_string());
    let d = r.detectors.get("probe").unwrap();
    let fp = &d.false_positives;
    assert_eq!(
        (fp.total, fp.during_fault, fp.spurious),
        (200, 200, 0),
        "{fp:?}"
    );
    // Every mistake ends (the first probe after the stall is answered) and lasts less than
    // the stall plus one probe interval.
    let m = &d.mistake_duration;
    assert_eq!((m.count, m.censored), (200, 0), "{m:?}");
    assert!(m.stats.max_ns.unwrap() < 40_000_000_000, "{m:?}");
}

#[test]
fn server_stalls_and_clock_steps_leave_active_detectors_to_their_probes() {
    // Clients that send no heartbeats, watched only by a server ping and TCP keepalive:
    // the catch-up scan after a server stall and the re-arming after a clock step are
    // about heartbeats, so they must not judge these clients (they once convicted every
    // client for 10 minutes of heartbeat silence).
    let s = json!({
        "name": "active", "seed": 5, "duration": "20m",
        "clients": [{ "group": "c", "count": 20, "heartbeat": { "enabled": false },
                      "uplink": { "delay": { "dist": "constant", "value": "10ms" } },
                      "transport": { "kind": "stream" } }],
        "detectors": [
            { "name": "ping", "kind": "ping", "interval": "5s", "timeout": "1s" },
            { "name": "ka", "kind": "tcp-keepalive", "idle": "30s", "interval": "5s", "probes": 3 }
        ],
        "faults": [
            { "at": "10m", "action": "server-stall", "for": "3s" },
            { "at": "12m", "action": "clock-step", "by": "+1h" },
            { "at": "15m", "action": "crash", "clients": "c[0]" }
        ]
    });
    let r = run(&s.to_string());
    for (name, bound_s) in [("ping", 6.0), ("ka", 45.0)] {
        let d = r.detectors.get(name).unwrap();
        assert_eq!(
            d.false_positives.total, 0,
            "{name}: {:?}",
            d.false_positives
        );
        let l = &d.detection_latency;
        assert_eq!(l.count, 1, "{name}: {l:?}");
        let got = l.stats.max_ns.unwrap() as f64 / 1e9;
        assert!(got <= bound_s, "{name}: detected after {got} s");
    }
}

#[test]
fn a_reply_after_the_timeout_does_not_answer_the_ping() {
    // A round trip of exactly 1.2 s (600 ms each way): with a 1.2 s timeout the reply
    // arrives at the timeout instant and counts (deliveries come first), so every client
    // is online and never flagged; with a 1 s timeout every reply is late, so no client
    // is ever heard from, and the late replies count for nothing.
    for (timeout, answered) in [("1200ms", true), ("1s", false)] {
        let mut s = scenario(
            json!({ "name": "p", "kind": "ping", "interval": "5s", "timeout": timeout }),
            0.0,
            false,
        );
        s["clients"][0]["uplink"]["delay"] = json!({ "dist": "constant", "value": "600ms" });
        let r = run(&s.to_string());
        let d = r.detectors.get("p").unwrap();
        assert_eq!(d.false_positives.total, 0, "{timeout}");
        if answered {
            // All but the pings of the last 1.2 s, whose replies would come after the end
            // (at most one per client with a 5 s interval).
            let unanswered = r.traffic.probes_sent - r.traffic.probe_replies;
            assert!(unanswered <= 500, "{timeout}: {unanswered} unanswered");
        } else {
            assert_eq!(r.traffic.probe_replies, 0, "{timeout}");
        }
    }
}

#[test]
fn a_server_that_dies_during_a_stall_judges_nobody_until_it_restarts() {
    // The server stalls at 100 s for 10 s and dies at 105 s; it restarts at 200 s. The
    // heartbeats held by the stall die with it: no verdict may change between the crash
    // and the restart (the stall's end once applied them and made every client online on
    // a dead server). A stall that begins while the server is dead is ignored, so the
    // restarted server judges at once.
    let s = json!({
        "name": "sc", "seed": 3, "duration": "5m",
        "clients": [{ "group": "c", "count": 20, "heartbeat": { "interval": "1s" },
                      "uplink": { "delay": { "dist": "constant", "value": "10ms" } } }],
        "detectors": [{ "name": "ft", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" }],
        "faults": [
            { "at": "100s", "action": "server-stall", "for": "10s" },
            { "at": "105s", "action": "server-crash" },
            { "at": "150s", "action": "server-stall", "for": "100s" },
            { "at": "200s", "action": "server-restart" }
        ]
    });
    let text = s.to_string();
    let parsed = hbsim::parse(&text).unwrap();
    let mut during = 0;
    let mut back = 0;
    let mut check = |e: &hbsim::VerdictEvent| {
        let t = e.time.as_nanos();
        if e.detector.is_some() && (105_000_000_000..200_000_000_000).contains(&t) {
            during += 1;
        }
        if e.detector.is_some() && (200_000_000_000..202_000_000_000).contains(&t) {
            back += 1;
        }
    };
    hbsim::run(
        &parsed,
        text.as_bytes(),
        parsed.seed,
        hbsim::Limits::default(),
        Some(&mut check),
    )
    .unwrap();
    assert_eq!(during, 0, "verdicts while the server was dead");
    assert_eq!(
        back, 20,
        "every client is known again within a second of the restart"
    );
}
