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
exec bash "$(dirname "$0")/apt-install.sh" tests ${need[@]+"${need[@]}"}
