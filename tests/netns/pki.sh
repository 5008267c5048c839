# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# pki.sh: a throw-away test PKI made with openssl, for the netns tests that speak TLS
# (05-tls.sh, 06-fakeapi.sh). Sourced once $tmp exists: every file lands in $tmp, and
# openssl's chatter in $tmp/openssl.log, which a test shows when pki_* fails.
#
#   pki_ca NAME KEY                     self-signed CA: $tmp/NAME.pem, $tmp/NAME.key
#   pki_leaf NAME CA SAN KEY [EKU [CN]] certificate signed by CA: $tmp/NAME.pem, $tmp/NAME.key
#
# KEY is rsa (2048 bits) or ec (P-256). SAN is openssl's subjectAltName value ("IP:::1",
# "DNS:a,IP:10.0.0.1"); EKU defaults to serverAuth; CN to a name that is no address, so
# that only the SANs can match.

: "${tmp:?pki.sh: set tmp first}"

pki_ossl() { openssl "$@" >>"$tmp/openssl.log" 2>&1; }

# pki_req KEY OPTIONS...: openssl req -new with a fresh key of type KEY.
pki_req() {
	local key=$1
	shift
	case $key in
	rsa) pki_ossl req -new -nodes -newkey rsa:2048 "$@" ;;
	ec) pki_ossl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 "$@" ;;
	*) echo "pki: key type '$key' is neither rsa nor ec" >&2; return 1 ;;
	esac
}

pki_ca() {
	pki_req "$2" -x509 -keyout "$tmp/$1.key" -out "$tmp/$1.pem" -days 2 \
		-subj "/CN=virgil test $1" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
}

pki_leaf() {
	local name=$1 ca=$2 san=$3 key=$4 eku=${5:-serverAuth} cn=${6:-not-the-address-$1}

	printf 'subjectAltName=%s\nextendedKeyUsage=%s\nbasicConstraints=CA:FALSE\n' \
		"$san" "$eku" >"$tmp/$name.ext"
	pki_req "$key" -keyout "$tmp/$name.key" -out "$tmp/$name.csr" -subj "/CN=$cn" &&
		pki_ossl x509 -req -in "$tmp/$name.csr" -CA "$tmp/$ca.pem" -CAkey "$tmp/$ca.key" \
			-CAcreateserial -days 1 -extfile "$tmp/$name.ext" -out "$tmp/$name.pem"
}
