//! The plan files as written: serde structures mirroring the TOML, with a
//! span on everything the checker may need to point at. Nothing here is
//! validated beyond TOML's own syntax and the set of allowed keys; that is
//! the checker's job (`super::check`).

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// A number as written in a plan. The value is read back from the source
/// text (see `check::exact`), never from the binary float TOML produces, so
/// `0.075` stays exact. Strings allow units: `"7.5%"`, `"$1_000"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawNumber {
    Integer(i64),
    Float(f64),
    Text(String),
}

pub type Num = Spanned<RawNumber>;
pub type Text = Spanned<String>;

/// `attain.toml`: everything shared by the plans of one company.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceFile {
    #[serde(default)]
    pub workspace: WorkspaceSection,
    #[serde(default)]
    pub calendar: CalendarSection,
    pub participants: Spanned<ParticipantsSection>,
    pub transactions: Spanned<TransactionsSection>,
    pub credit: Spanned<CreditSection>,
    #[serde(default)]
    pub measures: BTreeMap<Text, Spanned<MeasureDef>>,
    #[serde(default)]
    pub quotas: BTreeMap<Text, Spanned<QuotaDef>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceSection {
    pub name: Option<String>,
    /// Currency code, shown on statements.
    pub currency: Option<Text>,
    /// Decimals of the currency's minor unit (2 for USD, 0 for JPY).
    pub minor_unit: Option<Spanned<i64>>,
    /// The default rounding of a payout when its component says none.
    pub rounding: Option<Text>,
    /// Folder of plan files, relative to the workspace (default `plans`).
    pub plans: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSection {
    /// 1 (January, the default) to 12.
    pub first_month: Option<Spanned<i64>>,
    /// The fiscal year `attain calc` computes when none is given.
    pub year: Option<Spanned<i64>>,
}

/// A field declared either as its type (`product = "text"`) or in full
/// (`owner = { column = "owner_id", type = "participant" }`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum FieldDecl {
    Type(String),
    Full(FullField),
}

