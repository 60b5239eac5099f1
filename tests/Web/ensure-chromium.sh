#!/bin/sh
# Run by the test project's build (tests/Multikernel.Tests.csproj): make sure Debian's chromium is
# present for the browser tests, installing it when we can (root, or password-less sudo), as
# proofs/ensure-z3.sh does for libz3-4. When we cannot, say so in one line; the browser tests then
# report that they skip, and why, instead of a verdict.
for b in /usr/bin/chromium /usr/bin/chromium-browser; do [ -x "$b" ] && exit 0; done
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
  if [ "$SUDO" != none ]; then
    echo "multikernel: installing chromium (for the browser tests)"
    ($SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1; }) && exit 0
  fi
fi
echo "multikernel: warning: chromium not found and not installable here: the browser tests will skip; install it with 'sudo apt-get install chromium'"
exit 0
