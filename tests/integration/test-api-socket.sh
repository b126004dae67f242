#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-api-socket.sh - the API socket as podman and RootlessKit use it, and
# as bad clients abuse it, through a real socket, with data flowing:
#   1  a path of 108 bytes or more is a clear start-up error
#   2  the socket answers as soon as the ready byte is read
#   3  podman's exact request (guest_addr "", shutdown(SHUT_WR), ONE read of
#      at most 2048 bytes) adds a forward that carries 1 MB both ways
#   4  RootlessKit's (json.Encoder's trailing newline, read to EOF), a
#      newline without shutdown, list_hostfwd's unwrapped shape, remove
#   5  every bad request gets slirp4netns's error text (byte for byte),
#      the daemon stays up and keeps forwarding
#   6  idle and slow clients while iperf3 runs through a forward in both
#      directions: the transfer keeps its pace, other API clients are
#      served at once, the idle/slow clients are dropped at their deadline;
#      with every connection slot taken a client is told so, not hung
#   7  who may use the socket: started under umask 000 the file is still
#      mode 0600, so another uid cannot connect; with the mode opened by
#      hand, a client of another uid gets an error reply, not the forwards
#   8  the path: a second daemon on a live daemon's path is refused at
#      start and the first keeps answering; a stale socket file (nobody
#      listens) is replaced; at exit a file someone else put at the path is
#      not unlinked
# Everything runs in a private network namespace whose loopback is "the
# host" (podman's request listens on 0.0.0.0:8080).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
enter_private_host_ns "$@"

require_root
require_cmd ip nsenter unshare socat ss iperf3 awk
require_python "a stale socket file"
is_slirpd || skip "slirpd-only: non-blocking API, byte-exact new error texts"
api_init

pid=$(ns_start)

# --- 1: too long a path
long=$T/$(printf 'p%.0s' $(seq 1 110)).sock
run_cli --hup-exit-fd 5 -c --api-socket "$long" "$pid" tap0
assert_eq 1 "$CLI_RC" "1: a ${#long}-byte API socket path: exit status 1"
assert_contains "$CLI_ERR" "too long" "1: the message says the path is too long"
[ ! -e "$long" ] || fail "1: something was created at the long path"

# --- 2: listening at ready time
API_SOCK=$T/api.sock
daemon_start --exit-fd 4 -- -c --api-socket "$API_SOCK" "$pid" tap0
api podman '{"execute":"list_hostfwd"}'
assert_eq '{"entries":[]}' "$API_REPLY" "2: the socket answers right after the ready byte"

# --- 3: podman
ns_server "$pid" tcp-echo 80
api podman '{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_addr":"0.0.0.0","host_port":8080,"guest_addr":"","guest_port":80}}'
assert_eq 0 "$API_RC" "3: podman's one read got the whole reply (< 2048 bytes)"
assert_eq '{"return":{"id":1}}' "$API_REPLY" "3: podman's request: reply"
msg=$(host_tcp_roundtrip 127.0.0.1 8080 1000000) || fail "3: $msg"
ok "3: 1 MB through 127.0.0.1:8080 to the namespace's port 80 and back"
ss -Htln 'sport = :8080' | grep -q '0.0.0.0:8080' || fail "3: no listener on 0.0.0.0:8080"
ok "3: the listener is on 0.0.0.0:8080"

# --- 4: RootlessKit, newline framing, list, remove
api rootlesskit '{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_addr":"","host_port":8081,"guest_addr":"10.0.2.100","guest_port":80}}'
assert_eq '{"return":{"id":2}}' "$API_REPLY" "4: RootlessKit's request (trailing newline, read to EOF)"
msg=$(host_tcp_roundtrip 127.0.0.1 8081 100000) || fail "4: $msg"
ok "4: data through RootlessKit's forward"
api newline '{"execute":"list_hostfwd"}'
assert_eq '{"entries":[{"id":1,"proto":"tcp","host_addr":"0.0.0.0","host_port":8080,"guest_addr":"10.0.2.100","guest_port":80},{"id":2,"proto":"tcp","host_addr":"0.0.0.0","host_port":8081,"guest_addr":"10.0.2.100","guest_port":80}]}' \
	"$API_REPLY" "4: a newline ends a request without shutdown; list_hostfwd's unwrapped entries"
