# Like node:20-alpine (nodejs/docker-node 20/alpine3.21/Dockerfile):
# - the user node (uid and gid 1000), whose home the image makes;
groupadd -g 1000 node
useradd -u 1000 -g node -s /bin/sh -m -d /home/node node
# - a busybox userland: /bin/sh is busybox ash and every applet the system lacks is a link to
#   busybox (wget, nc, ps, vi, ...), as on Alpine; no bash.
for a in $(busybox --list); do
	case $a in bash|busybox) continue ;; esac
	command -v "$a" >/dev/null 2>&1 || ln -s /usr/bin/busybox "/usr/bin/$a"
done
ln -sf busybox /usr/bin/sh
dpkg --purge --force-remove-essential --force-depends bash
# The official alpine image deletes the curl it fetched node with; it has no python either.
for tool in curl python python3 bash; do
	if command -v "$tool" >/dev/null 2>&1; then
		echo "node-alpine: $tool is on PATH; node:20-alpine has none" >&2
		exit 1
	fi
done
for tool in node wget nc sh; do
	command -v "$tool" >/dev/null || { echo "node-alpine: $tool missing" >&2; exit 1; }
done
