//! The checked model: what a workspace means once every name is resolved,
//! every number is exact and every table is known to be well formed. Values
//! of these types cannot hold a tier table with a gap, a measure cycle or an
//! unknown field: the checker refuses to build them.

use crate::calendar::{FiscalCalendar, PeriodKind};
use crate::expr::{Expr, Type};
use crate::money::{Rounding, RoundingMode};
use rust_decimal::Decimal;

#[derive(Debug, Clone)]
pub struct Workspace {
    pub name: String,
    pub currency: String,
    /// Decimals of the currency's minor unit; amounts in data are held as
    /// integers of that unit.
    pub minor_unit: u32,
    pub calendar: FiscalCalendar,
    pub default_year: Option<i16>,
    pub payout_rounding: Rounding,
    pub participants: ParticipantSchema,
    pub transactions: TransactionSchema,
    pub credit: CreditRule,
    /// In dependency order: a measure comes after everything it reads.
    pub measures: Vec<Measure>,
    pub quotas: Vec<Quota>,
    pub plans: Vec<Plan>,
}

impl Workspace {
    /// How this workspace's amounts are printed: its currency's sign and
    /// `minor_unit` decimals.
    pub fn money(&self) -> crate::money::Currency {
        crate::money::Currency::new(&self.currency, self.minor_unit)
    }

    /// Indexes of the measures a plan reads, directly or through other
    /// measures, in dependency order.
    pub fn measures_read_by(&self, plan: &Plan) -> Vec<usize> {
        self.measures_reached(plan, true)
    }

    /// The measures a plan reads of the participant's own values: those
    /// read only of their reports, through a roll-up, left out (a
    /// manager's own `nrr` is not what pays them).
    pub fn own_measures_read_by(&self, plan: &Plan) -> Vec<usize> {
        self.measures_reached(plan, false)
    }

    fn measures_reached(&self, plan: &Plan, through_rollups: bool) -> Vec<usize> {
        let mut wanted: Vec<String> = Vec::new();
        for c in &plan.components {
            if let Some(m) = c.measure {
                wanted.push(self.measures[m].name.clone());
            }
            let formulas = c.gate.iter().chain(match &c.rule {
                PayRule::Formula(f) => Some(f),
                _ => None,
            });
            for f in formulas {
                wanted.extend(f.expr.references().into_iter().map(String::from));
            }
        }
        let mut keep = vec![false; self.measures.len()];
        while let Some(name) = wanted.pop() {
            let Some(i) = self.measure(&name) else {
                continue;
            };
            if keep[i] {
                continue;
            }
            keep[i] = true;
            match &self.measures[i].kind {
                MeasureKind::Derived(e) => {
                    wanted.extend(e.references().into_iter().map(String::from))
                }
                MeasureKind::Rollup {
                    of: ValueRef::Measure(m),
                    ..
                } if through_rollups => wanted.push(self.measures[*m].name.clone()),
                _ => {}
            }
        }
        (0..self.measures.len()).filter(|&i| keep[i]).collect()
    }

