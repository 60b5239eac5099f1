#!/bin/sh
# Run by the CLI's build (cli/Multikernel.Cli.csproj): make sure Debian's spin (a C compiler for its pan.c,
# and /usr/bin/time for pan's peak RSS) is present for `bench --spin` and the twin's state-count test, installing it when we can
# (root, or password-less sudo), as proofs/ensure-z3.sh does for libz3-4. When we cannot, say so in
# one line; the test and the bench row then say that they skip, and why.
if command -v spin >/dev/null 2>&1 && command -v gcc >/dev/null 2>&1 && [ -x /usr/bin/time ]; then exit 0; fi
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
  if [ "$SUDO" != none ]; then
    echo "multikernel: installing spin and gcc (the Promela twin of ipi/reference)"
    ($SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends spin gcc libc6-dev time >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends spin gcc libc6-dev time >/dev/null 2>&1; }) && exit 0
  fi
fi
echo "multikernel: warning: spin not found and not installable here: the Spin twin's test and bench --spin will skip; install it with 'sudo apt-get install spin gcc'"
exit 0
