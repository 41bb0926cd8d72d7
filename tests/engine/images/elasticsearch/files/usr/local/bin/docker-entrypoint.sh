#!/bin/bash
# STAND-IN for Elasticsearch 8.15.3's docker-entrypoint.sh (tests/engine/images/elasticsearch).
# Like the real one: any command but `eswrapper` runs as given; otherwise the settings given as
# environment variables (`discovery.type=single-node`, or ES_SETTING_XPACK_SECURITY_ENABLED
# for xpack.security.enabled) and ELASTIC_PASSWORD (or ELASTIC_PASSWORD_FILE) go to the node.
set -euo pipefail

if [[ ${1:-eswrapper} != eswrapper ]]; then
    exec "$@"
fi

if [[ -n ${ELASTIC_PASSWORD_FILE:-} ]]; then
    ELASTIC_PASSWORD=$(<"$ELASTIC_PASSWORD_FILE")
    export ELASTIC_PASSWORD
fi

# Settings: lower-case variables with a dot in their name, and ES_SETTING_A_B__C -> a.b_c.
settings=()
while IFS='=' read -r -d '' name value; do
    if [[ $name =~ ^[a-z0-9_]+\.[a-z0-9_.]+$ ]]; then
        settings+=("-E" "$name=$value")
    elif [[ $name =~ ^ES_SETTING_([A-Z0-9_]+)$ ]]; then
        key=${BASH_REMATCH[1],,}
        key=${key//__/$'\x01'}
        key=${key//_/.}
        key=${key//$'\x01'/_}
        settings+=("-E" "$key=$value")
    fi
done < <(env -0)

exec /usr/share/elasticsearch/bin/elasticsearch "${settings[@]}"
