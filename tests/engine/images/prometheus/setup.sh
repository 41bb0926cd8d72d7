# Like prom/prometheus (prometheus/prometheus's Dockerfile at v2.55.1):
# - the binaries at /bin/prometheus and /bin/promtool (merged /usr: /usr/bin);
command -v prometheus promtool
# - console templates and libraries under /usr/share/prometheus, linked from /etc/prometheus;
mkdir -p /usr/share/prometheus
for d in consoles console_libraries; do
	if [ ! -e "/usr/share/prometheus/$d" ]; then
		if [ -d "/etc/prometheus/$d" ] && [ ! -L "/etc/prometheus/$d" ]; then
			mv "/etc/prometheus/$d" "/usr/share/prometheus/$d"
		else
			mkdir -p "/usr/share/prometheus/$d"
		fi
	fi
	rm -rf "/etc/prometheus/$d"
	ln -s "/usr/share/prometheus/$d" "/etc/prometheus/$d"
done
# - /prometheus (the TSDB) and /etc/prometheus owned by nobody, the image's user;
mkdir -p /prometheus
chown -R nobody:nogroup /etc/prometheus /prometheus
chmod g+w /prometheus
# - no Debian service configuration;
rm -f /etc/default/prometheus
# - a busybox userland: /bin/sh is busybox and every applet the system lacks is a link to busybox
#   (wget, nc, ps, vi, ...); no bash.
for a in $(busybox --list); do
	case $a in bash|busybox) continue ;; esac
	command -v "$a" >/dev/null 2>&1 || ln -s /usr/bin/busybox "/usr/bin/$a"
done
ln -sf busybox /usr/bin/sh
dpkg --purge --force-remove-essential --force-depends bash
/bin/sh -c 'echo "busybox sh works"'