    /// The period kinds of the components that read quota `q`: as their
    /// quota, in a formula, or through a measure (a roll-up of it, a
    /// formula over it). A quota given for another kind of period is read
    /// by nothing.
    pub fn quota_periods(&self, q: usize) -> Vec<PeriodKind> {
        let Some(quota) = self.quotas.get(q) else {
            return Vec::new();
        };
        // Measures whose value depends on the quota, to a fixed point (a
        // measure may read one declared after it).
        let mut reads = vec![false; self.measures.len()];
        let names_read = |reads: &[bool], names: Vec<&str>| {
            names.into_iter().any(|n| {
                n == quota.name || self.measure(n).is_some_and(|m| reads.get(m) == Some(&true))
            })
        };
        loop {
            let mut changed = false;
            for (i, m) in self.measures.iter().enumerate() {
                let now = match &m.kind {
                    MeasureKind::Derived(e) => names_read(&reads, e.references()),
                    MeasureKind::Rollup { of, .. } => match of {
                        ValueRef::Quota(x) => *x == q,
                        ValueRef::Measure(x) => reads.get(*x) == Some(&true),
                    },
                    _ => false,
                };
                if now && !reads[i] {
                    reads[i] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let mut kinds = Vec::new();
        for c in self.plans.iter().flat_map(|p| &p.components) {
            let formulas = c.gate.iter().chain(match &c.rule {
                PayRule::Formula(f) => Some(f),
                _ => None,
            });
            let read = c.quota == Some(q)
                || c.measure.is_some_and(|m| reads.get(m) == Some(&true))
                || formulas
                    .into_iter()
                    .any(|f| names_read(&reads, f.expr.references()));
            if read && !kinds.contains(&c.period) {
                kinds.push(c.period);
            }
        }
        kinds
    }

    pub fn plan(&self, id: &str) -> Option<usize> {
        self.plans.iter().position(|p| p.id == id)
    }

    pub fn measure(&self, name: &str) -> Option<usize> {
        self.measures.iter().position(|m| m.name == name)
    }

    pub fn quota(&self, name: &str) -> Option<usize> {
        self.quotas.iter().position(|q| q.name == name)
    }

    /// Period kinds some component is paid on, in order.
    pub fn period_kinds(&self) -> Vec<PeriodKind> {
        let mut kinds: Vec<PeriodKind> = self
            .plans
            .iter()
            .flat_map(|p| p.components.iter().map(|c| c.period))
            .collect();
        kinds.sort();
        kinds.dedup();
        kinds
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Text,
    Date,
    Money,
    Integer,
    Decimal,
    /// Text naming a participant; checked against the participants file.
    Participant,
}

impl FieldType {
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Date => "date",
            FieldType::Money => "money",
            FieldType::Integer => "integer",
            FieldType::Decimal => "decimal",
            FieldType::Participant => "participant",
        }
    }

    pub fn parse(text: &str) -> Option<FieldType> {
        Some(match text {
            "text" => FieldType::Text,
            "date" => FieldType::Date,
            "money" => FieldType::Money,
            "integer" | "whole" => FieldType::Integer,
            "decimal" | "number" => FieldType::Decimal,
            "participant" => FieldType::Participant,
            _ => return None,
        })
    }

    /// How an expression sees a value of this field.
    pub fn expr_type(self) -> Type {
        match self {
            FieldType::Text | FieldType::Participant => Type::Text,
            FieldType::Date => Type::Date,
            FieldType::Money => Type::Money,
            FieldType::Integer | FieldType::Decimal => Type::Number,
        }
    }
}

/// A column of a data file and what it holds.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub column: String,
    pub ty: FieldType,
    pub optional: bool,
    /// The smallest value allowed (numbers and money).
    pub min: Option<Decimal>,
    /// The only values allowed (text).
    pub values: Option<Vec<String>>,
    /// Text compared by some filter, so worth interning (see
    /// `data::RawText`); the checker sets it.
    pub interned: bool,
}

#[derive(Debug, Clone)]
pub struct ParticipantSchema {
    pub id_column: String,
    pub manager_column: Option<String>,
    pub plan_column: Option<String>,
    pub start_column: Option<String>,
    pub end_column: Option<String>,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone)]
pub struct TransactionSchema {
    pub id_column: String,
    pub date_column: String,
    pub amount: Field,
    pub fields: Vec<Field>,
}

