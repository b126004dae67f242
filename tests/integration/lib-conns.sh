# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# lib-conns.sh - many connections at once through one daemon (shortconn.py
# "many"), for the tests of its shards and threads. Sourced after lib.sh and
# lib-api.sh, once a daemon runs with its API socket and _ns_prefix is set:
#
#   conns_init                     shortconn.py into the temp dir
#   conns_echo_host ADDR           an echo server on the host: CONNS_PORT
#   conns_echo_ns NS PORT          an echo server in the namespace
#   conns_forward GUEST_PORT       a TCP forward 127.0.0.1:CONNS_PORT -> it
#   conns_open CASE NAME N ns|host ADDR PORT [HOLD]
#                                  N connections at once, each to echo
#                                  twice, HOLD seconds apart (default 3);
#                                  returns once all are open
#   conns_established PORT         how many libslirp lists as ESTABLISHED
#   conns_check CASE NAME N        they finished, every one echoed
# shellcheck disable=SC2034 # CONNS_PORT is read by the tests

conns_init() {
	cp "$(dirname "$0")/shortconn.py" "$T/sc.py"
	chmod 644 "$T/sc.py"
}

_conns_up() { ss -Htln "sport = :$1" | grep -q .; }
_conns_opened() { grep -q '^open' "$1" 2>/dev/null; }
_conns_done() { [ "$(wc -l <"$1" 2>/dev/null)" -ge 2 ]; }

conns_echo_host() {
	CONNS_PORT=$(free_port tcp)
	spawn --log "$T/echo.$CONNS_PORT.log" timeout 300 "$PY" "$T/sc.py" echo "$1" "$CONNS_PORT"
	wait_for -t 10 _conns_up "$CONNS_PORT" || fail "echo server on the host at $1"
}

conns_echo_ns() {
	spawn --log "$T/nsecho.$2.log" "${NS_PREFIX[@]}" timeout 300 "$PY" "$T/sc.py" echo 0.0.0.0 "$2"
	wait_for -t 10 _ns_listening "$1" tcp "$2" || fail "echo server in the namespace"
}

conns_forward() {
	CONNS_PORT=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$CONNS_PORT,\"guest_port\":$1}"
}

conns_open() {
	local c=$1 name=$2 n=$3 pre=()
	[ "$4" = ns ] && pre=("${NS_PREFIX[@]}")
	spawn --log "$T/$name.out" "${pre[@]}" timeout 120 "$PY" "$T/sc.py" many "$5" "$6" "$n" "${7:-3}"
	wait_for -t 60 _conns_opened "$T/$name.out" ||
		fail "$c: $n connections did not open: $(cat "$T/$name.out")"
}

conns_established() {
	api rootlesskit '{"execute":"get_connections"}'
	jq "[.return.connections[] | select(.state == \"ESTABLISHED\" and
		(.dst_port == $1 or .src_port == $1))] | length" <<<"$API_REPLY"
}

conns_check() {
	wait_for -t 60 _conns_done "$T/$2.out" || fail "$1: the client did not finish"
	assert_eq "$3 0" "$(tail -1 "$T/$2.out")" "$1: $3 connections at once, each echoed twice"
}