// Inside untagged enums serde buffers values and spans are lost, so these
// hold plain strings; the checker finds them inside the enclosing span.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FullField {
    pub column: Option<String>,
    #[serde(rename = "type")]
    pub ty: Option<String>,
    #[serde(default)]
    pub optional: bool,
    pub min: Option<RawNumber>,
    pub values: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantsSection {
    /// Column holding the participant id.
    pub id: Text,
    pub manager: Option<Text>,
    pub plan: Option<Text>,
    /// Column with the first active day (hire date).
    pub start: Option<Text>,
    /// Column with the last active day (leave date).
    pub end: Option<Text>,
    #[serde(default)]
    pub fields: BTreeMap<Text, Spanned<FieldDecl>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransactionsSection {
    pub id: Text,
    pub date: Text,
    pub amount: Spanned<FieldDecl>,
    #[serde(default)]
    pub fields: BTreeMap<Text, Spanned<FieldDecl>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditSection {
    /// The participant field that receives the credit.
    pub to: Text,
    #[serde(default)]
    pub split: Vec<Spanned<SplitDef>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitDef {
    pub to: Text,
    /// A field holding the whole percent, or a fixed percent (`"50%"`).
    pub percent: Text,
    /// How a split share is rounded to the minor unit; the receiving owner
    /// keeps the remainder, so no cent is lost or created.
    pub rounding: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum MeasureDef {
    Derived(String),
    Aggregate(AggregateDef),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregateDef {
    pub sum: Option<String>,
    pub count: Option<String>,
    pub count_distinct: Option<String>,
    pub count_groups: Option<String>,
    pub having: Option<String>,
    pub sum_over: Option<String>,
    pub of: Option<String>,
    #[serde(rename = "where")]
    pub filter: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaDef {
    pub amount: Num,
    /// The period the amount is for; a component on another period may not
    /// use it.
    pub per: Option<Text>,
    /// `active_days` (default): scaled by the days a participant is active in
    /// the period; `none`: the full amount whenever active.
    pub prorate: Option<Text>,
    pub rounding: Option<Spanned<RoundingDef>>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RoundingDef {
    /// Just a mode, to the currency's minor unit.
    Mode(String),
    Full(FullRounding),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FullRounding {
    pub places: i64,
    pub mode: Option<String>,
}

/// One plan file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    pub plan: PlanHeader,
    #[serde(default)]
    pub components: Vec<Spanned<ComponentDef>>,
    #[serde(default)]
    pub tests: Vec<Spanned<PlanTestDef>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanHeader {
    pub id: Text,
    pub name: Option<String>,
    pub description: Option<String>,
    /// Plans whose components this plan also pays.
    #[serde(default)]
    pub includes: Vec<Text>,
    /// The plan this one was copied from (`attain plan clone`).
    pub cloned_from: Option<ClonedFromDef>,
}

/// Where a cloned plan came from: the plan, and the version of its file in
/// the store or, without a store, the digest of the file's text.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClonedFromDef {
    pub plan: String,
    pub file: Option<String>,
    pub version: Option<i64>,
    pub digest: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentDef {
    pub id: Text,
    pub name: Option<String>,
    pub period: Text,
    pub measure: Option<Text>,
    pub quota: Option<Text>,
    /// Nothing is paid unless this holds.
    pub gate: Option<Text>,
    // One way to pay, exactly one of:
    pub rate: Option<Num>,
    pub tiers: Option<Text>,
    pub bands: Option<Vec<Spanned<BandDef>>>,
    pub per_point: Option<Vec<Spanned<BandDef>>>,
    pub points_rounding: Option<Spanned<RoundingDef>>,
    pub curve: Option<Vec<Spanned<CurvePointDef>>>,
    pub amount: Option<Num>,
    pub payout: Option<Text>,
    // Limits and rounding:
    pub cap: Option<Num>,
    pub floor: Option<Num>,
    pub rounding: Option<Spanned<RoundingDef>>,
    /// Part of each payout withheld by the ledger until a release.
    pub holdback: Option<Spanned<HoldbackDef>>,
    /// Kinds of lint finding the plan's author means (`"cliff"`): not
    /// reported, and reported when they no longer occur.
    pub accept: Option<Vec<Text>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldbackDef {
    pub percent: Num,
    pub until: Text,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandDef {
    pub name: Option<String>,
    pub from: Num,
    pub to: Option<Num>,
    pub rate: Option<Num>,
    /// In `per_point` tables: the amount per point of attainment.
    pub pay: Option<Num>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurvePointDef {
    pub at: Num,
    pub pay: Num,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanTestDef {
    pub name: String,
    /// The period the example stands for (default: the first of the
    /// component's kind in the workspace year).
    pub period: Option<Text>,
    /// Measure values given directly.
    #[serde(default)]
    pub measures: BTreeMap<Text, Num>,
    /// Quota amounts replacing the plan's (before proration).
    #[serde(default)]
    pub quotas: BTreeMap<Text, Num>,
    /// The participant's first active day, to exercise proration.
    pub start: Option<Text>,
    /// Data instead of measures: whose payouts `expect` gives, and the
    /// rows of the participants and transactions files as CSV text in the
    /// workspace's own columns.
    pub participant: Option<Text>,
    pub participants: Option<Text>,
    pub transactions: Option<Text>,
    /// Expected payout per component id.
    pub expect: BTreeMap<Text, Num>,
}

/// The folder of plan files a workspace file names (`plans` by default).
/// Read before checking, so it forgives every other problem in the file.
pub fn plans_folder(workspace_text: &str) -> String {
    #[derive(Deserialize)]
    struct Only {
        workspace: Option<OnlyPlans>,
    }
    #[derive(Deserialize)]
    struct OnlyPlans {
        plans: Option<String>,
    }
    toml::from_str::<Only>(workspace_text)
        .ok()
        .and_then(|o| o.workspace)
        .and_then(|w| w.plans)
        .unwrap_or_else(|| "plans".to_string())
}

/// The `[plan] id` of a plan file's text, read without checking the rest
/// (to match a candidate plan file with the workspace's plan it replaces).
pub fn plan_id(plan_text: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Only {
        plan: Option<OnlyId>,
    }
    #[derive(Deserialize)]
    struct OnlyId {
        id: Option<String>,
    }
    toml::from_str::<Only>(plan_text).ok()?.plan?.id
}
