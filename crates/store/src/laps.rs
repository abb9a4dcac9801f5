//! Stage timings of a command, on request.

/// `ATTAIN_TIMINGS=1` prints the time of each stage of a command to
/// stderr, in milliseconds since it started, with the CPU time the process
/// has used by then (on Linux; user + system, in the kernel's 10 ms
/// ticks): how the figures in bench/README.md are broken down.
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
            let cpu = cpu_ms().map_or(String::new(), |ms| format!(" ({ms:>5} ms CPU)"));
            eprintln!("{:>8} ms{cpu}  {what}", self.start.elapsed().as_millis());
        }
    }
}

impl Default for Laps {
    fn default() -> Laps {
        Laps::new()
    }
}

/// CPU time used by this process, from `/proc/self/stat` (user and system
/// ticks, 100 a second on Linux).
fn cpu_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold
    // spaces: utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user + system) * 10)
}
