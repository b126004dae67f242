#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-busy-poll.sh - the loop's adaptive busy polling (src/busypoll.c,
# --busy-poll): after small exchanges the daemon polls without sleeping for
# a short window, an idle daemon sleeps:
#   1  the default (50 us): 1-byte request/answer exchanges through libslirp
#      (namespace -> host) and through a spliced forward (host -> namespace)
#      are answered, and get_info's busy_poll shows events taken while
#      polling (hits), with a window within the limit
#   2  idle afterwards, the daemon uses (almost) no CPU: it does not spin
#   3  --busy-poll=0: the same exchanges work, and the loop never polls
#      without sleeping (no hits, no misses, window 0)
#   4  bad values are start-up errors with a clear message
# in a private network namespace whose loopback is "the host".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
enter_private_host_ns "$@"

require_root
require_cmd ip nsenter unshare socat ss jq
is_slirpd || skip "slirpd-only: --busy-poll"
require_python
api_init
API_SOCK=$T/api.sock

# rr HOST PORT N: N 1-byte exchanges on one TCP_NODELAY connection through a
# tcp-echo server; prints how many were answered
cat >"$T/rr.py" <<'EOF'
import socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port), timeout=5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
ok, end = 0, time.monotonic() + 30
for i in range(n):
    s.sendall(b'x')
    if s.recv(1) == b'x': ok += 1
    if time.monotonic() > end: break
s.close()
print(ok)
EOF
chmod 644 "$T/rr.py"

_bp() { # FIELD: a field of get_info's busy_poll
	api rootlesskit '{"execute":"get_info"}'
	jq -r ".return.busy_poll.$1" <<<"$API_REPLY"
}
_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat"; }

svc_start tcp-echo
hport=$SVC_PORT

# exchanges WHO: 2000 exchanges each way; sets the checks' prefix
exchanges() {
	local who=$1 out p
	_ns_prefix "$NS"
	out=$("${NS_PREFIX[@]}" timeout 60 "$PY" "$T/rr.py" 10.0.2.2 "$hport" 2000)
	assert_eq 2000 "$out" "[$who] 2000 exchanges namespace -> host through libslirp"
	p=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$p,\"guest_port\":80}"
	out=$(timeout 60 "$PY" "$T/rr.py" 127.0.0.1 "$p" 2000)
	assert_eq 2000 "$out" "[$who] 2000 exchanges host -> namespace through a spliced forward"
}

# 1, 2: the default
NS=$(ns_start)
daemon_start --exit-fd 4 -- -c --api-socket "$API_SOCK" "$NS" tap0
ns_server "$NS" tcp-echo 80
assert_eq 50 "$(_bp max_us)" "1: the default limit is 50 us"
exchanges default
hits=$(_bp hits)
win=$(_bp window_us)
[ "$hits" -gt 0 ] || fail "1: no event was taken while polling (hits $hits): $API_REPLY"
ok "1: $hits events were taken while polling without sleeping"
[ "$win" -ge 0 ] && [ "$win" -le 50 ] || fail "1: window $win outside 0..50"
ok "1: the window ($win us) is within the limit"

t0=$(_cpu_ticks)
sleep 3
t1=$(_cpu_ticks)
# 3 s of spinning would be 300 ticks; a sleeping daemon makes a few
[ $((t1 - t0)) -le 30 ] || fail "2: the idle daemon used $((t1 - t0)) ticks of CPU in 3 s"
ok "2: idle for 3 s, the daemon used $((t1 - t0)) ticks of CPU (it sleeps)"
daemon_stop
kill_wait "$NS"

# 3: --busy-poll=0
NS=$(ns_start)
daemon_start --exit-fd 4 -- -c --busy-poll=0 --api-socket "$API_SOCK" "$NS" tap0
ns_server "$NS" tcp-echo 80
exchanges off
api rootlesskit '{"execute":"get_info"}'
assert_eq "0 0 0 0 0" "$(jq -r '.return.busy_poll | "\(.max_us) \(.window_us) \(.hits) \(.misses) \(.spun_us)"' <<<"$API_REPLY")" \
	"3: --busy-poll=0: the loop never polled without sleeping"
daemon_stop
kill_wait "$NS"

# 4: bad values
for v in abc -1 10001 1.5 ''; do
	run_cli -c --busy-poll="$v" 1 tap0
	[ "$CLI_RC" != 0 ] || fail "4: --busy-poll=$v was accepted"
	assert_contains "$CLI_ERR" "--busy-poll must be a number of microseconds from 0 to 10000" \
		"4: --busy-poll='$v' is refused"
done

ok "busy poll"
