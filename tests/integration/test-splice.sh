#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-splice.sh - TCP forwards on the splice path (src/splice.c): the host
# listener is slirpd's, the namespace socket comes from the helper, bytes
# move with splice():
#   1  the path chosen: "auto" splices a loopback forward (get_connections,
#      get_info), keeps a wildcard one on libslirp; "path":"slirp" and
#      "path":"splice" by name; list_hostfwd shows a named path; an open
#      spliced connection is listed by get_connections and slirpctl
#   2  data integrity: 200 MiB host -> namespace and namespace -> host
#      (SHA-256), and a 1 MB echo round trip
#   3  half-close: the server answers only after the client's EOF
#   4  200 parallel connections (bounded), all intact
#   5  resets: a server reset reaches the client, a client reset the server;
#      a closed guest port resets the client
#   6  remove_hostfwd while a connection is open: it runs on; the port closes
#   7  the source address the server sees: the guest's own address for a
#      spliced loopback client, 10.0.2.2 through libslirp, and a client on a
#      second local address keeps its own on a wildcard (libslirp) forward
#   8  IPv6 host address to an IPv4 guest (libslirp 4.7 cannot): refused
#      with "auto" as before, carried with "path":"splice"
#   9  no fd leak after 10 000 connections (/proc/PID/fd)
#  10  the helper: a child with no capabilities, no_new_privs and seccomp,
#      gone when the daemon is killed; --forward-path=slirp starts none and
#      keeps loopback forwards on libslirp, =splice splices a wildcard one,
#      a bad value is a start-up error
#  11  as TEST_USER (rootless): data and the path
#  12  congestion control, with "reno" the default of both namespaces: the
#      namespace socket and the accepted socket of a loopback client use
#      cubic (bbr, a common default, halves throughput on such paths); a
#      client from another host (a veth peer) keeps the system's on a
#      wildcard forward; a client on a local address gets cubic there too.
#      Where cubic is not in tcp_allowed_congestion_control, setting it
#      needs CAP_NET_ADMIN: the daemon sets it for the helper, which has
#      none, and a sandboxed daemon, which has none either, leaves reno
# in a private network namespace whose loopback is "the host".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
enter_private_host_ns "$@"

require_root
require_cmd ip nsenter unshare socat ss awk sha256sum jq
is_slirpd || skip "slirpd-only: the splice path"
require_python
api_init

# the small TCP tools python does better than socat (resets, 10 000 conns)
cat >"$T/sp.py" <<'EOF'
import errno, socket, struct, sys, time
mode = sys.argv[1]
def lingerclose(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    s.close()
if mode == 'serve1':                 # PORT: 1 byte in, 1 byte out, close
    ls = socket.socket(socket.AF_INET6); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind(('::', int(sys.argv[2]))); ls.listen(4096)
    while True:
        c, _ = ls.accept()
        try:
            if c.recv(1): c.sendall(b'y')
        except OSError: pass
        c.close()
elif mode == 'serverst':             # PORT LOG: reset one, watch one
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('0.0.0.0', int(sys.argv[2]))); ls.listen(16)
    c, _ = ls.accept(); c.recv(10); lingerclose(c)
    c, _ = ls.accept(); c.settimeout(10)
    try:
        while c.recv(65536): pass
        r = 'EOF'
    except OSError as e:
        r = errno.errorcode.get(e.errno, str(e.errno))
    open(sys.argv[3], 'w').write(r + '\n')
elif mode == 'many':                 # HOST PORT N: sequential connections
    host, port, n, ok = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), 0
    for i in range(n):
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(b'x')
        if s.recv(1) == b'y': ok += 1
        s.close()
    print(ok)
elif mode == 'rstseen':              # HOST PORT: send, expect a reset
    try:
        s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=5)
        s.sendall(b'hello')
        r = 'EOF' if not s.recv(10) else 'DATA'
    except OSError as e:
        r = errno.errorcode.get(e.errno, str(e.errno))
    print(r)
elif mode == 'rstsend':              # HOST PORT: connect, send, reset
    s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=5)
    s.sendall(b'hello'); time.sleep(0.3); lingerclose(s)
EOF
chmod 644 "$T/sp.py"

