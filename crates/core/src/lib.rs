//! attain's engine: the plan language, its checker, and the calculation from
//! transactions to explained payouts. This crate performs no I/O: callers
//! hand it text and records and get values back.

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