api rootlesskit '{"execute":"remove_hostfwd","arguments":{"id":2}}'
assert_eq '{"return":{}}' "$API_REPLY" "4: RootlessKit's remove_hostfwd"
host_port_closed 127.0.0.1 8081 || fail "4: 127.0.0.1:8081 still accepts after remove"
ok "4: the removed forward's port is closed"

# --- 5: bad requests, each by podman's framing and by RootlessKit's
bad() { # JSON DESC
	local want="{\"error\":{\"desc\":\"$2\"}}" mode
	for mode in podman rootlesskit; do
		api "$mode" "$1"
		[ "$API_REPLY" = "$want" ] ||
			fail "5: [$mode] $1: expected $want, seen $API_REPLY"
	done
	ok "5: $1 -> $2"
}
bad '' 'bad request: cannot parse JSON'
bad '{"execute":' 'bad request: cannot parse JSON'
bad 'GET / HTTP/1.0' 'bad request: cannot parse JSON'
bad '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]' 'bad request: cannot parse JSON'
bad '[1]' 'bad request: json_object() failed'
bad '{}' 'bad request: no execute found'
bad '{"execute":7}' 'bad request: no execute found'
bad '{"execute":"quit"}' 'bad request: unknown execute'
bad '{"execute":"add_hostfwd"}' 'bad request: add_hostfwd: bad arguments.proto'
bad '{"execute":"add_hostfwd","arguments":{"host_port":8090,"guest_port":80}}' 'bad request: add_hostfwd: bad arguments.proto'
bad '{"execute":"add_hostfwd","arguments":{"proto":"sctp","host_port":8090,"guest_port":80}}' 'bad request: add_hostfwd: bad arguments.proto'
bad '{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_addr":"localhost","host_port":8090,"guest_port":80}}' 'bad request: add_hostfwd: bad arguments.host_addr'
bad '{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_port":"8090","guest_port":80}}' 'bad request: add_hostfwd: bad arguments.host_port'
bad '{"execute":"add_hostfwd","arguments":{"proto":"tcp","guest_port":80}}' 'bad request: add_hostfwd: bad arguments.host_port'
bad '{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_port":70000,"guest_port":80}}' 'bad request: add_hostfwd: bad arguments.host_port'
bad '{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_port":8090,"guest_addr":"10.0.2","guest_port":80}}' 'bad request: add_hostfwd: bad arguments.guest_addr'
bad '{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_port":8090}}' 'bad request: add_hostfwd: bad arguments.guest_port'
bad '{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_port":8090,"guest_port":0}}' 'bad request: add_hostfwd: bad arguments.guest_port'
bad '{"execute":"add_hostfwd","arguments":{"proto":"udp","host_addr":"::","host_port":8090,"guest_addr":"","guest_port":80,"path":"slirp"}}' 'bad request: add_hostfwd: bad arguments.guest_addr (an IPv6 host_addr needs an IPv6 guest_addr: libslirp 4.7 cannot forward IPv6 to IPv4)'
bad '{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_addr":"::","host_port":8090,"guest_addr":"","guest_port":80,"path":"slirp"}}' 'bad request: add_hostfwd: bad arguments.guest_addr (an IPv6 host_addr needs an IPv6 guest_addr: libslirp 4.7 cannot forward IPv6 to IPv4)'
bad '{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_addr":"127.0.0.1","host_port":8090,"guest_addr":"fd00::100","guest_port":80}}' 'bad request: add_hostfwd: bad arguments.guest_addr (IPv6 is not enabled (--enable-ipv6))'
bad '{"execute":"add_hostfwd","arguments":{"proto":"udp","host_addr":"unix:/tmp/x.sock","guest_port":80}}' 'bad request: add_hostfwd: bad arguments.host_addr (unix: forwards are TCP only)'
bad '{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_addr":"0.0.0.0","host_port":8080,"guest_addr":"","guest_port":80}}' 'bad request: add_hostfwd: slirp_add_hostfwd failed: Address already in use'
bad '{"execute":"remove_hostfwd","arguments":{"id":2}}' 'bad request: remove_hostfwd: bad arguments.id'
bad '{"execute":"remove_hostfwd","arguments":{"id":"1"}}' 'bad request: remove_hostfwd: bad arguments.id'
bad '{"execute":"remove_hostfwd"}' 'bad request: remove_hostfwd: bad arguments.id'
big=$T/big.req
{ printf '{"execute":"list_hostfwd","pad":"'; head -c 70000 /dev/zero | tr '\0' 'x'; printf '"}'; } >"$big"
API_REPLY=$("$API_CLIENT" stdin "$API_SOCK" <"$big")
# (api.c stops reading at 64 KiB and answers what it has: "cannot parse
# JSON"; it means to say "too large message". Either is an error reply.)
assert_match "$API_REPLY" '^\{"error":\{"desc":"bad request: (too large message|cannot parse JSON)"\}\}$' \
	"5: a 70 kB request: an error reply"
