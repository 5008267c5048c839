# SPDX-License-Identifier: MIT
# lib.sh: shell shared by the netns end-to-end tests (STYLE.md §5), sourced by every
# tests/netns/NN-*.sh after it has drawn its topology.
#
# It owns the run's identity (namespace prefix vg$$-, one temporary directory), the
# print-then-run wrappers, the assertions and their "N passed, N failed" summary, the CNI
# driver that runs $VIRGIL the way a runtime does (env + stdin, stdout captured), the probes
# of the lease store and of the node, and the cleanup and closing accounting.
#
# The machine's own namespace is only ever read: the "node" is itself a namespace
# ($NODE) and the plugin runs inside it, so its host veths, routes and sysctls land there.
# A set -e abort counts as one failure; the EXIT trap always cleans up and prints the summary
# as the last line of output.

set -e
set -E

PY=/usr/bin/python3	# the stdlib is all we use (TESTING-NOTES: python3 on PATH is not Debian's)
PFX=vg$$-
NODE=${PFX}node
NET=vgtest		# network name: the store is $DATA/networks/$NET
PASSED=0
FAILED=0
DONE=0
ABORT_AT=
CNI_TMO=${CNI_TMO:-10}	# seconds one plugin call may take before it counts as hung
HUNG=0			# calls that hit CNI_TMO; after 3 the rest fail at once (exit 124)
T_OUT=			# set by check_fails: the wrappers then bound their command
T0=${EPOCHREALTIME/./}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/virgil-netns.XXXXXX")
DATA=$TMP/data
STORE=$DATA/networks/$NET

# ---------------------------------------------------------------------------------------
# Printing and wrappers. pretty goes to stderr so $(wrapper ...) captures only the command.

pretty() { printf '[+] %s%s\n' "${1:+$1: }" "$2" >&2; }

_run() {
	if [ -n "$T_OUT" ]; then
		timeout -k 1 "$T_OUT" "$@"
	else
		"$@"
	fi
}

pp() { pretty "" "$*"; _run "$@"; }					# the machine's namespace
node() { pretty node "$*"; _run ip netns exec "$NODE" "$@"; }		# the node
pod() { local n=$1; shift; pretty "p$n" "$*"; _run ip netns exec "${PFX}p$n" "$@"; }

netns_path() { echo "/run/netns/${PFX}p$1"; }

# The node: forwarding is the plugin's job; the addresses on lo give pods something to ping.
node_setup() {
	pp ip netns add "$NODE"
	node ip link set lo up
	node ip addr add 10.99.0.1/32 dev lo
	node ip addr add fd99::1/128 dev lo
}

# A pod namespace with lo up, as a runtime leaves it before calling ADD.
pod_add() {
	pp ip netns add "${PFX}p$1"
	pod "$1" ip link set lo up
}

# ---------------------------------------------------------------------------------------
# Assertions. Each prints "ok N - what" or "FAIL N - what: why" on stdout.

