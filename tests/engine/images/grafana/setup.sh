mkdir -p /opt/standin/bin
mv /usr/bin/socat /opt/standin/bin/socat
# Alpine's busybox wget; the other applets stay unlinked.
ln -s busybox /usr/bin/wget
# Alpine has no perl (Debian's base has perl-base) and no openssl program (ca-certificates pulls it in here).
rm -f /usr/bin/perl /usr/bin/perl5.* /usr/bin/openssl
for tool in nc netcat python3 perl socat openssl; do
    if command -v "$tool" >/dev/null 2>&1; then
        echo "grafana: $tool is on PATH; the real image has no $tool" >&2
        exit 1
    fi
done
for tool in sh bash grep curl wget; do
    command -v "$tool" >/dev/null || { echo "grafana: $tool missing" >&2; exit 1; }
done
# The real image's user is uid 472 in group root (GF_GID=0); its paths are writable by it.
useradd -u 472 -g 0 -d /usr/share/grafana -M -s /bin/false grafana
mkdir -p /usr/share/grafana/bin /etc/grafana/provisioning/datasources /etc/grafana/provisioning/dashboards \
    /etc/grafana/provisioning/notifiers /etc/grafana/provisioning/plugins /etc/grafana/provisioning/access-control \
    /etc/grafana/provisioning/alerting /var/lib/grafana/plugins /var/log/grafana
chown -R 472:0 /var/lib/grafana /var/log/grafana /etc/grafana/provisioning /usr/share/grafana
chmod -R 777 /var/lib/grafana /var/log/grafana /etc/grafana/provisioning
