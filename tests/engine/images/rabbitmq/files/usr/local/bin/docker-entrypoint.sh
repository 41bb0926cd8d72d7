#!/usr/bin/env bash
# Stand-in entrypoint modelled on the official rabbitmq image's docker-entrypoint.sh
# (docker-library/rabbitmq 4.0/ubuntu). The server is Debian 12's RabbitMQ 3.10, not 4.0.
# Like it: a command starting with `rabbitmq` run as root chowns /var/lib/rabbitmq (for
# rabbitmq-server) and re-executes itself as rabbitmq with gosu; the deprecated RABBITMQ_SSL_*,
# RABBITMQ_MANAGEMENT_SSL_*, RABBITMQ_DEFAULT_*_FILE and RABBITMQ_VM_MEMORY_HIGH_WATERMARK
# variables are refused; RABBITMQ_USE_LONGNAME is set when the long and short host names differ.
# RABBITMQ_DEFAULT_USER / RABBITMQ_DEFAULT_PASS are not handled here: the server reads them itself,
# as in the official image. The cookie lives in $HOME (/var/lib/rabbitmq), which root's
# ~/.erlang.cookie links to, so `docker exec ... rabbitmq-diagnostics` works as root or rabbitmq.
set -euo pipefail

if [[ $1 == rabbitmq* ]] && [[ $(id -u) == 0 ]]; then
	if [[ $1 == rabbitmq-server ]]; then
		find /var/lib/rabbitmq \! -user rabbitmq -exec chown rabbitmq '{}' +
	fi
	exec gosu rabbitmq "${BASH_SOURCE[0]}" "$@"
fi

bad=
for old in RABBITMQ_DEFAULT_PASS_FILE RABBITMQ_DEFAULT_USER_FILE \
	RABBITMQ_MANAGEMENT_SSL_CACERTFILE RABBITMQ_MANAGEMENT_SSL_CERTFILE RABBITMQ_MANAGEMENT_SSL_DEPTH \
	RABBITMQ_MANAGEMENT_SSL_FAIL_IF_NO_PEER_CERT RABBITMQ_MANAGEMENT_SSL_KEYFILE RABBITMQ_MANAGEMENT_SSL_VERIFY \
	RABBITMQ_SSL_CACERTFILE RABBITMQ_SSL_CERTFILE RABBITMQ_SSL_DEPTH RABBITMQ_SSL_FAIL_IF_NO_PEER_CERT \
	RABBITMQ_SSL_KEYFILE RABBITMQ_SSL_VERIFY RABBITMQ_VM_MEMORY_HIGH_WATERMARK; do
	if [[ -n ${!old:-} ]]; then
		echo >&2 "error: $old is set but deprecated"
		bad=1
	fi
done
if [[ -n $bad ]]; then
	echo >&2 'error: deprecated environment variables detected; use a configuration file instead'
	exit 1
fi

if [[ -z ${RABBITMQ_USE_LONGNAME:-} && $(hostname) != "$(hostname -s)" ]]; then
	export RABBITMQ_USE_LONGNAME=true
fi

exec "$@"
