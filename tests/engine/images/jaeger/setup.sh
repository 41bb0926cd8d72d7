mkdir -p /opt/standin/bin
mv /usr/bin/socat /opt/standin/bin/socat
ln -s busybox /usr/bin/wget
# Alpine has neither bash nor perl; Debian's base has both (Essential, nothing needs them at
# run time).
rm -f /usr/bin/bash /usr/bin/rbash /usr/bin/perl /usr/bin/perl5.*
for tool in bash curl nc netcat python3 perl socat; do
    if command -v "$tool" >/dev/null 2>&1; then
        echo "jaeger: $tool is on PATH; the real image has no $tool" >&2
        exit 1
    fi
done
for tool in sh grep wget; do
    command -v "$tool" >/dev/null || { echo "jaeger: $tool missing" >&2; exit 1; }
done
