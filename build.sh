#!/usr/bin/env bash
# Builds the release binary into bin/autoscaler, from any current directory.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo not found; install the Rust toolchain (https://rustup.rs) and run this again" >&2
    exit 1
fi

if ! cargo build --release --locked --bin autoscaler; then
    echo "error: the release build failed; see the compiler output above" >&2
    exit 1
fi

target_dir="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$root/bin"
cp "$target_dir/release/autoscaler" "$root/bin/autoscaler"
echo "built $root/bin/autoscaler"