impl TransactionSchema {
    pub fn field(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct CreditRule {
    /// Index of the participant field receiving the credit.
    pub to: usize,
    pub splits: Vec<Split>,
}

#[derive(Debug, Clone)]
pub struct Split {
    /// Index of the participant field receiving the share.
    pub to: usize,
    pub percent: SplitPercent,
    pub rounding: RoundingMode,
}

#[derive(Debug, Clone)]
pub enum SplitPercent {
    /// A numeric field holding a whole percent (30 means 30%).
    Field(usize),
    /// A fixed share, as a ratio (0.3 for 30%).
    Fixed(Decimal),
}

/// Whether a credit came to its participant as the owner or as a split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CreditedAs {
    Owner,
    Split,
}

impl CreditedAs {
    pub fn name(self) -> &'static str {
        match self {
            CreditedAs::Owner => "owner",
            CreditedAs::Split => "split",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Measure {
    pub name: String,
    pub ty: Type,
    pub kind: MeasureKind,
    pub description: Option<String>,
    /// The definition in words (`sum of credit where kind == 'renewal'`),
    /// for explanations.
    pub source: String,
}

#[derive(Debug, Clone)]
pub enum MeasureKind {
    /// Sum of credited amounts (`field: None`) or of a numeric transaction
    /// field, over the credits that pass the filter.
    Sum {
        field: Option<usize>,
        filter: Option<Expr>,
    },
    Count {
        filter: Option<Expr>,
    },
    CountDistinct {
        field: usize,
        filter: Option<Expr>,
    },
    /// Groups of credits by a field, counted when `having` holds.
    CountGroups {
        field: usize,
        filter: Option<Expr>,
        having: Expr,
    },
    /// A value of each report, summed for their manager.
    Rollup {
        scope: RollupScope,
        of: ValueRef,
        filter: Option<Expr>,
    },
    Derived(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollupScope {
    DirectReports,
    AllReports,
    /// Everyone with the participant's manager, the participant included:
    /// a goal shared by a team, seen from each member.
    Team,
}

impl RollupScope {
    pub fn name(self) -> &'static str {
        match self {
            RollupScope::DirectReports => "direct_reports",
            RollupScope::AllReports => "all_reports",
            RollupScope::Team => "team",
        }
    }
}

/// A per-participant, per-period value: a measure or a quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRef {
    Measure(usize),
    Quota(usize),
}

#[derive(Debug, Clone)]
pub struct Quota {
    pub name: String,
    pub amount: Decimal,
    /// The period kind the amount is for, when the plan says.
    pub per: Option<PeriodKind>,
    pub prorate: bool,
    pub rounding: Rounding,
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// Its own components followed by those of the plans it includes.
    pub components: Vec<Component>,
    pub tests: Vec<PlanTest>,
    pub file: String,
    /// The plan it was cloned from, as its file records it.
    pub cloned_from: Option<ClonedFrom>,
}

/// A cloned plan's origin (`cloned_from` in its file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClonedFrom {
    pub plan: String,
    /// The source's file, and its version in the store or the digest of
    /// its text when it was cloned.
    pub file: Option<String>,
    pub version: Option<i64>,
    pub digest: Option<String>,
}

impl ClonedFrom {
    /// `retention_commission (plans/retention.toml v3)`
    pub fn describe(&self) -> String {
        let mut at = Vec::new();
        if let Some(f) = &self.file {
            at.push(f.clone());
        }
        if let Some(v) = self.version {
            at.push(format!("v{v}"));
        }
        if let Some(d) = &self.digest {
            at.push(format!("digest {d}"));
        }
        if at.is_empty() {
            self.plan.clone()
        } else {
            format!("{} ({})", self.plan, at.join(" "))
        }
    }
}

#[derive(Debug, Clone)]
pub struct Component {
    pub id: String,
    pub name: String,
    pub period: PeriodKind,
    pub measure: Option<usize>,
    pub quota: Option<usize>,
    pub gate: Option<Formula>,
    pub rule: PayRule,
    pub cap: Option<Decimal>,
    pub floor: Option<Decimal>,
    pub rounding: Rounding,
    /// Whether the rounding was written on the component or is the
    /// workspace default (the explanation says which).
    pub rounding_is_default: bool,
    /// The plan file that defines it (differs from the plan's for included
    /// components).
    pub origin: String,
    /// Where its `id` is written, for diagnostics about the component as a
    /// whole (the plan lint's findings).
    pub location: crate::diag::Location,
    /// What the ledger withholds of each payout, and until when. The
    /// engine ignores it: an earning is earned whole.
    pub holdback: Option<Holdback>,
    /// The lint findings its author means, each with where it is written
    /// (an acceptance that no longer matches anything is reported there).
    pub accepts: Vec<(Finding, crate::diag::Location)>,
}

/// A kind of plan-lint finding, as named in a component's `accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Finding {
    /// One cent more pays a jump: a gate, a retroactive tier, a curve's foot.
    Cliff,
    /// The payout falls while the measure rises.
    FallingPay,
    /// A band a cap makes unreachable.
    UnreachableBand,
    /// A stretch where more performance pays nothing more.
    DeadZone,
}

impl Finding {
    pub const ALL: [Finding; 4] = [
        Finding::Cliff,
        Finding::FallingPay,
        Finding::UnreachableBand,
        Finding::DeadZone,
    ];

