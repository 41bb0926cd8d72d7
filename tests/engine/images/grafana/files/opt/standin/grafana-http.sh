#!/bin/bash
# STAND-IN request handler of the Grafana 11.3.1 stand-in (one connection per run, on stdin and
# stdout). Answers as Grafana 11 does (pkg/api/http_server.go, pkg/api/api.go):
#   GET /api/health   200 application/json; charset=UTF-8, pretty {"database": "ok",
#                     "version": "11.3.1", "commit": ...}; no authentication
#   GET /healthz      200 "Ok"
#   GET /             302 to /login (not signed in); GET /login 200 HTML
#   GET /api/org, /api/datasources  with basic auth admin:GF_SECURITY_ADMIN_PASSWORD
#                     (default admin): 200; without or with a wrong password: 401 JSON
#   anything else     404
set -u
export LC_ALL=C
CR=$'\r'
IFS=' ' read -r -t 10 method target version || exit 0
auth=""
while IFS= read -r -t 10 line; do
    line=${line%"$CR"}
    [[ -z $line ]] && break
    [[ ${line,,} == authorization:* ]] && { auth=${line#*:}; auth=${auth# }; }
done
path=${target%%\?*}

respond() { # status reason content-type body [extra header lines]
    local body=$4
    printf 'HTTP/1.1 %s %s\r\n' "$1" "$2"
    printf 'Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: deny\r\nX-Xss-Protection: 1; mode=block\r\n'
    [[ -n ${5:-} ]] && printf '%s' "$5"
    printf 'Content-Type: %s\r\nContent-Length: %d\r\nDate: %s\r\nConnection: close\r\n\r\n' \
        "$3" "${#body}" "$(date -u '+%a, %d %b %Y %H:%M:%S GMT')"
    [[ $method == HEAD ]] || printf '%s' "$body"
    exit 0
}
json='application/json; charset=UTF-8'
html='text/html; charset=utf-8'

case "$method $path" in
    "GET /api/health" | "HEAD /api/health")
        respond 200 OK "$json" $'{\n  "database": "ok",\n  "version": "11.3.1",\n  "commit": "stand-in"\n}' ;;
    "GET /healthz" | "HEAD /healthz")
        respond 200 OK 'text/plain; charset=utf-8' "Ok" ;;
    "GET /")
        respond 302 Found "$html" $'<a href="/login">Found</a>.\n\n' $'Location: /login\r\n' ;;
    "GET /login")
        respond 200 OK "$html" $'<!doctype html><html lang="en"><head><title>Grafana</title></head><body>Grafana stand-in: login</body></html>\n' ;;
esac

if [[ $path == /api/* ]]; then
    expected=$(printf 'admin:%s' "${GF_SECURITY_ADMIN_PASSWORD:-admin}" | base64 -w0)
    if [[ $auth != "Basic $expected" ]]; then
        respond 401 Unauthorized "$json" '{"extra":null,"message":"Unauthorized","messageId":"auth.unauthorized","statusCode":401,"traceID":""}'
    fi
    case "$method $path" in
        "GET /api/org")
            respond 200 OK "$json" '{"id":1,"name":"Main Org.","address":{"address1":"","address2":"","city":"","zipCode":"","state":"","country":""}}' ;;
        "GET /api/datasources")
            respond 200 OK "$json" '[]' ;;
    esac
    respond 404 "Not Found" "$json" '{"message":"Not found"}'
fi
respond 404 "Not Found" "$html" $'<!doctype html><html><body>Page not found</body></html>\n'
