#!/usr/bin/env bash
# Installs what `npm run bench` builds and runs against, when missing: libmariadb-dev (MariaDB
# Connector/C's headers, library and mariadb_config, for bench/loadgen.c), a C compiler, and the
# MariaDB server and client the benches start privately (scripts/install-test-peers.sh installs
# those the same way). Run by `npm run bench`. Needs root to install; otherwise it says what is
# missing and the bench that needs it fails with its own message.
set -euo pipefail

need=()
command -v mariadb_config >/dev/null 2>&1 || need+=(libmariadb-dev)
command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v mariadbd >/dev/null 2>&1 || need+=(mariadb-server)
command -v mariadb >/dev/null 2>&1 || need+=(mariadb-client)
command -v taskset >/dev/null 2>&1 || need+=(util-linux)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "*** the benches need: apt-get install -y ${need[*]} (as root) ***" >&2
  exit 0
fi
# Keep dpkg from starting the packaged service: the benches run their own private instances.
own_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=1
fi
trap '[ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
