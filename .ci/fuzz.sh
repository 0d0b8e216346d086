#!/usr/bin/env bash
# Fuzzing (docs/fuzzing.md): builds every cargo-fuzz target in fuzz/ once, with the stable
# toolchain, then runs each for FUZZ_SECONDS (default 60) from the committed seeds plus whatever
# corpus earlier runs left in fuzz/corpus/. Fails if any target crashes (a panic, a failed
# assertion, a timeout or running out of memory); the input is kept in fuzz/artifacts/<target>/.
#
#   FUZZ_SECONDS=600 bash .ci/fuzz.sh              # longer
#   FUZZ_TARGETS="sth canonical_json" bash .ci/fuzz.sh
#   FUZZ_SANITIZER=address bash .ci/fuzz.sh        # with AddressSanitizer (slower; see the docs)
#
# RUSTC_BOOTSTRAP=1: cargo-fuzz passes unstable flags (-Zsanitizer for ASan) and a fresh machine has
# no nightly. The default sanitizer is `none`: our crates forbid unsafe code, so ASan finds nothing
# a panic would not, and it costs up to 8x the executions per second (category_validate: 15k/s vs 116k/s).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
export RUSTC_BOOTSTRAP=1

seconds="${FUZZ_SECONDS:-60}"
sanitizer="${FUZZ_SANITIZER:-none}"
root="$PWD"
logs="$root/fuzz/target/logs"
step() { printf '\n==> %s  (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

cargo_fuzz_version=0.13.2
if ! cargo fuzz --version 2>/dev/null | grep -qx "cargo-fuzz $cargo_fuzz_version"; then
  step "installing cargo-fuzz $cargo_fuzz_version"
  cargo install cargo-fuzz --version "$cargo_fuzz_version" --locked
fi

# build and run take the same flags, so that `run` finds the binaries fresh and builds nothing.
flags=(--sanitizer "$sanitizer")

step "building the fuzz targets (sanitizer: $sanitizer; $(rustc --version))"
cargo fuzz build "${flags[@]}"

# Every file in fuzz/fuzz_targets is a target cargo-fuzz must know: a target list that came back
# short (or empty) would otherwise pass as "fuzzing OK" having fuzzed nothing.
listed=$(cargo fuzz list | sort | tr '\n' ' ')
expected=$(for f in fuzz/fuzz_targets/*.rs; do basename "$f" .rs; done | sort | tr '\n' ' ')
if [ -z "$expected" ] || [ "$listed" != "$expected" ]; then
  echo "fuzz targets: cargo fuzz list gives '$listed', fuzz/fuzz_targets/ has '$expected'" >&2
  exit 1
fi
read -r -a targets <<<"${FUZZ_TARGETS:-$listed}"
mkdir -p "$logs"
failed=()
for target in "${targets[@]}"; do
  step "fuzzing $target for ${seconds}s"
  corpus="$root/fuzz/corpus/$target"
  mkdir -p "$corpus"
  for seed in fuzz/seeds/"$target"/*; do
    [ -f "$seed" ] && [ ! -e "$corpus/${seed##*/}" ] && cp "$seed" "$corpus/"
  done
  # -timeout: an input that takes longer than 10 s counts as a crash (a hang), not a stall of CI.
  if cargo fuzz run "${flags[@]}" "$target" "$corpus" -- \
    -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$logs/$target.log" 2>&1; then
    grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$logs/$target.log" || true
    grep -E 'DONE +cov' "$logs/$target.log" | tail -1 || true
  else
    failed+=("$target")
    echo "FAILED: $target (full log: $logs/$target.log)" >&2
    # The panic message, what libFuzzer made of it, where the input is and how to rerun it.
    {
      grep -A4 'panicked at' "$logs/$target.log" | grep -v -E '^stack backtrace|^ +[0-9]+: |^ +at ' | head -20
      grep -E 'ERROR: libFuzzer|^SUMMARY|Test unit written to' "$logs/$target.log"
      grep -A2 '^Reproduce with:' "$logs/$target.log"
    } >&2 || true
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo >&2
  echo "fuzzing FAILED: ${failed[*]}; crashing inputs are in fuzz/artifacts/ (docs/fuzzing.md: turn each into a test)" >&2
  exit 1
fi
echo
echo "fuzzing OK: ${targets[*]} (${seconds}s each)"
