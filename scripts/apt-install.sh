#!/usr/bin/env bash
# apt-install.sh WHO PACKAGE...: installs Debian packages for the tests or the benches (WHO names
# them in the message), never starting a packaged service (the MariaDB they run is private).
# Without root it only says what is missing. Shared by install-test-peers.sh and install-bench-peers.sh.
set -euo pipefail
who=$1
shift
[ $# -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "*** the $who need: apt-get install -y $* (as root) ***" >&2
  exit 0
fi
own_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=1
fi
trap '[ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
