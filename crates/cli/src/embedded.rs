//! The example workspace of the product brief, built into the binary: the
//! plans `attain demo` runs and the template `attain init` writes.

pub const WORKSPACE: &str = include_str!("../../../examples/brief/attain.toml");

/// (file name, contents) of every plan file, in name order.
pub const PLANS: &[(&str, &str)] = &[
    (
        "account_executive_bonus.toml",
        include_str!("../../../examples/brief/plans/account_executive_bonus.toml"),
    ),
    (
        "director_override.toml",
        include_str!("../../../examples/brief/plans/director_override.toml"),
    ),
    (
        "grr_bonus.toml",
        include_str!("../../../examples/brief/plans/grr_bonus.toml"),
    ),
    (
        "grr_nrr_bonus.toml",
        include_str!("../../../examples/brief/plans/grr_nrr_bonus.toml"),
    ),
    (
        "manager_override.toml",
        include_str!("../../../examples/brief/plans/manager_override.toml"),
    ),
    (
        "multi_product_spiff.toml",
        include_str!("../../../examples/brief/plans/multi_product_spiff.toml"),
    ),
    (
        "nrr_bonus.toml",
        include_str!("../../../examples/brief/plans/nrr_bonus.toml"),
    ),
    (
        "retention_bonus.toml",
        include_str!("../../../examples/brief/plans/retention_bonus.toml"),
    ),
    (
        "retention_bonus_monthly.toml",
        include_str!("../../../examples/brief/plans/retention_bonus_monthly.toml"),
    ),
    (
        "retention_commission.toml",
        include_str!("../../../examples/brief/plans/retention_commission.toml"),
    ),
    (
        "retention_commission_monthly.toml",
        include_str!("../../../examples/brief/plans/retention_commission_monthly.toml"),
    ),
    (
        "retention_upsell.toml",
        include_str!("../../../examples/brief/plans/retention_upsell.toml"),
    ),
    (
        "team_goal_bonus.toml",
        include_str!("../../../examples/brief/plans/team_goal_bonus.toml"),
    ),
];

#[cfg(test)]
mod tests {
    /// Every plan file of examples/brief is built in.
    #[test]
    fn every_brief_plan_is_embedded() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/brief/plans");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        on_disk.sort();
        let embedded: Vec<String> = super::PLANS.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(embedded, on_disk);
    }
}
