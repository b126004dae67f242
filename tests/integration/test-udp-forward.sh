#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-udp-forward.sh - UDP forwards through slirpd's relay (src/udprelay.c):
# the host socket is slirpd's, each client address gets a UDP socket made in
# the namespace by the splice helper, datagrams move with recvmmsg/sendmmsg:
#   1  the path: "auto" relays a loopback UDP forward (get_info udp_relay,
#      get_connections "path":"splice"), keeps a wildcard one on libslirp
#   2  both ways with content checked: 3000 datagrams of 1200 bytes and 300
#      of 60000 bytes, counted
#   3  several clients (distinct source ports) each get their own replies;
#      the guest sees one source port per client, from its own address;
#      get_connections lists the flows
#   4  remove_hostfwd while flows exist: they close, no fd is left
#   5  idle expiry (--udp-timeout=2): flows close, no fd is left
#   6  IPv6 host address to the IPv4 guest (libslirp 4.7 cannot)
#   7  --forward-path=slirp keeps UDP on libslirp; a bad --udp-timeout is a
#      start-up error
#   8  as TEST_USER (rootless): data, clients and expiry
# in a private network namespace whose loopback is "the host".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
enter_private_host_ns "$@"

require_root
require_cmd ip nsenter unshare ss jq
is_slirpd || skip "slirpd-only: the UDP relay"
require_python
api_init

cat >"$T/u.py" <<'EOF'
import socket, struct, sys
mode = sys.argv[1]
def sock(host):
    return socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET,
                         socket.SOCK_DGRAM)
def payload(seq, size):
    return struct.pack('!I', seq) + bytes([seq & 255]) * (size - 4)
if mode == 'echo':                   # PORT: echo; "who?" -> the sender
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(('0.0.0.0', int(sys.argv[2])))
    while True:
        d, a = s.recvfrom(65535)
        s.sendto(('%s:%d' % a).encode() if d == b'who?' else d, a)
