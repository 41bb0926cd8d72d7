#!/usr/bin/env bash
# Stand-in entrypoint modelled on the official postgres image's docker-entrypoint.sh
# (docker-library/postgres, 17/bookworm). The server is Debian 12's PostgreSQL 15, not 17, and
# there is no pgvector.
#
# What it does, as the official one does:
# - a first argument that starts with `-` means `postgres ARGS`; `--help`/`--version`-like
#   arguments skip everything below;
# - started as root, it creates PGDATA (mode 0700) and /var/run/postgresql, chowns them to
#   postgres (so a fresh named volume works) and re-executes itself as postgres with gosu;
# - on a data directory without PG_VERSION: requires POSTGRES_PASSWORD unless
#   POSTGRES_HOST_AUTH_METHOD=trust; runs initdb with POSTGRES_USER (default postgres) and the
#   password, plus POSTGRES_INITDB_ARGS and POSTGRES_INITDB_WALDIR; appends
#   `host all all all METHOD` to pg_hba.conf, METHOD being POSTGRES_HOST_AUTH_METHOD or the
#   server's password_encryption (scram-sha-256); starts a temporary server that listens on the
#   Unix socket only (listen_addresses=''), so nothing on TCP answers during the init phase;
#   creates POSTGRES_DB (default: the user's name); runs /docker-entrypoint-initdb.d/* (*.sh
#   executed or sourced, *.sql, *.sql.gz, *.sql.xz via psql); stops the temporary server;
# - the *_FILE variants of POSTGRES_PASSWORD, POSTGRES_USER, POSTGRES_DB, POSTGRES_INITDB_ARGS;
# - then execs the command (postgres, listening on '*' from the sample config).
# What it does not do: nss_wrapper for a --user without a passwd entry, *.sql.zst, the 18+ data
# directory layout checks, docker-ensure-initdb.sh.
set -Eeo pipefail

# VAR from $VAR or from the file named by $VAR_FILE (not both), else DEFAULT; exported.
env_or_file() {
	local name=$1 default=${2:-} file_name="${1}_FILE" value
	if [[ -n ${!name:-} && -n ${!file_name:-} ]]; then
		echo >&2 "error: both $name and $file_name are set (but are exclusive)"
		exit 1
	fi
	if [[ -n ${!name:-} ]]; then
		value=${!name}
	elif [[ -n ${!file_name:-} ]]; then
		value=$(<"${!file_name}")
	else
		value=$default
	fi
	export "$name=$value"
	unset "$file_name"
}

wants_help() {
	local a
	for a; do
		case $a in -'?' | --help | --describe-config | -V | --version) return 0 ;; esac
	done
	return 1
}

# psql on the socket of the temporary server, as the new superuser.
sql() {
	local -a cmd=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
	[[ -n $POSTGRES_DB ]] && cmd+=(--dbname "$POSTGRES_DB")
	PGHOST= PGHOSTADDR= "${cmd[@]}" "$@"
}

initialise() {
	if [[ -z $POSTGRES_PASSWORD && $POSTGRES_HOST_AUTH_METHOD != trust ]]; then
		cat >&2 <<-'EOE'
			Error: Database is uninitialized and superuser password is not specified.
			       You must specify POSTGRES_PASSWORD to a non-empty value for the
			       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

			       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
			       connections without a password. This is *not* recommended.
		EOE
		exit 1
	fi
	[[ $POSTGRES_HOST_AUTH_METHOD == trust ]] &&
		echo >&2 'WARNING: POSTGRES_HOST_AUTH_METHOD=trust: anyone who reaches the port can log in.'

	ls /docker-entrypoint-initdb.d/ >/dev/null

	local -a initdb_extra=()
	[[ -n ${POSTGRES_INITDB_WALDIR:-} ]] && initdb_extra+=(--waldir "$POSTGRES_INITDB_WALDIR")
	# An empty --pwfile is refused, hence the newline; POSTGRES_INITDB_ARGS is word-split by eval
	# as the official image does.
	eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"' "${initdb_extra[@]}"'

	local -a server_args=("$@")
	[[ ${server_args[0]:-} == postgres ]] && server_args=("${server_args[@]:1}")
	local method=${POSTGRES_HOST_AUTH_METHOD:-$(postgres -C password_encryption "${server_args[@]}")}
	printf '\nhost all all all %s\n' "$method" >>"$PGDATA/pg_hba.conf"

	export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
	# The temporary server: Unix socket only.
	NOTIFY_SOCKET= PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" \
		-o "$(printf '%q ' "${server_args[@]}" -c listen_addresses= -p "${PGPORT:-5432}")" -w start

	if [[ -z $(POSTGRES_DB= sql --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<<"SELECT 1 FROM pg_database WHERE datname = :'db';") ]]; then
		POSTGRES_DB= sql --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
	fi

	local f
	for f in /docker-entrypoint-initdb.d/*; do
		[[ -e $f ]] || continue
		case $f in
			*.sh)
				if [[ -x $f ]]; then echo "$0: running $f"; "$f"; else echo "$0: sourcing $f"; . "$f"; fi ;;
			*.sql) echo "$0: running $f"; sql -f "$f" ;;
			*.sql.gz) echo "$0: running $f"; gunzip -c "$f" | sql ;;
			*.sql.xz) echo "$0: running $f"; xzcat "$f" | sql ;;
			*) echo "$0: ignoring $f" ;;
		esac
	done

	PGUSER="${PGUSER:-postgres}" pg_ctl -D "$PGDATA" -m fast -w stop
	unset PGPASSWORD
	printf '\nPostgreSQL init process complete; ready for start up.\n\n'
}

main() {
	if [[ ${1:0:1} == - ]]; then
		set -- postgres "$@"
	fi
	if [[ $1 != postgres ]] || wants_help "$@"; then
		exec "$@"
	fi

	env_or_file POSTGRES_PASSWORD
	env_or_file POSTGRES_USER postgres
	env_or_file POSTGRES_DB "$POSTGRES_USER"
	env_or_file POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=}"

	mkdir -p "$PGDATA"
	chmod 00700 "$PGDATA" || :
	mkdir -p /var/run/postgresql || :
	chmod 03775 /var/run/postgresql || :
	if [[ -n ${POSTGRES_INITDB_WALDIR:-} ]]; then
		mkdir -p "$POSTGRES_INITDB_WALDIR"
		[[ $(id -u) == 0 ]] && find "$POSTGRES_INITDB_WALDIR" \! -user postgres -exec chown postgres '{}' +
		chmod 700 "$POSTGRES_INITDB_WALDIR"
	fi
	if [[ $(id -u) == 0 ]]; then
		find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
		find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
		exec gosu postgres "${BASH_SOURCE[0]}" "$@"
	fi

	if [[ -s $PGDATA/PG_VERSION ]]; then
		printf '\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n'
	else
		initialise "$@"
	fi
	exec "$@"
}

main "$@"
