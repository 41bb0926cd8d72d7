# socat is not in the real image: keep it where no probe finds it.
mkdir -p /opt/standin/bin
mv /usr/bin/socat /opt/standin/bin/socat
for tool in wget python python3 socat; do
    if command -v "$tool" >/dev/null 2>&1; then
        echo "elasticsearch: $tool is on PATH; the real image has no $tool" >&2
        exit 1
    fi
done
for tool in curl bash nc openssl grep; do
    command -v "$tool" >/dev/null || { echo "elasticsearch: $tool missing" >&2; exit 1; }
done
# The real image's user: elasticsearch, uid/gid 1000, also in group root; the home is root's,
# with what Elasticsearch writes owned by the user.
groupadd -g 1000 elasticsearch
useradd -u 1000 -g 1000 -G 0 -d /usr/share/elasticsearch -M -s /bin/bash elasticsearch
es=/usr/share/elasticsearch
mkdir -p "$es/bin" "$es/config/jvm.options.d" "$es/data" "$es/logs" "$es/plugins"
chown 0:0 "$es"
chmod 0775 "$es"
chown 1000:0 "$es/bin" "$es/config" "$es/config/jvm.options.d" "$es/data" "$es/logs" "$es/plugins"
chmod g=u /etc/passwd
