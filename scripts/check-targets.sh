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
# clippy-driver (1.95) cannot read a standard library that 1.96 built.
# Nothing links, so no cross linker is needed, except with --link-musl:
# both musl targets are then also built (release) and linked, x86_64 with
# musl-tools' musl-gcc, aarch64 with zig through cargo-zigbuild (both from
# PyPI into .cache/zig: Debian has no aarch64 musl compiler), and each
# .node must name no glibc symbol version. The packages are installed when
# missing. Everything is cached in target/check-targets: a second run only
# rechecks what changed.
set -uo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

link_musl=0
targets=()
for arg in "$@"; do
  case "$arg" in
    --link-musl) link_musl=1 ;;
    -h | --help)
      sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
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
[ "$link_musl" -eq 1 ] && packages+=(musl-tools)
ensure_packages "${packages[@]}" || {
  echo "check-targets: could not install ${packages[*]}" >&2
  exit 1
}

export RUSTC=/usr/bin/rustc
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="$repo/target/check-targets"
# A cdylib on musl links the C library dynamically, as the release build
# does (set for checking too, so that both share one cached std build).
musl_flags="-C target-feature=-crt-static"
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="$musl_flags -L native=$CARGO_TARGET_DIR/musl-libgcc"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="$musl_flags"
build_std=(-Zbuild-std=std,panic_unwind)
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

# Builds the addon for a musl target and reads what the .node needs.
link_musl_target() {
  local target="$1" log="$logs/$1.link.log" so
  so="$CARGO_TARGET_DIR/$target/release/libfastdgram_node.so"
  rm -f "$so"
  case "$target" in
    x86_64-unknown-linux-musl)
      CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER=musl-gcc \
        cargo build --release -p fastdgram-node --target "$target" "${build_std[@]}" >"$log" 2>&1
      ;;
    aarch64-unknown-linux-musl)
      local zig="$repo/.cache/zig"
      if ! PYTHONPATH="$zig" python3 -c 'import ziglang' 2>/dev/null || [ ! -x "$zig/bin/cargo-zigbuild" ]; then
        python3 -m pip install --quiet --disable-pip-version-check --target "$zig" \
          ziglang==0.14.1 cargo-zigbuild==0.24.1 >"$log" 2>&1
      fi
      PYTHONPATH="$zig" "$zig/bin/cargo-zigbuild" build --release -p fastdgram-node \
        --target "$target" "${build_std[@]}" >>"$log" 2>&1
      ;;
  esac
  if [ ! -f "$so" ]; then
    echo "FAILED to build or link (see $log)"
    return 1
  fi
  local needed versions
  needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | paste -sd, -)
  versions=$(readelf -V "$so" | sed -n 's/.*Name: \([^ ]*\).*/\1/p' | sort -u | paste -sd, -)
  if readelf -V --dyn-syms -W "$so" | grep -q 'GLIBC_' || [[ ",$needed," == *",libc.so.6,"* ]]; then
    echo "FAILED: needs glibc (NEEDED $needed; versions $versions)"
    return 1
  fi
  echo "ok: needs ${needed:-nothing}; symbol versions ${versions:-none}, no GLIBC_"
}

musl_rows=()
if [ "$link_musl" -eq 1 ]; then
  for target in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
    echo "== link $target" >&2
    target_started=$SECONDS
    result=$(link_musl_target "$target") || failed=1
    musl_rows+=("$(printf '| %-31s | %s | %ss |' "$target" "$result" "$((SECONDS - target_started))")")
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
  echo "| target | result | time |"
  echo "|---|---|---:|"
  printf '%s\n' "${musl_rows[@]}"
fi
echo
ok_count=$(printf '%s\n' "${rows[@]}" | grep -cE '^\| \S+ +\| ok[^|]*\| ok')
echo "${ok_count} of ${#targets[@]} targets check and lint clean; $((SECONDS - started)) s in all"
exit "$failed"
