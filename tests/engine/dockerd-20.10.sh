#!/usr/bin/env bash
# The version matrix's older engine: Debian 12's docker.io (Engine 20.10), as .ci/install-engine
# extracts it into $MUSTER_ENGINE_20_DIR. `dockerd-20.10.sh start` prints `started` or `running`;
# `dockerd-20.10.sh stop` stops the one `start` started.
#
# It runs beside the shared Engine 26 of dockerd.sh without touching it: its own data root,
# exec root, socket and pid file under $MUSTER_ENGINE_20_DATA, a mount namespace with a fresh
# /run (its managed containerd's socket lives there), and a network namespace of its own, so its
# docker0 (on its own --bip subnet), its iptables rules and its project networks are apart from
# the machine's and Engine 26's. Nothing there needs the outside: images come from
# `docker save` of Engine 26.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ENGINE="${MUSTER_ENGINE_20_DIR:-$REPO/.engine-20.10}"
DATA="${MUSTER_ENGINE_20_DATA:-/var/lib/muster-engine-20.10}"
SOCK="$DATA/docker.sock"
PIDFILE="$DATA/dockerd.pid"
DOCKER="$ENGINE/usr/bin/docker"

answers() { DOCKER_HOST="unix://$SOCK" "$DOCKER" version >/dev/null 2>&1; }

case "${1:-}" in
start)
    [[ -x $ENGINE/usr/sbin/dockerd ]] || {
        echo "no Engine 20.10 in $ENGINE: run bash .ci/install" >&2
        exit 1
    }
    if answers; then
        echo running
        exit 0
    fi
    mkdir -p "$DATA"
    rm -f "$SOCK" "$PIDFILE"
    # Debian 12's runc and iptables from the machine; containerd and docker-init extracted.
    export PATH="$ENGINE/usr/bin:$ENGINE/usr/sbin:$PATH:/usr/sbin:/sbin"
    setsid unshare --mount --net --propagation private -- sh -c '
        mount -t tmpfs -o mode=755 tmpfs /run && ip link set lo up && exec "$@"' sh \
        dockerd --data-root "$DATA/root" --exec-root /run/muster-engine-20.10 \
        -H "unix://$SOCK" --pidfile "$PIDFILE" --bip 172.29.0.1/16 \
        >>"$DATA/dockerd.log" 2>&1 </dev/null &
    for _ in $(seq 120); do
        if answers; then
            echo started
            exit 0
        fi
        sleep 0.5
    done
    echo "dockerd 20.10 did not answer within 60 s; the end of $DATA/dockerd.log:" >&2
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
    echo "usage: dockerd-20.10.sh start|stop" >&2
    exit 2
    ;;
esac
