#!/usr/bin/env bash
# Screenshots REPORT_DIR/report.html in headless Chromium, to check that the
# report renders and to look at it without a desktop.
#
#   scripts/render-report.sh REPORT_DIR [OUT.png]
#
# OUT.png defaults to REPORT_DIR/report.png. Environment:
#   CHROMIUM          browser binary (default /usr/bin/chromium)
#   WINDOW_SIZE       WIDTH,HEIGHT of the page captured (default 1200,2400)
#   RENDER_TIMEOUT_S  kill the browser after this long (default 60)
# Exit status: 0 with the PNG path printed; 77 when Chromium is not
# installed (the "skipped" convention); 1 on any other failure.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 REPORT_DIR [OUT.png]" >&2
    exit 1
fi
dir=$1
chromium=${CHROMIUM:-/usr/bin/chromium}
window=${WINDOW_SIZE:-1200,2400}
timeout_s=${RENDER_TIMEOUT_S:-60}

if [[ ! -x $chromium ]]; then
    echo "render-report: $chromium not found; install it with: apt-get install -y chromium" >&2
    exit 77
fi
if [[ ! -f $dir/report.html ]]; then
    echo "render-report: $dir/report.html does not exist" >&2
    exit 1
fi
html="$(cd "$dir" && pwd)/report.html"
out=${2:-$dir/report.png}
# Chromium resolves --screenshot against its own working directory.
case $out in
    /*) ;;
    *) out="$(pwd)/$out" ;;
esac
rm -f "$out"

profile=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$profile" "$log"' EXIT

# No network, no first-run work, no sync: the report must render offline.
# --kill-after makes sure a browser that ignores SIGTERM cannot hang CI.
status=0
timeout --kill-after=5 "$timeout_s" "$chromium" \
    --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$profile" \
    --screenshot="$out" --window-size="$window" \
    "file://$html" >"$log" 2>&1 || status=$?

if [[ ! -s $out ]]; then
    echo "render-report: no screenshot written (chromium exit status $status); its output:" >&2
    tail -n 20 "$log" >&2
    exit 1
fi
echo "$out"
