#!/usr/bin/env bash
# cross-compile.sh — build edge for Raspberry Pi / Jetson class boards from a
# Debian 12 amd64 machine, with cgo (GoCV/OpenCV 4.6, and the TFLite C
# library where there is one).
#
#   ./cross-compile.sh [ARCH...]        build bin/linux_<goarch>/edge (default: arm64 armhf)
#   ./cross-compile.sh sysroot ARCH     only make (or check) the sysroot of ARCH
#   ./cross-compile.sh env ARCH         print the environment to build and `go test` for ARCH
#                                       by hand under qemu-user: eval "$(./cross-compile.sh env armhf)"
#                                       then go test -exec "$EDGE_QEMU_EXEC" ./tflite/...
#   ./cross-compile.sh board ARCH       fetch the emulated board's kernel and busybox (arm64)
#   ./cross-compile.sh version          print the version stamped into binaries and packages
#
# ARCH is a Debian architecture: arm64 (Pi 4/5 64-bit OS, Jetson), armhf
# (32-bit Pi OS, ARMv7: GOARM=7) or amd64 (native, built like the packaged
# binary).
#
# arm64 and amd64 link the TFLite 2.9 C library (make setup-tflite), found
# at run time through the rpath /usr/lib/edge (the .deb installs it there;
# to run one from the build tree, set LD_LIBRARY_PATH=third_party/tflite/linux_<goarch>).
# armhf has no TFLite C library (tfjs-tflite-node ships none for linux/arm):
# it is built with the tag nolibtflite, so only OpenCV is linked and models
# run on the pure-Go engine (tflite/engine; --engine auto picks it). Any
# ARCH can be built that way with EDGE_TAGS=nolibtflite.
#
# Each foreign ARCH links against a sysroot made from Debian's own packages
# for that architecture: `apt-get download pkg:ARCH` + `dpkg -x` into
# third_party/sysroot/ARCH (never `dpkg -i`: bookworm's multiarch -dev
# packages conflict with the amd64 ones). The foreign architecture is added
# to dpkg only so that apt can download its packages. A stamp makes the
# second run a no-op. SYSROOT=DIR uses a sysroot made elsewhere instead (a
# Jetson's /usr, /lib and /etc copied with rsync: see the README), OUT=DIR
# another output directory, EXTRA_LDFLAGS more linker flags, EDGE_TAGS more
# build tags (comma-separated), EDGE_VERSION the version stamped in
# (default: ./cross-compile.sh version).
#
# Exit status: 0 built; 1 error, with the reason on stderr.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"

# Bumped when the sysroot recipe changes: an old sysroot is then remade.
SYSROOT_RECIPE=4

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
APT=(env DEBIAN_FRONTEND=noninteractive ${SUDO:+"$SUDO"} apt-get -q -o DPkg::Lock::Timeout=600)

say() { echo "cross: $*" >&2; }
die() { echo "cross: $*" >&2; exit 1; }

# apt_download DIR PKG... downloads .debs into DIR (apt-get download runs
# as root here without the _apt sandbox: its note about that is noise).
apt_download() {
	local dir=$1 log
	shift
	log=$(mktemp)
	if ! (cd "$dir" && apt-get download -q "$@") >"$log" 2>&1; then
		grep -v -e '^Get:' -e 'unsandboxed' "$log" >&2
		rm -f "$log"
		die "apt-get download failed (above)"
	fi
	rm -f "$log"
}

# apt_update tolerates a mirror that fails one index (a sync in progress):
# what is missing then fails later, by name.
apt_update() {
	"${APT[@]}" update || say "apt-get update failed (above); going on with the indexes there are"
}

# makevar NAME prints a variable of the Makefile, so that the OpenCV module
# list and the Go tags have one source.
makevar() {
	make -s --no-print-directory -C "$ROOT" --eval '_cross_print-%: ; @echo $($*)' "_cross_print-$1"
}

