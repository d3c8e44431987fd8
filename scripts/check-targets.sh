#!/usr/bin/env bash
# npm run check:targets [-- [--link-musl] [TARGET...]]
#
# `cargo check` and `cargo clippy -D warnings` of the whole workspace (all
# targets: tests too) for every Rust target in package.json's napi.targets,
# on this Linux machine, and a table of the results; exits 1 if any failed.
#
# How, without a standard library per target: Debian's rustc-web (Rust 1.96)
# comes with its standard library's source (rust-web-src), and
# `-Zbuild-std=std,panic_unwind` compiles that for each target
# (RUSTC_BOOTSTRAP=1 lets a stable compiler do so: for checking here only,
# the published binaries are built by the workflow's ordinary toolchains).
# Clippy is Debian's too (rust-web-clippy, the same 1.96): rustup's
# clippy-driver (1.95) brings its own sysroot, which has no standard
# library source here (no rust-src component, and rustup's server cannot
# be reached), and a 1.95 driver cannot read a std that 1.96 built.
# Nothing links, so no cross linker is needed, except with --link-musl:
# the addon is then also built (--release) and linked for both musl
# targets the way the release workflow links them (zig 0.14.1 through
# cargo-zigbuild, from PyPI into the cache: Debian has no aarch64 musl
# compiler), and x86_64 also with musl-tools' musl-gcc. Each .node must
# name no glibc symbol version, and the zig-linked x86_64 one must load
# with musl's own dynamic linker (no musl Node.js can be had here to run
# it; an aarch64 musl loader neither). Packages are installed when missing.
# Everything is cached in target/check-targets (or $CHECK_TARGETS_DIR): a
# second run only rechecks what changed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
repo="$(pwd)"

link_musl=0
targets=()
for arg in "$@"; do
  case "$arg" in
    --link-musl) link_musl=1 ;;
    -h | --help)
      sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    -*)
      echo "check-targets: unknown option $arg" >&2
      exit 2
      ;;
    *) targets+=("$arg") ;;
  esac
done
if [ "${#targets[@]}" -eq 0 ]; then
  mapfile -t targets < <(node -p "require('./package.json').napi.targets.join('\n')")
fi

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian packages, installed only when missing.
ensure_packages() {
  local missing=()
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "== installing ${missing[*]}"
    as_root apt-get update -q && as_root apt-get install -y -q "${missing[@]}"
  fi
}

packages=(rustc-web rust-web-src rust-web-clippy)
[ "$link_musl" -eq 1 ] && packages+=(musl-tools python3-pip)
ensure_packages "${packages[@]}" || {
  echo "check-targets: could not install ${packages[*]}" >&2
  exit 1
}

export RUSTC=/usr/bin/rustc
export RUSTC_BOOTSTRAP=1
# CHECK_TARGETS_DIR: another cache (a cold run, or one shared by clones).
export CARGO_TARGET_DIR="${CHECK_TARGETS_DIR:-$repo/target/check-targets}"
# A cdylib on musl links the C library dynamically, as the release build
# does (set for checking too, so that both share one cached std build).
musl_flags="-C target-feature=-crt-static"
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="$musl_flags -L native=$CARGO_TARGET_DIR/musl-libgcc"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="$musl_flags"
build_std=('-Zbuild-std=std,panic_unwind')
# napi-build's script for windows-gnu insists on a file named libnode.dll in
# LIBNODE_PATH (it links -lnode); checking links nothing, so an empty one
# does (npm run test:windows makes the real import library).
if [ -z "${LIBNODE_PATH:-}" ]; then
  export LIBNODE_PATH="$CARGO_TARGET_DIR/libnode-for-check"
  mkdir -p "$LIBNODE_PATH"
  : >"$LIBNODE_PATH/libnode.dll"
fi
logs="$CARGO_TARGET_DIR/logs"
mkdir -p "$logs"
# x86_64 musl's unwinder is libgcc_s (Alpine's at run time); musl-gcc
# searches only musl's directory, so it gets one of its own to find it in.
mkdir -p "$CARGO_TARGET_DIR/musl-libgcc"
ln -sf "$(gcc -print-file-name=libgcc_s.so.1)" "$CARGO_TARGET_DIR/musl-libgcc/libgcc_s.so"

