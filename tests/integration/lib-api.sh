# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# lib-api.sh - helpers for the API socket and port-forwarding tests
# (test-api-*.sh, test-publish.sh). Source it after lib.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/lib-api.sh"
#
#   api MODE JSON           one request through tests/helpers/apiclient
#                           (podman | rootlesskit | newline); the reply in
#                           API_REPLY, the client's status in API_RC
#   api_expect JSON REPLY WHAT   RootlessKit's way, reply compared byte for byte
#   api_add ARGS-JSON       add_hostfwd; API_ID (and API_PORT if ephemeral)
#   api_remove ID           remove_hostfwd, must succeed
#   ns_server PID KIND PORT [ADDR]
#                           a server inside the namespace of holder PID:
#                           tcp-echo, udp-echo (socat), listening when it
#                           returns; its pid in NS_SERVER_PID
#   host_tcp_roundtrip HOST PORT SIZE   SIZE random bytes to HOST:PORT (from
#                           the host side) and back through an echo server
#   host_udp_roundtrip HOST PORT SIZE   one datagram there and back
#   unix_roundtrip PATH SIZE            the same through a UNIX socket
#   host_port_closed HOST PORT          nothing accepts TCP there
#   listen_backlog PORT     Send-Q of the TCP listener on PORT (its backlog)

API_CLIENT=
API_SOCK=

api_init() {
	API_CLIENT=$(helper apiclient)
}

# api MODE JSON [SOCKET]
api() {
	local mode=$1 json=$2 sock=${3:-$API_SOCK}
	API_RC=0
	API_REPLY=$(APICLIENT_TIMEOUT=${APICLIENT_TIMEOUT:-10} "$API_CLIENT" "$mode" "$sock" "$json" 2>"$T/apiclient.err") || API_RC=$?
	if [ "$API_RC" != 0 ] && [ "$API_RC" != 3 ]; then
		info "apiclient $mode: status $API_RC: $(cat "$T/apiclient.err")"
	fi
}

# api_expect JSON REPLY WHAT: RootlessKit's framing, exact reply
api_expect() {
	api rootlesskit "$1"
	[ "$API_RC" = 0 ] || fail "$3: apiclient status $API_RC"
	assert_eq "$2" "$API_REPLY" "$3"
}

# api_stat FIELD: FIELD of get_info's stats
api_stat() {
	api rootlesskit '{"execute":"get_info"}'
	jq -r ".return.stats.$1" <<<"$API_REPLY"
}

# api_add ARGS: add_hostfwd with the "arguments" object ARGS; sets API_ID and,
# for an ephemeral port, API_PORT
api_add() {
	api rootlesskit "{\"execute\":\"add_hostfwd\",\"arguments\":$1}"
	API_ID=$(printf '%s' "$API_REPLY" | sed -n 's/^{"return":{"id":\([0-9]*\).*/\1/p')
	# shellcheck disable=SC2034 # for the caller
	API_PORT=$(printf '%s' "$API_REPLY" | sed -n 's/.*"host_port":\([0-9]*\)}}$/\1/p')
	[ -n "$API_ID" ] || fail "add_hostfwd $1: $API_REPLY"
}

# sandboxed: the suite runs with --enable-sandbox (SLIRPD_TEST_EXTRA_ARGS):
# UNIX-socket forwards can then only come from --publish
sandboxed() {
	[[ " ${SLIRPD_TEST_EXTRA_ARGS:-} " == *" --enable-sandbox "* ]]
}

# api_add_unix_refused ARGS: a run-time unix: add is refused in the sandbox
api_add_unix_refused() {
	api rootlesskit "{\"execute\":\"add_hostfwd\",\"arguments\":$1}"
	assert_contains "$API_REPLY" "with the sandbox on, unix: forwards can only be given with --publish" \
		"sandbox: a run-time unix: forward is refused with a clear error"
}

api_remove() {
	api rootlesskit "{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":$1}}"
	assert_eq '{"return":{}}' "$API_REPLY" "remove_hostfwd id $1"
}

_ns_listening() { # PID tcp|udp PORT
	local flag=-Htln
	[ "$2" = udp ] && flag=-Huln
	[ -n "$(ns_exec "$1" ss "$flag" "sport = :$3" 2>/dev/null)" ]
}

# ns_server PID KIND PORT [ADDR]: KIND tcp-echo | udp-echo | tcp-hello
ns_server() {
	local pid=$1 kind=$2 port=$3 addr=${4:-} proto=tcp fam=4 bind=()
	case $addr in
	*:*) fam=6; bind=(",bind=[$addr]") ;;
	?*) bind=(",bind=$addr") ;;
	esac
	[ -z "$addr" ] && [ "$kind" != udp-echo ] && fam=6 # both families
	_ns_prefix "$pid"
	case $kind in
	tcp-echo)
		spawn --log "$T/ns-$kind.$port.svc.log" "${NS_PREFIX[@]}" timeout "${SVC_LIFETIME:-120}" \
			socat -T 30 "TCP$fam-LISTEN:$port${bind[*]},reuseaddr,fork,backlog=1024" EXEC:cat ;;
	tcp-hello)
		spawn --log "$T/ns-$kind.$port.svc.log" "${NS_PREFIX[@]}" timeout "${SVC_LIFETIME:-120}" \
			socat -T 30 "TCP$fam-LISTEN:$port${bind[*]},reuseaddr,fork,backlog=1024" "SYSTEM:echo hello-$port" ;;
	udp-echo)
		proto=udp
		[ "$fam" = 6 ] || fam=4
		spawn --log "$T/ns-$kind.$port.svc.log" "${NS_PREFIX[@]}" timeout "${SVC_LIFETIME:-120}" \
			socat -T 5 "UDP$fam-RECVFROM:$port${bind[*]},fork" EXEC:cat ;;
	*) fail "ns_server: unknown kind $kind" ;;
	esac
	# shellcheck disable=SC2034 # for the caller
	NS_SERVER_PID=$SPAWN_PID
	wait_for -t 10 _ns_listening "$pid" "$proto" "$port" ||
		fail "ns_server $kind :$port did not start: $(cat "$T/ns-$kind.$port.svc.log")"
}

# host_tcp_roundtrip HOST PORT SIZE: through a tcp-echo server
host_tcp_roundtrip() { ns_tcp_roundtrip host "$@"; }

# host_udp_roundtrip HOST PORT SIZE: one datagram through a udp-echo server
host_udp_roundtrip() { ns_udp_roundtrip host "$@"; }

# unix_roundtrip PATH SIZE: through a tcp-echo server behind a unix: forward
unix_roundtrip() {
	local path=$1 size=$2 in out rc=0
	in=$T/hunix.$RANDOM.in
	out=$in.out
	payload "$in" "$size"
	timeout 30 socat -t 20 -T 20 - "UNIX-CONNECT:$path" <"$in" >"$out" 2>"$out.err" || rc=$?
	if [ "$rc" != 0 ] || ! cmp -s "$in" "$out"; then
		echo "unix $path: status $rc, sent $size bytes, got back $(stat -c %s "$out"): $(head -c 300 "$out.err")"
		return 1
	fi
}

# host_port_closed HOST PORT: a TCP connect is refused
host_port_closed() {
	local host=$1 fam=4
	case $host in *:*) host="[$host]"; fam=6 ;; esac
	! timeout 5 socat -T 2 /dev/null "TCP$fam:$host:$2,connect-timeout=3" 2>/dev/null
}

# listen_backlog PORT: the backlog of the TCP listener on PORT (ss's Send-Q)
listen_backlog() {
	ss -Htln "sport = :$1" | awk '{ print $3; exit }'
}
