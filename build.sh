#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# build.sh: the one entry point. Installs what is missing from Debian packages, builds the
# static binary, runs the tests, runs the lab.
#
#   ./build.sh            build build/virgil (static, musl, stripped) and its applet links
#   ./build.sh test       build, then every test tier this machine allows; ends "N passed, N failed"
#   ./build.sh lab        build, then the demo cluster (see scripts/lab-demo.sh)
#   ./build.sh bench      build, then the benchmarks (see BENCHMARKS.md)
#   ./build.sh unit|fuzz|netns   one test tier only (ONLY=word narrows it)
#
# Environment: FUZZ_SECONDS (per fuzz target, default 10), V=1 (print compiler lines),
# ONLY=word (run only the tests whose name contains word).
set -euo pipefail

top=$(cd "$(dirname "$0")" && pwd)
cd "$top"
B=build

build_pkgs=(musl-tools musl-dev libmbedtls-dev linux-libc-dev binutils file)
test_pkgs=(gcc clang libclang-rt-14-dev iproute2 nftables iputils-ping util-linux procps
	podman runc containernetworking-plugins busybox-static openssl python3)

say() { printf '%s\n' "$*" >&2; }
die() { say "build.sh: $*"; exit 1; }

ensure_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "build.sh: installing from Debian: ${missing[*]}"
	[ "$(id -u)" -eq 0 ] || die "need root to install: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ---------------------------------------------------------------------------------------
# Layer rule (STYLE.md §2): main.c → app → flow → {nl, io} → core → codec → base.
rank() {
	case "$1" in
	app) echo 0 ;; flow) echo 1 ;; nl|io) echo 2 ;; core) echo 3 ;; codec) echo 4 ;;
	base) echo 5 ;; *) echo -1 ;;
	esac
}

check_layers() {
	local f dir inc target tdir bad=0
	while IFS= read -r f; do
		dir=$(basename "$(dirname "$f")")
		[ "$dir" = src ] && continue
		while IFS= read -r inc; do
			target=$(realpath -m "$(dirname "$f")/$inc")
			tdir=$(basename "$(dirname "$target")")
			[ "$tdir" = "$dir" ] && continue
			# applets implement the prototypes the registry declares
			[ "$dir" = app ] && [ "${target#"$top/"}" = src/applets.h ] && continue
			if [ "$(rank "$tdir")" -le "$(rank "$dir")" ] ||
				{ [ "$dir" = nl ] && [ "$tdir" = io ]; } ||
				{ [ "$dir" = io ] && [ "$tdir" = nl ]; }; then
				say "layer violation: $f includes $inc ($dir may not include $tdir)"
				bad=1
			fi
		done < <(sed -n 's/^#include "\(.*\)"/\1/p' "$f")
		if [ "$dir" != nl ] && grep -qE '^#include <linux/(netlink|rtnetlink|netfilter)' "$f"; then
			# only nl/ speaks netlink; other folders get value types from nl headers
			say "layer violation: $f includes a netlink uapi header (only src/nl/ may)"
			bad=1
		fi
		if [ "$f" != src/io/tls.c ] && grep -q '^#include <mbedtls/' "$f"; then
			say "layer violation: $f includes mbedtls (only src/io/tls.c may)"
			bad=1
		fi
	done < <(find src -name '*.[ch]' | sort)
	[ $bad -eq 0 ] || die "layer check failed"
}

# musl-gcc does not search /usr/include: give it the kernel uapi headers explicitly.
musl_includes() {
	local d=$B/musl-include arch
	arch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
	mkdir -p "$d"
	ln -sfn /usr/include/linux "$d/linux"
	ln -sfn /usr/include/asm-generic "$d/asm-generic"
	ln -sfn "/usr/include/$arch/asm" "$d/asm"
	ln -sfn /usr/include/mbedtls "$d/mbedtls"
	echo "$d"
}

CWARN=(-D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
	-Wno-unused-parameter -Wvla -Wpointer-arith -Wundef)

