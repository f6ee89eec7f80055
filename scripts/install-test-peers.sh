#!/usr/bin/env bash
# Installs the real peers the tests run against, when missing: Debian's MariaDB server and client
# (started privately by the tests on temp sockets, never as the system service), with its PAM and
# ed25519 plugins (in mariadb-server) and gssapi (an account whose client plugin we lack).
# Run by `npm test` (pretest) and by .ci/run. Needs root to install; otherwise it says what is missing.
set -euo pipefail

need=()
command -v mariadbd >/dev/null 2>&1 && [ -e /usr/lib/mysql/plugin/auth_pam.so ] || need+=(mariadb-server)
command -v mariadb >/dev/null 2>&1 || need+=(mariadb-client)
[ -e /usr/lib/mysql/plugin/auth_gssapi.so ] || need+=(mariadb-plugin-gssapi-server)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "*** the MariaDB tests need: apt-get install -y ${need[*]} (as root) ***" >&2
  exit 0
fi
# Keep dpkg from starting the packaged service: the tests run their own private instances.
own_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=1
fi
trap '[ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
