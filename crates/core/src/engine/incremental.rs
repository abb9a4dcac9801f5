//! What a changed transaction can move. A transaction credits some people;
//! their payouts change, and so do those of everyone who reads their
//! measures: the managers above them (roll-ups) and, when a measure is
//! shared by a team, their teammates. Recomputing those payouts needs the
//! credits of a larger set: each of them and everyone below them.
//!
//! Both sets come from the workspace and the hierarchy alone, so a caller
//! can recalculate only the transactions crediting [`inputs_of`] and keep
//! the payouts of [`affected`], and get exactly what a full calculation
//! gives for them.

use crate::data::Participants;
use crate::plan::{MeasureKind, RollupScope, Workspace};
use std::collections::BTreeSet;

fn shares_team_measures(ws: &Workspace) -> bool {
    ws.measures.iter().any(|m| {
        matches!(
            m.kind,
            MeasureKind::Rollup {
                scope: RollupScope::Team,
                ..
            }
        )
    })
}

/// `p` and everyone with the same manager.
fn team_of(people: &Participants, p: u32) -> Vec<u32> {
    match people.manager[p as usize] {
        Some(m) => people.direct_reports[m as usize].clone(),
        None => vec![p],
    }
}

/// The participants whose payouts a transaction crediting `credited` can
/// change.
pub fn affected(ws: &Workspace, people: &Participants, credited: &[u32]) -> BTreeSet<u32> {
    let team = shares_team_measures(ws);
    let mut out = BTreeSet::new();
    for &c in credited {
        if c as usize >= people.len() {
            continue;
        }
        out.insert(c);
        out.extend(people.managers(c));
        if team {
            out.extend(team_of(people, c));
        }
    }
    out
}

/// The participants whose credits the payouts of `affected` read.
pub fn inputs_of(ws: &Workspace, people: &Participants, affected: &BTreeSet<u32>) -> BTreeSet<u32> {
    let team = shares_team_measures(ws);
    let mut out = BTreeSet::new();
    for &a in affected {
        let roots = if team { team_of(people, a) } else { vec![a] };
        for r in roots.into_iter().chain([a]) {
            if out.insert(r) {
                out.extend(people.all_reports(r));
            }
        }
    }
    out
}