alive "$DAEMON_PID" || fail "5: the daemon died"
msg=$(host_tcp_roundtrip 127.0.0.1 8080 1000000) || fail "5: forwarding after the bad requests: $msg"
ok "5: the daemon is up and forwards 1 MB after every bad request"
api podman '{"execute":"list_hostfwd"}'
assert_eq '{"entries":[{"id":1,"proto":"tcp","host_addr":"0.0.0.0","host_port":8080,"guest_addr":"10.0.2.100","guest_port":80}]}' \
	"$API_REPLY" "5: the bad requests changed no forward"

# --- 5b: podman#13229: -p [::]:P:Q sends host_addr "::" with guest_addr "":
# libslirp 4.7 cannot forward IPv6 to IPv4; the splice path serves it
if is_slirpd; then
	api podman '{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_addr":"::","host_port":8090,"guest_addr":"","guest_port":80}}'
	assert_match "$API_REPLY" '^\{"return":\{"id":[0-9]+\}\}$' "5b: podman#13229's request is served"
	msg=$(host_tcp_roundtrip ::1 8090 100000) || fail "5b: $msg"
	ok "5b: [::1]:8090 reaches the namespace's IPv4 port 80 and back"
fi

# --- 6: idle and slow clients while iperf3 runs through the daemon
api_add '{"proto":"tcp","host_addr":"127.0.0.1","host_port":15201,"guest_port":5201}'
iperf_run() { # LABEL [-R]: one 4-second run; prints Mbit/s
	local label=$1 out
	shift
	_ns_prefix "$pid"
	spawn --log "$T/iperf-s.$label.log" "${NS_PREFIX[@]}" timeout 30 iperf3 -s -1 -p 5201
	wait_for -t 10 _ns_listening "$pid" tcp 5201 || fail "6: iperf3 server did not start"
	out=$(timeout 30 iperf3 -c 127.0.0.1 -p 15201 -t 4 -J "$@" 2>&1) ||
		fail "6: iperf3 $label failed: $(printf '%s' "$out" | tail -5)"
	printf '%s' "$out" | awk -F'[:,]' '/"sum_received"/ { s = 1 } s && /"bits_per_second"/ { printf "%d\n", $2 / 1e6; exit }'
}
base=$(iperf_run base)
base_r=$(iperf_run base-r -R)
info "6: iperf3 through the daemon alone: ${base} Mbit/s host->ns, ${base_r} Mbit/s ns->host"