elif mode == 'bulk':                 # HOST PORT N SIZE: windowed, counted
    host, port, n, size = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    s = sock(host); s.connect((host, port)); s.settimeout(3)
    got = bad = seq = 0
    while seq < n:
        w = min(max(1, 96000 // size), n - seq)   # within socket buffers
        for i in range(w):
            s.send(payload(seq + i, size))
        for i in range(w):
            try:
                d = s.recv(65535)
            except socket.timeout:
                break
            if d == payload(seq + i, size): got += 1
            else: bad += 1
        seq += w
    print(n, got, bad)
elif mode == 'clients':              # HOST PORT K: own replies, source ports
    host, port, k = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    socks = [sock(host) for i in range(k)]
    ok, who = 0, set()
    for rnd in range(2):
        for i, s in enumerate(socks):
            s.settimeout(3); s.connect((host, port))
            s.send(b'client-%d-%d' % (i, rnd))
        for i, s in enumerate(socks):
            try:
                if s.recv(100) == b'client-%d-%d' % (i, rnd): ok += 1
            except socket.timeout: pass
    for s in socks:
        s.send(b'who?')
        try: who.add(s.recv(100).decode())
        except socket.timeout: pass
    print(ok, len(who), sorted(who)[0] if who else '-')
EOF
chmod 644 "$T/u.py"

# the daemon's fds but the pooled namespace sockets (their number varies)
_fds_net() {
	local pools
	api rootlesskit '{"execute":"get_info"}'
	pools=$(jq -r '.return.splice | .pool_ipv4 + .pool_ipv6 + .udp_pool_ipv4 + .udp_pool_ipv6' <<<"$API_REPLY")
	echo $(($(daemon_fds) - pools))
}
_relay() { # JQ-FIELD: a field of get_info's udp_relay
	api rootlesskit '{"execute":"get_info"}'
	jq -r ".return.udp_relay.$1" <<<"$API_REPLY"
}
_no_flows() { [ "$(_relay flows)" = 0 ]; }
# as_user CMD...: run as TEST_USER when $AS_USER is set
as_user() {
	if [ -n "${AS_USER:-}" ]; then
		setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --init-groups -- "$@"
	else
		"$@"
	fi
}
ns_echo() { # PID PORT
	_ns_prefix "$1"
	spawn --log "$T/ns-uecho.$2.log" "${NS_PREFIX[@]}" timeout 300 "$PY" "$T/u.py" echo "$2"
	wait_for -t 10 _ns_listening "$1" udp "$2" || fail "UDP echo in the namespace"
}

# core WHO PORT-IN-NS: 2, 3, 4, 5 against the current daemon (--udp-timeout=2)
core() {
	local who=$1 gp=$2 out fds0 p n
	p=$(free_port udp)
	fds0=$(_fds_net)
	api_add "{\"proto\":\"udp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$p,\"guest_port\":$gp}"
	id=$API_ID
	assert_eq 1 "$(_relay forwards)" "[$who] 1: auto relays a 127.0.0.1 UDP forward"

	out=$(as_user timeout 120 "$PY" "$T/u.py" bulk 127.0.0.1 "$p" 3000 1200)
	assert_eq "3000 3000 0" "$out" "[$who] 2: 3000 datagrams of 1200 bytes echoed, content checked"
	out=$(as_user timeout 120 "$PY" "$T/u.py" bulk 127.0.0.1 "$p" 300 60000)
	assert_eq "300 300 0" "$out" "[$who] 2: 300 datagrams of 60000 bytes echoed, content checked"
	assert_eq "$(_relay dgrams_in)" "$(_relay dgrams_out)" "[$who] 2: get_info: as many datagrams in as out"
	n=$(_relay dgrams_in)
	[ "$n" -ge 3300 ] || fail "[$who] 2: get_info counts $n datagrams in"
	ok "[$who] 2: get_info counts them ($n)"

	out=$(as_user timeout 60 "$PY" "$T/u.py" clients 127.0.0.1 "$p" 20)
	read -r okn nwho first <<<"$out"
	assert_eq 40 "$okn" "[$who] 3: 20 clients, 2 rounds: each got its own replies"
	assert_eq 20 "$nwho" "[$who] 3: the guest saw 20 distinct source ports"
	assert_match "$first" '^10\.0\.2\.100:[0-9]+$' "[$who] 3: ... from its own address ($first)"
	n=$(_relay flows)
	[ "$n" -ge 20 ] || fail "[$who] 3: $n flows open, want >= 20"
	ok "[$who] 3: $n flows open"
	# the flows (still open: --udp-timeout=2 after the last datagram) are
	# listed as libslirp lists UDP sockets, each with its client as peer
	api rootlesskit '{"execute":"get_connections"}'
	out=$(jq -r --argjson p "$p" --argjson gp "$gp" '[.return.connections[]
		| select(.proto == "udp" and .path == "splice" and .src_port == $p
			and .state != "HOST_FORWARD")]
		| "\(length) \([.[] | select((.state | test("^[0-9]+ sec$"))
			and .src_addr == "127.0.0.1" and .dst_addr == "10.0.2.100"
			and .dst_port == $gp and .peer_addr == "127.0.0.1"
			and .peer_port > 0)] | length)"' <<<"$API_REPLY")
	read -r n okn <<<"$out"
	[ "$n" -ge 1 ] || fail "[$who] 3: get_connections lists no flow: $API_REPLY"
	assert_eq "$n" "$okn" "[$who] 3: get_connections lists the flows ($n), each with its client and time left"

	api_remove "$id"
	assert_eq 0 "$(_relay flows)" "[$who] 4: remove_hostfwd closed every flow"
	assert_eq "$fds0" "$(_fds_net)" "[$who] 4: no fd left after the removal (/proc/PID/fd)"

	api_add "{\"proto\":\"udp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$p,\"guest_port\":$gp}"
	id=$API_ID
	out=$(as_user timeout 60 "$PY" "$T/u.py" clients 127.0.0.1 "$p" 10)
	assert_eq 20 "${out%% *}" "[$who] 5: 10 more clients"
	n=$(_relay expired)
	wait_for -t 10 _no_flows || fail "[$who] 5: flows still open after 10 s (timeout 2 s)"
	[ "$(_relay expired)" -ge $((n + 10)) ] || fail "[$who] 5: expiry not counted"
	ok "[$who] 5: idle flows expired (--udp-timeout=2)"
	api_remove "$id"
	assert_eq "$fds0" "$(_fds_net)" "[$who] 5: no fd left after expiry"
}

