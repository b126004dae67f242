#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-shards.sh - flows spread over several libslirp instances (--shards,
# src/steer.c), through a real libslirp:
#   1  bad --shards values are refused with a clear message
#   2  300 namespace -> host connections open at once, each echoing twice:
#      all carry data, get_connections lists every one (from every shard)
#   3  the same over IPv6 (fd00::2), 100 connections
#   4  200 host clients at once through a port forward on libslirp's path:
#      libslirp's shard 0 starts those flows and the namespace's answers
#      must come back to it (the steering table), so every one echoes
#   5  300 idle connections: libslirp's slow timer runs in every shard,
#      but the shards' sockets are not listed again after it (a fill per
#      shard and slow timer, 2 a second, before)
#   6  UDP and a TCP bulk transfer still go through; one ARP answer only
#   7  instances start on demand: an idle daemon with 32 shards holds no
#      more anonymous memory than one with 1 (32 instances at start: about
#      +400 KiB)
# in a private network namespace whose loopback is "the host".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
. "$(dirname "$0")/lib-conns.sh"
enter_private_host_ns "$@"

require_root
require_cmd ip nsenter unshare ss jq
is_slirpd || skip "slirpd-only: --shards"
require_python
api_init
API_SOCK=$T/api.sock
conns_init

# 1
for bad in 0 65 x -1; do
	run_cli --shards=$bad 1 tap0
	assert_eq 1 "$CLI_RC" "1: --shards=$bad exits 1"
	assert_contains "$CLI_OUT$CLI_ERR" "--shards must be a number from 1 to 64: $bad" \
		"1: --shards=$bad says why"
done

NS=$(ns_start)
daemon_start --exit-fd 4 -- -c -6 --shards=8 --forward-path=slirp \
	--api-socket "$API_SOCK" "$NS" tap0
_ns_prefix "$NS"
assert_eq 8 "$(api_stat shards)" "get_info: 8 shards"

# 2
conns_echo_host 127.0.0.1
p=$CONNS_PORT
conns_open 2 many4 300 ns 10.0.2.2 "$p"
n=$(conns_established "$p")
[ "$n" -ge 300 ] || fail "2: get_connections lists $n of 300 connections"
ok "2: get_connections lists all 300 ($n)"
s=$(api_stat slirp_sockets)
[ "$s" -ge 300 ] || fail "2: the shards poll $s sockets, not the 300 connections"
conns_check 2 many4 300

# 3
wait_for -t 10 "${NS_PREFIX[@]}" sh -c "ip -6 addr show dev tap0 | grep -q 'scope global'" ||
	fail "3: no IPv6 address on tap0"
conns_echo_host ::1
conns_open 3 many6 100 ns fd00::2 "$CONNS_PORT"
conns_check "3: IPv6" many6 100

# 4
conns_echo_ns "$NS" 81
conns_forward 81
conns_open 4 manyf 200 host 127.0.0.1 "$CONNS_PORT"
f=$(api_stat steered_flows)
[ "$f" -ge 100 ] || fail "4: the steering table holds $f flows of shard 0 (expected most of 200)"
ok "4: the steering table holds $f of the 200 forwarded flows"
conns_check "4: forwarded" manyf 200
assert_eq 0 "$(api_stat steer_full)" "4: no flow found the table full"

# 5 (before any UDP: a shard that passed a datagram in the last 250 s
# fills after every poll, for libslirp's UDP expiry)
conns_open 5 idle 300 ns 10.0.2.2 "$p" 8
sleep 1
# an API call marks every shard touched (8 fills after it), and may wake
# them for a delayed ACK: one call at each end
api rootlesskit '{"execute":"get_info"}'
f0=$(jq -r .return.stats.slirp_fills <<<"$API_REPLY")
p0=$(jq -r .return.stats.slirp_polls <<<"$API_REPLY")
sleep 4
api rootlesskit '{"execute":"get_info"}'
f1=$(jq -r .return.stats.slirp_fills <<<"$API_REPLY")
p1=$(jq -r .return.stats.slirp_polls <<<"$API_REPLY")
info "5: 4 idle seconds: $((f1 - f0)) fills, $((p1 - p0)) polls"
[ $((p1 - p0)) -ge 32 ] || fail "5: the slow timers ran $((p1 - p0)) times, not 2 a second in each shard"
# the first call's fills and wake-ups (16), a round of finwait.c per shard
# after the FINs of 4 (8); 80 or so when a fill followed every slow timer
[ $((f1 - f0)) -le 32 ] || fail "5: $((f1 - f0)) fills in 4 idle seconds"
ok "5: $((f1 - f0)) fills in 4 idle seconds (slow timers: $((p1 - p0)) polls)"
conns_check "5: idle, then echoing again:" idle 300

# 6
svc_start udp-echo
ns_udp_roundtrip "$NS" 10.0.2.2 "$SVC_PORT" 1000 || fail "6: UDP"
ok "6: UDP through the shards"
svc_start tcp-echo
ns_tcp_roundtrip "$NS" 10.0.2.2 "$SVC_PORT" 4000000 || fail "6: TCP bulk"
ok "6: 4 MB echoed through one shard"
n=$("${NS_PREFIX[@]}" ip -4 neigh show dev tap0 | grep -c '10.0.2.2 ' || true)
assert_eq 1 "$n" "6: one neighbour entry for the gateway"

daemon_close_exit_fd
daemon_wait_exit 10 || fail "the daemon did not exit on --exit-fd"
assert_eq 0 "$DAEMON_STATUS" "exit status 0"

# 7 (RSS: not under a sanitizer, whose allocator sets it)
_anon() { awk '/^RssAnon/ { print $2 }' "/proc/$DAEMON_PID/status"; }
declare -A anon
for k in 1 32; do
	NS=$(ns_start)
	daemon_start -- -c --shards=$k "$NS" tap0
	sleep 1
	anon[$k]=$(_anon)
	daemon_stop_ok "7: --shards=$k"
done
info "7: anonymous RSS when idle: ${anon[1]} KiB with 1 shard, ${anon[32]} KiB with 32"
if [ -z "${SLIRPD_SANITIZED:-}" ]; then
	[ "${anon[32]}" -le $((anon[1] + 64)) ] ||
		fail "7: 32 shards idle hold ${anon[32]} KiB, 1 shard ${anon[1]} KiB"
	ok "7: 32 idle shards cost $((anon[32] - anon[1])) KiB more than 1"
fi
