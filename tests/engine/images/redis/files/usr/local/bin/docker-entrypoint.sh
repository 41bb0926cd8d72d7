#!/bin/sh
# Stand-in entrypoint modelled on the official redis image's docker-entrypoint.sh
# (docker-library/redis). Like it: a first argument that is an option or a *.conf file means
# redis-server; started as root it chowns the working directory (/data) to redis and re-executes
# itself as redis with gosu; it sets umask 0077 when the umask is the default 0022.
# Unlike it: the official image compiles Redis with protected mode off; Debian's redis-server has
# it on, so this script passes `--protected-mode no` to redis-server instead (right after the
# config file, if one is given, so a later option still wins; not when the config file itself
# sets protected-mode). The server is Debian 12's Redis 7.0, not 7.4.
set -e

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec gosu redis "$0" "$@"
fi

um="$(umask)"
if [ "$um" = '0022' ]; then
	umask 0077
fi

if [ "$1" = 'redis-server' ]; then
	shift
	if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
		# a config file (or `-` for stdin) comes first
		conf=$1
		shift
		if [ -f "$conf" ] && grep -Eqi '^[[:space:]]*protected-mode[[:space:]]' "$conf"; then
			exec redis-server "$conf" "$@"
		fi
		exec redis-server "$conf" --protected-mode no "$@"
	fi
	exec redis-server --protected-mode no "$@"
fi

exec "$@"