run_root() {
	local pid dir p out
	dir=$T/root
	mkdir -p "$dir"
	API_SOCK=$dir/api.sock
	pid=$(ns_start)
	daemon_start --exit-fd 4 -- -c -6 --udp-timeout=2 --api-socket "$API_SOCK" "$pid" tap0
	ns_echo "$pid" 5353

	# --- 1: the path
	p=$(free_port udp)
	api_add "{\"proto\":\"udp\",\"host_addr\":\"0.0.0.0\",\"host_port\":$p,\"guest_port\":5353}"
	assert_eq 0 "$(_relay forwards)" "1: auto: a 0.0.0.0 UDP forward stays on libslirp"
	api_remove "$API_ID"
	api_add "{\"proto\":\"udp\",\"host_addr\":\"127.0.0.1\",\"host_port\":0,\"guest_port\":5353}"
	api rootlesskit '{"execute":"get_connections"}'
	assert_contains "$API_REPLY" "\"proto\":\"udp\",\"state\":\"HOST_FORWARD\"" "1: get_connections lists the relay's socket"
	assert_contains "$API_REPLY" "\"local_port\":$API_PORT,\"path\":\"splice\"}" "1: ... on the fast path"
	assert_eq 2000 "$(_relay timeout_ms)" "1: get_info: udp_relay.timeout_ms"
	api_remove "$API_ID"

	core root 5353

	# --- 6: IPv6 host address to the IPv4 guest
	p=$(free_port udp)
	api_add "{\"proto\":\"udp\",\"host_addr\":\"::1\",\"host_port\":$p,\"guest_port\":5353}"
	out=$(timeout 60 "$PY" "$T/u.py" bulk ::1 "$p" 500 1200)
	assert_eq "500 500 0" "$out" "6: [::1] -> 10.0.2.100: 500 datagrams echoed"
	daemon_stop

	# --- 7: --forward-path=slirp; bad --udp-timeout
	daemon_start --exit-fd 4 -- -c --forward-path=slirp --api-socket "$API_SOCK" "$pid" tap0
	p=$(free_port udp)
	api_add "{\"proto\":\"udp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$p,\"guest_port\":5353}"
	api rootlesskit '{"execute":"get_info"}'
	assert_eq null "$(jq -r .return.udp_relay <<<"$API_REPLY")" "7: --forward-path=slirp: no relay"
	out=$(timeout 60 "$PY" "$T/u.py" clients 127.0.0.1 "$p" 1)
	assert_match "$out" '^2 1 10\.0\.2\.2:' "7: ... the forward goes through libslirp (10.0.2.2)"
	daemon_stop
	run_cli --hup-exit-fd 5 -c --udp-timeout=0 "$pid" tap0
	assert_eq 1 "$CLI_RC" "7: --udp-timeout=0: exit status 1"
	assert_contains "$CLI_ERR" "--udp-timeout must be a number of seconds from 1 to 86400: 0" \
		"7: --udp-timeout=0: the message names the option and the value"
}

run_user() {
	local pid
	have_test_user || { info "8: no usable $TEST_USER: skipped"; return 0; }
	as_variant user
	API_SOCK=$VDIR/api.sock
	pid=$(ns_start --user)
	daemon_start --user --exit-fd 4 -- -c --udp-timeout=2 --api-socket "$API_SOCK" "$pid" tap0
	ns_echo "$pid" 5353
	AS_USER=1 core user 5353
	daemon_stop
}

run_root
run_user
info "PASS"
