mkdir -p /opt/standin/bin
mv /usr/bin/socat /opt/standin/bin/socat
for tool in curl wget nc netcat python3 socat; do
    if command -v "$tool" >/dev/null 2>&1; then
        echo "qdrant: $tool is on PATH; the real image has no $tool" >&2
        exit 1
    fi
done
for tool in bash grep; do
    command -v "$tool" >/dev/null || { echo "qdrant: $tool missing" >&2; exit 1; }
done
# The real image runs as root (USER_ID=0 by default) from /qdrant.
mkdir -p /qdrant/storage /qdrant/snapshots /qdrant/static
