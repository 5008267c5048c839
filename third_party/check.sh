#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check.sh: compare the mbedtls static archives on this machine with the sha256 sums recorded
# in third_party/README.md. A difference is not an error (Debian ships security updates), but
# it means the archives we link are not the ones we verified: warn loudly. Then re-run the two
# checks the README describes, which must pass whatever the sums say: the archives need from
# outside musl and libgcc exactly the symbols the shim defines, and glibc and musl agree on the
# layout of every type the archives share with our code. Exit status: 0 on a sum mismatch
# alone; 1 when a check fails or the README or a tool is missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
readme=$here/README.md
[ -r "$readme" ] || { echo "check.sh: $readme not readable" >&2; exit 1; }
command -v sha256sum >/dev/null || { echo "check.sh: sha256sum not found" >&2; exit 1; }

# README table rows look like: | `/usr/lib/.../libmbedtls.a` | `<64 hex>` |
rows=$(sed -n 's/^| `\(\/[^`]*\.a\)` | `\([0-9a-f]\{64\}\)` |$/\1 \2/p' "$readme")
[ -n "$rows" ] || { echo "check.sh: no archive sums found in $readme" >&2; exit 1; }

changed=0
while read -r path want; do
	if [ ! -e "$path" ]; then
		echo "WARNING: $path is missing (is libmbedtls-dev installed?)" >&2
		changed=1
		continue
	fi
	got=$(sha256sum "$path" | cut -d' ' -f1)
	if [ "$got" = "$want" ]; then
		echo "ok: $path"
	else
		echo "WARNING: $path changed: sha256 $got, README records $want" >&2
		changed=1
	fi
done <<<"$rows"

if [ $changed -ne 0 ]; then
	installed=$(dpkg-query -W -f='${Version}' libmbedtls-dev 2>/dev/null || echo unknown)
	cat >&2 <<-EOF
	WARNING: Debian updated the mbedtls archives (installed: $installed).
	WARNING: The checks below re-verify the shim and the struct layouts; then run
	WARNING: ONLY=05 ./build.sh netns and record the new version and sums in the README.
	EOF
fi

# The checks README.md describes. These failing is a real breakage, not a warning.
L=/usr/lib/x86_64-linux-gnu
archives=("$L/libmbedtls.a" "$L/libmbedx509.a" "$L/libmbedcrypto.a")
musl_libc=/usr/lib/x86_64-linux-musl/libc.a
shim_syms="__fdelt_chk __memcpy_chk __memset_chk __printf_chk __snprintf_chk __vsnprintf_chk"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nm -u "${archives[@]}" 2>/dev/null | awk 'NF==2{print $2}' | sort -u >"$tmp/undef"
nm --defined-only "${archives[@]}" 2>/dev/null | awk 'NF==3{print $3}' | sort -u >"$tmp/def"
nm --defined-only "$musl_libc" "$(gcc -print-libgcc-file-name)" 2>/dev/null |
	awk 'NF==3{print $3}' | sort -u >"$tmp/libc"
need=$(comm -23 "$tmp/undef" "$tmp/def" | comm -23 - "$tmp/libc" |
	grep -vx _GLOBAL_OFFSET_TABLE_ | tr '\n' ' ' | sed 's/ $//')
if [ "$need" != "$shim_syms" ]; then
	echo "FAIL: symbols musl lacks are now: $need" >&2
	echo "FAIL: the shim covers:            $shim_syms" >&2
	exit 1
fi
echo "ok: the archives need exactly the shim's symbols from outside musl and libgcc"

cat >"$tmp/abi.c" <<-'EOF'
	#include <dirent.h>
	#include <netdb.h>
	#include <stdio.h>
	#include <sys/select.h>
	#include <sys/stat.h>
	#include <mbedtls/ctr_drbg.h>
	#include <mbedtls/ssl.h>
	#include <mbedtls/x509_crt.h>
	#define S(t) printf("%s %zu\n", #t, sizeof(t))
	#define O(t, m) printf("%s.%s %zu\n", #t, #m, offsetof(t, m))
	int main(void)
	{
		S(mbedtls_ssl_context); S(mbedtls_ssl_config); S(mbedtls_x509_crt);
		S(mbedtls_pk_context); S(mbedtls_ctr_drbg_context); S(mbedtls_threading_mutex_t);
		S(pthread_mutex_t); S(time_t); S(struct tm); S(fd_set); S(struct stat);
		S(struct dirent); S(struct addrinfo);
		O(mbedtls_ssl_context, in_msg); O(mbedtls_x509_crt, subject_alt_names);
		O(struct stat, st_size); O(struct dirent, d_name); O(struct addrinfo, ai_addr);
		return 0;
	}
	EOF
inc=$tmp/inc
mkdir "$inc"
ln -s /usr/include/mbedtls "$inc/mbedtls"
gcc -o "$tmp/abi-glibc" "$tmp/abi.c" && "$tmp/abi-glibc" >"$tmp/glibc.txt"
musl-gcc -static -idirafter "$inc" -o "$tmp/abi-musl" "$tmp/abi.c" &&
	"$tmp/abi-musl" >"$tmp/musl.txt"
if ! diff -u "$tmp/glibc.txt" "$tmp/musl.txt" >&2; then
	echo "FAIL: struct layouts differ between glibc and musl builds (see diff)" >&2
	exit 1
fi
echo "ok: struct layouts agree between glibc and musl ($(wc -l <"$tmp/musl.txt") checked)"
exit 0
