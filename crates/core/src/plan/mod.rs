//! The plan language: syntax (TOML with embedded expressions), the checker,
//! and the checked model the engine runs.

pub mod check;
pub mod clone;
pub mod lint;
pub mod model;
pub mod syntax;

pub use check::{check_workspace, Checked};
pub use clone::clone_text;
pub use model::*;