_established() { [ -n "$(ss -Htn state established "dport = :$1")" ]; }
_accepted() { [ -n "$(ss -Htn state established "sport = :$1")" ]; }
_file() { [ -s "$1" ]; }
_helper_pid() { pgrep -P "$DAEMON_PID" | head -n 1; }
# _listed PORT: get_connections lists the spliced connection of client PORT
_listed() {
	api rootlesskit '{"execute":"get_connections"}'
	[[ $API_REPLY == *"\"peer_port\":$1,\"path\":\"splice\"}"* ]]
}
_idle() { # splice.active is 0
	api rootlesskit '{"execute":"get_info"}'
	[ "$(jq -r .return.splice.active <<<"$API_REPLY")" = 0 ]
}

# peer_seen PORT [SOCAT-ADDR-OPTIONS]: what the ns "peer" server says
peer_seen() {
	timeout 10 socat -T 5 - "TCP4:127.0.0.1:$1,connect-timeout=5${2:-}" </dev/null 2>/dev/null
}

size=${SLIRPD_SPLICE_BYTES:-209715200}

run_root() {
	local pid dir p p0 ps pl p6 id got want n msg h fds0 fds1 burst i start cp
	dir=$T/root
	mkdir -p "$dir"
	API_SOCK=$dir/api.sock
	pid=$(ns_start)
	daemon_start --exit-fd 4 -- -c -6 --api-socket "$API_SOCK" "$pid" tap0
	ns_server "$pid" tcp-echo 80
	_ns_prefix "$pid"
	spawn --log "$T/ns-peer.svc.log" "${NS_PREFIX[@]}" timeout 300 \
		socat -T 10 TCP4-LISTEN:85,reuseaddr,fork 'SYSTEM:echo $SOCAT_PEERADDR'
	wait_for -t 10 _ns_listening "$pid" tcp 85 || fail "peer server"

	# --- 1: the path
	p=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$p,\"guest_port\":80}"
	api rootlesskit '{"execute":"get_connections"}'
	assert_contains "$API_REPLY" "\"src_port\":$p,\"dst_addr\":\"10.0.2.100\",\"dst_port\":80,\"recv_q\":0,\"send_q\":0,\"family\":\"ipv4\",\"local_addr\":\"127.0.0.1\",\"local_port\":$p,\"path\":\"splice\"}" \
		"1: auto: a 127.0.0.1 forward is spliced (get_connections)"
	cp=$(free_port tcp)
	sleep 5 | timeout 10 socat - "TCP4:127.0.0.1:$p,sourceport=$cp" >/dev/null 2>&1 &
	h=$!
	wait_for -t 5 _listed "$cp" || fail "1: an open spliced connection is not in get_connections: $API_REPLY"
	got=$(jq -c --argjson cp "$cp" '.return.connections[] | select(.peer_port == $cp) | del(.fd)' <<<"$API_REPLY")
	assert_eq "{\"proto\":\"tcp\",\"state\":\"ESTABLISHED\",\"src_addr\":\"127.0.0.1\",\"src_port\":$p,\"dst_addr\":\"10.0.2.100\",\"dst_port\":80,\"recv_q\":0,\"send_q\":0,\"family\":\"ipv4\",\"local_addr\":\"127.0.0.1\",\"local_port\":$p,\"peer_addr\":\"127.0.0.1\",\"peer_port\":$cp,\"path\":\"splice\"}" \
		"$got" "1: get_connections lists an open spliced connection, in libslirp's shape"
	got=$("$(dirname "$SLIRPD")/slirpctl" -a "$API_SOCK" connections | awk '$2 == "ESTABLISHED" && $4 == "127.0.0.1:'"$p"'" { print $5 }')
	assert_eq "10.0.2.100:80" "$got" "1: slirpctl connections shows it"
	kill "$h" 2>/dev/null; wait "$h" 2>/dev/null || true
	p0=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"0.0.0.0\",\"host_port\":$p0,\"guest_port\":85}"
	api rootlesskit '{"execute":"get_info"}'
	assert_eq 1 "$(jq -r .return.splice.forwards <<<"$API_REPLY")" \
		"1: auto: the 0.0.0.0 forward stays on libslirp (one splice forward)"
	assert_eq true "$(jq -r .return.splice.available <<<"$API_REPLY")" "1: get_info: available"
	pl=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$pl,\"guest_port\":85,\"path\":\"slirp\"}"
	ps=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$ps,\"guest_port\":85,\"path\":\"splice\"}"
	api rootlesskit '{"execute":"list_hostfwd"}'
	assert_contains "$API_REPLY" "\"host_port\":$pl,\"guest_addr\":\"10.0.2.100\",\"guest_port\":85,\"path\":\"slirp\"}" \
		"1: list_hostfwd: a named slirp path"
	assert_contains "$API_REPLY" "\"host_port\":$ps,\"guest_addr\":\"10.0.2.100\",\"guest_port\":85,\"path\":\"splice\"}" \
		"1: list_hostfwd: a named splice path"
	assert_contains "$API_REPLY" "\"host_port\":$p,\"guest_addr\":\"10.0.2.100\",\"guest_port\":80}" \
		"1: list_hostfwd: an auto forward's entry is slirp4netns's"
	api rootlesskit '{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_addr":"unix:'"$dir"'/u.sock","guest_port":53,"path":"splice"}}'
	assert_eq '{"error":{"desc":"bad request: add_hostfwd: bad arguments.path (the splice path forwards from an IP host address only)"}}' \
		"$API_REPLY" "1: a unix: forward on the splice path is refused"
	api rootlesskit '{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_addr":"127.0.0.1","host_port":0,"guest_port":80,"path":"fast"}}'
	assert_eq '{"error":{"desc":"bad request: add_hostfwd: bad arguments.path (auto, splice or slirp)"}}' \
		"$API_REPLY" "1: an unknown path is refused"

	# --- 2: data integrity
	msg=$(host_tcp_roundtrip 127.0.0.1 "$p" 1000000) || fail "2: $msg"
	ok "2: 1 MB echoed through the spliced forward"
	payload "$dir/data" "$size"
	chmod 644 "$dir/data"
	want=$(sha256sum <"$dir/data" | cut -d' ' -f1)
	spawn --log "$T/ns-sink.svc.log" "${NS_PREFIX[@]}" timeout 120 \
		socat -u TCP4-LISTEN:81,reuseaddr "OPEN:$dir/ns-in,creat,trunc"
	h=$SPAWN_PID
	wait_for -t 10 _ns_listening "$pid" tcp 81 || fail "2: sink"
	id=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$id,\"guest_port\":81}"
	timeout 120 socat -u "FILE:$dir/data" "TCP4:127.0.0.1:$id" || fail "2: upload client"
	wait_gone "$h" 60 || fail "2: the namespace did not see the end of the upload"
	assert_eq "$want" "$(sha256sum <"$dir/ns-in" | cut -d' ' -f1)" \
		"2: host -> namespace, $size bytes, sha256"
	rm -f "$dir/ns-in"
	spawn --log "$T/ns-src.svc.log" "${NS_PREFIX[@]}" timeout 120 \
		socat -u "FILE:$dir/data" TCP4-LISTEN:82,reuseaddr
	wait_for -t 10 _ns_listening "$pid" tcp 82 || fail "2: source"
	id=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$id,\"guest_port\":82}"
	got=$(timeout 120 socat -u "TCP4:127.0.0.1:$id" - | sha256sum | cut -d' ' -f1)
	assert_eq "$want" "$got" "2: namespace -> host, $size bytes, sha256"
	rm -f "$dir/data"

	# --- 3: half-close
	spawn --log "$T/ns-wc.svc.log" "${NS_PREFIX[@]}" timeout 300 \
		socat -T 10 TCP4-LISTEN:83,reuseaddr,fork 'SYSTEM:wc -c'
	wait_for -t 10 _ns_listening "$pid" tcp 83 || fail "3: wc server"
	id=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$id,\"guest_port\":83}"
	got=$(printf 'abcdefghij' | timeout 10 socat -t 5 - "TCP4:127.0.0.1:$id" | tr -d ' ')
	assert_eq 10 "$got" "3: the answer that follows the client's EOF arrives (half-close)"

	# --- 4: 200 parallel connections
	start=$SECONDS
	burst=()
	payload "$dir/burst.in" 20000
	# (600 processes start here - 200 clients, and a socat and a cat per
	# connection in the namespace: on a loaded 2-core machine that alone
	# can take tens of seconds, so the idle limit is generous; a stalled
	# connection still fails the check)
	for ((i = 0; i < 200; i++)); do
		{ timeout 120 socat -t 20 -T 90 - "TCP4:127.0.0.1:$p,connect-timeout=30" \
			<"$dir/burst.in" >"$dir/burst.$i" 2>"$dir/burst.$i.err" &&
			cmp -s "$dir/burst.in" "$dir/burst.$i"; } &
		burst+=($!)
	done
	n=0
	for i in "${burst[@]}"; do wait "$i" || n=$((n + 1)); done
	assert_eq 0 "$n" "4: 200 parallel connections, 20 kB each, all intact ($((SECONDS - start)) s)"

	# --- 5: resets
	spawn --log "$T/ns-rst.svc.log" "${NS_PREFIX[@]}" timeout 60 \
		"$PY" "$T/sp.py" serverst 84 "$dir/rst.seen"
	wait_for -t 10 _ns_listening "$pid" tcp 84 || fail "5: reset server"
	id=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$id,\"guest_port\":84}"
	assert_eq ECONNRESET "$(timeout 10 "$PY" "$T/sp.py" rstseen 127.0.0.1 "$id" 2>&1)" \
		"5: the server's reset reaches the client"
	timeout 10 "$PY" "$T/sp.py" rstsend 127.0.0.1 "$id" || fail "5: reset client"
	wait_for -t 10 _file "$dir/rst.seen" || fail "5: the server saw nothing"
	assert_eq ECONNRESET "$(cat "$dir/rst.seen")" "5: the client's reset reaches the server"
	id=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$id,\"guest_port\":86}"
	got=$(timeout 10 "$PY" "$T/sp.py" rstseen 127.0.0.1 "$id" 2>&1 | tail -n 1) || true
	case $got in
	ECONNRESET|EPIPE|EOF) ok "5: nothing on the guest port: the client is cut off ($got)" ;;
	*) fail "5: nothing on the guest port: $got" ;;
	esac

	# --- 6: remove while open
	id=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$id,\"guest_port\":80}"
	(for i in 1 2 3 4 5 6; do echo "line $i"; sleep 0.3; done) |
		timeout 20 socat -t 5 - "TCP4:127.0.0.1:$id" >"$dir/long.out" 2>&1 &
	n=$!
	wait_for -t 5 _established "$id" || fail "6: the long connection did not start"
	api_remove "$API_ID"
	host_port_closed 127.0.0.1 "$id" || fail "6: 127.0.0.1:$id still accepts"
	ok "6: the listener is closed"
	wait "$n" || true
	assert_eq "$(printf 'line %s\n' 1 2 3 4 5 6)" "$(cat "$dir/long.out")" \
		"6: the connection accepted before the remove finished"

	# --- 7: source addresses
	assert_eq 10.0.2.100 "$(peer_seen "$ps")" \
		"7: a loopback client through the splice path shows as the guest's own address"
	assert_eq 10.0.2.2 "$(peer_seen "$pl")" \
		"7: a loopback client through libslirp shows as 10.0.2.2"
	ip addr add 192.0.2.7/32 dev lo
	got=$(timeout 10 socat -T 5 - "TCP4:192.0.2.7:$p0,bind=192.0.2.7,connect-timeout=5" </dev/null 2>/dev/null)
	assert_eq 192.0.2.7 "$got" \
		"7: a client on a second local address keeps it on a wildcard (libslirp) forward"

	# --- 8: IPv6 host -> IPv4 guest
	p6=$(free_port tcp)
	api rootlesskit "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_addr\":\"::1\",\"host_port\":$p6,\"guest_addr\":\"\",\"guest_port\":80,\"path\":\"slirp\"}}"
	assert_contains "$API_REPLY" 'libslirp 4.7 cannot forward IPv6 to IPv4' \
		"8: path slirp: [::1] -> 10.0.2.100 is refused with libslirp's reason"
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"::1\",\"host_port\":$p6,\"guest_addr\":\"\",\"guest_port\":80}"
	msg=$(host_tcp_roundtrip ::1 "$p6" 1000000) || fail "8: $msg"
	ok "8: [::1]:$p6 -> 10.0.2.100:80 (auto takes the splice path): 1 MB there and back"

	# --- 9: 10 000 connections, no fd left behind
	spawn --log "$T/ns-one.svc.log" "${NS_PREFIX[@]}" timeout 300 "$PY" "$T/sp.py" serve1 87
	wait_for -t 10 _ns_listening "$pid" tcp 87 || fail "9: server"
	id=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$id,\"guest_port\":87}"
	assert_eq 100 "$(timeout 60 "$PY" "$T/sp.py" many 127.0.0.1 "$id" 100)" "9: warm-up"
	wait_for -t 10 _idle || fail "9: connections left open after the warm-up"
	fds0=$(daemon_fds)
	start=$SECONDS
	assert_eq 10000 "$(timeout 240 "$PY" "$T/sp.py" many 127.0.0.1 "$id" 10000)" \
		"9: 10 000 sequential connections, one byte each way"
	info "9: $((SECONDS - start)) s"
	wait_for -t 10 _idle || fail "9: connections left open"
	fds1=$(daemon_fds)
	[ "$fds1" -le $((fds0 + 32)) ] || fail "9: the daemon had $fds0 fds, now $fds1"
	ok "9: the daemon's fds: $fds0 before, $fds1 after (the socket pool moves by up to 32)"

	# --- 10: the helper
	h=$(_helper_pid)
	[ -n "$h" ] || fail "10: no helper process under the daemon"
	assert_match "$(grep -E '^(NoNewPrivs|Seccomp|CapEff):' "/proc/$h/status" | tr -s '\t ' ' ' | xargs)" \
		'^CapEff: 0+ NoNewPrivs: 1 Seccomp: 2$' "10: the helper has no capabilities, no_new_privs, seccomp"
	[ "$(readlink "/proc/$h/ns/net")" = "$(readlink "/proc/$pid/ns/net")" ] ||
		fail "10: the helper is not in the target's network namespace"
	ok "10: the helper lives in the target's network namespace"
	kill -KILL "$DAEMON_PID"
	wait_gone "$h" 5 || fail "10: the helper outlived the daemon"
	ok "10: the helper is gone with the daemon"
	daemon_wait_exit 5 || true

	run_cli --hup-exit-fd 5 -c --forward-path=fast "$pid" tap0
	assert_eq 1 "$CLI_RC" "10: --forward-path=fast: exit status 1"
	assert_contains "$CLI_ERR" "--forward-path must be auto, splice or slirp: fast" \
		"10: --forward-path=fast: the message names the option and the value"
	daemon_start --exit-fd 4 -- -c --forward-path=slirp --api-socket "$API_SOCK" "$pid" tap0
	[ -z "$(_helper_pid)" ] || fail "10: --forward-path=slirp started a helper"
	p=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$p,\"guest_port\":85}"
	# (on a fresh Debian root the first connection of this new daemon has
	# come back empty, not reproduced elsewhere: the attempts are counted
	# and shown, so a second one that works is visible, not hidden)
	got=$(peer_seen "$p")
	i=1
	while [ "$got" != 10.0.2.2 ] && [ "$i" -lt 3 ]; do
		api rootlesskit '{"execute":"get_connections"}'
		info "10: attempt $i through libslirp got '$got'; get_connections: ${API_REPLY:0:600}"
		got=$(peer_seen "$p")
		i=$((i + 1))
	done
	assert_eq 10.0.2.2 "$got" "10: --forward-path=slirp: a loopback forward goes through libslirp (attempts: $i)"
	api rootlesskit "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":0,\"guest_port\":85,\"path\":\"splice\"}}"
	assert_contains "$API_REPLY" 'bad arguments.path (the splice path is not available' \
		"10: --forward-path=slirp: a forward that names splice is refused"
	daemon_stop
	daemon_start --exit-fd 4 -- -c --forward-path=splice --api-socket "$API_SOCK" "$pid" tap0
	p=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"0.0.0.0\",\"host_port\":$p,\"guest_port\":85}"
	assert_eq 10.0.2.100 "$(peer_seen "$p")" "10: --forward-path=splice: a wildcard forward is spliced"
	daemon_stop
}