    /// The name written in `accept`.
    pub fn name(self) -> &'static str {
        match self {
            Finding::Cliff => "cliff",
            Finding::FallingPay => "falling_pay",
            Finding::UnreachableBand => "unreachable_band",
            Finding::DeadZone => "dead_zone",
        }
    }

    pub fn parse(text: &str) -> Option<Finding> {
        Finding::ALL.into_iter().find(|f| f.name() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holdback {
    /// The share withheld, between 0 and 1.
    pub percent: Decimal,
    pub until: Release,
}

/// When withheld amounts are paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Release {
    /// In the last pay period of the fiscal quarter.
    QuarterEnd,
    /// In the last pay period of the fiscal year.
    YearEnd,
    /// When someone releases them (`attain release`), e.g. once the
    /// invoice is paid.
    Manual,
}

impl Release {
    pub fn name(self) -> &'static str {
        match self {
            Release::QuarterEnd => "quarter_end",
            Release::YearEnd => "year_end",
            Release::Manual => "manual",
        }
    }

    pub fn parse(text: &str) -> Option<Release> {
        Some(match text {
            "quarter_end" => Release::QuarterEnd,
            "year_end" => Release::YearEnd,
            "manual" => Release::Manual,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub enum PayRule {
    /// measure × rate
    Rate(Decimal),
    Tiers {
        mode: TierMode,
        basis: Basis,
        bands: Vec<Band>,
    },
    /// An amount per point of attainment (1 point = 1%), by band.
    PerPoint {
        bands: Vec<Band>,
        points_rounding: Option<Rounding>,
    },
    /// Payout as a function of attainment (or of the measure when the
    /// component has no quota), linear between points.
    Curve {
        basis: Basis,
        points: Vec<(Decimal, Decimal)>,
    },
    Fixed(Decimal),
    Formula(Formula),
}

/// An expression with the text it was written as, for explanations.
#[derive(Debug, Clone)]
pub struct Formula {
    pub expr: Expr,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierMode {
    /// Each rate applies to the part of the measure inside its band.
    Marginal,
    /// The band reached sets the rate for the whole measure.
    Retroactive,
}

impl TierMode {
    pub fn name(self) -> &'static str {
        match self {
            TierMode::Marginal => "marginal",
            TierMode::Retroactive => "retroactive",
        }
    }
}

/// What band edges are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// Ratios of the quota (`100%`, `150%`).
    Attainment,
    /// Amounts of the measure (`$100_000`).
    Amount,
    /// Plain values of a numeric measure (`0.90`).
    Value,
}

#[derive(Debug, Clone)]
pub struct Band {
    pub name: Option<String>,
    pub from: Decimal,
    /// `None`: no upper bound.
    pub to: Option<Decimal>,
    /// A rate (tiers) or an amount per point (per-point bonuses).
    pub rate: Decimal,
}

/// An example written next to a plan: given measures, the expected payouts.
#[derive(Debug, Clone)]
pub struct PlanTest {
    pub name: String,
    pub period: Option<crate::calendar::Period>,
    pub start: Option<jiff::civil::Date>,
    pub measures: Vec<(usize, Decimal)>,
    pub quotas: Vec<(usize, Decimal)>,
    /// (component index in the plan, expected amount)
    pub expect: Vec<(usize, Decimal)>,
    /// Where the test is written (file:line), to report failures.
    pub location: String,
    /// Participants and transactions to calculate from, instead of given
    /// measures.
    pub data: Option<TestData>,
}

/// A plan test's own data: CSV text in the workspace's columns, read,
/// credited and calculated as a run reads files, so a test can hold the
/// crediting, the filters and the roll-ups as well as the pay rules.
#[derive(Debug, Clone)]
pub struct TestData {
    /// The participant whose payouts the test expects.
    pub participant: String,
    pub participants: String,
    pub transactions: String,
    /// The plan file, and the line in it before each text's first line,
    /// so that an error in the rows names the line of the plan file.
    pub file: String,
    pub participants_line: usize,
    pub transactions_line: usize,
}