build() {
	ensure_pkgs "${build_pkgs[@]}"
	check_layers
	local inc objdir=$B/obj cflags srcs=() objs=() s o
	inc=$(musl_includes)
	version=$(git describe --always --dirty 2>/dev/null || echo unknown)
	cflags=(-std=gnu11 -Os -static -fno-plt -ffunction-sections -fdata-sections
		-fstack-protector-strong -D_FORTIFY_SOURCE=0 "${CWARN[@]}" -idirafter "$inc"
		-DVIRGIL_VERSION="\"$version\"")
	mkdir -p "$objdir"
	mapfile -t srcs < <(find src third_party -name '*.c' | sort)
	for s in "${srcs[@]}"; do
		o=$objdir/${s//\//_}
		objs+=("${o%.c}.o")
	done
	local i=0 jobs=0 fail=0 opt
	for s in "${srcs[@]}"; do
		o=${objs[$i]}
		i=$((i + 1))
		# rebuild when the source or any header it included is newer than the object
		if [ -f "$o" ] && [ -f "${o%.o}.d" ] && [ -z "$(find "$s" $(sed -e 's/^[^:]*://' -e 's/\\$//' "${o%.o}.d") -newer "$o" 2>/dev/null)" ]; then
			continue
		fi
		[ -n "${V:-}" ] && say "CC $s"
		# the policy compiler and reconciler run on every cluster change: speed over size
		case $s in
		src/core/np* | src/flow/npsync* | src/core/cidr.c | src/core/selector.c) opt=-O2 ;;
		*) opt= ;;
		esac
		musl-gcc "${cflags[@]}" $opt -MMD -MF "${o%.o}.d" -c "$s" -o "$o" &
		jobs=$((jobs + 1))
		if [ $jobs -ge "$(nproc)" ]; then
			wait -n || fail=1
			jobs=$((jobs - 1))
		fi
	done
	while [ $jobs -gt 0 ]; do wait -n || fail=1; jobs=$((jobs - 1)); done
	[ $fail -eq 0 ] || die "compile failed"
	musl-gcc "${cflags[@]}" -Wl,--gc-sections -o $B/virgil.unstripped "${objs[@]}" \
		/usr/lib/x86_64-linux-gnu/libmbedtls.a /usr/lib/x86_64-linux-gnu/libmbedx509.a \
		/usr/lib/x86_64-linux-gnu/libmbedcrypto.a || die "link failed"
	strip -o $B/virgil $B/virgil.unstripped
	file $B/virgil | grep -q 'statically linked' || die "build/virgil is not static"
	local size
	size=$(stat -c %s $B/virgil)
	[ "$size" -le 2097152 ] || die "build/virgil is $size bytes, over the 2 MiB budget"
	(cd $B && ./virgil --install .)
	say "build.sh: build/virgil ($size bytes, static) version $version"
}

# ---------------------------------------------------------------------------------------
# Test tiers. Each tier adds to the totals; the last line is the one CI reads.
PASS=0
FAIL=0

count_from() { # parse the "N passed, N failed" line of a log into the totals
	local line p f
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1 || true)
	if [ -z "$line" ]; then
		say "  $2: no result line (crashed?)"
		FAIL=$((FAIL + 1))
		return
	fi
	p=${line%% passed*}
	f=${line#*, }
	f=${f%% failed*}
	PASS=$((PASS + p))
	FAIL=$((FAIL + f))
	say "  $2: $line"
}

deps_of() { sed -n 's|^/\* deps: \(.*\) \*/|\1|p' "$1" | head -n 1; }
# Optional second line "/* libs: -lmbedtls ... */" for tests that link Debian libraries.
libs_of() { sed -n 's|^/\* libs: \(.*\) \*/|\1|p' "$1" | head -n 1; }

HOSTCFLAGS=(-std=gnu11 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all
	-fno-omit-frame-pointer -DVIRGIL_FAULT "${CWARN[@]}" -Isrc)