# "ok", or the count of errors and warnings in a cargo log.
verdict() {
  local status="$1" log="$2" errors warnings
  errors=$(grep -cE '^error(\[E[0-9]+\])?: ' "$log" | tr -d ' ')
  errors=$((errors - $(grep -cE '^error: (could not compile|aborting)' "$log")))
  warnings=$(grep -E '^warning: ' "$log" | grep -cvE 'generated [0-9]+ warnings?|build failed')
  if [ "$status" -eq 0 ] && [ "$warnings" -eq 0 ]; then
    echo ok
  elif [ "$status" -eq 0 ]; then
    echo "ok, $warnings warnings"
  else
    echo "FAILED: $errors errors, $warnings warnings"
  fi
}

failed=0
rows=()
started=$SECONDS
for target in "${targets[@]}"; do
  echo "== $target" >&2
  target_started=$SECONDS
  cargo check --workspace --all-targets --target "$target" "${build_std[@]}" \
    >"$logs/$target.check.log" 2>&1
  check_status=$?
  /usr/bin/cargo-clippy clippy --workspace --all-targets --target "$target" "${build_std[@]}" \
    -- -D warnings >"$logs/$target.clippy.log" 2>&1
  clippy_status=$?
  check=$(verdict "$check_status" "$logs/$target.check.log")
  clippy=$(verdict "$clippy_status" "$logs/$target.clippy.log")
  [ "$check_status" -eq 0 ] && [ "$clippy_status" -eq 0 ] || failed=1
  rows+=("$(printf '| %-31s | %-28s | %-28s | %4ss |' "$target" "$check" "$clippy" "$((SECONDS - target_started))")")
done

# zig and cargo-zigbuild, the musl linker of the release workflow (napi
# build -x, the same zig), from PyPI into the cache when missing.
zig_dir="$CARGO_TARGET_DIR/zig-toolchain"
ensure_zig() {
  if PYTHONPATH="$zig_dir" python3 -c 'import ziglang' 2>/dev/null && [ -x "$zig_dir/bin/cargo-zigbuild" ]; then
    return 0
  fi
  python3 -m pip install --quiet --disable-pip-version-check --target "$zig_dir" \
    ziglang==0.14.1 cargo-zigbuild==0.24.1
}

# Builds the addon (--release) for musl TARGET with LINKER (musl-gcc or
# zig; zig's builds in a target dir of their own, as both write the same
# file) and prints the .node's path.
build_musl() {
  local target="$1" linker="$2" log="$3" dir="$CARGO_TARGET_DIR"
  [ "$linker" = zig ] && dir="$CARGO_TARGET_DIR/zig"
  local so="$dir/$target/release/libfastdgram_node.so"
  rm -f "$so"
  case "$linker" in
    musl-gcc)
      CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER=musl-gcc \
        cargo build --release -p fastdgram-node --target "$target" "${build_std[@]}"
      ;;
    zig)
      ensure_zig && CARGO_TARGET_DIR="$dir" PYTHONPATH="$zig_dir" "$zig_dir/bin/cargo-zigbuild" \
        build --release -p fastdgram-node --target "$target" "${build_std[@]}"
      ;;
  esac >"$log" 2>&1
  echo "$so"
}

# What the .node needs: no glibc (no libc.so.6, no GLIBC_ symbol version).
glibc_free() {
  local so="$1" needed versions
  needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | paste -sd, -)
  versions=$(readelf -V "$so" | sed -n 's/.*Name: \([^ ]*\).*/\1/p' | sort -u | paste -sd, -)
  if readelf -V --dyn-syms -W "$so" | grep -q 'GLIBC_' || [[ ",$needed," == *",libc.so.6,"* ]]; then
    echo "FAILED: needs glibc (NEEDED $needed; versions $versions)"
    return 1
  fi
  echo "needs ${needed:-nothing}, symbol versions ${versions:-none}, no GLIBC_"
}

