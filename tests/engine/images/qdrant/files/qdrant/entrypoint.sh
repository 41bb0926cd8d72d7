#!/bin/bash
# STAND-IN for qdrant/qdrant:v1.12.4's entrypoint and server (tests/engine/images/qdrant).
# Not a vector database: it creates the storage layout and answers Qdrant's REST health
# endpoints on 6333 as v1.12 does (see /opt/standin/qdrant-http.sh). gRPC (6334) is not served.
set -euo pipefail
cd /qdrant
port=${QDRANT__SERVICE__HTTP_PORT:-6333}
storage=${QDRANT__STORAGE__STORAGE_PATH:-./storage}
if ! mkdir -p "$storage/collections" "$storage/aliases" 2>/dev/null; then
    echo "Error: Can't create storage directory $storage: Permission denied (os error 13)" >&2
    exit 1
fi
[[ -e $storage/raft_state.json ]] || printf '{"state":{"hard_state":{"term":0,"vote":0,"commit":0},"conf_state":{"voters":[],"learners":[]}},"latest_snapshot_meta":{"term":0,"index":0},"apply_progress_queue":null,"first_voter":null,"peer_address_by_id":{},"this_peer_id":%d}\n' "$RANDOM$RANDOM" >"$storage/raft_state.json"
ts() { date -u +%Y-%m-%dT%H:%M:%S.%6NZ; }
cat <<BANNER
           _                 _
  __ _  __| |_ __ __ _ _ __ | |_
 / _\` |/ _\` | '__/ _\` | '_ \\| __|
| (_| | (_| | | | (_| | | | | |_
 \\__, |\\__,_|_|  \\__,_|_| |_|\\__|
    |_|

Version: 1.12.4, build: stand-in
Access web UI at http://localhost:$port/dashboard

$(ts)  INFO storage::content_manager::consensus::persistent: Initializing new raft state at $storage/raft_state.json
$(ts)  INFO qdrant: Distributed mode disabled
$(ts)  INFO qdrant::actix: Qdrant HTTP listening on $port
BANNER
exec /opt/standin/bin/socat TCP4-LISTEN:"$port",reuseaddr,fork,backlog=128 EXEC:/opt/standin/qdrant-http.sh