unit() {
	ensure_pkgs gcc
	local t name deps d srcs log
	mkdir -p $B/unit
	for t in tests/unit/test_*.c; do
		name=$(basename "$t" .c)
		[ -n "${ONLY:-}" ] && [[ $name != *$ONLY* ]] && continue
		deps=$(deps_of "$t")
		srcs=()
		for d in $deps; do srcs+=("src/$d"); done
		log=$B/unit/$name.log
		# shellcheck disable=SC2046 # word splitting of the libs line is intended
		if ! gcc "${HOSTCFLAGS[@]}" -o "$B/unit/$name" "$t" "${srcs[@]}" $(libs_of "$t") \
			>"$log" 2>&1; then
			cat "$log" >&2
			say "  $name: does not compile"
			FAIL=$((FAIL + 1))
			continue
		fi
		(cd tests/unit && ASAN_OPTIONS=detect_leaks=1 "../../$B/unit/$name") >"$log" 2>&1 || true
		grep -E -A3 '^not ok|ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error' "$log" |
			head -n 20 >&2 || true
		count_from "$log" "$name"
	done
}

fuzz() {
	ensure_pkgs clang libclang-rt-14-dev
	local t name deps d srcs log corpus secs=${FUZZ_SECONDS:-10}
	mkdir -p $B/fuzz
	for t in tests/fuzz/fuzz_*.c; do
		[ -e "$t" ] || continue
		name=$(basename "$t" .c)
		[ -n "${ONLY:-}" ] && [[ $name != *$ONLY* ]] && continue
		deps=$(deps_of "$t")
		srcs=()
		for d in $deps; do srcs+=("src/$d"); done
		log=$B/fuzz/$name.log
		if ! clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
			-fno-sanitize-recover=all -Isrc -o "$B/fuzz/$name" "$t" "${srcs[@]}" >"$log" 2>&1; then
			cat "$log" >&2
			FAIL=$((FAIL + 1))
			say "  $name: does not compile"
			continue
		fi
		# work on a copy of the seeds: new corpus entries never land in the tree
		corpus=$B/fuzz/$name.corpus
		rm -rf "$corpus"
		mkdir -p "$corpus"
		cp -r "tests/fuzz/seeds/${name#fuzz_}/." "$corpus/" 2>/dev/null || true
		if "$B/fuzz/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
			-print_final_stats=1 "$corpus" >"$log" 2>&1; then
			PASS=$((PASS + 1))
			say "  $name: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs, no crash"
		else
			FAIL=$((FAIL + 1))
			tail -n 30 "$log" >&2
			say "  $name: CRASH (see $log)"
		fi
	done
}

netns() {
	ensure_pkgs iproute2 nftables iputils-ping util-linux procps
	if [ "$(id -u)" -ne 0 ]; then
		say "  netns tier needs root: not run"
		FAIL=$((FAIL + 1))
		return
	fi
	local t name log
	mkdir -p $B/netns
	for t in tests/netns/[0-9]*.sh; do
		[ -e "$t" ] || continue
		name=$(basename "$t" .sh)
		[ -n "${ONLY:-}" ] && [[ $name != *$ONLY* ]] && continue
		log=$B/netns/$name.log
		VIRGIL=$top/$B/virgil bash "$t" >"$log" 2>&1 || true
		grep -E '^(FAIL|not ok)' "$log" | head -n 20 >&2 || true
		count_from "$log" "$name"
	done
}

run_tests() {
	build
	ensure_pkgs "${test_pkgs[@]}"
	say "== unit (host build, ASan+UBSan)"
	unit
	say "== fuzz (${FUZZ_SECONDS:-10}s per target)"
	fuzz
	say "== netns end-to-end"
	netns
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}

case "${1:-build}" in
build) build ;;
test) run_tests ;;
unit) ensure_pkgs gcc; unit; echo "$PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ] ;;
fuzz) fuzz; echo "$PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ] ;;
netns) build; ensure_pkgs "${test_pkgs[@]}"; netns; echo "$PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ] ;;
lab) build; ensure_pkgs "${test_pkgs[@]}"; exec bash scripts/lab-demo.sh "$top/$B/virgil" ;;
bench)
	build
	ensure_pkgs "${test_pkgs[@]}"
	bash scripts/bench-cni.sh "$top/$B/virgil"
	bash scripts/bench-agent.sh "$top/$B/virgil"
	exec bash scripts/bench-policy.sh "$top/$B/virgil"
	;;
*) die "unknown command '$1' (build, test, lab, bench, unit, fuzz, netns)" ;;
esac
