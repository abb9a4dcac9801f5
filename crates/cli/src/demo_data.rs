//! A deterministic generator of a realistic demo company for `attain demo`.
//!
//! It writes the two input files of the reference workload
//! (`participants.csv`, `deals.csv`, see `bench/SPEC.md`) for one fiscal
//! year, plus a quotas file ([`DemoData::quotas_csv`]). The company:
//! directors over managers over account managers (about eight reps a
//! manager), each rep owning a book of accounts that renew or churn around
//! their anniversary, take upsells, cross-sells (sometimes several new
//! products at once, so the multi-product SPIFF fires) and downsells.
//! Renewals cluster at quarter ends with a Q4 lift, about 8% of reps are hired
//! during the year, and each rep has a performance level so that quarterly
//! attainment against the $300,000 net-revenue quota spreads from about 50%
//! to about 180%.
//!
//! Everything is integer arithmetic: money in cents (`i64`), proportions in
//! basis points or per mille, dates as day numbers. The same seed and size
//! always give the same bytes, on every platform and with any dependency
//! versions, because the random source is the small SplitMix64 below rather
//! than a crate whose algorithm or sampling methods could change between
//! releases.

use attain_core::random::SplitMix64;
use std::fmt::Write as _;

/// CSV text of a generated demo company, in the reference-workload schema.
pub struct DemoData {
    /// header: participant_id,name,role,manager_id,plan,hire_date
    pub participants_csv: String,
    /// header: deal_id,close_date,account_id,product,kind,amount,owner_id,split_owner_id,split_pct
    pub deals_csv: String,
    /// header: participant_id,quota,period,amount. Each rep whose book is
    /// not sized to the plans' $300,000 (the monthly variants, plan 2) has
    /// its quarterly `nrr_target` set to its own target, so a manager's
    /// team quota (a roll-up of `nrr_target`) is what the team is sized to.
    pub quotas_csv: String,
}

/// How big a company to generate.
pub struct DemoSize {
    /// Account managers (reps); managers and directors are added on top.
    pub reps: usize,
    /// Deals over the whole year, across all reps.
    pub deals: usize,
}

const PARTICIPANTS_HEADER: &str = "participant_id,name,role,manager_id,plan,hire_date\n";
const QUOTAS_HEADER: &str = "participant_id,quota,period,amount\n";
const DEALS_HEADER: &str =
    "deal_id,close_date,account_id,product,kind,amount,owner_id,split_owner_id,split_pct\n";

const REPS_PER_MANAGER: usize = 8;
const MANAGERS_PER_DIRECTOR: usize = 8;
/// Quarterly net-revenue quota, in cents.
const QUARTER_QUOTA_CENTS: i64 = 300_000 * 100;
/// Smallest amount written, in cents.
const MIN_AMOUNT_CENTS: i64 = 100;

/// Rep plans and their weights in per mille: every plan of the brief a
/// rep can be on alone (the team goal is meant to be included in one).
const PLANS: [&str; 9] = [
    "retention_commission",
    "retention_upsell",
    "retention_bonus",
    "grr_bonus",
    "nrr_bonus",
    "grr_nrr_bonus",
    "account_executive_bonus",
    "retention_commission_monthly",
    "retention_bonus_monthly",
];
const PLAN_WEIGHTS: [u64; 9] = [220, 180, 150, 110, 100, 80, 60, 50, 50];

/// A rep's quarterly target in cents: the plans' quarterly quota, three
/// times the monthly quota of a monthly variant (its reps carry a smaller
/// book, as a company sizes a book to its quota), or the retention and
/// upsell quotas together for plan 2.
fn quarter_target_cents(plan: &str) -> i64 {
    match plan {
        "retention_upsell" => (250_000 + 80_000) * 100,
        "retention_commission_monthly" => 3 * 35_000 * 100,
        "retention_bonus_monthly" => 3 * 40_000 * 100,
        _ => QUARTER_QUOTA_CENTS,
    }
}

/// Weights of a rep's deals by kind, in the order renewal, upsell,
/// cross-sell, downsell, churn. Weaker reps lose more customers. Reps paid
/// on expansion (the brief's plan 2, whose upsell quota is about a third of
/// its retention quota) sell about four times as much of it as the others,
/// so their upsell attainment centres near 100% like every other measure.
fn kind_weights(perf_bp: i64, sells_expansion: bool) -> [u64; 5] {
    let churn = (50 * 10_000 / perf_bp.max(1)) as u64;
    if sells_expansion {
        [560, 380, 180, 70, churn]
    } else {
        [700, 120, 60, 70, churn]
    }
}

/// Products; the first three are the core platforms an account starts on.
const PRODUCTS: [&str; 12] = [
    "core-platform",
    "analytics",
    "workflow-automation",
    "data-connectors",
    "premium-support",
    "sso-security",
    "api-access",
    "mobile-suite",
    "ai-assistant",
    "backup-recovery",
    "compliance-pack",
    "training-services",
];
/// Weights (per mille) of the core product an account starts on: the first
/// three `PRODUCTS`.
const CORE_WEIGHTS: [u64; 3] = [700, 200, 100];

