#!/bin/sh
# Stand-in entrypoint modelled on edoburu/docker-pgbouncer's entrypoint.sh at v1.24.1-p1, in POSIX
# sh. The pooler is Debian 12's PgBouncer 1.18, run as the user postgres (the image's USER).
#
# What it does, as edoburu's does:
# - DATABASE_URL (or DATABASE_URLS, comma-separated) is parsed into DB_USER, DB_PASSWORD,
#   DB_HOST, DB_PORT, DB_NAME; otherwise those variables are read as given;
# - DB_USER with DB_PASSWORD adds a line to the auth file (AUTH_FILE, default
#   /etc/pgbouncer/userlist.txt) unless the user is in it already: the password in plain text when
#   AUTH_TYPE is plain or scram-sha-256, otherwise (the default, md5) as "md5" + md5(password+user).
#   An md5 entry cannot answer PostgreSQL's SCRAM challenge, so with the default AUTH_TYPE every
#   login through the pool to a PostgreSQL 14+ server fails, while pg_isready against the pool
#   still succeeds;
# - when /etc/pgbouncer/pgbouncer.ini does not exist it is written from the environment:
#   [databases] `${DB_NAME:-*} = host=$DB_HOST port=${DB_PORT:-5432} auth_user=${DB_USER:-postgres}`
#   (DB_HOST is required), then [pgbouncer] with listen_addr ${LISTEN_ADDR:-0.0.0.0},
#   listen_port ${LISTEN_PORT:-5432}, unix_socket_dir $UNIX_SOCKET_DIR (empty: no socket),
#   user postgres, auth_type ${AUTH_TYPE:-md5}, admin_users ${ADMIN_USERS:-postgres},
#   ignore_startup_parameters ${IGNORE_STARTUP_PARAMETERS:-extra_float_digits}, and each of the
#   optional settings below only when its variable is set; the file is printed;
# - then execs the command (pgbouncer /etc/pgbouncer/pgbouncer.ini).
# What it does not do: anything edoburu added after v1.24.1-p1 (LOGFILE). Settings PgBouncer 1.18
# does not know (max_prepared_statements, auth_dbname) make it refuse to start when set.
set -e

PG_CONFIG_DIR=/etc/pgbouncer
PG_CONFIG_FILE="$PG_CONFIG_DIR/pgbouncer.ini"
AUTH_PATH="${AUTH_FILE:-$PG_CONFIG_DIR/userlist.txt}"

[ -e "$AUTH_PATH" ] || touch "$AUTH_PATH"

# postgres://user:password@host:port/name -> DB_USER DB_PASSWORD DB_HOST DB_PORT DB_NAME
parse_url() {
	rest=${1#*://}
	if [ "$rest" != "${rest#*@}" ]; then
		creds=${rest%@*}
		rest=${rest##*@}
		case $creds in
			*:*) DB_USER=${creds%%:*}; DB_PASSWORD=${creds#*:} ;;
			*) DB_USER=$creds ;;
		esac
	fi
	hostport=${rest%%/*}
	case $hostport in
		*:*) DB_HOST=${hostport%%:*}; DB_PORT=${hostport#*:} ;;
		*) DB_HOST=$hostport ;;
	esac
	case $rest in
		*/*) DB_NAME=${rest#*/} ;;
	esac
}

add_user() {
	[ -n "${DB_USER:-}" ] && [ -n "${DB_PASSWORD:-}" ] && [ -e "$AUTH_PATH" ] || return 0
	grep -q "^\"$DB_USER\"" "$AUTH_PATH" && return 0
	case ${AUTH_TYPE:-} in
		plain | scram-sha-256) secret=$DB_PASSWORD ;;
		*) secret="md5$(printf '%s%s' "$DB_PASSWORD" "$DB_USER" | md5sum | cut -d ' ' -f 1)" ;;
	esac
	printf '"%s" "%s"\n' "$DB_USER" "$secret" >>"$AUTH_PATH"
	echo "Wrote authentication credentials for '$DB_USER' to $AUTH_PATH"
}

add_database() {
	: "${DB_HOST:?Setup pgbouncer config error! You must set DB_HOST env}"
	printf '%s = host=%s port=%s auth_user=%s\n' "${DB_NAME:-*}" "$DB_HOST" "${DB_PORT:-5432}" "${DB_USER:-postgres}" >>"$PG_CONFIG_FILE"
	[ -z "${CLIENT_ENCODING:-}" ] || printf 'client_encoding = %s\n' "$CLIENT_ENCODING" >>"$PG_CONFIG_FILE"
}

# `setting = $VAR` when VAR is set and not empty.
opt() {
	eval "v=\${$2:-}"
	[ -z "$v" ] || printf '%s = %s\n' "$1" "$v"
}

if [ -n "${DATABASE_URLS:-}" ]; then
	for url in $(echo "$DATABASE_URLS" | tr , ' '); do
		(parse_url "$url"; add_user)
	done
else
	[ -z "${DATABASE_URL:-}" ] || parse_url "$DATABASE_URL"
	add_user
fi

