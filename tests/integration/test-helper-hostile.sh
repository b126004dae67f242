#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-helper-hostile.sh - the splice helper stopped or killed from inside
# the namespace (as root there, where the host's PIDs are visible): the
# daemon lives on and keeps carrying libslirp traffic. As root and rootless:
#   1  SIGSTOP: with the socket pool used up, the clients of a splice
#      forward that wait for the helper's sockets are reset at its deadline
#      (SPLICE_HELPER_TIMEOUT_MS, 3 s), not held; a log line says so;
#      get_info says the splice path is not available; a new client of the
#      forward is reset at once; a new loopback forward goes through
#      libslirp and carries data; an outbound connection from the
#      namespace through libslirp works; the helper exits once continued
#      and is reaped
#   2  SIGKILL while clients wait: they are reset at once, a log line says
#      so, the same forwards and traffic work, the helper is reaped
# In a private network namespace whose loopback is "the host".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
enter_private_host_ns "$@"

require_root
require_cmd ip nsenter unshare socat ss jq pgrep
is_slirpd || skip "slirpd-only: the splice helper"
require_python
api_init

# N clients at once, each sends one byte; prints "echo=E reset=R wait=W T"
# (T: seconds until the last reset) after at most 10 s
cat >"$T/clients.py" <<'EOF'
import select, socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
socks, res, last = [], {}, 0.0
t0 = time.time()
for i in range(n):
    s = socket.socket()
    socks.append(s)
    try:
        s.settimeout(5)
        s.connect((host, port))
        s.sendall(b'x')
        s.setblocking(False)
    except OSError:     # reset already
        res[s] = 'reset'
t0 = time.time()
while len(res) < n and time.time() - t0 < 10:
    r, _, _ = select.select([s for s in socks if s not in res], [], [], 0.5)
    for s in r:
        try:
            res[s] = 'echo' if s.recv(10) else 'reset'
        except OSError:
            res[s] = 'reset'
        if res[s] == 'reset':
            last = time.time() - t0
v = list(res.values())
print('echo=%d reset=%d wait=%d %.1f' % (v.count('echo'), v.count('reset'),
                                         n - len(v), last))
EOF
chmod 644 "$T/clients.py"

_pool_full() {
	api rootlesskit '{"execute":"get_info"}'
	[ "$(jq -r .return.splice.pool_ipv4 <<<"$API_REPLY")" = 32 ]
}
_waiting() { # N: at least N connections found the pool empty
	api rootlesskit '{"execute":"get_info"}'
	[ "$(jq -r .return.splice.pool_waits <<<"$API_REPLY")" -ge "$1" ]
}
_gone() { [ ! -e "/proc/$1" ]; }
_helper_of() { pgrep -P "$1" -f 'slirpd: splice helper' || true; }
_stopped() { [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = T ]; }

# the checks after the helper is gone: WHO PID(holder) PORT(splice forward)
after_helper() {
	local who=$1 pid=$2 p=$3 q msg got
	api rootlesskit '{"execute":"get_info"}'
	assert_eq false "$(jq -r .return.splice.available <<<"$API_REPLY")" \
		"[$who] get_info: the splice path is not available"
	got=$(timeout 10 "$PY" "$T/clients.py" 127.0.0.1 "$p" 1) || true
	assert_match "$got" '^echo=0 reset=1 wait=0 [0-2]\.' \
		"[$who] a new client of the splice forward is reset at once"
	q=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$q,\"guest_port\":80}"
	api rootlesskit '{"execute":"get_info"}'
	assert_eq 1 "$(jq -r .return.splice.forwards <<<"$API_REPLY")" \
		"[$who] a new loopback forward is not spliced"
	msg=$(host_tcp_roundtrip 127.0.0.1 "$q" 100000) || fail "[$who] $msg"
	ok "[$who] ... it carries data through libslirp"
	msg=$(ns_tcp_roundtrip "$pid" 10.0.2.2 "$SVC_PORT" 100000) || fail "[$who] $msg"
	ok "[$who] an outbound connection from the namespace through libslirp"
	alive "$DAEMON_PID" || fail "[$who] the daemon is gone"
}

run() {
	local who=$1 u=() dir pid p h got
	[ "$who" = rootless ] && u=(--user)
	dir=$T/$who
	mkdir -p "$dir"
	chmod 777 "$dir"
	API_SOCK=$dir/api.sock
	pid=$(ns_start "${u[@]}")
	daemon_start "${u[@]}" --exit-fd 4 -- -c --api-socket "$API_SOCK" "$pid" tap0
	ns_server "$pid" tcp-echo 80

	# --- 1: stopped
	p=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$p,\"guest_port\":80}"
	wait_for -t 10 _pool_full || fail "[$who] 1: the pool did not fill: $API_REPLY"
	h=$(_helper_of "$DAEMON_PID")
	[ -n "$h" ] || fail "[$who] 1: no helper"
	ns_exec "$pid" kill -STOP "$h" || fail "[$who] 1: kill -STOP from inside the namespace"
	wait_for -t 5 _stopped "$h" || fail "[$who] 1: the helper did not stop"
	# 32 pooled sockets, then 8 clients wait; the 17th asked for more
	got=$(timeout 30 "$PY" "$T/clients.py" 127.0.0.1 "$p" 40) || true
	assert_match "$got" '^echo=32 reset=8 wait=0 [2-5]\.' \
		"[$who] 1: 32 clients served, the 8 that waited reset at the helper's deadline"
	assert_contains "$(cat "$DAEMON_LOG")" "splice helper (pid $h) did not answer in 3000 ms" \
		"[$who] 1: the log says so"
	after_helper "$who 1" "$pid" "$p"
	ns_exec "$pid" kill -CONT "$h" || true
	wait_for -t 10 _gone "$h" || fail "[$who] 1: the helper did not exit, or was not reaped"
	ok "[$who] 1: the helper exits once continued, and is reaped"
	daemon_stop

	# --- 2: killed while clients wait
	daemon_start "${u[@]}" --exit-fd 4 -- -c --api-socket "$API_SOCK" "$pid" tap0
	p=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$p,\"guest_port\":80}"
	wait_for -t 10 _pool_full || fail "[$who] 2: the pool did not fill: $API_REPLY"
	h=$(_helper_of "$DAEMON_PID")
	[ -n "$h" ] || fail "[$who] 2: no helper"
	ns_exec "$pid" kill -STOP "$h"
	wait_for -t 5 _stopped "$h" || fail "[$who] 2: the helper did not stop"
	timeout 30 "$PY" "$T/clients.py" 127.0.0.1 "$p" 40 >"$dir/clients.out" &
	got=$!
	wait_for -t 10 _waiting 8 || fail "[$who] 2: no client waits: $API_REPLY"
	ns_exec "$pid" kill -KILL "$h" || fail "[$who] 2: kill -KILL from inside the namespace"
	wait "$got" || true
	assert_match "$(cat "$dir/clients.out")" '^echo=32 reset=8 wait=0 [0-2]\.' \
		"[$who] 2: the 8 waiting clients are reset when the helper dies, not at the deadline"
	assert_contains "$(cat "$DAEMON_LOG")" "splice helper (pid $h) exited" \
		"[$who] 2: the log says so"
	after_helper "$who 2" "$pid" "$p"
	wait_for -t 10 _gone "$h" || fail "[$who] 2: the helper was not reaped"
	ok "[$who] 2: the helper is reaped"
	daemon_stop
}

svc_start tcp-echo 127.0.0.1
run root
if have_test_user; then
	run rootless
else
	info "no usable $TEST_USER: the rootless run is skipped"
fi