# Loads an x86_64 .node with musl's own dynamic linker (musl-tools'), in a
# program that stands in for Node.js: it exports every napi_* function the
# .node imports (as stubs that abort: none is called before Node.js would
# call napi_register_module_v1), so loading resolves every other symbol
# in musl's libc and runs the .node's initialisers. Binding is immediate
# (the .node is linked -z now), so a symbol musl lacks fails the load.
musl_loads() {
  local so="$1" work="$CARGO_TARGET_DIR/musl-load"
  mkdir -p "$work"
  {
    echo '#include <stdlib.h>'
    readelf --dyn-syms -W "$so" | awk '$7 == "UND" { print $8 }' | sed 's/@.*//' |
      grep '^napi_' | sort -u | sed 's/.*/void &(void) { abort(); }/'
  } >"$work/napi-stubs.c"
  cat >"$work/load.c" <<'C'
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
  void *module = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!module) { printf("%s\n", dlerror()); return 1; }
  if (!dlsym(module, "napi_register_module_v1")) { printf("no napi_register_module_v1\n"); return 1; }
  printf("loaded\n");
  return 0;
}
C
  musl-gcc -rdynamic -o "$work/load" "$work/load.c" "$work/napi-stubs.c" || return 1
  local out
  out=$("$work/load" "$so" 2>&1)
  [ "$out" = loaded ] || { echo "FAILED to load with musl's ld.so: $out"; return 1; }
  echo "loaded by musl's ld.so ($(dpkg-query -W -f='${Version}' musl))"
}

# One row: TARGET, LINKER and, for x86_64 linked by zig, the load under musl.
link_musl_row() {
  local target="$1" linker="$2" log="$logs/$1.$2.link.log" so result
  so=$(build_musl "$target" "$linker" "$log")
  if [ ! -f "$so" ]; then
    echo "FAILED to build or link (see ${log#"$repo"/})"
    return 1
  fi
  result=$(glibc_free "$so") || { echo "$result"; return 1; }
  if [[ "$target" == x86_64-* && "$linker" == zig ]]; then
    local loaded
    loaded=$(musl_loads "$so") || { echo "$result; $loaded"; return 1; }
    result="$result; $loaded"
  elif [[ "$target" == x86_64-* ]]; then
    # Its unwinder is libgcc_s (Alpine's libgcc): here only glibc's exists.
    result="$result; not loaded: no musl libgcc_s here"
  else
    result="$result; not loaded: no $target loader here"
  fi
  echo "ok: $result"
}

musl_rows=()
if [ "$link_musl" -eq 1 ]; then
  for build in x86_64-unknown-linux-musl:musl-gcc x86_64-unknown-linux-musl:zig aarch64-unknown-linux-musl:zig; do
    target="${build%%:*}" linker="${build#*:}"
    echo "== link $target with $linker" >&2
    target_started=$SECONDS
    result=$(link_musl_row "$target" "$linker") || failed=1
    musl_rows+=("$(printf '| %-27s | %-8s | %s | %ss |' "$target" "$linker" "$result" "$((SECONDS - target_started))")")
  done
fi

echo
echo "cargo check / cargo clippy -D warnings, --workspace --all-targets, $(/usr/bin/rustc --version) with -Zbuild-std (logs: ${logs#"$repo"/}):"
echo
printf '| %-31s | %-28s | %-28s | %5s |\n' target check clippy time
echo "|---|---|---|---:|"
printf '%s\n' "${rows[@]}"
if [ "${#musl_rows[@]}" -gt 0 ]; then
  echo
  echo "musl: the addon built --release and linked, and what the .node needs:"
  echo
  echo "| target | linker | result | time |"
  echo "|---|---|---|---:|"
  printf '%s\n' "${musl_rows[@]}"
fi
echo
ok_count=$(printf '%s\n' "${rows[@]}" | grep -cE '^\| \S+ +\| ok +\| ok +\|')
echo "${ok_count} of ${#targets[@]} targets check and lint clean; $((SECONDS - started)) s in all"
exit "$failed"
