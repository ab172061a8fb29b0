#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, only when missing,
# without prompting. Sourced by engine.sh and test.sh.
set -euo pipefail

ensure_debian_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# libopus + pkg-config: the Opus codec (audiopus links the system libopus).
BUILD_PACKAGES=(libopus-dev pkg-config)
# tshark: independent dissector for RTP/RTCP and H.225.0 RAS interop tests.
# systemd: systemd-analyze verifies the service units in config/systemd/.
# chromium: renders the SLO report (scripts/render-report.sh) in headless mode.
# prometheus: promtool checks the metrics exposition and config/alerts.yml.
TEST_PACKAGES=(tshark systemd chromium prometheus)
