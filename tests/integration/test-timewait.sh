#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-timewait.sh - libslirp's TIME_WAIT ended at once (src/timewait.c) for
# connections whose host side closed first, through a real libslirp:
#   1  500 namespace -> host connections, each answered and closed by the
#      host server: every one ends cleanly in the namespace (EOF, no reset),
#      get_info counts them reset, get_connections shows no TIME_WAIT socket
#      and the daemon holds no more fds than before
#   2  the same over IPv6 (fd00::2)
#   3  a host client that closes first through a libslirp port forward
#      (wildcard address): its sockets end the same way
#   4  half-close with bytes still in libslirp's buffer: the host server
#      closes its side first and reads slowly (small buffer); 16 MB the
#      namespace sends after that arrive whole (SHA-256) and end with EOF,
#      not a reset
# in a private network namespace whose loopback is "the host".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
enter_private_host_ns "$@"

require_root
require_cmd ip nsenter unshare ss jq sha256sum
is_slirpd || skip "slirpd-only: TIME_WAIT reaping"
require_python
api_init
API_SOCK=$T/api.sock

# the TCP peers: a copy the namespace's user can read
cp "$(dirname "$0")/shortconn.py" "$T/sc.py"
chmod 644 "$T/sc.py"

_time_waits() {
	api rootlesskit '{"execute":"get_connections"}'
	jq '[.return.connections[] | select(.state == "TIME_WAIT")] | length' <<<"$API_REPLY"
}
_up() { ss -Htln "sport = :$1" | grep -q .; }

NS=$(ns_start)
daemon_start --exit-fd 4 -- -c -6 --api-socket "$API_SOCK" "$NS" tap0
_ns_prefix "$NS"
fds0=$(daemon_fds)

# 1
p=$(free_port tcp)
spawn --log "$T/ac4.log" timeout 300 "$PY" "$T/sc.py" answer-close 127.0.0.1 "$p"
wait_for -t 10 _up "$p" || fail "host server"
out=$("${NS_PREFIX[@]}" timeout 150 "$PY" "$T/sc.py" client 10.0.2.2 "$p" 500 server)
assert_eq "500 0" "$out" "1: 500 connections closed by the host end cleanly in the namespace"
r1=$(api_stat timewait_reset)
[ "$r1" -ge 500 ] || fail "1: only $r1 TIME_WAIT sockets were reset"
ok "1: $r1 TIME_WAIT sockets ended at once"
assert_eq 0 "$(_time_waits)" "1: no socket is left in TIME_WAIT"
fds=$(daemon_fds)
[ "$fds" -le $((fds0 + 4)) ] || fail "1: the daemon holds $fds fds (was $fds0)"
ok "1: the daemon holds $fds fds (was $fds0 before the 500 connections)"

# 2
p6=$(free_port tcp)
spawn --log "$T/ac6.log" timeout 300 "$PY" "$T/sc.py" answer-close ::1 "$p6"
wait_for -t 10 _up "$p6" || fail "host server (IPv6)"
wait_for -t 10 "${NS_PREFIX[@]}" sh -c "ip -6 addr show dev tap0 | grep -q 'scope global'" ||
	fail "2: no IPv6 address on tap0"
out=$("${NS_PREFIX[@]}" timeout 150 "$PY" "$T/sc.py" client fd00::2 "$p6" 100 server)
assert_eq "100 0" "$out" "2: IPv6: 100 connections closed by the host end cleanly"
r2=$(api_stat timewait_reset)
[ "$r2" -ge $((r1 + 100)) ] || fail "2: IPv6: only $((r2 - r1)) reset"
ok "2: IPv6: $((r2 - r1)) TIME_WAIT sockets ended at once"
assert_eq 0 "$(_time_waits)" "2: no socket is left in TIME_WAIT"

# 3
pf=$(free_port tcp)
spawn --log "$T/wc.log" timeout 300 "${NS_PREFIX[@]}" "$PY" "$T/sc.py" wait-close 0.0.0.0 81
wait_for -t 10 _ns_listening "$NS" tcp 81 || fail "3: server in the namespace"
api_add "{\"proto\":\"tcp\",\"host_addr\":\"0.0.0.0\",\"host_port\":$pf,\"guest_port\":81}"
out=$(timeout 150 "$PY" "$T/sc.py" client 127.0.0.1 "$pf" 200 client)
assert_eq "200 0" "$out" "3: 200 connections through a libslirp forward, closed by the host client"
# the last close completes a moment after the client's: the reaper may
# come an iteration later
_reset_at_least() { [ "$(api_stat timewait_reset)" -ge "$1" ]; }
wait_for -t 5 _reset_at_least $((r2 + 200)) || true
r3=$(api_stat timewait_reset)
[ "$r3" -ge $((r2 + 200)) ] || fail "3: only $((r3 - r2)) reset"
ok "3: $((r3 - r2)) TIME_WAIT sockets of the forward ended at once"
assert_eq 0 "$(_time_waits)" "3: no socket is left in TIME_WAIT"

# 4 (with small host send buffers, which make libslirp's own buffer hold
# bytes when the namespace's FIN comes, libslirp 4.7 itself loses the tail
# of the stream, slirp4netns included: the wait for the drain is therefore
# checked in test-timewait.c with libslirp's listing)
ph=$(free_port tcp)
spawn --log "$T/hs.log" timeout 120 "$PY" "$T/sc.py" halfclose-server 127.0.0.1 "$ph" "$T/hs.out"
hs=$SPAWN_PID
wait_for -t 10 _up "$ph" || fail "4: host server"
want=$("${NS_PREFIX[@]}" timeout 100 "$PY" "$T/sc.py" halfclose-client 10.0.2.2 "$ph")
wait_for -t 60 test -s "$T/hs.out" || fail "4: the host server did not finish: $(cat "$T/hs.log")"
assert_eq "$want EOF" "$(cat "$T/hs.out")" \
	"4: 16 MB sent after the host's FIN arrive whole, then EOF"
r4=$(api_stat timewait_reset)
[ "$r4" -gt "$r3" ] || fail "4: the half-closed connection was not reset after its close"
ok "4: and its TIME_WAIT ended at once"
kill_wait "$hs"

daemon_stop
ok "timewait"
