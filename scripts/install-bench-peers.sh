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
exec bash "$(dirname "$0")/apt-install.sh" benches ${need[@]+"${need[@]}"}