# arch_setup ARCH sets the per-architecture names.
arch_setup() {
	DEBARCH=$1
	case $DEBARCH in
	arm64) GOARCH=arm64 GOARM="" TRIPLET=aarch64-linux-gnu QEMU=qemu-aarch64 ;;
	armhf) GOARCH=arm GOARM=7 TRIPLET=arm-linux-gnueabihf QEMU=qemu-arm ;;
	amd64) GOARCH=amd64 GOARM="" TRIPLET=x86_64-linux-gnu QEMU="" ;;
	*) die "unknown architecture $DEBARCH (want arm64, armhf or amd64)" ;;
	esac
	NATIVE=false
	[ "$DEBARCH" = "$(dpkg --print-architecture)" ] && NATIVE=true
	TFLITE_LIB=$ROOT/third_party/tflite/linux_$GOARCH
	OUT_DIR=${OUT:-$ROOT/bin/linux_$GOARCH}
	if $NATIVE; then
		SR=/
		CC=gcc CXX=g++
	else
		SR=$ROOT/third_party/sysroot/$DEBARCH
		if [ -n "${SYSROOT:-}" ]; then
			SR=$(cd "$SYSROOT" && pwd) || die "SYSROOT=$SYSROOT: no such directory"
		fi
		CC=$TRIPLET-gcc CXX=$TRIPLET-g++
	fi
}

# check_engine decides whether ARCH links the TFLite C library: armhf
# never does (there is none for linux/arm), nor does a build with
# EDGE_TAGS=nolibtflite; the others need it (make setup-tflite). NOLIB is
# true for a build without it, which adds the tag nolibtflite.
check_engine() {
	NOLIB=false
	case ",${EDGE_TAGS:-}," in *,nolibtflite,*) NOLIB=true ;; esac
	if [ "$DEBARCH" = armhf ]; then
		NOLIB=true
	fi
	if $NOLIB; then
		case ",${EDGE_TAGS:-}," in *,nolibtflite,*) ;; *) EDGE_TAGS=${EDGE_TAGS:+$EDGE_TAGS,}nolibtflite ;; esac
		return 0
	fi
	no_tflite_c && die "$DEBARCH: $TFLITE_LIB/libtensorflowlite_c.so missing: run make setup (or build without it: EDGE_TAGS=nolibtflite)"
	return 0
}

# no_tflite_c: there is no TFLite C library for ARCH.
no_tflite_c() {
	[ ! -f "$TFLITE_LIB/libtensorflowlite_c.so" ]
}

# needs_tflite_c prints the packages of ./edge's build for ARCH that link
# the TFLite C library, and fails when there are none.
needs_tflite_c() {
	local p
	p=$(GOOS=linux GOARCH=$GOARCH GOARM=$GOARM CGO_ENABLED=1 GOFLAGS="$(go_tags)" \
		go list -deps -f '{{if .CgoLDFLAGS}}{{.ImportPath}} {{.CgoLDFLAGS}}{{end}}' ./edge |
		awk '/-ltensorflowlite_c/ {print $1}' | tr '\n' ' ')
	[ -n "$p" ] && echo "${p% }"
}

# go_tags prints the GOFLAGS of a build: the Makefile's (-tags=customenv)
# and EDGE_TAGS.
go_tags() {
	local t
	t=$(makevar GOFLAGS)
	[ -z "${EDGE_TAGS:-}" ] || t="$t,$EDGE_TAGS"
	echo "$t"
}

