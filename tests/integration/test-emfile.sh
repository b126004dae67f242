#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-emfile.sh - the daemon out of file descriptors (its RLIMIT_NOFILE
# lowered with prlimit, then used up by connections through a libslirp port
# forward, whose listener is level-triggered and whose accept() fails):
#   0  at start the daemon raises its soft RLIMIT_NOFILE to the hard limit
#   1  it logs the condition once, not per event
#   2  it does not spin: CPU time over 2 s while a client waits in the
#      listener's backlog stays below a small bound (a sanity bound, not a
#      speed assertion)
#   3  a connection from the namespace to the host (libslirp's socket()
#      fails) is refused at once, without a loop or another log line
#   4  once the held connections close, the clients that waited (one of
#      the forward, one of the API socket, whose listener rests the same
#      way) are served, and new ones; get_info counts the failed calls
# in a private network namespace whose loopback is "the host".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
enter_private_host_ns "$@"

require_root
require_cmd ip nsenter unshare ss jq prlimit
is_slirpd || skip "slirpd-only: out-of-fds handling of libslirp's listeners"
require_python
api_init
API_SOCK=$T/api.sock

cp "$(dirname "$0")/halfopen.py" "$T/ho.py"
chmod 644 "$T/ho.py"

_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat"; }
_out_of_fds_lines() { grep -c "out of file descriptors" "$DAEMON_LOG" || true; }

NS=$(ns_start)
daemon_start --wrap "prlimit --nofile=256:4096" --exit-fd 4 -- -c --api-socket "$API_SOCK" "$NS" tap0
assert_eq "4096 4096" "$(awk '/^Max open files/ { print $4, $5 }' "/proc/$DAEMON_PID/limits")" \
	"0: started with 256:4096, the daemon's RLIMIT_NOFILE is raised to 4096:4096"
_ns_prefix "$NS"
spawn --log "$T/echo-ns.log" timeout 120 "${NS_PREFIX[@]}" "$PY" "$T/ho.py" echo 0.0.0.0 80 110
wait_for -t 10 _ns_listening "$NS" tcp 80 || fail "server in the namespace"
pf=$(free_port tcp)
api_add "{\"proto\":\"tcp\",\"host_addr\":\"0.0.0.0\",\"host_port\":$pf,\"guest_port\":80,\"path\":\"slirp\"}"
assert_eq "ok" "$(timeout 20 "$PY" "$T/ho.py" roundtrip 127.0.0.1 "$pf" 5)" \
	"a round trip through the libslirp forward"

# room for 20 more fds
lim=$(($(daemon_fds) + 20))
prlimit --pid "$DAEMON_PID" --nofile="$lim:$lim"
ok "the daemon's RLIMIT_NOFILE lowered to $lim"
spawn --log "$T/hold.log" timeout 100 "$PY" "$T/ho.py" hold 127.0.0.1 "$pf" 60 90 "$T/held"
hold=$SPAWN_PID
wait_for -t 60 test -s "$T/held" || fail "the holding client did not finish connecting"
held=$(cat "$T/held")
info "$held connections held; the daemon holds $(daemon_fds) fds (limit $lim)"
[ "$held" -ge 10 ] || fail "only $held connections were made"

# 2 (a client waits in the listener's backlog: readable, accept() fails)
spawn --log "$T/waiter.log" timeout 60 "$PY" "$T/ho.py" roundtrip 127.0.0.1 "$pf" 30
waiter=$SPAWN_PID
spawn --log "$T/api-waiter.log" env APICLIENT_TIMEOUT=30 "$API_CLIENT" rootlesskit "$API_SOCK" '{"execute":"list_hostfwd"}'
api_waiter=$SPAWN_PID
sleep 1
c0=$(_cpu_ticks)
sleep 2
c1=$(_cpu_ticks)
hz=$(getconf CLK_TCK)
cpu_ms=$(((c1 - c0) * 1000 / hz))
info "CPU time of the daemon over 2 s out of fds: $cpu_ms ms"
[ "$cpu_ms" -le 200 ] || fail "2: the daemon used $cpu_ms ms of CPU in 2 s out of fds (it spins)"
ok "2: no busy loop out of fds ($cpu_ms ms of CPU in 2 s)"

# 3
out=$(ns_exec -t 20 "$NS" "$PY" "$T/ho.py" roundtrip 10.0.2.2 "$pf" 10)
[ "$out" != ok ] || fail "3: a connection out of the namespace was made without an fd?"
ok "3: a connection from the namespace is refused at once ($out)"

# 1
assert_eq 1 "$(_out_of_fds_lines)" "1: out of fds is logged once"
assert_eq 1 "$(grep -c "API socket: accept" "$DAEMON_LOG" || true)" \
	"1: the API socket's listener: one line too"
grep -E "out of file descriptors|API socket: accept" "$DAEMON_LOG" | sed 's/^/# /'

# 4
kill_wait "$hold"
wait_for -t 30 sh -c "! kill -0 $waiter 2>/dev/null" || fail "4: the waiting client was not served"
assert_eq "ok" "$(cat "$T/waiter.log")" "4: the client that waited is served once fds are free"
wait_for -t 30 sh -c "! kill -0 $api_waiter 2>/dev/null" || fail "4: the waiting API client was not served"
assert_contains "$(cat "$T/api-waiter.log")" '"entries":[' "4: so is the API client that waited"
api rootlesskit '{"execute":"get_info"}'
acc=$(jq -r .return.stats.out_of_fds_accepts <<<"$API_REPLY")
sock=$(jq -r .return.stats.out_of_fds_sockets <<<"$API_REPLY")
rests=$(jq -r .return.stats.listener_rests <<<"$API_REPLY")
info "get_info: out_of_fds_accepts $acc, out_of_fds_sockets $sock, listener_rests $rests"
[ "$sock" -ge 1 ] || fail "4: libslirp's failed socket() was not seen"
if [ "$rests" -lt 1 ] || [ "$acc" -gt $((rests + 1)) ] || [ "$acc" -gt 1000 ]; then
	fail "4: $acc failed accept() calls for $rests rests"
fi
ok "4: get_info: every failed accept() rested its listener ($acc, $rests)"
assert_eq "ok" "$(timeout 20 "$PY" "$T/ho.py" roundtrip 127.0.0.1 "$pf" 5)" \
	"4: and a new one"
assert_eq "ok" "$(ns_exec -t 20 "$NS" "$PY" "$T/ho.py" roundtrip 10.0.2.2 "$pf" 5)" \
	"4: and one from the namespace"
daemon_stop
ok "emfile"
