# Like the official image (docker-library/postgres, Debian variant):
# - no cluster made by the package (the entrypoint runs initdb on first start);
pg_dropcluster 15 main 2>/dev/null || true
rm -rf /var/lib/postgresql/15 /etc/postgresql/15
sed -ri 's/#?(create_main_cluster) .*$/\1 = false/' /etc/postgresql-common/createcluster.conf
# - user and group postgres with uid/gid 999, home /var/lib/postgresql, shell bash;
old_uid=$(id -u postgres)
old_gid=$(id -g postgres)
groupmod -g 999 postgres
usermod -u 999 -g 999 -d /var/lib/postgresql -s /bin/bash postgres
find / -xdev \( -uid "$old_uid" -o -gid "$old_gid" \) -exec chown -h postgres:postgres {} +
# - the en_US.UTF-8 locale;
echo 'en_US.UTF-8 UTF-8' >> /etc/locale.gen
locale-gen
locale -a | grep -q 'en_US.utf8'
# - the sample config listens on '*' (initdb copies it into every new data directory);
sample=/usr/share/postgresql/15/postgresql.conf.sample
sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" "$sample"
grep -F "listen_addresses = '*'" "$sample"
# - the socket directory and PGDATA, writable by semi-arbitrary users until the entrypoint
#   tightens PGDATA to 0700.
install -d -o postgres -g postgres -m 3777 /var/run/postgresql
install -d -o postgres -g postgres -m 1777 /var/lib/postgresql/data
mkdir -p /docker-entrypoint-initdb.d
