//! Stage timings of a command, on request.

/// `ATTAIN_TIMINGS=1` prints the time of each stage of a command to
/// stderr, in milliseconds since it started: how the figures in
/// bench/README.md are broken down.
pub struct Laps {
    on: bool,
    start: std::time::Instant,
}

impl Laps {
    pub fn new() -> Laps {
        Laps {
            on: std::env::var_os("ATTAIN_TIMINGS").is_some(),
            start: std::time::Instant::now(),
        }
    }

    /// Whether timings were asked for.
    pub fn on(&self) -> bool {
        self.on
    }

    pub fn lap(&self, what: &str) {
        if self.on {
            eprintln!("{:>8} ms  {what}", self.start.elapsed().as_millis());
        }
    }
}

impl Default for Laps {
    fn default() -> Laps {
        Laps::new()
    }
}