# ensure_tools installs the cross compiler (and qemu-user) when missing.
ensure_tools() {
	$NATIVE && return 0
	local need=()
	command -v "$CC" >/dev/null || need+=("g++-$TRIPLET")
	command -v "$CXX" >/dev/null || need+=("g++-$TRIPLET")
	command -v "$QEMU" >/dev/null || need+=(qemu-user)
	[ ${#need[@]} = 0 ] && return 0
	say "installing ${need[*]}"
	apt_update
	"${APT[@]}" install -y --no-install-recommends "${need[@]}"
}

# The -dev packages of the sysroot: the OpenCV modules of the Makefile's
# APT_PACKAGES, and the C library. Their Depends closure brings the runtime
# libraries the linker needs to resolve (and qemu needs to run).
sysroot_packages() {
	local p
	for p in $(makevar APT_PACKAGES); do
		case $p in libopencv-*-dev) echo "$p" ;; esac
	done
	echo libc6-dev
}

# Packages of the closure that nothing links against, left out for size:
# Mesa's dlopen'ed drivers (and LLVM for them), BLAS/LAPACK variants other
# than the reference ones, the extra codec build, a second Qt GUI build,
# the C/C++ compilers' own -dev packages (the cross compiler brings its own),
# fonts, and tools.
SYSROOT_SKIP='^(libllvm[0-9]+|libz3-[0-9]+|libgl1-mesa-dri|mesa-va-drivers|mesa-vdpau-drivers|mesa-vulkan-drivers|libopenblas0(-openmp|-pthread|-serial)?|libopenblas-[a-z]+-dev|libatlas3-base|libavcodec-extra[0-9]*|libqt5gui5-gles|libgcc-[0-9]+-dev|libstdc\+\+-[0-9]+-dev|lib(asan|tsan|lsan|ubsan|hwasan)[0-9]+|gcc-[0-9]+-base|fonts-.*|dpkg|perl.*|debconf|cdebconf|install-info|libc-bin|libc-dev-bin|linux-libc-dev|rpcsvc-proto|util-linux.*|iso-codes|tzdata|sensible-utils)$'

# sysroot_make builds $SR once; the stamp records what it was made from.
sysroot_make() {
	if [ -n "${SYSROOT:-}" ]; then
		[ -d "$SR/usr/include" ] || die "SYSROOT=$SYSROOT has no usr/include"
		# A copy of a board's / (rsync): its absolute symlinks would lead
		# into this machine. Made relative once.
		if [ ! -f "$SR/.sysroot-fixed" ]; then
			say "$DEBARCH: SYSROOT=$SR: making its absolute symlinks relative"
			sysroot_fix "$SR"
			touch "$SR/.sysroot-fixed"
		fi
		return 0
	fi
	local want stamp=$SR/.sysroot-stamp
	want="recipe $SYSROOT_RECIPE; $DEBARCH; $(sysroot_packages | tr '\n' ' ')"
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
		say "$DEBARCH: sysroot $SR up to date"
		return 0
	fi
	local t0=$SECONDS
	say "$DEBARCH: making the sysroot $SR (apt-get download + dpkg -x)"
	if ! dpkg --print-foreign-architectures | grep -qx "$DEBARCH"; then
		say "dpkg --add-architecture $DEBARCH (only to download its packages; nothing is installed)"
		$SUDO dpkg --add-architecture "$DEBARCH"
		apt_update
	elif ! apt-cache show "libc6:$DEBARCH" >/dev/null 2>&1; then
		apt_update
	fi
	local roots=() p
	for p in $(sysroot_packages); do roots+=("$p:$DEBARCH"); done
	local pkgs
	pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances "${roots[@]}" |
		sed -n "s/^\([a-z0-9][a-z0-9.+-]*\):$DEBARCH\$/\1/p" | sort -u | grep -Ev "$SYSROOT_SKIP") ||
		die "$DEBARCH: apt-cache depends found nothing for ${roots[*]}"
	local debs=$ROOT/third_party/sysroot/debs/$DEBARCH tmp=$SR.tmp
	rm -rf "$debs" "$tmp"
	mkdir -p "$debs" "$tmp"
	local want_debs=()
	mapfile -t want_debs <<<"$pkgs"
	want_debs=("${want_debs[@]/%/:$DEBARCH}")
	say "$DEBARCH: downloading ${#want_debs[@]} packages"
	apt_download "$debs" "${want_debs[@]}"
	local n
	n=$(find "$debs" -name '*.deb' | wc -l)
	[ "$n" = "${#want_debs[@]}" ] || die "$DEBARCH: downloaded $n of ${#want_debs[@]} packages"
	say "$DEBARCH: unpacking $n packages"
	find "$debs" -name '*.deb' -print0 | xargs -0 -P "$(nproc)" -n 16 sh -c 'for d; do dpkg-deb -x "$d" "$0" || exit 1; done' "$tmp"
	sysroot_fix "$tmp"
	rm -rf "$SR" && mv "$tmp" "$SR"
	rm -rf "$debs"
	rmdir "$ROOT/third_party/sysroot/debs" 2>/dev/null || true
	echo "$want" >"$stamp"
	say "$DEBARCH: sysroot ready ($(du -sh "$SR" | cut -f1), $((SECONDS - t0))s)"
}

