#!/usr/bin/env bash
# The whole test suite: formatting, lints, the sans-IO dependency rule, and
# every test in the workspace. Installs what the tests need first.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_debian_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

echo "== sans-IO rule: the media core depends on no runtime or socket crate"
if cargo tree -p media-core -e normal --prefix none | grep -Eq '^(glommio|io-uring|tokio|async-std|mio|socket2) '; then
  echo "media-core must not depend on an IO runtime" >&2
  cargo tree -p media-core -e normal >&2
  exit 1
fi

echo "== cargo test"
cargo test --workspace --all-targets

echo "== doc tests"
cargo test --workspace --doc
