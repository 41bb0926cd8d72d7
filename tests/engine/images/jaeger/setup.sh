mkdir -p /opt/standin/bin
mv /usr/bin/socat /opt/standin/bin/socat
ln -s busybox /usr/bin/wget
# Alpine has neither bash, perl nor the openssl program; Debian's base has the first two
# (Essential, nothing needs them at run time) and ca-certificates pulls in the third.
rm -f /usr/bin/bash /usr/bin/rbash /usr/bin/perl /usr/bin/perl5.* /usr/bin/openssl
for tool in bash curl nc netcat python3 perl socat openssl; do
    if command -v "$tool" >/dev/null 2>&1; then
        echo "jaeger: $tool is on PATH; the real image has no $tool" >&2
        exit 1
    fi
done
for tool in sh grep wget; do
    command -v "$tool" >/dev/null || { echo "jaeger: $tool missing" >&2; exit 1; }
done
