#!/bin/sh
# install.sh — install edge as a systemd service on this machine (Debian 12,
# Raspberry Pi OS, Jetson Linux). Run as root from the source tree after
# `make build`:
#
#   sudo systemd/install.sh
#
# It is idempotent: a second run updates the binary, the unit and the udev
# rule, and keeps the configuration and the state.
#
# What it does:
#   - creates the group gpio if missing, and the system user edge (home
#     /var/lib/edge, no login) in groups video, gpio, dialout, plus plugdev
#     and apex when they exist (Coral Edge TPU udev rules use them);
#   - installs bin/edge as PREFIX/bin/edge, the TFLite C library beside it
#     in PREFIX/lib/edge (registered with ld.so.conf.d) when one is found,
#     the unit as /lib/systemd/system/edge.service, the udev rule as
#     /lib/udev/rules.d/99-edge-gpio.rules;
#   - installs edge/edge.example.yaml as /etc/edge/edge.yaml only if that
#     file does not exist (a configuration is never overwritten);
#   - creates /var/lib/edge (with models/ and events/) owned by edge;
#   - reloads systemd and udev, and prints the command that starts edge.
#
# Staged installs (packaging, tests): with DESTDIR=DIR (or --destdir DIR)
# every file goes under DIR, and nothing is done to the running system: no
# user or group is created, no file is chowned, systemd and udev are not
# reloaded, root is not required. The package's maintainer scripts (or a
# later run without DESTDIR) create the user and set the owners.
#
# Options:
#   --prefix DIR      where bin/ and lib/ go (default /usr); the unit's
#                     ExecStart follows it
#   --destdir DIR     stage under DIR (same as DESTDIR=DIR)
#   --binary FILE     the edge binary (default: bin/edge of this tree)
#   --tflite-lib FILE libtensorflowlite_c.so (default: the one `make setup`
#                     unpacked for this machine's architecture, if any)
#   -h, --help        this help

set -eu

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }

SRC=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=/usr
DESTDIR=${DESTDIR:-}
BINARY=$SRC/bin/edge
TFLITE_LIB=

