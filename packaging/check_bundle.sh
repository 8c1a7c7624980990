#!/usr/bin/env bash
# Smoke-test a built bundle the way a user gets it: unpacked somewhere else, no Python
# environment, no source tree. Fails if the self-test fails or the bundle carries
# tests, caches or anything that looks like a secret store.
set -euo pipefail
bundle=$(cd "$1" && pwd)
where=$(mktemp -d)
trap 'rm -rf "$where"' EXIT
cp -a "$bundle" "$where/modeldeck"
if find "$where/modeldeck" \( -name 'test_*.py' -o -name 'conftest.py' -o -name '*.sqlite' \
     -o -name 'settings.toml' -o -name '.pytest_cache' \) | grep -q .; then
  echo "bundle contains test files, caches or settings:" >&2
  find "$where/modeldeck" \( -name 'test_*.py' -o -name 'conftest.py' -o -name '*.sqlite' \
     -o -name 'settings.toml' -o -name '.pytest_cache' \) >&2
  exit 1
fi
cd "$where"
env -i HOME="$where" PATH=/usr/bin:/bin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen \
  ${DBUS_SESSION_BUS_ADDRESS:+DBUS_SESSION_BUS_ADDRESS=$DBUS_SESSION_BUS_ADDRESS} \
  "$where/modeldeck/modeldeck" --self-test
