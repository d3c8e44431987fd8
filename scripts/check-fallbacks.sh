#!/usr/bin/env bash
# The non-Linux code paths of the Rust crates, checked and tested on Linux.
#
# Only x86_64-unknown-linux-gnu's standard library can be installed here, so
# `cargo check --target x86_64-apple-darwin` (and the other non-Linux targets)
# runs in the GitHub workflow only. This script gets the next best thing
# locally: a copy of the workspace in which every `#[cfg(target_os = "linux")]`
# is switched off and every `#[cfg(not(target_os = "linux"))]` switched on, so
# the portable fallbacks (recvfrom loop instead of recvmmsg, plain sends
# instead of sendmmsg, ...) are compiled (`cargo check --all-targets`) and the
# core's test suite runs on them. Unix-only code is not exercised for Windows.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

work="$(mktemp -d "${TMPDIR:-/tmp}/fastdgram-fallbacks.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp -r Cargo.toml Cargo.lock crates "$work/"

switched=0
while IFS= read -r -d '' file; do
  if grep -qE '#\[cfg\((not\()?target_os = "linux"\)?\)\]' "$file"; then
    sed -i -e 's/#\[cfg(target_os = "linux")\]/#[cfg(any())]/g' \
      -e 's/#\[cfg(not(target_os = "linux"))\]/#[cfg(all())]/g' "$file"
    echo "fallbacks on in ${file#"$work"/}"
    switched=$((switched + 1))
  fi
done < <(find "$work/crates" -name '*.rs' -print0)
if [ "$switched" -eq 0 ]; then
  echo "no #[cfg(target_os = \"linux\")] found: nothing to check" >&2
  exit 1
fi

# The dependencies are shared with the repository's own build.
export CARGO_TARGET_DIR="$repo/target/fallbacks"
(cd "$work" && cargo check --workspace --all-targets --offline)
(cd "$work" && cargo test -p fastdgram-core --offline)