# sysroot_fix makes an unpacked tree usable as a sysroot: absolute symlinks
# made relative (they would point into the host), and the links that
# update-alternatives would make at install time (BLAS, LAPACK).
sysroot_fix() {
	local s=$1 l target
	while IFS= read -r -d '' l; do
		target=$(readlink "$l")
		ln -sfn "$(realpath -m -s --relative-to="$(dirname "$l")" "$s$target")" "$l"
	done < <(find "$s" -type l -lname '/*' -print0)
	local lib=$s/usr/lib/$TRIPLET f
	for alt in blas lapack; do
		for f in "$lib/$alt"/lib*.so*; do
			[ -e "$f" ] || continue
			[ -e "$lib/$(basename "$f")" ] || ln -s "$alt/$(basename "$f")" "$lib/$(basename "$f")"
		done
	done
}

# sysroot_ld_dirs prints the library directories of $SR/etc/ld.so.conf.d.
sysroot_ld_dirs() {
	local f
	for f in "$SR"/etc/ld.so.conf.d/*.conf; do
		[ -f "$f" ] && sed -n 's/^[[:space:]]*\(\/[^#[:space:]]*\).*/\1/p' "$f"
	done
	return 0
}

# cgo_env prints the environment of a cgo build for ARCH against $SR.
cgo_env() {
	local opencv_libs inc ld
	opencv_libs=$(makevar OPENCV_LIBS)
	if $NATIVE; then
		inc="-I$ROOT/tflite/include -I$ROOT/third_party/tflite/include -I/usr/include/opencv4"
		ld="-L$TFLITE_LIB"
	else
		inc="--sysroot=$SR -I$ROOT/tflite/include -I$ROOT/third_party/tflite/include -I$SR/usr/include/opencv4"
		ld="--sysroot=$SR -L$TFLITE_LIB -Wl,-rpath-link,$TFLITE_LIB"
		# The linker resolves the libraries' own dependencies there: the
		# multiarch directories, and those of the sysroot's ld.so.conf.d
		# (a Jetson's CUDA and Tegra libraries).
		local d
		for d in /lib/$TRIPLET /usr/lib/$TRIPLET $(sysroot_ld_dirs); do
			[ -d "$SR$d" ] && case " $ld " in *" -Wl,-rpath-link,$SR$d "*) ;; *) ld="$ld -Wl,-rpath-link,$SR$d" ;; esac
		done
	fi
	if $NOLIB; then
		# No TFLite C library: only OpenCV is linked.
		inc=${inc//-I$ROOT\/third_party\/tflite\/include/}
		ld=${ld//-Wl,-rpath-link,$TFLITE_LIB/}
		ld=${ld//-L$TFLITE_LIB/}
	fi
	echo "export CGO_ENABLED=1 GOOS=linux GOARCH=$GOARCH GOARM=$GOARM CC=$CC CXX=$CXX PKG_CONFIG=false"
	echo "export CGO_CPPFLAGS='$inc'"
	echo "export CGO_LDFLAGS='$ld $opencv_libs${EXTRA_LDFLAGS:+ $EXTRA_LDFLAGS}'"
}

version() {
	local v
	if v=$(git -C "$ROOT" describe --tags --match 'v[0-9]*' 2>/dev/null); then
		v=${v#v}
		echo "${v//-/+}" # v1.2.0-3-gabc → 1.2.0+3+gabc
	elif v=$(git -C "$ROOT" log -1 --format='%cd.%h' --date=format:%Y%m%d 2>/dev/null); then
		echo "0.0.0~git$v"
	else
		echo "0.0.0~dev"
	fi
}

build() {
	arch_setup "$1"
	check_engine
	ensure_tools
	$NATIVE || sysroot_make
	local tags ver
	tags=$(go_tags)
	ver=${EDGE_VERSION:-$(version)}
	eval "$(cgo_env)"
	if $NOLIB; then
		local via
		if via=$(needs_tflite_c); then
			die "$DEBARCH: built with nolibtflite, ./edge still links libtensorflowlite_c through: $via"
		fi
	else
		# Packaged binaries find libtensorflowlite_c.so in /usr/lib/edge.
		CGO_LDFLAGS="$CGO_LDFLAGS -Wl,-rpath,/usr/lib/edge"
	fi
	export GOFLAGS=$tags
	local t0=$SECONDS
	mkdir -p "$OUT_DIR"
	say "$DEBARCH: go build ($GOFLAGS, $CC) → ${OUT_DIR#"$ROOT"/}/edge"
	go build -trimpath -ldflags "-s -w -X main.version=$ver" -o "$OUT_DIR/edge" ./edge
	say "$DEBARCH: built ${OUT_DIR#"$ROOT"/}/edge $ver ($((SECONDS - t0))s, $(du -h "$OUT_DIR/edge" | cut -f1))"
}

# board ARCH downloads the kernel and busybox of the emulated board into
# third_party/sysroot/board-ARCH (vmlinuz, config, busybox): the
# emulated board of `make test-arm` (edge/tools/armboard).
board() {
	arch_setup "$1"
	[ "$DEBARCH" = arm64 ] || die "board: only arm64 (qemu-system-aarch64 -M virt)"
	local dir=$ROOT/third_party/sysroot/board-$DEBARCH
	if [ -f "$dir/.stamp" ]; then
		say "board: $dir up to date ($(cat "$dir/.stamp"))"
		return 0
	fi
	command -v qemu-system-aarch64 >/dev/null || {
		apt_update
		"${APT[@]}" install -y --no-install-recommends qemu-system-arm
	}
	dpkg --print-foreign-architectures | grep -qx "$DEBARCH" || {
		$SUDO dpkg --add-architecture "$DEBARCH"
		apt_update
	}
	local kpkg
	kpkg=$(apt-cache depends "linux-image-$DEBARCH:$DEBARCH" | sed -n 's/^ *Depends: \(linux-image-[0-9].*-'"$DEBARCH"'\):'"$DEBARCH"'$/\1/p' | head -1)
	[ -n "$kpkg" ] || die "board: no linux-image-*-$DEBARCH package found"
	rm -rf "$dir" && mkdir -p "$dir/x"
	apt_download "$dir" "$kpkg:$DEBARCH" "busybox-static:$DEBARCH"
	dpkg-deb -x "$dir"/busybox-static_*.deb "$dir/x"
	dpkg-deb -x "$dir"/linux-image-*.deb "$dir/x"
	cp "$dir/x/bin/busybox" "$dir/busybox"
	cp "$dir"/x/boot/vmlinuz-* "$dir/vmlinuz"
	cp "$dir"/x/boot/config-* "$dir/config"
	# No modules: what the board test needs (gpio-pl061, debugfs, devtmpfs)
	# is built into Debian's arm64 kernel.
	rm -rf "$dir/x" "$dir"/*.deb
	grep -q '^CONFIG_GPIO_PL061=y' "$dir/config" || say "board: warning: CONFIG_GPIO_PL061 is not built in: $(grep GPIO_PL061 "$dir/config" || echo unset)"
	echo "$kpkg" >"$dir/.stamp"
	say "board: $kpkg and busybox-static in $dir"
}

case ${1:-} in
sysroot)
	[ $# = 2 ] || die "usage: $0 sysroot ARCH"
	arch_setup "$2"
	$NATIVE && die "sysroot: $2 is this machine's architecture"
	ensure_tools
	sysroot_make
	;;
env)
	[ $# = 2 ] || die "usage: $0 env ARCH"
	arch_setup "$2"
	$NATIVE && die "env: $2 is this machine's architecture: use make env"
	check_engine
	cgo_env
	tflite_lib=$TFLITE_LIB
	test_flags=$(makevar TEST_GOFLAGS)
	if $NOLIB; then
		tflite_lib=""
		test_flags="$test_flags,$EDGE_TAGS"
	fi
	echo "export GOFLAGS='$test_flags' EDGE_SYSROOT='$SR' EDGE_TFLITE_LIB='$tflite_lib'"
	# go test -exec: the test binaries run under qemu-user, with the
	# sysroot as their root for the dynamic loader and libraries.
	echo "export EDGE_QEMU_EXEC='$QEMU -L $SR -E LD_LIBRARY_PATH=${tflite_lib:+$tflite_lib:}$SR/lib/$TRIPLET:$SR/usr/lib/$TRIPLET'"
	;;
board)
	[ $# = 2 ] || die "usage: $0 board ARCH"
	board "$2"
	;;
version)
	version
	;;
-h | --help | help)
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	;;
*)
	archs=("$@")
	[ ${#archs[@]} -gt 0 ] || archs=(arm64 armhf)
	status=0
	for a in "${archs[@]}"; do
		# Not `(build) || ...`: that would switch set -e off inside build.
		set +e
		(
			set -e
			build "$a"
		)
		rc=$?
		set -e
		[ $rc = 0 ] || status=$rc
	done
	exit $status
	;;
esac
