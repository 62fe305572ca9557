#!/usr/bin/env bash
# The delivery portal in headless Chromium (tools/portal_browser.py) against a live server.
# Installs Debian chromium and chromium-driver with apt-get when missing, and PyPI selenium into .venv.
# Runs the test in its own PID namespace (when unshare allows it), so that the server, chromedriver and
# every Chromium process die with it, whatever ends it.
# Usage: tools/portal_browser.sh path/to/argus-events [--screenshot docs/portal.png]
set -euo pipefail
binary=$(realpath "$1")
shift
root="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi
python="$root/.venv/bin/python"
[ -x "$python" ] || python3 -m venv "$root/.venv"
"$python" -c 'import selenium' 2>/dev/null || "$root/.venv/bin/pip" install -q --disable-pip-version-check selenium
# Selenium Manager must not download a browser or driver: the Debian ones are named explicitly.
export SE_OFFLINE=true
command=("$python" "$root/tools/portal_browser.py" --binary "$binary" "$@")
if unshare --pid --fork --kill-child --mount-proc true 2>/dev/null; then
  exec unshare --pid --fork --kill-child --mount-proc "${command[@]}"
fi
exec "${command[@]}"
