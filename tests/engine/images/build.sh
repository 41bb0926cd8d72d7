#!/usr/bin/env bash
# Builds the images the real-engine tests run into the engine at $DOCKER_HOST, from Debian 12
# packages (no registry of container images is reachable). See tests/engine/README.md for the
# format of an image directory.
#
#   bash tests/engine/images/build.sh            # every image directory
#   bash tests/engine/images/build.sh redis ...  # only these
#
# A debootstrap --variant=minbase bookworm root file system is kept in $MUSTER_IMAGE_CACHE
# (default /var/cache/muster-engine, outside the checkout) and copied per image. An image whose
# first tag already carries the label muster.recipe=HASH of its directory and of this script is
# skipped. Runs as root (chroot, mount). MUSTER_IMAGE_JOBS images build at a time (default 2).
set -euo pipefail

IMAGES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SELF="$IMAGES_DIR/build.sh"
CACHE="${MUSTER_IMAGE_CACHE:-/var/cache/muster-engine}"
BASE="$CACHE/base-bookworm"
JOBS="${MUSTER_IMAGE_JOBS:-2}"
BASE_VERSION=2 # bump to force a new base root file system
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

die() { echo "build.sh: $*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || die "must run as root (debootstrap, chroot, mount)"
[[ -n ${DOCKER_HOST:-} ]] || echo "build.sh: warning: DOCKER_HOST is not set; using the docker CLI's default engine" >&2
command -v docker >/dev/null || die "no docker CLI on PATH"
command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
docker version --format '{{.Server.Version}}' >/dev/null || die "no engine answers at ${DOCKER_HOST:-the default socket}"

mkdir -p "$CACHE/work" "$CACHE/logs"

# --- mounts: a chroot gets /proc, /dev and /dev/pts while it runs, and loses them before its
# tree is copied, tarred or removed ---------------------------------------------------------------

# Every mount point under $1, deepest first.
mounts_under() {
    local root
    root=$(realpath -m "$1")
    awk -v r="$root" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/self/mounts | sort -r
}

unmount_all() {
    local m
    for m in $(mounts_under "$1"); do
        umount "$m" 2>/dev/null || umount -l "$m" || true
    done
    [[ -z $(mounts_under "$1") ]] || die "still mounted under $1: $(mounts_under "$1" | tr '\n' ' ')"
}

mount_chroot() {
    local dir=$1
    mount -t proc proc "$dir/proc"
    mount --bind /dev "$dir/dev"
    mount --bind /dev/pts "$dir/dev/pts"
    cp -L /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
    # No maintainer script starts a service inside the build.
    printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
    chmod 755 "$dir/usr/sbin/policy-rc.d"
}

# Removes a tree that may still have mounts in it, never crossing into one.
remove_tree() {
    [[ -e $1 ]] || return 0
    unmount_all "$1"
    rm -rf --one-file-system "$1"
}

# A build's tree, when the build ends or is stopped. Retried: an interrupted dpkg may still be
# unpacking into it for a moment.
drop_work_tree() {
    local i
    for i in 1 2 3 4 5; do
        unmount_all "$1" && rm -rf --one-file-system "$1" 2>/dev/null && return 0
        sleep 1
    done
    echo "build.sh: could not remove $1 (the next run removes it)" >&2
}

# --- the base root file system -------------------------------------------------------------------

mirror() {
    local m=""
    if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
        m=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    fi
    if [[ -z $m && -r /etc/apt/sources.list ]]; then
        m=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list)
    fi
    echo "${m:-http://deb.debian.org/debian}"
}

