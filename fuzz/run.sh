#!/usr/bin/env bash
# Runs every fuzz target (or those named) for SECONDS each, from its corpus under
# fuzz/corpus/TARGET, and fails on the first crash. Needs a nightly toolchain and
# cargo-fuzz. CI runs it with a short budget; long runs use the same script.
#   bash fuzz/run.sh SECONDS [TARGET...]
# With FUZZ_RUNS=N, each target stops after N inputs (or SECONDS, whichever comes
# first) from a fixed seed: a repeatable run, as CI wants.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:?usage: fuzz/run.sh SECONDS [TARGET...]}"
shift
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-/var/tmp/mandate-fuzz-target}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
cargo +nightly fuzz build -O
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "== fuzz $t for ${secs}s"
  # -rss_limit_mb: a run that grows past 2 GB is a finding (an input that blows up).
  limits=(-max_total_time="$secs")
  if [ -n "${FUZZ_RUNS:-}" ]; then limits+=(-runs="$FUZZ_RUNS" -seed=1); fi
  cargo +nightly fuzz run -O "$t" "corpus/$t" -- \
    "${limits[@]}" -rss_limit_mb=2048 -print_final_stats=1 2>&1 |
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb|ERROR|panicked|Test unit written" || true
  # libFuzzer writes crash-* / oom-* / timeout-* files on a finding.
  if compgen -G "artifacts/$t/*" >/dev/null; then
    echo "fuzz $t found a failing input:" && ls "artifacts/$t"
    exit 1
  fi
done
