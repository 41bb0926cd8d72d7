# The official image's user and group: redis, uid/gid 999 (Debian's package made a system user
# with another id; move it and what it owns).
old_uid=$(id -u redis)
old_gid=$(id -g redis)
groupmod -g 999 redis
usermod -u 999 -g 999 redis
find / -xdev \( -uid "$old_uid" -o -gid "$old_gid" \) -exec chown -h redis:redis {} +
mkdir -p /data
chown redis:redis /data
