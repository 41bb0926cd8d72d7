#!/bin/sh
# STAND-IN request handler of the Jaeger v2.1.0 stand-in; $1 is the port the connection came to.
#   13133 GET /status      200 application/json {"start_time", "healthy": true,
#                          "status": "StatusOK", "status_time"} (healthcheckv2, use_v2)
#   16686 GET /            200 text/html (the UI); GET /api/services 200 JSON
#   4318  POST /v1/traces  200 application/json {"partialSuccess":{}}
#   else                   404 "404 page not found" (Go's net/http)
LC_ALL=C
export LC_ALL
port=$1
cr=$(printf '\r')
read -r method target version || exit 0
length=0
while read -r line; do
    line=${line%"$cr"}
    [ -z "$line" ] && break
    case $line in
        [Cc]ontent-[Ll]ength:*) length=${line#*:}; length=$(echo $length) ;;
    esac
done
path=${target%%\?*}
# Go's net/http serves HEAD wherever it serves GET, without the body.
head_only=false
if [ "$method" = HEAD ]; then method=GET; head_only=true; fi
# Read (and drop) a request body so the client sees the whole answer.
[ "$length" -gt 0 ] 2>/dev/null && head -c "$length" >/dev/null

respond() { # status reason content-type body
    printf 'HTTP/1.1 %s %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nDate: %s\r\nConnection: close\r\n\r\n' \
        "$1" "$2" "$3" "${#4}" "$(date -u '+%a, %d %b %Y %H:%M:%S GMT')"
    $head_only || printf '%s' "$4"
    exit 0
}
notfound() { respond 404 "Not Found" "text/plain; charset=utf-8" "404 page not found
"; }

case "$port $method $path" in
    "13133 GET /status")
        respond 200 OK application/json "{\"start_time\":\"$START_TIME\",\"healthy\":true,\"status\":\"StatusOK\",\"status_time\":\"$START_TIME\"}" ;;
    "16686 GET /" | "16686 GET /search")
        respond 200 OK "text/html; charset=utf-8" '<!doctype html><html lang="en"><head><title>Jaeger UI</title></head><body><div id="jaeger-ui-root"></div></body></html>
' ;;
    "16686 GET /api/services")
        respond 200 OK application/json '{"data":["jaeger"],"total":1,"limit":0,"offset":0,"errors":null}' ;;
    "4318 POST /v1/traces")
        respond 200 OK application/json '{"partialSuccess":{}}' ;;
esac
notfound
