#!/bin/sh
# Stand-in for node's docker-entrypoint.sh (nodejs/docker-node): runs `node` with the arguments
# when the first one is a flag or not a command on PATH, else runs the command as given.
set -e
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}" || true)" ]; then
	set -- node "$@"
fi
exec "$@"