run_user() {
	local pid p msg
	have_test_user || { info "11: no usable $TEST_USER: skipped"; return 0; }
	as_variant user
	API_SOCK=$VDIR/api.sock
	pid=$(ns_start --user)
	daemon_start --user --exit-fd 4 -- -c --api-socket "$API_SOCK" "$pid" tap0
	ns_server "$pid" tcp-echo 80
	p=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$p,\"guest_port\":80}"
	api rootlesskit '{"execute":"get_info"}'
	assert_eq 1 "$(jq -r .return.splice.forwards <<<"$API_REPLY")" "11: [user] the forward is spliced"
	msg=$(host_tcp_roundtrip 127.0.0.1 "$p" 10000000) || fail "11: $msg"
	ok "11: [user] 10 MB echoed through the spliced forward"
	daemon_stop
}

# _cc SS-ARGS...: the congestion control of the one socket ss lists
_cc() {
	ss -Htin state established "$@" | grep -owE 'cubic|reno|bbr' | head -n 1
}

run_cc() {
	local pid dir p pw rpid got h cc=cubic
	if ! grep -qw cubic /proc/sys/net/ipv4/tcp_available_congestion_control; then
		info "12: the kernel has no cubic: skipped"
		return 0
	fi
	# what the daemon's own sockets get: a sandboxed daemon has no
	# CAP_NET_ADMIN for a congestion control that is not allowed to all
	if sandboxed && ! grep -qw cubic /proc/sys/net/ipv4/tcp_allowed_congestion_control; then
		cc=reno
		info "12: cubic is not allowed to all and the daemon is sandboxed: reno expected"
	fi
	dir=$T/cc
	mkdir -p "$dir"
	API_SOCK=$dir/api.sock
	# the private "host" namespace's default, and the target's
	echo reno >/proc/sys/net/ipv4/tcp_congestion_control
	pid=$(ns_start)
	_ns_prefix "$pid"
	"${NS_PREFIX[@]}" sh -c 'echo reno >/proc/sys/net/ipv4/tcp_congestion_control' ||
		fail "12: cannot set the namespace's default"
	daemon_start --exit-fd 4 -- -c --api-socket "$API_SOCK" "$pid" tap0
	ns_server "$pid" tcp-echo 80
	p=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$p,\"guest_port\":80}"
	pw=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"0.0.0.0\",\"host_port\":$pw,\"guest_port\":80,\"path\":\"splice\"}"

	sleep 6 | timeout 20 socat - "TCP4:127.0.0.1:$p" >/dev/null 2>&1 &
	h=$!
	wait_for -t 5 _established "$p" || fail "12: the loopback client did not connect"
	assert_eq reno "$(_cc "( dport = :$p )")" "12: the client keeps the host's default (reno)"
	assert_eq "$cc" "$(_cc "( sport = :$p )")" "12: the daemon's accepted socket of a loopback client: $cc"
	got=$("${NS_PREFIX[@]}" ss -Htin state established '( dport = :80 )' | grep -owE 'cubic|reno|bbr' | head -n 1)
	if [ "$cc" = cubic ]; then
		assert_eq cubic "$got" "12: the daemon's socket in the namespace: cubic"
	else
		# the pool filled at start-up, before the sandbox, has cubic
		info "12: the daemon's socket in the namespace: $got (cubic until the sandbox, then reno): not checked"
	fi
	got=$("${NS_PREFIX[@]}" ss -Htin state established '( sport = :80 )' | grep -owE 'cubic|reno|bbr' | head -n 1)
	assert_eq reno "$got" "12: the namespace's server keeps its default (reno)"
	kill "$h" 2>/dev/null; wait "$h" 2>/dev/null || true

	# a client on another host: a veth peer in a namespace of its own
	spawn --log "$T/remote.log" unshare -n sleep 120
	rpid=$SPAWN_PID
	wait_for -t 10 _ns_ready "$rpid" || fail "12: remote namespace"
	ip link add ccr0 type veth peer name ccr1 netns "$rpid"
	ip addr add 198.51.100.1/24 dev ccr0
	ip link set ccr0 up
	nsenter -t "$rpid" -n sh -c 'ip link set lo up && ip addr add 198.51.100.2/24 dev ccr1 && ip link set ccr1 up'
	sleep 6 | timeout 20 nsenter -t "$rpid" -n socat - "TCP4:198.51.100.1:$pw,connect-timeout=5" >/dev/null 2>&1 &
	h=$!
	wait_for -t 5 _accepted "$pw" || fail "12: the remote client did not connect"
	assert_eq reno "$(_cc "( sport = :$pw )")" \
		"12: a remote client on a wildcard splice forward: the system's default stays"
	kill "$h" 2>/dev/null; wait "$h" 2>/dev/null || true
	sleep 6 | timeout 20 socat - "TCP4:198.51.100.1:$pw,bind=198.51.100.1" >/dev/null 2>&1 &
	h=$!
	wait_for -t 5 _established "$pw" || fail "12: the local client did not connect"
	assert_eq "$cc" "$(_cc "( sport = :$pw )")" \
		"12: a client on the host's own address, on the same forward: $cc"
	kill "$h" 2>/dev/null; wait "$h" 2>/dev/null || true
	ip link del ccr0
	daemon_stop
}

run_root
run_cc
run_user
info "PASS"