make_base() {
    local stamp="bookworm minbase v$BASE_VERSION $(mirror)"
    if [[ -f $BASE/.muster-base && $(cat "$BASE/.muster-base") == "$stamp" ]]; then
        return 0
    fi
    local t0=$SECONDS new="$CACHE/base-bookworm.new"
    echo "base: debootstrap --variant=minbase bookworm from $(mirror)"
    remove_tree "$new"
    debootstrap --variant=minbase bookworm "$new" "$(mirror)" >"$CACHE/logs/base.log" 2>&1 ||
        { tail -n 30 "$CACHE/logs/base.log" >&2; die "base: debootstrap failed (log: $CACHE/logs/base.log)"; }
    # The machine's own apt sources (same mirror, with the updates and security suites).
    if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
        cp /etc/apt/sources.list.d/debian.sources "$new/etc/apt/sources.list.d/debian.sources"
        rm -f "$new/etc/apt/sources.list"
    fi
    cat >"$new/etc/apt/apt.conf.d/90muster" <<'APT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Dpkg::Options { "--force-confdef"; "--force-confold"; };
APT
    # Like the official slim images: no documentation, manual pages or translations.
    cat >"$new/etc/dpkg/dpkg.cfg.d/90muster-nodoc" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
DPKG
    # What debootstrap installed before those excludes existed.
    find "$new/usr/share/doc" -mindepth 1 \( -type f -o -type l \) ! -name copyright -delete
    find "$new/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$new"/usr/share/man/* "$new"/usr/share/info/*
    find "$new/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
    (
        trap 'unmount_all "$new"' EXIT
        mount_chroot "$new"
        chroot "$new" apt-get update >>"$CACHE/logs/base.log" 2>&1 ||
            { tail -n 30 "$CACHE/logs/base.log" >&2; exit 1; }
    ) || die "base: apt-get update failed (log: $CACHE/logs/base.log)"
    rm -f "$new/usr/sbin/policy-rc.d"
    echo "$stamp" >"$new/.muster-base"
    remove_tree "$BASE"
    mv "$new" "$BASE"
    echo "base: ready in $((SECONDS - t0)) s"
}

# --- one image -----------------------------------------------------------------------------------

# The recipe hash: every file of the image directory (path, executable bit, content) and build.sh.
recipe_hash() {
    local dir=$1
    {
        (cd "$dir" && find . \( -type f -o -type l \) -print0 | LC_ALL=C sort -z |
            while IFS= read -r -d '' f; do
                if [[ -L $f ]]; then
                    printf 'L %s %s\n' "$f" "$(readlink "$f")"
                else
                    x=-; [[ -x $f ]] && x=x
                    printf 'F %s %s %s\n' "$f" "$x" "$(sha256sum <"$f" | cut -c1-64)"
                fi
            done)
        printf 'build.sh %s\n' "$(sha256sum <"$SELF" | cut -c1-64)"
    } | sha256sum | cut -c1-16
}

# Non-comment, non-blank lines of a file, leading and trailing blanks trimmed.
lines_of() {
    [[ -f $1 ]] || return 0
    sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^#/d' -e '/^$/d' "$1"
}

build_one() {
    local name=$1 src="$IMAGES_DIR/$1" hash=$2
    local -a tags packages changes
    mapfile -t tags < <(lines_of "$src/tags")
    mapfile -t packages < <(lines_of "$src/packages" | sed 's/[[:space:]]*#.*//' | tr -s ' \t' '\n' | sed '/^$/d')
    # A default PATH first, so that `docker exec` finds what the image has; config may override it.
    changes=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
    local line
    while IFS= read -r line; do changes+=(--change "$line"); done < <(lines_of "$src/config")
    changes+=(--change "LABEL muster.recipe=$hash")

    # Global, not local: the EXIT trap runs after this function has returned (in the subshell).
    dir="$CACHE/work/$name.$$"
    trap 'drop_work_tree "$dir"' EXIT
    remove_tree "$dir"
    cp -a "$BASE" "$dir"
    rm -f "$dir/.muster-base"

    mount_chroot "$dir"
    if ((${#packages[@]})); then
        echo "+ apt-get install ${packages[*]}"
        if ! chroot "$dir" apt-get install -y "${packages[@]}"; then
            echo "+ retrying after apt-get update"
            chroot "$dir" apt-get update
            chroot "$dir" apt-get install -y "${packages[@]}"
        fi
    fi
    if [[ -f $src/setup.sh ]]; then
        echo "+ setup.sh"
        cp "$src/setup.sh" "$dir/tmp/muster-setup.sh"
        chroot "$dir" /bin/sh -eu /tmp/muster-setup.sh
        rm -f "$dir/tmp/muster-setup.sh"
    fi
    echo "+ clean"
    chroot "$dir" sh -c 'command -v apt-get >/dev/null && apt-get clean || true'
    unmount_all "$dir"
    if [[ -d $src/files ]]; then
        echo "+ files/"
        (umask 022 && cp -R "$src/files/." "$dir/")
    fi
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/debconf/*-old \
        "$dir"/var/log/apt "$dir"/var/log/dpkg.log "$dir"/var/log/alternatives.log \
        "$dir"/var/lib/dpkg/*-old "$dir"/usr/sbin/policy-rc.d
    find "$dir/tmp" "$dir/var/tmp" -mindepth 1 -delete
    : >"$dir/etc/resolv.conf"
    [[ -z $(mounts_under "$dir") ]] || die "$name: mounts left in $dir"

    local old
    old=$(docker image inspect -f '{{.Id}}' "${tags[0]}" 2>/dev/null || true)
    echo "+ docker import ${tags[0]}"
    tar --numeric-owner --one-file-system --xattrs --xattrs-include='security.capability' \
        -C "$dir" -c . | docker import "${changes[@]}" - "${tags[0]}"
    local t
    for t in "${tags[@]:1}"; do
        echo "+ docker tag ${tags[0]} $t"
        docker tag "${tags[0]}" "$t"
    done
    # The image this one replaces, unless a container or another tag still uses it.
    if [[ -n $old ]]; then docker rmi "$old" >/dev/null 2>&1 || true; fi
}

# --- main ----------------------------------------------------------------------------------------

if (($#)); then
    names=("$@")
else
    names=()
    for d in "$IMAGES_DIR"/*/; do
        [[ -f $d/tags ]] && names+=("$(basename "$d")")
    done
fi
((${#names[@]})) || die "no image directories in $IMAGES_DIR"

# Check every requested image before building any.
declare -A hashes=()
todo=()
for name in "${names[@]}"; do
    [[ -d $IMAGES_DIR/$name ]] || die "$name: no such image directory in $IMAGES_DIR"
    [[ -n $(lines_of "$IMAGES_DIR/$name/tags") ]] || die "$name: tags is missing or empty"
    hashes[$name]=$(recipe_hash "$IMAGES_DIR/$name")
    first=$(lines_of "$IMAGES_DIR/$name/tags" | head -n 1)
    have=$(docker image inspect -f '{{index .Config.Labels "muster.recipe"}}' "$first" 2>/dev/null || true)
    if [[ $have == "${hashes[$name]}" ]]; then
        # Up to date; make sure the further tags point at it too.
        lines_of "$IMAGES_DIR/$name/tags" | tail -n +2 | while IFS= read -r t; do docker tag "$first" "$t"; done
        echo "$name: up to date ($first, recipe ${hashes[$name]})"
    else
        todo+=("$name")
    fi
done
((${#todo[@]})) || exit 0

# Leftovers of an interrupted run (their mounts first).
for d in "$CACHE"/work/*; do
    [[ -e $d ]] || continue
    pid=${d##*.}
    if [[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null; then remove_tree "$d"; fi
done

exec 9>"$CACHE/base.lock"
flock 9 # one base at a time, also between concurrent runs
make_base
flock -u 9

t_all=$SECONDS
declare -A running=() started=() # running: pid -> image name
failed=()
reap() { # waits for one running build and reports it
    local pid="" st=0 name
    wait -n -p pid "${!running[@]}" || st=$?
    name=${running[$pid]}
    unset "running[$pid]"
    if ((st == 0)); then
        echo "$name: built in $((SECONDS - started[$name])) s ($(lines_of "$IMAGES_DIR/$name/tags" | tr '\n' ' '))"
    else
        echo "build.sh: $name: FAILED (exit $st) after $((SECONDS - started[$name])) s; last lines of $CACHE/logs/$name.log:" >&2
        tail -n 40 "$CACHE/logs/$name.log" | sed "s/^/  $name| /" >&2
        failed+=("$name")
    fi
}
# Each build runs in its own process group (job control on), so that an interrupted run stops
# whole builds, chroot'd apt-get included; each build's EXIT trap then unmounts and removes its
# tree.
set -m
interrupted() {
    local pid
    for pid in "${!running[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    wait || true
    die "interrupted; stopped: ${running[*]:-nothing}"
}
trap interrupted INT TERM HUP
for name in "${todo[@]}"; do
    while ((${#running[@]} >= JOBS)); do reap; done
    echo "$name: building (recipe ${hashes[$name]}; log $CACHE/logs/$name.log)"
    started[$name]=$SECONDS
    (set +m; trap 'exit 143' TERM INT HUP; build_one "$name" "${hashes[$name]}") >"$CACHE/logs/$name.log" 2>&1 &
    running[$!]=$name
done
while ((${#running[@]})); do reap; done
echo "built $((${#todo[@]} - ${#failed[@]})) of ${#todo[@]} image(s) in $((SECONDS - t_all)) s"
((${#failed[@]} == 0)) || die "failed: ${failed[*]}"