pass() { PASSED=$((PASSED + 1)); printf 'ok %d - %s\n' $((PASSED + FAILED)) "$1"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL %d - %s\n' $((PASSED + FAILED)) "$1"; }

# check "what" cmd...: cmd must succeed.
check() {
	local what=$1
	shift
	if "$@"; then
		pass "$what"
	else
		fail "$what: exit $?: $*"
	fi
}

# check_fails "what" cmd...: cmd must fail, and within TMO seconds (default 5): a denied
# path that hangs is not a pass.
check_fails() {
	local what=$1 rc=0
	local T_OUT=${TMO:-5}
	shift
	if [ "$(type -t "$1")" = file ]; then
		_run "$@" || rc=$?
	else
		"$@" || rc=$?
	fi
	if [ $rc -eq 0 ]; then
		fail "$what: succeeded: $*"
	elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		fail "$what: still running after ${T_OUT}s: $*"
	else
		pass "$what"
	fi
}

# is "what" got want
is() {
	if [ "$2" == "$3" ]; then
		pass "$1"
	else
		fail "$1: got '$2', want '$3'"
	fi
}

# like "what" got regex
like() {
	if [[ $2 =~ $3 ]]; then
		pass "$1"
	else
		fail "$1: got '$2', want a match of /$3/"
	fi
}

# wait_for cmd...: poll (every 20 ms, up to WAIT_S seconds, default 5) until cmd succeeds.
wait_for() {
	local i n=$((${WAIT_S:-5} * 50))
	pretty "" "wait for: $*"
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.02
	done
	return 1
}

now_us() { echo "${EPOCHREALTIME/./}"; }

# ---------------------------------------------------------------------------------------
# JSON, with /usr/bin/python3 and the stdlib json module only.
#   j JSON EXPR...   one line per EXPR evaluated with d = the object: strings as they are,
#                    anything else as compact JSON with sorted keys ("!..." on an error)
#   json_one JSON    "ok" when JSON is exactly one object and nothing else, else "!why"
#   err_code JSON    the code of a well-formed CNI error object, else "!why"

_PYPROG='
import json, sys
mode, text = sys.argv[1], sys.argv[2].strip()
try:
	d, end = json.JSONDecoder().raw_decode(text)
except ValueError as e:
	sys.exit(print("!not-json: %s" % e))
if end != len(text):
	sys.exit(print("!trailing: %r" % text[end:end + 40]))
if not isinstance(d, dict):
	sys.exit(print("!not-an-object"))
if mode == "err":
	good = isinstance(d.get("code"), int) and isinstance(d.get("msg"), str) and d["msg"]
	sys.exit(print(d["code"] if good else "!bad-error-object: %s" % text))
for expr in sys.argv[3:]:
	try:
		v = eval(expr, {"d": d})
	except Exception as e:
		v = "!%s: %s" % (type(e).__name__, e)
	print(v if isinstance(v, str) else json.dumps(v, sort_keys=True, separators=(",", ":")))
'

j() { "$PY" -c "$_PYPROG" get "$@" 2>&1 || true; }
json_one() { j "$1" '"ok"'; }
err_code() { "$PY" -c "$_PYPROG" err "$1" 2>&1 || true; }

# ---------------------------------------------------------------------------------------
# netconf VERSION CIDRS [MEMBERS]: a network config as a runtime puts it on stdin: CIDRS is
# the podCIDRs JSON list, mtu 1400, the run's data dir; MEMBERS, if any, starts with ','.

DUAL='["10.244.1.0/24","fd00:10:244:1::/64"]'

netconf() {
	printf '{"cniVersion":"%s","name":"%s","type":"virgil","podCIDRs":%s,' "$1" "$NET" "$2"
	printf '"mtu":1400,"dataDir":"%s"%s}' "$DATA" "$3"
}

# ---------------------------------------------------------------------------------------
# The CNI driver. The plugin runs inside the node namespace with nothing in its environment
# but the CNI_* variables, every one set (empty when unused), as libcni does.
#
#   cni CMD ID NETNS IFNAME CONF [ARGS]   sets RC, OUT (stdout) and ERR (stderr); stderr is
#                                         also appended to $TMP/plugin.log
#   cni_env CONF VAR=VALUE...             the same with exactly the given environment
#   cni_save TAG CMD ID ...               cni, then RC and OUT kept in $TMP/res/TAG.* for
#                                         background use; cni_load TAG reads them back
#   cni_bg TAG CMD ID NETNS IFNAME CONF   start the plugin in the background with no wrapper
#                                         in between: BGPID is the plugin's own pid once
#                                         ip and env have exec'd into it; stdout goes to
#                                         $TMP/bg.TAG.out; bg_wait waits for it

_cni_env() {
	CNIENV=(CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_NETNS="$3" CNI_IFNAME="$4"
		CNI_PATH=/opt/cni/bin:/usr/lib/cni CNI_ARGS="$5")
}

cni_env() {
	local conf=$1 f=$TMP/cni.$BASHPID
	shift
	printf '%s' "$conf" >"$f.in"
	pretty node "$* virgil <<< '${conf:0:100}$([ ${#conf} -le 100 ] || echo ...)'"
	RC=0
	if [ "$HUNG" -ge 3 ]; then
		RC=124 OUT= ERR="not run: the plugin hung 3 times already"
		rm -f "$f.in"
		pretty "" "  -> $ERR"
		return
	fi
	timeout -k 2 "$CNI_TMO" ip netns exec "$NODE" env -i "$@" "$VIRGIL" \
		<"$f.in" >"$f.out" 2>"$f.err" || RC=$?
	[ $RC -ne 124 ] && [ $RC -ne 137 ] || HUNG=$((HUNG + 1))
	OUT=$(<"$f.out")
	ERR=$(<"$f.err")
	cat "$f.err" >>"$TMP/plugin.log"
	rm -f "$f.in" "$f.out" "$f.err"
	pretty "" "  -> exit $RC${OUT:+ stdout $OUT}"
}

cni() {
	_cni_env "$1" "$2" "$3" "$4" "$6"
	cni_env "$5" "${CNIENV[@]}"
}

cni_save() {
	local tag=$1
	shift
	mkdir -p "$TMP/res"
	cni "$@"
	printf '%s' "$RC" >"$TMP/res/$tag.rc"
	printf '%s' "$OUT" >"$TMP/res/$tag.out"
}

cni_load() {
	RC=$(<"$TMP/res/$1.rc")
	OUT=$(<"$TMP/res/$1.out")
}

cni_bg() {
	local tag=$1
	shift
	_cni_env "$1" "$2" "$3" "$4" ""
	printf '%s' "$5" >"$TMP/bg.$tag.in"
	pretty node "${CNIENV[*]} virgil & (background)"
	ip netns exec "$NODE" env -i "${CNIENV[@]}" "$VIRGIL" \
		<"$TMP/bg.$tag.in" >"$TMP/bg.$tag.out" 2>>"$TMP/plugin.log" &
	BGPID=$!
}

# bg_wait: wait for BGPID, at most CNI_TMO seconds; KRC is its exit status, 124 when it had
# to be killed. A sleep is the watchdog, so the wait itself costs no polling.
bg_wait() {
	local wd id=
	sleep "$CNI_TMO" &
	wd=$!
	KRC=0
	wait -n -p id "$BGPID" "$wd" || KRC=$?
	if [ "$id" = "$BGPID" ]; then
		kill "$wd" 2>/dev/null || true
		wait "$wd" 2>/dev/null || true
	else
		kill -9 "$BGPID" 2>/dev/null || true
		wait "$BGPID" 2>/dev/null || true
		KRC=124
	fi
}

# expect_ok "what" [empty]: the last call exited 0 with one JSON object on stdout, or with
# nothing on stdout when "empty" is given (DEL, CHECK, STATUS, GC).
expect_ok() {
	local shape
	if [ "$2" = empty ]; then
		[ -z "$OUT" ] && shape=ok || shape="!stdout not empty: $OUT"
	else
		shape=$(json_one "$OUT")
	fi
	if [ "$RC" = 0 ] && [ "$shape" = ok ]; then
		pass "$1"
	else
		[ "$shape" = ok ] && shape=$OUT
		fail "$1: exit $RC, stdout: $shape; stderr: $(tail -n 3 <<<"$ERR")"
	fi
}

# expect_err "what" CODE: exit status 1 and exactly one error object with that code.
expect_err() {
	local got
	got=$(err_code "$OUT")
	if [ "$RC" = 1 ] && [ "$got" = "$2" ]; then
		pass "$1: error $2"
	else
		fail "$1: want exit 1 and code $2, got exit $RC and $got (stdout '$OUT')"
	fi
}

# err_in CODE...: the wanted code for expect_err where the contract allows several: the
# last answer's code when it is one of them, else the first.
err_in() {
	local c got
	got=$(err_code "$OUT")
	for c; do
		[ "$got" = "$c" ] && { echo "$c"; return; }
	done
	echo "$1"
}

# ---------------------------------------------------------------------------------------
# Probes. Lists come one item per line, sorted; "words" joins them with spaces.

words() { tr '\n' ' ' | sed 's/ $//'; }

_link_names() { awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep -vx lo | sort || true; }
node_links() { node ip -o link show | _link_names; }
host_veths() { node_links | grep '^vg' || true; }
pod_links() { pod "$1" ip -o link show | _link_names; }
host_vg_links() { ip -o link show | _link_names | grep '^vg' | words || true; }

routes86() { node ip "-$1" route show proto 86; }

# Lease files: every name in the store but the lock, the round-robin hints and dot files.
lease_files() {
	local f
	for f in "$STORE"/*; do
		[ -e "$f" ] || [ -L "$f" ] || continue
		f=${f##*/}
		case $f in
		lock | last.*) ;;
		*) echo "$f" ;;
		esac
	done | sort
}

