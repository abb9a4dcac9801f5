//! Fuzzes the data readers, the first thing to read a file a CRM wrote.
//!
//! The input is a participants file, a line holding `%%%%`, then a
//! transactions file, both read under one fixed workspace whose columns
//! cover every field type (`.ci/fuzz` seeds the corpus with a small valid
//! pair). Whatever the bytes, the readers must return, the errors must name
//! the file, and a read must not depend on how the bytes arrive: read whole
//! or a few bytes at a time, the result is the same. When both files read,
//! the year is calculated and its payouts written and explained.

#![no_main]

use attain_core::data::{load_participants, load_transactions};
use attain_core::diag::{render, SourceFile};
use attain_core::engine::{calculate, measures::QuotaOverrides};
use attain_core::plan::check_workspace;
use libfuzzer_sys::fuzz_target;
use std::io::Read;

const WORKSPACE: &str = r#"
[calendar]
year = 2026
[participants]
id = "participant_id"
manager = "manager_id"
plan = "plan"
start = "hire_date"
end = "leave_date"
[participants.fields]
role = { type = "text", values = ["am", "manager"] }
[transactions]
id = "deal_id"
date = "close_date"
amount = { column = "amount", type = "money", min = 0 }
[transactions.fields]
kind = { type = "text", values = ["renewal", "upsell", "churn"] }
account = { column = "account_id" }
units = { type = "integer", optional = true, min = 0 }
margin = { type = "decimal", optional = true }
live = { type = "date", optional = true }
owner = { column = "owner_id", type = "participant" }
split_owner = { column = "split_owner_id", type = "participant", optional = true }
split_pct = { column = "split_pct", type = "integer", optional = true, min = 0 }
[credit]
to = "owner"
[[credit.split]]
to = "split_owner"
percent = "split_pct"
[measures]
renewal = { sum = "credit", where = "kind == 'renewal'" }
upsell = { sum = "credit", where = "kind == 'upsell' and margin >= 0.3" }
accounts = { count_groups = "account", having = "distinct(kind) >= 2" }
team = { sum_over = "direct_reports", of = "renewal" }
[quotas]
target = { amount = 100_000 }
"#;

const PLAN: &str = r#"
[plan]
id = "am"
[[components]]
id = "commission"
period = "quarter"
measure = "renewal"
quota = "target"
bands = [{ from = "0%", rate = "5%" }, { from = "100%", rate = "8%" }]
[[components]]
id = "spiff"
period = "month"
payout = "$100 * accounts + upsell * 1%"
[[components]]
id = "override"
period = "year"
measure = "team"
rate = "1%"
"#;

/// Hands out a few bytes at a time, as a pipe may.
struct Trickle<'a> {
    bytes: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        self.step = self.step % 7 + 1;
        Ok(n)
    }
}

fuzz_target!(|data: &[u8]| {
    let (people_csv, deals_csv) = match data.windows(6).position(|w| w == b"\n%%%%\n") {
        Some(at) => (&data[..at + 1], &data[at + 6..]),
        None => (data, &b""[..]),
    };
    let checked = check_workspace(
        &SourceFile::new("attain.toml", WORKSPACE),
        &[SourceFile::new("plans/am.toml", PLAN)],
    );
    let Some(ws) = checked.workspace else {
        panic!("the fuzz workspace does not check: {}", render(&checked.diagnostics));
    };
    let people = match load_participants(&ws, "p.csv", people_csv) {
        Ok(people) => people,
        Err(errors) => {
            assert!(!errors.is_empty());
            assert!(errors.iter().all(|e| e.location.file == "p.csv"), "{errors:?}");
            return;
        }
    };
    let whole = load_transactions(&ws, &people, "d.csv", deals_csv);
    let trickled = load_transactions(&ws, &people, "d.csv", Trickle { bytes: deals_csv, step: 1 });
    assert_eq!(format!("{whole:?}"), format!("{trickled:?}"), "read whole and a few bytes at a time");
    let txns = match whole {
        Ok(txns) => txns,
        Err(errors) => {
            assert!(!errors.is_empty());
            assert!(errors.iter().all(|e| e.location.file == "d.csv"), "{errors:?}");
            return;
        }
    };
    if let Ok(calc) = calculate(&ws, &people, &txns, &QuotaOverrides::new(), 2026) {
        let mut out = Vec::new();
        let _ = attain_core::report::payouts_csv(&mut out, &ws, &people, &calc);
        if let Some(payout) = calc.payouts.first() {
            let _ = attain_core::report::explain(
                &ws,
                &people,
                &txns,
                &calc,
                payout.participant,
                payout.period,
                10,
            );
        }
    }
});
