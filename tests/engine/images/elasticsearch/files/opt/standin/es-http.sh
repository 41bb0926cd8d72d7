#!/bin/bash
# STAND-IN request handler of the Elasticsearch 8.15.3 stand-in (one connection per run; socat
# starts it with the connection on stdin and stdout). Answers as 8.x does:
#   GET /                     the node and version document
#   GET /_cluster/health      a single node, status yellow (a replica that cannot be assigned);
#                             wait_for_status=yellow|red answers at once, green waits for
#                             `timeout` (default 30s) and answers 408 with "timed_out": true
#   other /_... paths         400 "no handler found for uri"
#   other paths               404 index_not_found_exception
# With security on, every request needs basic auth as elastic (401 otherwise).
set -u
export LC_ALL=C
CR=$'\r'

IFS=' ' read -r -t 10 method target version || exit 0
version=${version%"$CR"}
auth=""
while IFS= read -r -t 10 line; do
    line=${line%"$CR"}
    [[ -z $line ]] && break
    if [[ ${line,,} == authorization:* ]]; then
        auth=${line#*:}
        auth=${auth# }
    fi
done

path=${target%%\?*}
query=""
[[ $target == *\?* ]] && query=${target#*\?}
param() { # the value of query parameter $1
    local kv
    local IFS='&'
    for kv in $query; do
        [[ ${kv%%=*} == "$1" ]] && { printf '%s' "${kv#*=}"; return 0; }
    done
    return 1
}
json_escape() { local s=$1; s=${s//\\/\\\\}; s=${s//\"/\\\"}; printf '%s' "$s"; }

respond() { # status reason body [extra header lines]
    local body=$3
    printf 'HTTP/1.1 %s %s\r\n' "$1" "$2"
    printf 'X-elastic-product: Elasticsearch\r\n'
    [[ -n ${4:-} ]] && printf '%s' "$4"
    printf 'content-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n' "${#body}"
    [[ $method == HEAD ]] || printf '%s' "$body"
    exit 0
}

if [[ ${ES_STANDIN_SECURITY:-true} == true ]]; then
    uri=$(json_escape "$target")
    challenge=$'WWW-Authenticate: Basic realm="security", charset="UTF-8"\r\nWWW-Authenticate: ApiKey\r\n'
    header='"header":{"WWW-Authenticate":["Basic realm=\"security\", charset=\"UTF-8\"","ApiKey"]}'
    if [[ -z $auth ]]; then
        reason="missing authentication credentials for REST request [$uri]"
        respond 401 Unauthorized "{\"error\":{\"root_cause\":[{\"type\":\"security_exception\",\"reason\":\"$reason\",$header}],\"type\":\"security_exception\",\"reason\":\"$reason\",$header},\"status\":401}" "$challenge"
    fi
    if [[ $auth != "Basic ${ES_STANDIN_CREDENTIAL:-}" ]]; then
        user=$(printf '%s' "${auth#Basic }" | base64 -d 2>/dev/null | cut -d: -f1)
        reason="unable to authenticate user [$(json_escape "$user")] for REST request [$uri]"
        respond 401 Unauthorized "{\"error\":{\"root_cause\":[{\"type\":\"security_exception\",\"reason\":\"$reason\",$header}],\"type\":\"security_exception\",\"reason\":\"$reason\",$header},\"status\":401}" "$challenge"
    fi
fi

cluster=$ES_STANDIN_CLUSTER_NAME
case $method in GET | HEAD) ;; *)
    respond 405 "Method Not Allowed" "{\"error\":\"Incorrect HTTP method for uri [$(json_escape "$target")] and method [$method], allowed: [GET, HEAD]\",\"status\":405}" ;;
esac

case $path in
/)
    respond 200 OK "{
  \"name\" : \"$ES_STANDIN_NODE_NAME\",
  \"cluster_name\" : \"$cluster\",
  \"cluster_uuid\" : \"$ES_STANDIN_CLUSTER_UUID\",
  \"version\" : {
    \"number\" : \"8.15.3\",
    \"build_flavor\" : \"default\",
    \"build_type\" : \"docker\",
    \"build_hash\" : \"stand-in\",
    \"build_date\" : \"2024-10-09T22:08:00.328917561Z\",
    \"build_snapshot\" : false,
    \"lucene_version\" : \"9.11.1\",
    \"minimum_wire_compatibility_version\" : \"7.17.0\",
    \"minimum_index_compatibility_version\" : \"7.0.0\"
  },
  \"tagline\" : \"You Know, for Search\"
}
"
    ;;
/_cluster/health | /_cluster/health/)
    timed_out=false
    status=200 reason=OK
    if want=$(param wait_for_status) && [[ $want == green ]]; then
        timeout=$(param timeout) || timeout=30s
        case $timeout in
            *ms) secs=$(( ${timeout%ms} / 1000 )) ;;
            *s) secs=${timeout%s} ;;
            *m) secs=$(( ${timeout%m} * 60 )) ;;
            *) secs=30 ;;
        esac
        [[ $secs =~ ^[0-9]+$ ]] || secs=30
        ((secs > 60)) && secs=60
        sleep "$secs"
        timed_out=true status=408 reason="Request Timeout"
    fi
    respond "$status" "$reason" "{\"cluster_name\":\"$cluster\",\"status\":\"yellow\",\"timed_out\":$timed_out,\"number_of_nodes\":1,\"number_of_data_nodes\":1,\"active_primary_shards\":1,\"active_shards\":1,\"relocating_shards\":0,\"initializing_shards\":0,\"unassigned_shards\":1,\"delayed_unassigned_shards\":0,\"number_of_pending_tasks\":0,\"number_of_in_flight_fetch\":0,\"task_max_waiting_in_queue_millis\":0,\"active_shards_percent_as_number\":50.0}"
    ;;
/_*)
    respond 400 "Bad Request" "{\"error\":\"no handler found for uri [$(json_escape "$target")] and method [$method]\"}"
    ;;
*)
    index=${path#/}
    index=$(json_escape "${index%%/*}")
    respond 404 "Not Found" "{\"error\":{\"root_cause\":[{\"type\":\"index_not_found_exception\",\"reason\":\"no such index [$index]\",\"resource.type\":\"index_or_alias\",\"resource.id\":\"$index\",\"index_uuid\":\"_na_\",\"index\":\"$index\"}],\"type\":\"index_not_found_exception\",\"reason\":\"no such index [$index]\",\"resource.type\":\"index_or_alias\",\"resource.id\":\"$index\",\"index_uuid\":\"_na_\",\"index\":\"$index\"},\"status\":404}"
    ;;
esac