# lease_count [PATTERN]: lease files whose name matches (grep) PATTERN: '\.' IPv4, ':' IPv6
lease_count() { lease_files | grep -c "${1:-.}" || true; }

# leases_of ID [IFNAME]: the addresses leased to (ID, IFNAME).
leases_of() {
	local f a b
	for f in $(lease_files); do
		{ read -r a; read -r b; } <"$STORE/$f" || true
		[ "$a" = "$1" ] && { [ -z "$2" ] || [ "$b" = "$2" ]; } && echo "$f"
	done
	true
}

tmp_files() { ls -A "$STORE" 2>/dev/null | grep '^\.tmp\.' || true; }

our_netns() { ip netns list | awk '{ print $1 }' | grep "^$PFX" || true; }

# ---------------------------------------------------------------------------------------
# The end. account runs last in each script: everything the run created was destroyed.

account() {
	local ns pids=
	pretty "" "closing accounting"
	is "no background job still running" "$(jobs -rp | words)" ""
	for ns in $(our_netns); do
		pids+="$(ip netns pids "$ns" | words) "
	done
	is "no process left in the run's namespaces" "$(echo $pids)" ""
	is "no link but lo left in the node" "$(node_links | words)" ""
	is "no route with proto 86 left in the node" "$(routes86 4; routes86 6)" ""
	is "no lease left in the store" "$(lease_files | words)" ""
	is "no temporary file left in the store" "$(tmp_files | words)" ""
	DONE=1
}