hang_clients() { # TAG: 20 idle clients and a slow one (a byte per 400 ms)
	local i
	for i in $(seq 1 20); do
		spawn --log "$T/idle.$1.$i.out" "$API_CLIENT" idle "$API_SOCK" 30
		hang_pids+=("$SPAWN_PID")
	done
	spawn --log "$T/slow.$1.out" "$API_CLIENT" slow "$API_SOCK" '{"execute":"list_hostfwd"}' 400
	hang_pids+=("$SPAWN_PID")
}
hang_pids=()
hang_clients a
# the API stays responsive while they hang on
t0=$(date +%s%N)
api podman '{"execute":"get_info"}'
t1=$(date +%s%N)
assert_contains "$API_REPLY" '"return":{"version"' "6: get_info answered while 21 clients hang"
# not a speed check: a blocked loop would answer only after the hanging
# clients' 5 s deadline, so anything well below that proves it did not block
[ $(((t1 - t0) / 1000000)) -lt 4000 ] || fail "6: get_info took $(((t1 - t0) / 1000000)) ms (blocked behind the hanging clients?)"
ok "6: ... in $(((t1 - t0) / 1000000)) ms"
busy=$(iperf_run busy)
hang_clients b
busy_r=$(iperf_run busy-r -R)
info "6: with 20 idle clients and a slow one: ${busy} Mbit/s host->ns, ${busy_r} Mbit/s ns->host"
# not a speed check either: a data path stalled by the API would move
# almost nothing; a tenth of the unloaded rate tolerates a busy machine
[ "$busy" -ge $((base / 10)) ] || fail "6: host->ns fell from $base to $busy Mbit/s"
[ "$busy_r" -ge $((base_r / 10)) ] || fail "6: ns->host fell from $base_r to $busy_r Mbit/s"
ok "6: iperf3 keeps its pace with idle and slow API clients (both directions)"
for p in "${hang_pids[@]}"; do
	wait_gone "$p" 15 || fail "6: API client $p still connected after 15 s"
