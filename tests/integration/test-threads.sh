#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-threads.sh - shards run by worker threads (--threads, src/stackthread.c):
#   1  bad --threads values, and more threads than shards, are refused
#   2  --threads=4: four threads; get_info says so
#   3  300 namespace -> host connections at once (every thread's shards),
#      each echoing twice; get_connections, asked while they are open,
#      lists every one (the API stops the workers to read their shards)
#   4  IPv6: 100 connections at once
#   5  200 host clients through a forward on libslirp's path (shard 0, in
#      the main thread; the namespace's answers come back to it)
#   6  four 4 MB transfers at once, each echoed intact, while 30 API
#      requests are answered
#   7  UDP, ICMP echo to the gateway
#   8  with --enable-sandbox --enable-seccomp: every thread has the same
#      (reduced) capabilities and the filter, and traffic still flows
#   9  --exit-fd ends the daemon and its threads, status 0
# in a private network namespace whose loopback is "the host".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
. "$(dirname "$0")/lib-conns.sh"
enter_private_host_ns "$@"

require_root
require_cmd ip nsenter unshare ss jq sysctl
is_slirpd || skip "slirpd-only: --threads"
require_python
api_init
API_SOCK=$T/api.sock
conns_init
cp "$(dirname "$0")/policyprobe.py" "$T/probe.py"
chmod 644 "$T/probe.py"
# libslirp's echo requests go out on ICMP datagram sockets
sysctl -qw net.ipv4.ping_group_range="0 2147483647"

_threads() { ls "/proc/$DAEMON_PID/task" | wc -l; }
# one field of /proc/PID/task/TID/status, for every thread, sorted, unique
_task_field() {
	local t
	for t in /proc/"$DAEMON_PID"/task/*; do
		awk -v f="$1:" '$1 == f { print $2 }' "$t/status"
	done | sort -u
}

# 1
for bad in 0 65 x -1; do
	run_cli --threads=$bad 1 tap0
	assert_eq 1 "$CLI_RC" "1: --threads=$bad exits 1"
	assert_contains "$CLI_OUT$CLI_ERR" "--threads must be a number from 1 to 64: $bad" \
		"1: --threads=$bad says why"
done
run_cli --threads=5 --shards=4 1 tap0
assert_eq 1 "$CLI_RC" "1: --threads=5 --shards=4 exits 1"
assert_contains "$CLI_OUT$CLI_ERR" "--threads=5 needs as many shards at least (--shards=4)" \
	"1: more threads than shards says why"

# 2
NS=$(ns_start)
daemon_start --exit-fd 4 -- -c -6 --shards=8 --threads=4 --forward-path=slirp \
	--api-socket "$API_SOCK" "$NS" tap0
_ns_prefix "$NS"
assert_eq 4 "$(api_stat threads)" "2: get_info: 4 threads"
assert_eq 8 "$(api_stat shards)" "2: get_info: 8 shards"
assert_eq 4 "$(_threads)" "2: the daemon runs 4 threads"

# 3
conns_echo_host 127.0.0.1
p=$CONNS_PORT
conns_open 3 many4 300 ns 10.0.2.2 "$p"
n=$(conns_established "$p")
[ "$n" -ge 300 ] || fail "3: get_connections lists $n of 300 connections"
ok "3: get_connections lists all 300 ($n)"
conns_check 3 many4 300

# 4
wait_for -t 10 "${NS_PREFIX[@]}" sh -c "ip -6 addr show dev tap0 | grep -q 'scope global'" ||
	fail "4: no IPv6 address on tap0"
conns_echo_host ::1
conns_open 4 many6 100 ns fd00::2 "$CONNS_PORT"
conns_check "4: IPv6" many6 100

# 5
conns_echo_ns "$NS" 81
conns_forward 81
conns_open 5 manyf 200 host 127.0.0.1 "$CONNS_PORT"
conns_check "5: forwarded" manyf 200

# 6
svc_start tcp-echo
pids=()
for i in 1 2 3 4; do
	(ns_tcp_roundtrip "$NS" 10.0.2.2 "$SVC_PORT" 4000000 >"$T/bulk.$i.err" 2>&1;
	 echo $? >"$T/bulk.$i.rc") &
	pids+=($!)
done
answered=0
for ((i = 0; i < 30; i++)); do
	[ "$(api_stat threads)" = 4 ] && answered=$((answered + 1))
done
for pid in "${pids[@]}"; do wait "$pid" || true; done
for i in 1 2 3 4; do
	assert_eq 0 "$(cat "$T/bulk.$i.rc")" "6: transfer $i of 4 MB echoed intact $(cat "$T/bulk.$i.err")"
done
assert_eq 30 "$answered" "6: 30 API requests answered during the transfers"

# 7
svc_start udp-echo
ns_udp_roundtrip "$NS" 10.0.2.2 "$SVC_PORT" 1000 || fail "7: UDP"
ok "7: UDP through the threads' shards"
out=$(ns_exec -t 10 "$NS" "$PY" "$T/probe.py" icmp 10.0.2.2)
assert_eq reply "${out%% *}" "7: ICMP echo to the gateway answered"

# 9 (this daemon)
daemon_close_exit_fd
daemon_wait_exit 10 || fail "9: the daemon did not exit on --exit-fd"
assert_eq 0 "$DAEMON_STATUS" "9: exit status 0"

# 8
NS2=$(ns_start)
daemon_start -- -c --shards=4 --threads=3 --enable-sandbox --enable-seccomp \
	--api-socket "$T/api2.sock" "$NS2" tap0
assert_eq 3 "$(_threads)" "8: three threads in the sandbox"
caps=$(_task_field CapEff)
assert_eq 1 "$(wc -l <<<"$caps")" "8: every thread has the same capabilities ($caps)"
assert_eq "$(awk '$1 == "CapEff:" { print $2 }' "/proc/$DAEMON_PID/status")" "$caps" \
	"8: the workers have the main thread's capabilities"
assert_eq 2 "$(_task_field Seccomp)" "8: every thread runs under the seccomp filter"
assert_eq 1 "$(_task_field NoNewPrivs)" "8: every thread has no_new_privs"
svc_start tcp-echo
ns_tcp_roundtrip "$NS2" 10.0.2.2 "$SVC_PORT" 1000000 || fail "8: TCP in the sandbox"
_ns_prefix "$NS2"
conns_open 8 many8 50 ns 10.0.2.2 "$p"
conns_check "8: in the sandbox, over three threads," many8 50
daemon_stop_ok "8: SIGTERM ends the sandboxed daemon and its threads:"
