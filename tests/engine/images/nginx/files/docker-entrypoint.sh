#!/bin/sh
# Stand-in entrypoint modelled on the official nginx image's /docker-entrypoint.sh
# (nginxinc/docker-nginx). The server is Debian 12's nginx 1.22, not 1.27.
# Like it: when the command is nginx or nginx-debug, the files in /docker-entrypoint.d/ run in
# version order (executable *.sh are run, executable *.envsh are sourced, others ignored), quiet
# when NGINX_ENTRYPOINT_QUIET_LOGS is set; then the command is exec'd.
# Unlike it: only one script ships in /docker-entrypoint.d (20-envsubst-on-templates.sh, without
# stream templates); no IPv6 listen rewriting, local-resolvers or worker-process tuning.
set -e

log() {
	[ -n "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ] || echo "$@"
}

if [ "$1" = nginx ] || [ "$1" = nginx-debug ]; then
	if [ -n "$(find /docker-entrypoint.d/ -mindepth 1 -maxdepth 1 -type f -print -quit 2>/dev/null)" ]; then
		log "$0: /docker-entrypoint.d/ is not empty, will attempt to perform configuration"
		for f in $(find /docker-entrypoint.d/ -follow -type f -print | sort -V); do
			case $f in
				*.envsh)
					if [ -x "$f" ]; then log "$0: Sourcing $f"; . "$f"; else log "$0: Ignoring $f, not executable"; fi ;;
				*.sh)
					if [ -x "$f" ]; then log "$0: Launching $f"; "$f"; else log "$0: Ignoring $f, not executable"; fi ;;
				*) log "$0: Ignoring $f" ;;
			esac
		done
		log "$0: Configuration complete; ready for start up"
	else
		log "$0: No files found in /docker-entrypoint.d/, skipping configuration"
	fi
fi

exec "$@"
