#!/usr/bin/env bash
# Run the whole suite the way CI does: offscreen Qt, and a private D-Bus session with an
# unlocked gnome-keyring (a real Secret Service) so credential tests use the OS keyring.
# Any extra arguments go to pytest. Exit code is pytest's (5 = no tests = failure).
set -euo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
export MODELDECK_ARTIFACTS=${MODELDECK_ARTIFACTS:-$PWD/artifacts}
mkdir -p "$MODELDECK_ARTIFACTS"
PYTEST=(.venv/bin/python -m pytest "$@")
if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
  KEYRING_HOME=$(mktemp -d)
  trap 'rm -rf "$KEYRING_HOME"' EXIT
  # The keyring daemon reads the unlock password on stdin; a fresh HOME gives a fresh
  # 'login' collection. Everything runs inside the private bus and ends with it.
  HOME="$KEYRING_HOME" dbus-run-session -- bash -c '
    echo -n modeldeck-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec "$@"' _ env HOME="$HOME" MODELDECK_KEYRING_READY=1 "${PYTEST[@]}"
else
  echo "tests/run.sh: no dbus-run-session/gnome-keyring: keyring tests will skip" >&2
  "${PYTEST[@]}"
fi