cleanup() {
	local p ns
	for p in $(jobs -p); do
		kill -9 "$p" 2>/dev/null
	done
	# grandchildren of background subshells (timeout, the plugin) live in our namespaces
	for ns in $(our_netns); do
		for p in $(ip netns pids "$ns"); do
			kill -9 "$p" 2>/dev/null
		done
	done
	wait 2>/dev/null
	for ns in $(our_netns); do
		ip netns del "$ns"
	done
}

on_exit() {
	local rc=$?
	set +e
	trap - ERR
	[ "$DONE" = 1 ] || fail "aborted with exit $rc at ${ABORT_AT:-an unknown command}"
	cleanup
	is "no namespace with the prefix $PFX remains" "$(our_netns | words)" ""
	is "no vg link appeared in the machine's namespace" "$(host_vg_links)" "$HOST_VG0"
	if [ "$FAILED" -ne 0 ] && [ -s "$TMP/plugin.log" ]; then
		echo "# the plugin's last stderr lines:"
		tail -n 40 "$TMP/plugin.log" | sed 's/^/#   /'
	fi
	rm -rf "$TMP"
	printf '# %s: %d ms\n' "${0##*/}" $((($(now_us) - T0) / 1000))
	echo "$PASSED passed, $FAILED failed"
	# a bare exit in a trap would return the status from before the trap
	[ "$FAILED" -eq 0 ] && exit 0
	exit 1
}