while [ $# -gt 0 ]; do
	case $1 in
	--prefix) [ $# -ge 2 ] || die "$1 needs a directory"; PREFIX=$2; shift 2 ;;
	--prefix=*) PREFIX=${1#*=}; shift ;;
	--destdir) [ $# -ge 2 ] || die "$1 needs a directory"; DESTDIR=$2; shift 2 ;;
	--destdir=*) DESTDIR=${1#*=}; shift ;;
	--binary) [ $# -ge 2 ] || die "$1 needs a file"; BINARY=$2; shift 2 ;;
	--binary=*) BINARY=${1#*=}; shift ;;
	--tflite-lib) [ $# -ge 2 ] || die "$1 needs a file"; TFLITE_LIB=$2; shift 2 ;;
	--tflite-lib=*) TFLITE_LIB=${1#*=}; shift ;;
	-h | --help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
done

case $PREFIX in /*) ;; *) die "--prefix $PREFIX: want an absolute path" ;; esac
case $DESTDIR in '' | /*) ;; *) DESTDIR=$(pwd)/$DESTDIR ;; esac
PREFIX=${PREFIX%/}
DESTDIR=${DESTDIR%/}

[ -x "$BINARY" ] || die "$BINARY: no edge binary; build it first (make build) or name it with --binary"
CONFIG_EXAMPLE=$SRC/edge/edge.example.yaml
[ -f "$CONFIG_EXAMPLE" ] || die "$CONFIG_EXAMPLE: missing"
if [ -z "$TFLITE_LIB" ]; then
	case $(uname -m) in
	x86_64) arch=amd64 ;;
	aarch64 | arm64) arch=arm64 ;;
	*) arch=$(uname -m) ;;
	esac
	lib=$SRC/third_party/tflite/linux_$arch/libtensorflowlite_c.so
	if [ -f "$lib" ]; then TFLITE_LIB=$lib; fi
elif [ ! -f "$TFLITE_LIB" ]; then
	die "--tflite-lib $TFLITE_LIB: no such file"
fi

if [ -z "$DESTDIR" ]; then
	[ "$(id -u)" = 0 ] || die "run as root (sudo $0), or stage with DESTDIR=DIR"
	staged=false
else
	staged=true
	say "staging into $DESTDIR: no user, owner or service changes on this system"
fi

# Users and groups.
if ! $staged; then
	if ! getent group gpio >/dev/null; then
		groupadd --system gpio
		say "created group gpio"
	fi
	groups=video,gpio,dialout
	for g in plugdev apex; do
		if getent group "$g" >/dev/null; then groups=$groups,$g; fi
	done
	if ! getent passwd edge >/dev/null; then
		useradd --system --user-group --home-dir /var/lib/edge --no-create-home \
			--shell /usr/sbin/nologin --comment "edge vision service" --groups "$groups" edge
		say "created user edge (groups $groups)"
	else
		usermod --append --groups "$groups" edge
	fi
fi

# Files.
install -d -m 0755 "$DESTDIR$PREFIX/bin" "$DESTDIR/lib/systemd/system" "$DESTDIR/lib/udev/rules.d"
install -m 0755 "$BINARY" "$DESTDIR$PREFIX/bin/edge"
say "installed $PREFIX/bin/edge"
if [ -n "$TFLITE_LIB" ]; then
	install -d -m 0755 "$DESTDIR$PREFIX/lib/edge" "$DESTDIR/etc/ld.so.conf.d"
	install -m 0644 "$TFLITE_LIB" "$DESTDIR$PREFIX/lib/edge/libtensorflowlite_c.so"
	echo "$PREFIX/lib/edge" >"$DESTDIR/etc/ld.so.conf.d/edge.conf"
	chmod 0644 "$DESTDIR/etc/ld.so.conf.d/edge.conf"
	$staged || ldconfig
	say "installed $PREFIX/lib/edge/libtensorflowlite_c.so"
else
	say "no TFLite C library found (make setup unpacks it); edge needs libtensorflowlite_c.so on the library path"
fi
sed "s|^ExecStart=/usr/bin/edge |ExecStart=$PREFIX/bin/edge |" "$SRC/systemd/edge.service" >"$DESTDIR/lib/systemd/system/edge.service.tmp"
chmod 0644 "$DESTDIR/lib/systemd/system/edge.service.tmp"
mv "$DESTDIR/lib/systemd/system/edge.service.tmp" "$DESTDIR/lib/systemd/system/edge.service"
install -m 0644 "$SRC/systemd/99-edge-gpio.rules" "$DESTDIR/lib/udev/rules.d/99-edge-gpio.rules"
say "installed /lib/systemd/system/edge.service and /lib/udev/rules.d/99-edge-gpio.rules"

# The config may hold camera passwords: readable by root and group edge only.
install -d -m 0755 "$DESTDIR/etc/edge"
if [ -e "$DESTDIR/etc/edge/edge.yaml" ]; then
	say "kept /etc/edge/edge.yaml"
else
	install -m 0640 "$CONFIG_EXAMPLE" "$DESTDIR/etc/edge/edge.yaml"
	$staged || chgrp edge "$DESTDIR/etc/edge/edge.yaml"
	say "installed /etc/edge/edge.yaml from edge/edge.example.yaml: edit it for your camera, model and outputs"
fi

# State: event log, snapshots, models.
install -d -m 0750 "$DESTDIR/var/lib/edge" "$DESTDIR/var/lib/edge/models" "$DESTDIR/var/lib/edge/events"
$staged || chown edge:edge "$DESTDIR/var/lib/edge" "$DESTDIR/var/lib/edge/models" "$DESTDIR/var/lib/edge/events"

if ! $staged; then
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload
	fi
	if command -v udevadm >/dev/null; then
		udevadm control --reload-rules || true
		udevadm trigger --subsystem-match=gpio || true
	fi
fi

say "done. Next:"
say "  edit /etc/edge/edge.yaml, then"
say "  systemctl enable --now edge"
say "  journalctl -u edge -f     # its log"
