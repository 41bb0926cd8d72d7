#!/bin/bash
# STAND-IN request handler of the Qdrant v1.12.4 stand-in (one connection per run, on stdin and
# stdout). Answers as Qdrant's actix service does (src/actix/api/service_api.rs):
#   GET /healthz, /livez   200 text/plain "healthz check passed"
#   GET /readyz            200 text/plain "all shards are ready"
#   GET /                  200 JSON title and version
#   GET /collections       200 JSON, no collections
#   anything else          404, empty body
# With QDRANT__SERVICE__API_KEY set, everything but the health endpoints needs the key
# (`api-key` header or `Authorization: Bearer`), 401 otherwise, as in Qdrant.
set -u
export LC_ALL=C
CR=$'\r'
IFS=' ' read -r -t 10 method target version || exit 0
version=${version%"$CR"}
key=""
while IFS= read -r -t 10 line; do
    line=${line%"$CR"}
    [[ -z $line ]] && break
    case ${line,,} in
        api-key:*) key=${line#*:}; key=${key# } ;;
        authorization:\ bearer\ *) key=${line#*[Bb]earer } ;;
    esac
done
path=${target%%\?*}

respond() { # status reason content-type body
    local body=$4
    printf '%s %s %s\r\n' "${version:-HTTP/1.1}" "$1" "$2"
    printf 'content-length: %d\r\n' "${#body}"
    [[ -n $3 ]] && printf 'content-type: %s\r\n' "$3"
    printf 'vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers\r\n'
    printf 'date: %s\r\n\r\n' "$(date -u '+%a, %d %b %Y %H:%M:%S GMT')"
    [[ $method == HEAD ]] || printf '%s' "$body"
    exit 0
}
text=$'text/plain; charset=utf-8'

case "$method $path" in
    "GET /healthz" | "GET /livez" | "HEAD /healthz" | "HEAD /livez")
        respond 200 OK "$text" "healthz check passed" ;;
    "GET /readyz" | "HEAD /readyz")
        respond 200 OK "$text" "all shards are ready" ;;
esac

if [[ -n ${QDRANT__SERVICE__API_KEY:-} && $key != "$QDRANT__SERVICE__API_KEY" ]]; then
    respond 401 Unauthorized "$text" "Must provide an API key or an Authorization bearer token"
fi

case "$method $path" in
    "GET /")
        respond 200 OK application/json '{"title":"qdrant - vector search engine","version":"1.12.4","commit":null}' ;;
    "GET /collections")
        respond 200 OK application/json '{"result":{"collections":[]},"status":"ok","time":0.000004}' ;;
    *)
        respond 404 "Not Found" "" "" ;;
esac