# where a set -e abort happened: the line of the test script, whatever function failed
_on_err() {
	local n=${#BASH_SOURCE[@]}
	ABORT_AT="${BASH_SOURCE[n - 1]##*/}:${BASH_LINENO[n - 2]}: $1"
}

trap on_exit EXIT
trap 'exit 130' INT TERM
trap '_on_err "$BASH_COMMAND"' ERR

HOST_VG0=$(host_vg_links)
[ "$(id -u)" = 0 ] || { fail "needs root"; exit 1; }
case ${VIRGIL:-} in
/*) ;;
"") fail "VIRGIL is not set (VIRGIL=\$PWD/build/virgil bash $0)"; exit 1 ;;
*) VIRGIL=$PWD/$VIRGIL ;;
esac
[ -x "$VIRGIL" ] || { fail "$VIRGIL is not executable"; exit 1; }
[ -x "$PY" ] || { fail "$PY is missing"; exit 1; }

# ---------------------------------------------------------------------------------------
# Several nodes (tests of the node agent): every node, router, switch and API server is a
# namespace $PFX<name>; links between them are veths created directly inside the two
# namespaces, so nothing ever appears in the machine's own.
#
#   nsx NAME CMD...               print, then run CMD in $PFX<NAME>
#   veth_ns NS1 IF1 NS2 IF2       a veth pair IF1 (in NS1) <-> IF2 (in NS2), both up
#   pki_make DIR SANS             DIR/ca.pem (+ca.key) and DIR/srv.pem (+srv.key), EC P-256;
#                                 the server certificate names SANS only ("IP:a,IP:b")
#   pid_alive PID                 running (a zombie waiting for us is not)
#   stop_pid PID [SIG] [TMO]      send SIG (TERM) and wait for PID, at most TMO seconds (5),
#                                 then SIGKILL; KRC is its exit status, 124 when killed
#   fakeapi_start NS OUT ARGS...  tests/k8s/fakeapi.py in $PFX<NS>, stdout OUT, stderr
#                                 OUT.err; waits (bounded) for its ready line; FAKE_PID
#   fctl NS METHOD PATH [JSON]    its control API on 127.0.0.1:7000 inside $PFX<NS>

nsx() { local n=$1; shift; pretty "$n" "$*"; _run ip netns exec "$PFX$n" "$@"; }

veth_ns() {
	pp ip link add "$2" netns "$PFX$1" type veth peer name "$4" netns "$PFX$3"
	ip -n "$PFX$1" link set "$2" up
	ip -n "$PFX$3" link set "$4" up
}

pki_make() {
	local d=$1 ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
	pretty "" "openssl: test CA and a server certificate for $2 in $d"
	{
		openssl req -x509 -new -nodes "${ec[@]}" -keyout "$d/ca.key" -out "$d/ca.pem" \
			-days 2 -subj "/CN=virgil test CA" \
			-addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign &&
		printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$2" >"$d/srv.ext" &&
		openssl req -new -nodes "${ec[@]}" -keyout "$d/srv.key" -out "$d/srv.csr" \
			-subj "/CN=kube-apiserver" &&
		openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
			-CAcreateserial -days 1 -extfile "$d/srv.ext" -out "$d/srv.pem"
	} >>"$d/openssl.log" 2>&1
}

pid_alive() {
	case $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) in
	"" | Z) return 1 ;;
	esac
}

stop_pid() {
	local pid=$1 i n=$((${3:-5} * 50))
	kill "-${2:-TERM}" "$pid" 2>/dev/null || true
	for ((i = 0; i < n; i++)); do
		pid_alive "$pid" || break
		sleep 0.02
	done
	pid_alive "$pid" && kill -9 "$pid" 2>/dev/null
	KRC=0
	wait "$pid" 2>/dev/null || KRC=$?
	[ "$i" -lt "$n" ] || KRC=124
}

fakeapi_start() {
	local ns=$1 out=$2 i
	shift 2
	pretty "$ns" "fakeapi.py $* &"
	ip netns exec "$PFX$ns" "$PY" "$(dirname "${BASH_SOURCE[0]}")/../k8s/fakeapi.py" "$@" \
		>"$out" 2>"$out.err" &
	FAKE_PID=$!
	for ((i = 0; i < 500; i++)); do
		grep -q '^fakeapi: listening on ' "$out" && return 0
		pid_alive "$FAKE_PID" || break
		sleep 0.02
	done
	tail -n 20 "$out.err" | sed 's/^/#   /'
	return 1
}

fctl() {
	ip netns exec "$PFX$1" "$PY" "$(dirname "${BASH_SOURCE[0]}")/../k8s/kclient.py" ctl \
		http://127.0.0.1:7000 "${@:2}"
}
