#!/usr/bin/env bash
# Fuzzes the request-head parser and the chunked decoder of crates/http, each for a bounded time.
#   npm run fuzz -- [SECONDS]      (default 60 seconds per target)
# Prints executions and crashes per target; exits non-zero if any target crashed. A crashing
# input is kept under crates/http/fuzz/artifacts/<target>/; replay it with
#   cd crates/http/fuzz && cargo +nightly fuzz run <target> <that file>
# Needs the nightly toolchain and cargo-fuzz (`rustup toolchain install nightly`,
# `cargo install cargo-fuzz`).
set -euo pipefail

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: npm run fuzz -- [SECONDS]   (a whole number of seconds per target, got '$seconds')" >&2
  exit 2
fi

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../crates/http/fuzz" && pwd)"
targets=(head chunked)

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz: the nightly toolchain is missing: rustup toolchain install nightly" >&2
  exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: cargo-fuzz is missing: cargo install cargo-fuzz" >&2
  exit 2
fi

cd "$fuzz_dir"
# Optimised, but with debug assertions, so that an arithmetic overflow is a crash too.
build_flags=(--release --debug-assertions)
build_log="$(mktemp)"
if ! cargo +nightly fuzz build "${build_flags[@]}" >"$build_log" 2>&1; then
  cat "$build_log" >&2
  rm -f "$build_log"
  exit 2
fi
rm -f "$build_log"

crashed=0
summary=()
for target in "${targets[@]}"; do
  # The corpus grows run after run (it is git-ignored); the checked-in seeds start it off.
  corpus="corpus/$target"
  artifacts="artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  before=$(find "$artifacts" -type f | wc -l)
  log="$(mktemp)"
  echo "fuzz: $target for $seconds s" >&2
  status=0
  cargo +nightly fuzz run "${build_flags[@]}" "$target" "$corpus" "seeds/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [[ -z "$execs" ]]; then
    # libFuzzer prints no final stats when it stops at a crash; its last status line has the count.
    execs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
  fi
  crashes=$(( $(find "$artifacts" -type f | wc -l) - before ))
  if [[ $status -ne 0 && $crashes -eq 0 ]]; then
    # Failed without leaving an input behind (a build or setup error): show why.
    tail -n 30 "$log" >&2
    crashes=1
  elif [[ $crashes -gt 0 ]]; then
    grep -E 'panicked|SUMMARY|ERROR|Test unit written' "$log" >&2 || true
  fi
  rm -f "$log"
  summary+=("$target: ${execs:-0} executions, $crashes crashes in $seconds s, corpus $(find "$corpus" -type f | wc -l) inputs")
  if [[ $crashes -gt 0 ]]; then crashed=1; fi
done

printf '%s\n' "${summary[@]}"
exit "$crashed"
