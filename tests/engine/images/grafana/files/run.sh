#!/bin/bash
# STAND-IN for grafana/grafana:11.3.1's /run.sh and server (tests/engine/images/grafana).
# Not Grafana: it reads GF_*__FILE and checks its paths as run.sh does, creates the SQLite
# database file in GF_PATHS_DATA (the server fails without a writable data path, like
# Grafana's), and answers on 3000 what the tests ask (see /opt/standin/grafana-http.sh).
set -uo pipefail
permissions_ok=1
if [ ! -r "$GF_PATHS_CONFIG" ]; then
    echo "GF_PATHS_CONFIG='$GF_PATHS_CONFIG' is not readable."
    permissions_ok=0
fi
if [ ! -w "$GF_PATHS_DATA" ]; then
    echo "GF_PATHS_DATA='$GF_PATHS_DATA' is not writable."
    permissions_ok=0
fi
if [ ! -r "$GF_PATHS_HOME" ]; then
    echo "GF_PATHS_HOME='$GF_PATHS_HOME' is not readable."
    permissions_ok=0
fi
if [ $permissions_ok -eq 0 ]; then
    echo "You may have issues with file permissions, more information here: http://docs.grafana.org/installation/docker/#migrate-to-v51-or-later"
fi
# As Grafana's run.sh does: a variable GF_X__FILE names a file (a Docker secret) whose content
# becomes GF_X; GF_X and GF_X__FILE both set is an error.
while IFS= read -r name; do
    base=${name%__FILE}
    if [ -n "${!base:-}" ]; then
        echo >&2 "ERROR: Both $base and $name are set (but are exclusive)"
        exit 1
    fi
    echo "Getting secret $base from ${!name}"
    export "$base=$(<"${!name}")"
    unset "$name"
done < <(compgen -e | grep '^GF_.*__FILE$' || true)
ts() { date -u +%Y-%m-%dT%H:%M:%S.%NZ; }
echo "logger=settings t=$(ts) level=info msg=\"Starting Grafana\" version=11.3.1 commit=stand-in branch=HEAD"
if ! { mkdir -p "$GF_PATHS_DATA/plugins" && touch "$GF_PATHS_DATA/grafana.db"; } 2>/dev/null; then
    echo "logger=sqlstore t=$(ts) level=error msg=\"Failed to create database\" error=\"unable to open database file: permission denied\""
    echo "Error: ✗ failed to initialize sqlstore: unable to open database file: permission denied"
    exit 1
fi
echo "logger=migrator t=$(ts) level=info msg=\"migrations completed\" performed=0 skipped=0 duration=1ms"
sleep "${GF_STANDIN_STARTUP_SECONDS:-1}"
port=${GF_SERVER_HTTP_PORT:-3000}
echo "logger=http.server t=$(ts) level=info msg=\"HTTP Server Listen\" address=[::]:$port protocol=http subUrl= socket="
exec /opt/standin/bin/socat TCP4-LISTEN:"$port",reuseaddr,fork,backlog=128 EXEC:/opt/standin/grafana-http.sh