if [ ! -f "$PG_CONFIG_FILE" ]; then
	echo "Creating pgbouncer config in $PG_CONFIG_DIR"
	printf '################## Auto generated ##################\n[databases]\n' >"$PG_CONFIG_FILE"
	if [ -n "${DATABASE_URLS:-}" ]; then
		for url in $(echo "$DATABASE_URLS" | tr , ' '); do
			(parse_url "$url"; add_database)
		done
	else
		add_database
	fi
	{
		echo '[pgbouncer]'
		echo "listen_addr = ${LISTEN_ADDR:-0.0.0.0}"
		echo "listen_port = ${LISTEN_PORT:-5432}"
		echo "unix_socket_dir = ${UNIX_SOCKET_DIR:-}"
		echo "user = postgres"
		echo "auth_file = $AUTH_PATH"
		opt auth_hba_file AUTH_HBA_FILE
		echo "auth_type = ${AUTH_TYPE:-md5}"
		opt auth_user AUTH_USER
		opt auth_query AUTH_QUERY
		opt auth_dbname AUTH_DBNAME
		opt pool_mode POOL_MODE
		opt max_client_conn MAX_CLIENT_CONN
		opt pool_size POOL_SIZE
		opt default_pool_size DEFAULT_POOL_SIZE
		opt min_pool_size MIN_POOL_SIZE
		opt reserve_pool_size RESERVE_POOL_SIZE
		opt reserve_pool_timeout RESERVE_POOL_TIMEOUT
		opt max_db_connections MAX_DB_CONNECTIONS
		opt max_user_connections MAX_USER_CONNECTIONS
		opt server_round_robin SERVER_ROUND_ROBIN
		echo "ignore_startup_parameters = ${IGNORE_STARTUP_PARAMETERS:-extra_float_digits}"
		opt disable_pqexec DISABLE_PQEXEC
		opt application_name_add_host APPLICATION_NAME_ADD_HOST
		opt timezone TIMEZONE
		opt max_prepared_statements MAX_PREPARED_STATEMENTS
		echo
		echo '# Log settings'
		opt log_connections LOG_CONNECTIONS
		opt log_disconnections LOG_DISCONNECTIONS
		opt log_pooler_errors LOG_POOLER_ERRORS
		opt log_stats LOG_STATS
		opt stats_period STATS_PERIOD
		opt verbose VERBOSE
		echo "admin_users = ${ADMIN_USERS:-postgres}"
		opt stats_users STATS_USERS
		echo
		echo '# Connection sanity checks, timeouts'
		opt server_reset_query SERVER_RESET_QUERY
		opt server_reset_query_always SERVER_RESET_QUERY_ALWAYS
		opt server_check_delay SERVER_CHECK_DELAY
		opt server_check_query SERVER_CHECK_QUERY
		opt server_lifetime SERVER_LIFETIME
		opt server_idle_timeout SERVER_IDLE_TIMEOUT
		opt server_connect_timeout SERVER_CONNECT_TIMEOUT
		opt server_login_retry SERVER_LOGIN_RETRY
		opt client_login_timeout CLIENT_LOGIN_TIMEOUT
		opt autodb_idle_timeout AUTODB_IDLE_TIMEOUT
		opt dns_max_ttl DNS_MAX_TTL
		opt dns_nxdomain_ttl DNS_NXDOMAIN_TTL
		echo
		echo '# TLS settings'
		opt client_tls_sslmode CLIENT_TLS_SSLMODE
		opt client_tls_key_file CLIENT_TLS_KEY_FILE
		opt client_tls_cert_file CLIENT_TLS_CERT_FILE
		opt client_tls_ca_file CLIENT_TLS_CA_FILE
		opt client_tls_protocols CLIENT_TLS_PROTOCOLS
		opt client_tls_ciphers CLIENT_TLS_CIPHERS
		opt client_tls_ecdhcurve CLIENT_TLS_ECDHCURVE
		opt client_tls_dheparams CLIENT_TLS_DHEPARAMS
		opt server_tls_sslmode SERVER_TLS_SSLMODE
		opt server_tls_ca_file SERVER_TLS_CA_FILE
		opt server_tls_key_file SERVER_TLS_KEY_FILE
		opt server_tls_cert_file SERVER_TLS_CERT_FILE
		opt server_tls_protocols SERVER_TLS_PROTOCOLS
		opt server_tls_ciphers SERVER_TLS_CIPHERS
		echo
		echo '# Dangerous timeouts'
		opt query_timeout QUERY_TIMEOUT
		opt query_wait_timeout QUERY_WAIT_TIMEOUT
		opt client_idle_timeout CLIENT_IDLE_TIMEOUT
		opt idle_transaction_timeout IDLE_TRANSACTION_TIMEOUT
		opt pkt_buf PKT_BUF
		opt max_packet_size MAX_PACKET_SIZE
		opt listen_backlog LISTEN_BACKLOG
		opt sbuf_loopcnt SBUF_LOOPCNT
		opt suspend_timeout SUSPEND_TIMEOUT
		opt tcp_defer_accept TCP_DEFER_ACCEPT
		opt tcp_keepalive TCP_KEEPALIVE
		opt tcp_keepcnt TCP_KEEPCNT
		opt tcp_keepidle TCP_KEEPIDLE
		opt tcp_keepintvl TCP_KEEPINTVL
		opt tcp_user_timeout TCP_USER_TIMEOUT
		echo '################## end file ##################'
	} >>"$PG_CONFIG_FILE"
	cat "$PG_CONFIG_FILE"
fi

echo "Starting $*..."
exec "$@"
