# Like edoburu/pgbouncer v1.24.1-p1 (alpine:3.21 + postgresql-client + busybox, USER postgres):
# - the user postgres with Alpine's uid/gid 70 (Debian's postgresql-common made it with another id);
old_uid=$(id -u postgres)
old_gid=$(id -g postgres)
groupmod -g 70 postgres
usermod -u 70 -g 70 -d /var/lib/postgresql -s /bin/sh postgres
find / -xdev \( -uid "$old_uid" -o -gid "$old_gid" \) -exec chown -h postgres:postgres {} +
# - no config: the entrypoint writes pgbouncer.ini from the environment when there is none
#   (Debian's package ships one, which would make the entrypoint skip that);
mkdir -p /etc/pgbouncer /var/log/pgbouncer /var/run/pgbouncer
mv /etc/pgbouncer/pgbouncer.ini /etc/pgbouncer/pgbouncer.ini.example
mv /etc/pgbouncer/userlist.txt /etc/pgbouncer/userlist.txt.example
touch /etc/pgbouncer/userlist.txt
chown -R postgres /var/log/pgbouncer /var/run/pgbouncer /etc/pgbouncer
# - the binary where edoburu puts it, and psql/pg_isready as plain programs (Debian's are
#   wrappers that pick a cluster version);
ln -s /usr/sbin/pgbouncer /usr/bin/pgbouncer
for t in psql pg_isready; do ln -sf /usr/lib/postgresql/15/bin/$t /usr/bin/$t; done
# - a busybox userland: /bin/sh is busybox ash and every applet the system lacks is a link to
#   busybox (wget, nc, ps, vi, ...), as on Alpine; no bash.
for a in $(busybox --list); do
	case $a in bash|busybox) continue ;; esac
	command -v "$a" >/dev/null 2>&1 || ln -s /usr/bin/busybox "/usr/bin/$a"
done
ln -sf busybox /usr/bin/sh
dpkg --purge --force-remove-essential --force-depends bash
/bin/sh -c 'echo "busybox sh works"'
