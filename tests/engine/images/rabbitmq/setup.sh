# Like the official rabbitmq:4.0-management image (docker-library/rabbitmq, ubuntu variant):
# - user and group rabbitmq with uid/gid 999, home /var/lib/rabbitmq;
old_uid=$(id -u rabbitmq)
old_gid=$(id -g rabbitmq)
groupmod -g 999 rabbitmq
usermod -u 999 -g 999 -d /var/lib/rabbitmq rabbitmq
find / -xdev \( -uid "$old_uid" -o -gid "$old_gid" \) -exec chown -h rabbitmq:rabbitmq {} +
mkdir -p /var/lib/rabbitmq /etc/rabbitmq/conf.d /tmp/rabbitmq-ssl /var/log/rabbitmq
chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /etc/rabbitmq /tmp/rabbitmq-ssl /var/log/rabbitmq
chmod 1777 /var/lib/rabbitmq /etc/rabbitmq /etc/rabbitmq/conf.d /tmp/rabbitmq-ssl /var/log/rabbitmq
# - the Prometheus and management plugins enabled;
HOME=/var/lib/rabbitmq /usr/lib/rabbitmq/bin/rabbitmq-plugins enable --offline rabbitmq_prometheus rabbitmq_management
chown rabbitmq:rabbitmq /etc/rabbitmq/enabled_plugins
# - no stale cookie; root's cookie is the server's (so any user with HOME=/var/lib/rabbitmq, and
#   root, talk to the node with the same cookie);
rm -f /var/lib/rabbitmq/.erlang.cookie /root/.erlang.cookie
ln -sf /var/lib/rabbitmq/.erlang.cookie /root/.erlang.cookie
# - no python (Debian's package depends on python3 for rabbitmqadmin; the official image has none).
# One at a time, dependents first: each package's prerm still finds the interpreter it needs.
for p in python3 libpython3-stdlib python3.11 python3-minimal libpython3.11-stdlib python3.11-minimal libpython3.11-minimal; do
	if dpkg -s "$p" >/dev/null 2>&1; then dpkg --purge --force-depends "$p"; fi
done
rm -rf /usr/lib/python3*
