#!/usr/bin/env bash
# Runs attain's release build on the reference workload of shared/bench/SPEC.md:
#
#   bench/reference-workload.sh DATA_DIR OUT_CSV
#
# DATA_DIR holds participants.csv and deals.csv; OUT_CSV receives the payouts.
# Used as the command of shared/bench/run.sh:
#
#   ../shared/bench/run.sh --size S -- bench/reference-workload.sh {data} {out}
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${CARGO_TARGET_DIR:-$here/target}/release/attain
if [[ ! -x $bin ]]; then
  cargo build --release --quiet --manifest-path "$here/Cargo.toml" >&2
fi
exec "$bin" calc --workspace "$here/examples/reference-workload" --year 2026 \
  --participants "$1/participants.csv" --transactions "$1/deals.csv" --out "$2"