const FIRST_NAMES: [&str; 48] = [
    "Camille", "Lucas", "Emma", "Hugo", "Léa", "Louis", "Chloé", "Nathan", "Manon", "Thomas",
    "Sarah", "Julien", "Olivia", "James", "Sophie", "Daniel", "Amelia", "Noah", "Grace", "Ethan",
    "Isabel", "Mateo", "Lucía", "Diego", "Sofia", "Marco", "Giulia", "Lukas", "Hannah", "Jonas",
    "Priya", "Arjun", "Ananya", "Rohan", "Mei", "Wei", "Yuki", "Kenji", "Amara", "Kwame", "Fatima",
    "Omar", "Elena", "Mikhail", "Ingrid", "Lars", "Zoé", "Antoine",
];
const LAST_NAMES: [&str; 48] = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Taylor",
    "Walker",
    "Clarke",
    "Evans",
    "García",
    "Rodríguez",
    "López",
    "Fernández",
    "Rossi",
    "Russo",
    "Bianchi",
    "Müller",
    "Schmidt",
    "Fischer",
    "Weber",
    "Sharma",
    "Patel",
    "Iyer",
    "Chen",
    "Wang",
    "Li",
    "Tanaka",
    "Sato",
    "Okafor",
    "Mensah",
    "Haddad",
    "Nasser",
    "Ivanova",
    "Novak",
    "Larsen",
    "Andersson",
    "Kowalski",
];

/// Account sizes: 64 quantiles of a log-normal distribution (sigma 0.85),
/// as multipliers of the mean in basis points (mean 10,000).
const SIZE_BP: [i64; 64] = [
    903, 1302, 1578, 1809, 2016, 2208, 2391, 2567, 2738, 2906, 3071, 3236, 3400, 3563, 3727, 3892,
    4058, 4226, 4396, 4568, 4743, 4920, 5101, 5285, 5474, 5667, 5864, 6066, 6274, 6488, 6709, 6936,
    7171, 7414, 7666, 7927, 8199, 8482, 8777, 9086, 9410, 9750, 10109, 10487, 10888, 11314, 11769,
    12255, 12778, 13344, 13958, 14630, 15370, 16193, 17117, 18167, 19378, 20804, 22525, 24676,
    27501, 31525, 38194, 55053,
];

/// Renewal price uplift, basis points of the account's ARR: 0-6%, mean 3%.
const UPLIFT_MAX_BP: i64 = 600;
/// Upsell and downsell size, basis points of the account's ARR: 10-40%.
const CHANGE_MIN_BP: i64 = 1_000;
const CHANGE_MAX_BP: i64 = 4_000;
/// Cross-sell size, basis points of the account's ARR: 15-40%.
const CROSS_MIN_BP: i64 = 1_500;
const CROSS_MAX_BP: i64 = 4_000;

