#!/usr/bin/env bash
# A private Docker engine for the real-engine tests: `dockerd.sh start` prints `started` or
# `running` (a daemon already answers on the socket, and is left to whoever started it);
# `dockerd.sh stop` stops the one `start` started.
#
# Nothing of the machine's own Docker setup is touched: the binaries are .ci/install-engine's
# extraction, the data root (which caches the images between runs) and the socket live under
# $MUSTER_ENGINE_DATA, and the daemon runs in a mount namespace of its own with a fresh /run.
# There /run/docker.sock is this engine's socket too, so a service that mounts
# /var/run/docker.sock (autoheal) talks to this engine, not to the machine's.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ENGINE="${MUSTER_ENGINE_DIR:-$REPO/.engine}"
DATA="${MUSTER_ENGINE_DATA:-/var/lib/muster-engine}"
SOCK="$DATA/docker.sock"
PIDFILE="$DATA/dockerd.pid"
DOCKER="$ENGINE/usr/bin/docker"

answers() { DOCKER_HOST="unix://$SOCK" "$DOCKER" version >/dev/null 2>&1; }

case "${1:-}" in
start)
    [[ -x $ENGINE/usr/sbin/dockerd ]] || {
        echo "no engine in $ENGINE: run bash .ci/install" >&2
        exit 1
    }
    if answers; then
        echo running
        exit 0
    fi
    mkdir -p "$DATA"
    rm -f "$SOCK" "$PIDFILE"
    # Debian 12's runc from /usr/sbin; containerd and docker-init from the extraction.
    export PATH="$ENGINE/usr/bin:$ENGINE/usr/sbin:$ENGINE/usr/libexec/docker:$PATH:/usr/sbin:/sbin"
    setsid unshare --mount --propagation private -- sh -c '
        mount -t tmpfs -o mode=755 tmpfs /run && exec "$@"' sh \
        dockerd --data-root "$DATA/root" --exec-root /run/muster-engine \
        -H "unix://$SOCK" -H unix:///run/docker.sock --pidfile "$PIDFILE" \
        >>"$DATA/dockerd.log" 2>&1 </dev/null &
    for _ in $(seq 120); do
        if answers; then
            echo started
            exit 0
        fi
        sleep 0.5
    done
    echo "dockerd did not answer within 60 s; the end of $DATA/dockerd.log:" >&2
    tail -n 30 "$DATA/dockerd.log" >&2
    exit 1
    ;;
stop)
    [[ -f $PIDFILE ]] || exit 0
    pid=$(cat "$PIDFILE")
    kill "$pid" 2>/dev/null || exit 0
    for _ in $(seq 60); do
        kill -0 "$pid" 2>/dev/null || exit 0
        sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null || true
    ;;
*)
    echo "usage: dockerd.sh start|stop" >&2
    exit 2
    ;;
esac
