//! attain's engine: the plan language, its checker, and the calculation from
//! transactions to explained payouts. This crate opens no file and uses no
//! network: callers hand it text, records, readers or an open file and get
//! values back. Only the data readers (`data`) do I/O, reading what they
//! are handed (`data::sift_file` reads an open file by position).

pub mod calendar;
pub mod chart;
pub mod data;
pub mod diag;
pub mod engine;
pub mod estimate;
pub mod expr;
pub mod forecast;
pub mod model;
pub mod money;
pub mod plan;
pub mod random;
pub mod report;
pub mod stats;