// ---------------------------------------------------------------- dates ---

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(year, month, day)` of a day number (Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn push_date(out: &mut String, day_number: i64) {
    let (y, m, d) = civil_from_days(day_number);
    // Writing to a String cannot fail.
    let _ = write!(out, "{y:04}-{m:02}-{d:02}");
}

/// When in the year a kind of deal tends to close.
#[derive(Clone, Copy)]
enum Timing {
    /// Renewals and churn: strongly clustered in the last half of each
    /// quarter's last month (three times the weight).
    Renewal,
    /// Upsells, cross-sells, off-cycle downsells: a milder rush (twice).
    Expansion,
}

/// The fiscal year: its first day number, its length, its quarters, and the
/// day weights that place deals in it.
struct Calendar {
    start: i64,
    days: usize,
    /// `renewal_cum[i]` = total renewal weight of days `0..i`.
    renewal_cum: Vec<u64>,
    expansion_cum: Vec<u64>,
    /// Whether a day is in a quarter-close rush.
    rush: Vec<bool>,
    /// First and last day (offsets) of each quarter.
    quarters: [(usize, usize); 4],
}

impl Calendar {
    fn new(year: i16) -> Self {
        let year = i64::from(year);
        let start = days_from_civil(year, 1, 1);
        let days = (days_from_civil(year + 1, 1, 1) - start) as usize;
        // Seasonality by month, in percent: a slow summer and a Q4 lift.
        const MONTH: [u64; 12] = [90, 90, 100, 95, 95, 100, 90, 85, 100, 110, 115, 130];
        let mut renewal_cum = Vec::with_capacity(days + 1);
        let mut expansion_cum = Vec::with_capacity(days + 1);
        let mut rush = Vec::with_capacity(days);
        let (mut r, mut e) = (0u64, 0u64);
        renewal_cum.push(0);
        expansion_cum.push(0);
        for i in 0..days {
            let (_, m, d) = civil_from_days(start + i as i64);
            let base = MONTH.get((m - 1) as usize).copied().unwrap_or(100);
            let close = m % 3 == 0 && d >= 16;
            r += if close { base * 3 } else { base };
            e += if close { base * 2 } else { base };
            renewal_cum.push(r);
            expansion_cum.push(e);
            rush.push(close);
        }
        let offset = |m: i64| (days_from_civil(year, m, 1) - start) as usize;
        let quarters = [
            (0, offset(4) - 1),
            (offset(4), offset(7) - 1),
            (offset(7), offset(10) - 1),
            (offset(10), days - 1),
        ];
        Calendar {
            start,
            days,
            renewal_cum,
            expansion_cum,
            rush,
            quarters,
        }
    }

    /// The quarter `(first, last)` holding `day`.
    fn quarter_of(&self, day: usize) -> (usize, usize) {
        let q = self.quarters.iter().position(|&(_, end)| day <= end);
        q.and_then(|q| self.quarters.get(q))
            .copied()
            .unwrap_or((0, self.days - 1))
    }

    /// Total renewal weight of `from..to` (day offsets).
    fn weight(&self, from: usize, to: usize) -> u64 {
        let at = |i: usize| self.renewal_cum.get(i).copied().unwrap_or(0);
        at(to).saturating_sub(at(from))
    }

    /// The renewal weight of the year a rep hired on day `first` should
    /// carry: each quarter's weight times the share of its days the rep is
    /// active, matching how quotas are prorated (by days, not by weight).
    fn active_weight(&self, first: usize) -> u64 {
        self.quarters
            .iter()
            .filter(|&&(_, end)| end >= first)
            .map(|&(start, end)| {
                let w = self.weight(start, end + 1);
                let active = (end + 1 - first.max(start)) as u64;
                w * active / (end + 1 - start) as u64
            })
            .sum()
    }

    /// A day in `first..days` for a deal of this timing. A rep hired during
    /// a quarter sees no quarter-close rush in that first quarter, so its
    /// prorated quota there stays comparable with a full quarter's.
    fn draw(&self, rng: &mut SplitMix64, timing: Timing, first: usize) -> usize {
        let (cum, rush_factor) = match timing {
            Timing::Renewal => (&self.renewal_cum, 3),
            Timing::Expansion => (&self.expansion_cum, 2),
        };
        let (q_start, q_end) = self.quarter_of(first);
        let flatten = first > q_start;
        let mut day = first;
        for _ in 0..16 {
            day = draw_day(rng, cum, first);
            let rushed = self.rush.get(day).copied().unwrap_or(false);
            if !(flatten && day <= q_end && rushed) || rng.below(rush_factor) == 0 {
                break;
            }
        }
        day
    }
}

/// A day in `from..days` drawn with the weights of a cumulative table.
fn draw_day(rng: &mut SplitMix64, cum: &[u64], from: usize) -> usize {
    let lo = cum.get(from).copied().unwrap_or(0);
    let hi = cum.last().copied().unwrap_or(0);
    if hi <= lo {
        return from;
    }
    let r = lo + rng.below(hi - lo);
    // The day i with cum[i] <= r < cum[i + 1].
    cum.partition_point(|&c| c <= r).saturating_sub(1)
}

// ---------------------------------------------------------- organisation ---

struct Rep {
    id: String,
    /// Hire date as an offset from the year start (negative: before it).
    hire: i64,
    team: usize,
    /// Performance, basis points of target (10,000 = on target).
    perf_bp: i64,
    /// Quarterly target, cents ([`quarter_target_cents`]).
    target_cents: i64,
    /// Paid on expansion too ([`kind_weights`]).
    sells_expansion: bool,
    sam: bool,
}

impl Rep {
    /// First day (offset from the year start) the rep can close deals.
    fn first_day(&self) -> usize {
        self.hire.max(0) as usize
    }
}

struct Org {
    participants_csv: String,
    reps: Vec<Rep>,
    /// Rep indices of each manager's team.
    teams: Vec<Vec<usize>>,
}

/// Writes the `k`-th distinct name. Names run through every first/last pair
/// (in an order scrambled by `offset`) before taking a middle initial, then
/// a number, so they never repeat.
fn push_name(out: &mut String, k: usize, offset: usize) {
    let pairs = FIRST_NAMES.len() * LAST_NAMES.len();
    // 2,304 = 2^8 * 3^2 pairs; the stride 209 = 11 * 19 is coprime with it,
    // so the first 2,304 names are all different.
    let c = (offset + (k % pairs) * 209) % pairs;
    let round = k / pairs;
    out.push_str(FIRST_NAMES[c % FIRST_NAMES.len()]);
    out.push(' ');
    if (1..=26).contains(&round) {
        out.push(char::from(b'A' + (round - 1) as u8));
        out.push_str(". ");
    }
    out.push_str(LAST_NAMES[c / FIRST_NAMES.len()]);
    if round > 26 {
        let _ = write!(out, " {}", round - 26);
    }
}

fn director_id(d: usize) -> String {
    format!("D{:05}", d + 1)
}

fn manager_id(m: usize) -> String {
    format!("M{:06}", m + 1)
}

fn build_org(rng: &mut SplitMix64, cal: &Calendar, n_reps: usize) -> Org {
    let n_mgr = n_reps.div_ceil(REPS_PER_MANAGER);
    let n_dir = n_mgr.div_ceil(MANAGERS_PER_DIRECTOR);
    let name_offset = rng.index(FIRST_NAMES.len() * LAST_NAMES.len());
    let mut csv = String::with_capacity(64 * (n_reps + n_mgr + n_dir + 1));
    csv.push_str(PARTICIPANTS_HEADER);
    // Writing to a String cannot fail, here and below.
    let mut k = 0;
    for d in 0..n_dir {
        let _ = write!(csv, "{},", director_id(d));
        push_name(&mut csv, k, name_offset);
        k += 1;
        csv.push_str(",director,,director_override,");
        // Leaders joined one to twelve years before the year.
        push_date(&mut csv, cal.start + rng.range(-12 * 365, -365));
        csv.push('\n');
    }
    for m in 0..n_mgr {
        let _ = write!(csv, "{},", manager_id(m));
        push_name(&mut csv, k, name_offset);
        k += 1;
        let boss = director_id(m / MANAGERS_PER_DIRECTOR);
        let _ = write!(csv, ",manager,{boss},manager_override,");
        push_date(&mut csv, cal.start + rng.range(-12 * 365, -365));
        csv.push('\n');
    }
    let mut reps = Vec::with_capacity(n_reps);
    let mut teams = vec![Vec::new(); n_mgr];
    for r in 0..n_reps {
        let team = r / REPS_PER_MANAGER;
        let sam = rng.chance(300);
        let plan = PLANS[rng.weighted(&PLAN_WEIGHTS)];
        // About 8% are hired during the year, from its second day through
        // day 333 (so even the latest hire has a month of deals); the others
        // joined up to eight years before.
        let hire = if rng.chance(80) {
            rng.range(1, 333.min(cal.days as i64 - 1))
        } else {
            rng.range(-8 * 365, -1)
        };
        // Performance: triangular from 50% to 150% of target, mean 100%.
        let perf_bp = 5_000 + rng.range(0, 5_000) + rng.range(0, 5_000);
        let id = format!("R{:07}", r + 1);
        let _ = write!(csv, "{id},");
        push_name(&mut csv, k, name_offset);
        k += 1;
        let role = if sam { "sam" } else { "am" };
        let _ = write!(csv, ",{role},{},{plan},", manager_id(team));
        push_date(&mut csv, cal.start + hire);
        csv.push('\n');
        if let Some(t) = teams.get_mut(team) {
            t.push(r);
        }
        reps.push(Rep {
            id,
            hire,
            team,
            perf_bp,
            target_cents: quarter_target_cents(plan),
            sells_expansion: plan == "retention_upsell",
            sam,
        });
    }
    Org {
        participants_csv: csv,
        reps,
        teams,
    }
}

// ----------------------------------------------------------------- deals ---

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Renewal,
    Upsell,
    CrossSell,
    Downsell,
    Churn,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Renewal => "renewal",
            Kind::Upsell => "upsell",
            Kind::CrossSell => "cross_sell",
            Kind::Downsell => "downsell",
            Kind::Churn => "churn",
        }
    }
}

struct Deal {
    /// Offset from the year start.
    day: u32,
    owner: u32,
    account: u64,
    product: u8,
    kind: Kind,
    cents: i64,
    /// Split owner (rep index) and whole percent.
    split: Option<(u32, u8)>,
}

struct Account {
    id: u64,
    arr_cents: i64,
    /// Bit i set: the account has `PRODUCTS[i]`.
    products: u16,
    core: u8,
    anniversary: usize,
    /// What happens on the anniversary: renewal, churn, or nothing (an
    /// account with an off-cycle contract, only for reps whose few deals
    /// hold no renewal).
    at_anniversary: Option<Kind>,
}

/// `cents * bp / 10,000`, at least `MIN_AMOUNT_CENTS`.
fn scale(cents: i64, bp: i64) -> i64 {
    let v = i128::from(cents) * i128::from(bp) / 10_000;
    i64::try_from(v).unwrap_or(i64::MAX).max(MIN_AMOUNT_CENTS)
}

/// Split percentages offered to a teammate.
const SPLIT_PCTS: [u8; 6] = [10, 20, 25, 30, 40, 50];

struct DealMaker<'a> {
    cal: &'a Calendar,
    org: &'a Org,
    rng: SplitMix64,
    deals: Vec<Deal>,
    next_account: u64,
}

impl DealMaker<'_> {
    fn push(
        &mut self,
        owner: usize,
        day: usize,
        account: u64,
        product: u8,
        kind: Kind,
        cents: i64,
    ) {
        let split = self.split_for(owner, day);
        self.deals.push(Deal {
            day: day as u32,
            owner: owner as u32,
            account,
            product,
            kind,
            cents,
            split,
        });
    }

    /// About 15% of deals share credit with a teammate already hired.
    fn split_for(&mut self, owner: usize, day: usize) -> Option<(u32, u8)> {
        if !self.rng.chance(150) {
            return None;
        }
        let team = self.org.reps.get(owner).map(|r| r.team)?;
        let mates = self.org.teams.get(team)?;
        for _ in 0..3 {
            let mate = *mates.get(self.rng.index(mates.len()))?;
            let hired = self
                .org
                .reps
                .get(mate)
                .is_some_and(|m| m.hire <= day as i64);
            if mate != owner && hired {
                let pct = SPLIT_PCTS[self.rng.index(SPLIT_PCTS.len())];
                return Some((mate as u32, pct));
            }
        }
        None
    }

    /// One rep's year: a book of accounts that renew or churn on their
    /// anniversary, with upsells, cross-sells and downsells, `n` deals in
    /// all, sized so that the rep's expected net revenue is its performance
    /// times the quota over its active part of the year.
    fn rep_year(&mut self, r: usize, n: usize) {
        let Some(rep) = self.org.reps.get(r) else {
            return;
        };
        if n == 0 {
            return;
        }
        let (perf_bp, first, quarter_cents) = (rep.perf_bp, rep.first_day(), rep.target_cents);
        let weights = kind_weights(perf_bp, rep.sells_expansion);
        let cal = self.cal;
        let rng = &mut self.rng;

        let mut count = [0usize; 5];
        for _ in 0..n {
            count[rng.weighted(&weights)] += 1;
        }
        let [n_ren, n_up, n_cross, n_down, n_churn] = count;

        // Size the book: expected net revenue, in basis points of the mean
        // account's ARR (renewals carry a 3% mean uplift, changes 25% and
        // cross-sells 27.5% of an account).
        let units = (10_300 * n_ren + 2_500 * n_up + 2_750 * n_cross) as i64
            - (2_500 * n_down + 10_000 * n_churn) as i64;
        let units = i128::from(units.max(5_000 * n as i64));
        let total_w = cal.active_weight(0).max(1);
        let active_w = cal.active_weight(first);
        let target = i128::from(4 * quarter_cents) * i128::from(perf_bp) / 10_000
            * i128::from(active_w)
            / i128::from(total_w);
        let mean_cents = i64::try_from(target * 10_000 / units).unwrap_or(i64::MAX);

        // Accounts that stay come first: the renewals, or one quiet account
        // to carry expansion when there is no renewal; the churns follow.
        let n_stay = if n_ren == 0 && n > n_churn { 1 } else { n_ren };
        let n_acc = n_stay + n_churn;
        let mut book = Vec::with_capacity(n_acc);
        for i in 0..n_acc {
            let size_bp = SIZE_BP[rng.index(SIZE_BP.len())] * rng.range(9_000, 11_000) / 10_000;
            // Contracts are in whole dollars.
            let arr_cents = (scale(mean_cents, size_bp) / 100).max(1) * 100;
            let core = rng.weighted(&CORE_WEIGHTS) as u8;
            let mut products = 1u16 << core;
            for _ in 0..rng.below(3) {
                products |= 1 << (3 + rng.index(PRODUCTS.len() - 3));
            }
            book.push(Account {
                id: self.next_account + i as u64,
                arr_cents,
                products,
                core,
                anniversary: cal.draw(rng, Timing::Renewal, first),
                at_anniversary: if i < n_ren {
                    Some(Kind::Renewal)
                } else if i < n_stay {
                    None
                } else {
                    Some(Kind::Churn)
                },
            });
        }
        self.next_account += n_acc as u64;
        // Expansion goes to the accounts that stay.
        let stayers = n_stay;

        for acc in &book {
            match acc.at_anniversary {
                Some(Kind::Renewal) => {
                    let uplift = 10_000 + self.rng.range(0, UPLIFT_MAX_BP);
                    let cents = scale(acc.arr_cents, uplift);
                    self.push(r, acc.anniversary, acc.id, acc.core, Kind::Renewal, cents);
                }
                Some(Kind::Churn) => {
                    let (day, cents) = (acc.anniversary, acc.arr_cents);
                    self.push(r, day, acc.id, acc.core, Kind::Churn, cents);
                }
                _ => {}
            }
        }
        for _ in 0..n_up {
            let a = self.rng.index(stayers);
            let Some(acc) = book.get(a) else { continue };
            let day = cal.draw(&mut self.rng, Timing::Expansion, first);
            let product = self.held_product(acc.products);
            let cents = scale(acc.arr_cents, self.rng.range(CHANGE_MIN_BP, CHANGE_MAX_BP));
            self.push(r, day, acc.id, product, Kind::Upsell, cents);
        }
        for _ in 0..n_down {
            let a = self.rng.index(stayers);
            let Some(acc) = book.get(a) else { continue };
            // Most downsells happen at the renewal conversation.
            let day = if self.rng.chance(600) {
                acc.anniversary
            } else {
                cal.draw(&mut self.rng, Timing::Expansion, first)
            };
            let product = self.held_product(acc.products);
            let cents = scale(acc.arr_cents, self.rng.range(CHANGE_MIN_BP, CHANGE_MAX_BP));
            self.push(r, day, acc.id, product, Kind::Downsell, cents);
        }
        // Cross-sells come in bundles: often several new products to one
        // customer within a quarter.
        let mut left = n_cross;
        while left > 0 {
            let bundle = match self.rng.below(100) {
                0..=54 => 1,
                55..=89 => 2,
                _ => 3,
            }
            .min(left);
            left -= bundle;
            let a = self.rng.index(stayers);
            let Some(acc) = book.get_mut(a) else { continue };
            let day = cal.draw(&mut self.rng, Timing::Expansion, first);
            let (_, close) = cal.quarter_of(day);
            for j in 0..bundle {
                let d = if j == 0 {
                    day
                } else {
                    (day + self.rng.index(15)).min(close)
                };
                let product = new_product(&mut self.rng, acc.products);
                acc.products |= 1 << product;
                let cents = scale(acc.arr_cents, self.rng.range(CROSS_MIN_BP, CROSS_MAX_BP));
                self.push(r, d, acc.id, product, Kind::CrossSell, cents);
            }
        }
    }

    /// One of the products an account has.
    fn held_product(&mut self, products: u16) -> u8 {
        let held = products.count_ones().max(1);
        let mut k = self.rng.below(u64::from(held));
        for p in 0..PRODUCTS.len() as u8 {
            if products & (1 << p) != 0 {
                if k == 0 {
                    return p;
                }
                k -= 1;
            }
        }
        0
    }
}

/// A product the account does not have yet (any product if it has them all).
fn new_product(rng: &mut SplitMix64, products: u16) -> u8 {
    let n = PRODUCTS.len() as u8;
    let missing = n - (products.count_ones() as u8).min(n);
    if missing == 0 {
        return rng.below(u64::from(n)) as u8;
    }
    let mut k = rng.below(u64::from(missing));
    for p in 0..n {
        if products & (1 << p) == 0 {
            if k == 0 {
                return p;
            }
            k -= 1;
        }
    }
    0
}

fn push_cents(out: &mut String, cents: i64) {
    let _ = write!(out, "{}.{:02}", cents / 100, cents % 100);
}

/// Same seed and size give the same bytes.
///
/// `size.reps` account managers under `ceil(reps / 8)` managers under
/// `ceil(managers / 8)` directors, and exactly `size.deals` deals closed in
/// `year` (none when there are no reps), numbered in date order.
pub fn generate(seed: u64, year: i16, size: &DemoSize) -> DemoData {
    let cal = Calendar::new(year);
    // Separate streams, so the people do not change with the deal count.
    let mut org_rng = SplitMix64::new(seed ^ 0x6f72_6761_6e69_7361);
    let org = build_org(&mut org_rng, &cal, size.reps);
    let mut maker = DealMaker {
        cal: &cal,
        org: &org,
        rng: SplitMix64::new(seed ^ 0x6465_616c_735f_3236),
        deals: Vec::with_capacity(size.deals),
        next_account: 1,
    };

    // Deals go to reps in proportion to their active share of the year's
    // renewal calendar; strategic account managers (sam) have fewer,
    // larger accounts.
    let mut cum = Vec::with_capacity(org.reps.len());
    let mut total = 0u64;
    for rep in &org.reps {
        let w = cal.active_weight(rep.first_day());
        total += if rep.sam { w * 7 } else { w * 10 };
        cum.push(total);
    }
    let mut per_rep = vec![0usize; org.reps.len()];
    if total > 0 {
        for _ in 0..size.deals {
            let x = maker.rng.below(total);
            if let Some(c) = per_rep.get_mut(cum.partition_point(|&c| c <= x)) {
                *c += 1;
            }
        }
    }
    for (r, &n) in per_rep.iter().enumerate() {
        maker.rep_year(r, n);
    }
    let mut deals = maker.deals;
    // Number deals in date order (a stable sort keeps the order within a day).
    deals.sort_by_key(|d| d.day);

    let mut csv = String::with_capacity(96 * (deals.len() + 1));
    csv.push_str(DEALS_HEADER);
    for (i, d) in deals.iter().enumerate() {
        let _ = write!(csv, "DL{:09},", i + 1);
        push_date(&mut csv, cal.start + i64::from(d.day));
        let product = PRODUCTS.get(usize::from(d.product)).copied().unwrap_or("");
        let _ = write!(csv, ",A{:08},{product},{},", d.account, d.kind.as_str());
        push_cents(&mut csv, d.cents);
        let owner = org.reps.get(d.owner as usize).map_or("", |r| r.id.as_str());
        let _ = write!(csv, ",{owner},");
        if let Some((mate, pct)) = d.split {
            let mate = org.reps.get(mate as usize).map_or("", |r| r.id.as_str());
            let _ = write!(csv, "{mate},{pct}");
        } else {
            csv.push(',');
        }
        csv.push('\n');
    }
    let mut quotas = String::from(QUOTAS_HEADER);
    for rep in org
        .reps
        .iter()
        .filter(|r| r.target_cents != QUARTER_QUOTA_CENTS)
    {
        for q in 1..=4 {
            let _ = write!(quotas, "{},nrr_target,{year}-Q{q},", rep.id);
            push_cents(&mut quotas, rep.target_cents);
            quotas.push('\n');
        }
    }
    DemoData {
        participants_csv: org.participants_csv,
        deals_csv: csv,
        quotas_csv: quotas,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    const ROLES: [&str; 4] = ["am", "sam", "manager", "director"];
    const KINDS: [&str; 5] = ["renewal", "upsell", "cross_sell", "downsell", "churn"];

    fn demo(seed: u64, reps: usize, deals: usize) -> DemoData {
        generate(seed, 2026, &DemoSize { reps, deals })
    }

    fn rows(csv: &str) -> Vec<Vec<&str>> {
        csv.lines()
            .skip(1)
            .map(|l| l.split(',').collect())
            .collect()
    }

    fn is_iso_date(s: &str) -> bool {
        let b = s.as_bytes();
        b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && [0, 1, 2, 3, 5, 6, 8, 9]
                .iter()
                .all(|&i| b[i].is_ascii_digit())
            && (1..=12).contains(&s[5..7].parse::<u32>().unwrap_or(0))
            && (1..=31).contains(&s[8..10].parse::<u32>().unwrap_or(0))
    }

    #[test]
    fn headers_are_exact() {
        let d = demo(1, 20, 500);
        assert!(d
            .participants_csv
            .starts_with("participant_id,name,role,manager_id,plan,hire_date\n"));
        assert!(d.deals_csv.starts_with(
            "deal_id,close_date,account_id,product,kind,amount,owner_id,split_owner_id,split_pct\n"
        ));
        assert!(d.participants_csv.ends_with('\n') && d.deals_csv.ends_with('\n'));
        assert!(d.quotas_csv.ends_with('\n'));
    }

    /// A rep's quarterly `nrr_target` is its own target where that is not
    /// the plans' $300,000: 3 x $35,000 and 3 x $40,000 for the monthly
    /// variants, $250,000 + $80,000 for plan 2; four quarters each.
    #[test]
    fn quotas_follow_each_reps_target() -> Result<(), String> {
        let d = demo(11, 200, 100);
        assert!(d
            .quotas_csv
            .starts_with("participant_id,quota,period,amount\n"));
        let plan_of: HashMap<&str, &str> = rows(&d.participants_csv)
            .into_iter()
            .map(|p| (p[0], p[4]))
            .collect();
        let quotas = rows(&d.quotas_csv);
        let mut per_rep: HashMap<&str, Vec<&str>> = HashMap::new();
        for q in &quotas {
            let expected = match plan_of.get(q[0]).copied() {
                Some("retention_commission_monthly") => "105000.00",
                Some("retention_bonus_monthly") => "120000.00",
                Some("retention_upsell") => "330000.00",
                other => return Err(format!("{q:?} is for a rep on {other:?}")),
            };
            assert_eq!(q[1..], ["nrr_target", q[2], expected], "{q:?}");
            per_rep.entry(q[0]).or_default().push(q[2]);
        }
        let sized_otherwise = plan_of
            .values()
            .filter(|p| p.ends_with("_monthly") || **p == "retention_upsell")
            .count();
        assert!(sized_otherwise > 0);
        assert_eq!(per_rep.len(), sized_otherwise);
        for periods in per_rep.values() {
            assert_eq!(periods, &["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]);
        }
        Ok(())
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let a = demo(2026, 120, 30_000);
        let b = demo(2026, 120, 30_000);
        assert_eq!(a.participants_csv, b.participants_csv);
        assert_eq!(a.deals_csv, b.deals_csv);
        let c = demo(2027, 120, 30_000);
        assert_ne!(a.participants_csv, c.participants_csv);
        assert_ne!(a.deals_csv, c.deals_csv);
        // The people do not depend on the number of deals.
        assert_eq!(a.participants_csv, demo(2026, 120, 100).participants_csv);
    }

    #[test]
    fn organisation_is_consistent() -> Result<(), String> {
        let d = demo(7, 130, 1_000);
        let people = rows(&d.participants_csv);
        assert_eq!(people.len(), 130 + 17 + 3);
        let role_of: HashMap<&str, &str> = people.iter().map(|p| (p[0], p[2])).collect();
        assert_eq!(role_of.len(), people.len(), "participant ids are unique");
        let names: HashSet<&str> = people.iter().map(|p| p[1]).collect();
        assert_eq!(names.len(), people.len(), "names are unique");
        let mut team_size: HashMap<&str, usize> = HashMap::new();
        for p in &people {
            assert_eq!(p.len(), 6, "{p:?}");
            assert!(ROLES.contains(&p[2]), "{p:?}");
            assert!(is_iso_date(p[5]), "{p:?}");
            let boss_role = role_of.get(p[3]).copied();
            match p[2] {
                "director" => {
                    assert_eq!(p[3], "");
                    assert_eq!(p[4], "director_override");
                }
                "manager" => {
                    assert_eq!(boss_role, Some("director"), "{p:?}");
                    assert_eq!(p[4], "manager_override");
                    assert!(p[5] < "2026-01-01", "leaders are hired before the year");
                }
                _ => {
                    assert_eq!(boss_role, Some("manager"), "{p:?}");
                    assert!(PLANS.contains(&p[4]), "{p:?}");
                    *team_size.entry(p[3]).or_default() += 1;
                }
            }
            if p[2] != "director" {
                assert!(role_of.contains_key(p[3]), "manager_id {} exists", p[3]);
            }
        }
        assert!(team_size
            .values()
            .all(|&n| (1..=REPS_PER_MANAGER).contains(&n)));
        Ok(())
    }

    #[test]
    fn deals_respect_hire_dates_splits_and_amounts() -> Result<(), String> {
        let d = demo(42, 120, 30_000);
        let hire: HashMap<&str, &str> = rows(&d.participants_csv)
            .into_iter()
            .filter(|p| p[2] == "am" || p[2] == "sam")
            .map(|p| (p[0], p[5]))
            .collect();
        let new_hires = hire.values().filter(|h| h.starts_with("2026")).count();
        assert!((2..=25).contains(&new_hires), "{new_hires} new hires");
        let deals = rows(&d.deals_csv);
        assert_eq!(deals.len(), 30_000);
        let mut ids = HashSet::new();
        let mut kinds = HashSet::new();
        let mut splits = 0;
        let mut last_date = "";
        for deal in &deals {
            assert_eq!(deal.len(), 9, "{deal:?}");
            assert!(ids.insert(deal[0]), "unique deal ids");
            let date = deal[1];
            assert!(is_iso_date(date) && date.starts_with("2026-"), "{deal:?}");
            assert!(date >= last_date, "deals are numbered in date order");
            last_date = date;
            assert!(PRODUCTS.contains(&deal[3]), "{deal:?}");
            assert!(KINDS.contains(&deal[4]), "{deal:?}");
            kinds.insert(deal[4]);
            // Amount: digits, a point, exactly two digits, above zero.
            let (units, cents) = deal[5].split_once('.').ok_or(deal[5])?;
            assert!(!units.is_empty() && units.bytes().all(|b| b.is_ascii_digit()));
            assert!(cents.len() == 2 && cents.bytes().all(|b| b.is_ascii_digit()));
            assert!(!units.starts_with('0') || units == "0", "{deal:?}");
            assert!(deal[5] != "0.00", "{deal:?}");
            let owner_hired = hire.get(deal[6]).ok_or(deal[6])?;
            assert!(*owner_hired <= date, "owner hired by {date}: {deal:?}");
            if deal[7].is_empty() {
                assert_eq!(deal[8], "", "{deal:?}");
            } else {
                splits += 1;
                assert_ne!(deal[7], deal[6]);
                let mate_hired = hire.get(deal[7]).ok_or(deal[7])?;
                assert!(*mate_hired <= date, "split owner hired by {date}: {deal:?}");
                let pct: u32 = deal[8].parse().map_err(|_| deal[8])?;
                assert!((10..=50).contains(&pct), "{deal:?}");
            }
        }
        assert_eq!(kinds.len(), 5);
        assert!((3_000..=6_000).contains(&splits), "{splits} splits");
        Ok(())
    }

    #[test]
    fn some_accounts_buy_several_new_products_in_a_quarter() {
        let d = demo(3, 40, 10_000);
        let mut bought: HashMap<(&str, &str, &str), HashSet<&str>> = HashMap::new();
        for deal in rows(&d.deals_csv) {
            if deal[4] == "cross_sell" {
                let quarter = match &deal[1][5..7] {
                    "01" | "02" | "03" => "Q1",
                    "04" | "05" | "06" => "Q2",
                    "07" | "08" | "09" => "Q3",
                    _ => "Q4",
                };
                let products = bought.entry((deal[6], deal[2], quarter)).or_default();
                products.insert(deal[3]);
            }
        }
        assert!(bought.values().filter(|p| p.len() >= 2).count() >= 20);
    }

    #[test]
    fn small_and_empty_sizes() {
        let d = demo(1, 0, 1_000);
        assert_eq!(d.participants_csv, PARTICIPANTS_HEADER);
        assert_eq!(d.deals_csv, DEALS_HEADER);
        let d = demo(1, 1, 1);
        assert_eq!(rows(&d.participants_csv).len(), 3);
        assert_eq!(rows(&d.deals_csv).len(), 1);
        let d = demo(1, 9, 0);
        assert_eq!(rows(&d.participants_csv).len(), 9 + 2 + 1);
        assert_eq!(d.deals_csv, DEALS_HEADER);
    }

    #[test]
    fn leap_years_and_dates() {
        for z in -800_000..800_000 {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 1, 1), 20_454);
        let cal = Calendar::new(2028);
        assert_eq!(cal.days, 366);
        assert_eq!(cal.quarters, [(0, 90), (91, 181), (182, 273), (274, 365)]);
        let d = generate(
            5,
            2028,
            &DemoSize {
                reps: 30,
                deals: 20_000,
            },
        );
        assert!(d.deals_csv.contains(",2028-02-29,"));
        assert!(!d.deals_csv.contains(",2027-") && !d.deals_csv.contains(",2029-"));
    }

    #[test]
    fn names_never_repeat() {
        let mut seen = HashSet::new();
        for k in 0..70_000 {
            let mut s = String::new();
            push_name(&mut s, k, 123);
            assert!(seen.insert(s));
        }
    }
}
