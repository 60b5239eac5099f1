#!/bin/sh
# Run by the build (proofs/Multikernel.Proofs.csproj): make sure Debian's libz3.so.4 is
# present, installing libz3-4 when we can (root, or password-less sudo). When we cannot,
# say so in one line; the proofs then report the same line instead of a verdict.
if ldconfig -p 2>/dev/null | grep -q 'libz3\.so\.4 '; then exit 0; fi
for d in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib /usr/local/lib; do
  [ -e "$d/libz3.so.4" ] && exit 0
done
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
  if [ "$SUDO" != none ]; then
    echo "multikernel: installing libz3-4 (Z3 for the proofs)"
    ($SUDO apt-get install -y -q libz3-4 >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q libz3-4 >/dev/null 2>&1; }) && exit 0
  fi
fi
echo "multikernel: warning: libz3.so.4 not found and not installable here: install it with 'sudo apt-get install libz3-4'"
exit 0