done
for f in "$T"/idle.*.out; do
	out=$(cat "$f")
	ms=${out##*after }
	ms=${ms% ms}
	[[ "$out" == "closed after "* ]] && [ "$ms" -ge 4000 ] && [ "$ms" -le 9000 ] ||
		fail "6: idle client ${f##*/}: $out (expected a close at the 5 s deadline)"
done
ok "6: the 40 idle clients were dropped at their 5 s deadline"
assert_contains "$(cat "$T/slow.a.out")" "dropped after" "6: the first slow client was dropped"
assert_contains "$(cat "$T/slow.b.out")" "dropped after" "6: the second slow client was dropped"

# every slot taken: the next client gets an error at once, then, after the
# deadline, service again
# (one process makes the 64 idle connections at once, then asks: 64
# processes started one by one on a loaded machine could take longer than
# the 5 s after which the first ones are dropped)
spawn --log "$T/full.out" "$API_CLIENT" fill "$API_SOCK" 64 '{"execute":"list_hostfwd"}'
fill_pid=$SPAWN_PID
# (the reply is the line starting with '{': the client's stderr shares the
# log, and its write may fail first - the server refuses and closes at once)
wait_for -t 20 grep -q '^{' "$T/full.out" || fail "6: no reply with 64 idle clients connected: $(cat "$T/full.out")"
assert_eq '{"error":{"desc":"too many API connections"}}' "$(grep -m1 '^{' "$T/full.out")" \
	"6: with all 64 connection slots taken: an error reply, not a hang"
msg=$(host_tcp_roundtrip 127.0.0.1 8080 1000000) || fail "6: forwarding with all slots taken: $msg"
ok "6: forwarding goes on with all API slots taken"
wait_gone "$fill_pid" 30 || fail "6: the 64 idle clients were not dropped"
assert_contains "$(cat "$T/full.out")" "64 closed" "6: all 64 idle clients were dropped"
api podman '{"execute":"list_hostfwd"}'
assert_contains "$API_REPLY" '{"entries":[' "6: served again once the idle clients are dropped"

daemon_stop
assert_eq 0 "$DAEMON_STATUS" "exit status"
[ ! -e "$API_SOCK" ] || fail "the API socket file is left after exit"
ok "the API socket file is removed at exit"

# a socket file nobody listens on, as a killed daemon leaves it
stale_socket() { # PATH
	"$PY" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$1"
}

# --- 7: the file's mode and the peer's uid
API_SOCK=$T/api7.sock
old_umask=$(umask)
umask 000
daemon_start --exit-fd 4 -- -c --api-socket "$API_SOCK" "$pid" tap0
umask "$old_umask"
assert_eq 600 "$(stat -c %a "$API_SOCK")" "7: started under umask 000, the API socket is mode 0600"
if have_test_user; then
	reply=$(as_user "$API_CLIENT" podman "$API_SOCK" '{"execute":"list_hostfwd"}' 2>&1) || true
	assert_not_contains "$reply" '"entries"' "7: $TEST_USER cannot list the forwards"
	assert_contains "$reply" "Permission denied" "7: $TEST_USER's connect() is refused by the file's mode"
	# the mode opened by hand (or a directory the caller chose badly): the
	# daemon itself refuses the other uid
	chmod 666 "$API_SOCK"
	reply=$(as_user "$API_CLIENT" rootlesskit "$API_SOCK" '{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_addr":"127.0.0.1","host_port":8099,"guest_port":80}}' 2>&1) || true
	# (the refusal comes at accept(), before the request is read: a client
	# whose write comes after the close sees EPIPE instead of the reply)
	case $reply in
	*"Broken pipe"*|*"Connection reset"*) ok "7: a client of another uid is closed at once" ;;
	*) assert_eq "{\"error\":{\"desc\":\"permission denied: uid $(id -u "$TEST_USER") may not use this API socket\"}}" \
		"$reply" "7: a client of another uid gets an error reply" ;;
	esac
	api podman '{"execute":"list_hostfwd"}'
	assert_eq '{"entries":[]}' "$API_REPLY" "7: ... and added nothing; the owner (root) is served"
else
	info "no usable $TEST_USER: skipping the other-uid cases of 7"
fi

# --- 8: a live daemon's path, a stale file, a file put there by someone else
pid2=$(ns_start)
run_cli --hup-exit-fd 5 -c --api-socket "$API_SOCK" "$pid2" tap0
assert_eq 1 "$CLI_RC" "8: a second daemon on a live daemon's API socket path: exit status 1"
assert_contains "$CLI_ERR" "a running process listens on it" "8: ... with a clear message"
api podman '{"execute":"list_hostfwd"}'
assert_eq '{"entries":[]}' "$API_REPLY" "8: the first daemon still answers on its socket"
alive "$DAEMON_PID" || fail "8: the first daemon died"
# someone else takes the name over; our exit must not remove their file
rm -f "$API_SOCK"
stale_socket "$API_SOCK"
ino=$(stat -c %i "$API_SOCK")
daemon_stop
assert_eq 0 "$DAEMON_STATUS" "8: exit status"
[ -S "$API_SOCK" ] && [ "$(stat -c %i "$API_SOCK")" = "$ino" ] ||
	fail "8: the daemon unlinked a socket file that was not its own at exit"
ok "8: at exit, a file someone else put at the path is left alone"
# that file is stale: the next daemon replaces it
daemon_start --exit-fd 4 -- -c --api-socket "$API_SOCK" "$pid2" tap0
api podman '{"execute":"list_hostfwd"}'
assert_eq '{"entries":[]}' "$API_REPLY" "8: a stale socket file at the path is replaced"
daemon_stop
assert_eq 0 "$DAEMON_STATUS" "8: exit status"
[ ! -e "$API_SOCK" ] || fail "8: the daemon's own socket file is left after exit"
ok "8: the daemon's own socket file is removed at exit"
kill_wait "$pid2"
info "PASS"
