#!/usr/bin/env bash
# Builds (release) and runs the `engine` command with the given arguments,
# installing the system packages it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_debian_packages "${BUILD_PACKAGES[@]}"
cargo build --release --quiet -p engine-cli
exec target/release/engine "$@"
