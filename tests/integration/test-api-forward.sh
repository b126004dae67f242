#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-api-forward.sh - forwards added through the API carry real data both
# ways (host side -> daemon -> namespace -> echo server -> back):
#   1  TCP and UDP on IPv4, 1 MB / 512 B and 8000 B datagrams
#   2  IPv6 host addresses: [::1] to the guest's learned IPv6 address ("::")
#      and to its explicit address; UDP over IPv6; [::]:P and 0.0.0.0:P side
#      by side (IPV6_V6ONLY)
#   3  a UNIX-socket listener (unix:/path): data, list entry, the file is
#      removed on remove_hostfwd and at exit; a path through a symlinked
#      directory is refused and the stale socket behind the link is left
#      alone; named without the link, that stale socket is replaced (also
#      under --enable-seccomp alone, where openat2 answers ENOSYS and the
#      directory is walked)
#   4  ephemeral ports (host_port 0): the reply carries the port, TCP and UDP
#   5  remove_hostfwd closes the listener (a connection already accepted
#      finishes), ids are never reused
#   6  the listen backlog is raised from libslirp's 1; a burst of 200
#      parallel connections all get through (the time is only reported)
# as root and (1, 3, 4, 5) as TEST_USER, in a private network namespace
# whose loopback is "the host".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
enter_private_host_ns "$@"

require_root
require_cmd ip nsenter unshare socat ss awk
require_python "a stale socket file"
is_slirpd || skip "slirpd-only: IPv6, UNIX and ephemeral forwards"
api_init

_established() { [ -n "$(ss -Htn state established "dport = :$1")" ]; }

# a socket file nobody listens on, as a killed process leaves it
stale_socket() { # root|user PATH
	local pre=()
	[ "$1" = user ] && pre=(as_user)
	"${pre[@]}" "$PY" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$2"
}

# 3: unix: paths are resolved without following symbolic links, and a stale
# socket is replaced only in the directory the forward names
unix_no_symlinks() { # WHO DIR (API_SOCK: a running daemon's)
	local who=$1 dir=$2 id msg ino
	mkdir -p "$dir/real"
	ln -sfn real "$dir/link"
	[ "$who" = user ] && chown -h "$TEST_USER" "$dir/real" "$dir/link"
	stale_socket "$who" "$dir/real/s.sock"
	ino=$(stat -c %i "$dir/real/s.sock")
	api rootlesskit "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_addr\":\"unix:$dir/link/s.sock\",\"guest_port\":80}}"
	assert_eq '{"error":{"desc":"bad request: add_hostfwd: bad arguments.host_addr (unix: the path goes through a symbolic link (unix: paths are resolved without following any))"}}' \
		"$API_REPLY" "[$who] 3: a unix: path through a symlinked directory is refused"
	[ -S "$dir/real/s.sock" ] && [ "$(stat -c %i "$dir/real/s.sock")" = "$ino" ] ||
		fail "[$who] 3: the stale socket behind the symlink was touched"
	ok "[$who] 3: ... and the stale socket behind the link is left alone"
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"unix:$dir/real/s.sock\",\"guest_port\":80}"
	id=$API_ID
	msg=$(unix_roundtrip "$dir/real/s.sock" 100000) || fail "[$who] 3: $msg"
	ok "[$who] 3: named without the link, the stale socket was replaced by a working forward"
	api_remove "$id"
	[ ! -e "$dir/real/s.sock" ] || fail "[$who] 3: the socket file is left after remove_hostfwd"
	rm -f "$dir/link"
	rmdir "$dir/real"
}

run_variant() { # root|user
	local who=$1 uopt=() pid dir id p p6 pu pu6 g6 msg out i n start burst
	[ "$who" = user ] && uopt=(--user)
	dir=$T/$who
	mkdir -p "$dir"
	[ "$who" = user ] && chown "$TEST_USER" "$dir"
	API_SOCK=$dir/api.sock
	pid=$(ns_start "${uopt[@]}")
	daemon_start "${uopt[@]}" --exit-fd 4 -- -c -6 --api-socket "$API_SOCK" "$pid" tap0
	ns_server "$pid" tcp-echo 80
	ns_server "$pid" udp-echo 53
	ns_server "$pid" udp-echo 54 ::

	# --- 1: IPv4
	p=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$p,\"guest_addr\":\"\",\"guest_port\":80}"
	msg=$(host_tcp_roundtrip 127.0.0.1 "$p" 1000000) || fail "[$who] 1: $msg"
	ok "[$who] 1: TCP 127.0.0.1:$p -> 10.0.2.100:80: 1 MB there and back"
	pu=$(free_port udp)
	api_add "{\"proto\":\"udp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$pu,\"guest_addr\":\"10.0.2.100\",\"guest_port\":53}"
	msg=$(host_udp_roundtrip 127.0.0.1 "$pu" 512) || fail "[$who] 1: $msg"
	msg=$(host_udp_roundtrip 127.0.0.1 "$pu" 8000) || fail "[$who] 1: $msg"
	ok "[$who] 1: UDP 127.0.0.1:$pu -> 10.0.2.100:53: 512 and 8000-byte datagrams there and back"

	# --- 3: UNIX socket listener (with the sandbox on: only from --publish)
	if sandboxed; then
		api_add_unix_refused "{\"proto\":\"tcp\",\"host_addr\":\"unix:$dir/fwd.sock\",\"guest_port\":80}"
	else
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"unix:$dir/fwd.sock\",\"guest_port\":80}"
	id=$API_ID
	[ -S "$dir/fwd.sock" ] || fail "[$who] 3: no socket file $dir/fwd.sock"
	msg=$(unix_roundtrip "$dir/fwd.sock" 1000000) || fail "[$who] 3: $msg"
	ok "[$who] 3: unix:$dir/fwd.sock -> 10.0.2.100:80: 1 MB there and back"
	api rootlesskit '{"execute":"list_hostfwd"}'
	assert_contains "$API_REPLY" "{\"id\":$id,\"proto\":\"tcp\",\"host_addr\":\"unix:$dir/fwd.sock\",\"host_port\":0,\"guest_addr\":\"10.0.2.100\",\"guest_port\":80,\"family\":\"unix\"}" \
		"[$who] 3: the list entry"
	api_remove "$id"
	[ ! -e "$dir/fwd.sock" ] || fail "[$who] 3: the socket file is left after remove_hostfwd"
	ok "[$who] 3: remove_hostfwd unlinked the socket file"
	unix_no_symlinks "$who" "$dir"
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"unix:$dir/exit.sock\",\"guest_port\":80}"
	fi

	# --- 4: ephemeral ports
	api_add '{"proto":"tcp","host_addr":"127.0.0.1","host_port":0,"guest_port":80}'
	[ -n "$API_PORT" ] || fail "[$who] 4: no host_port in $API_REPLY"
	ok "[$who] 4: host_port 0: $API_REPLY"
	msg=$(host_tcp_roundtrip 127.0.0.1 "$API_PORT" 100000) || fail "[$who] 4: $msg"
	ok "[$who] 4: data through the ephemeral port $API_PORT"
	api rootlesskit '{"execute":"list_hostfwd"}'
	assert_contains "$API_REPLY" "\"host_port\":$API_PORT,\"guest_addr\":\"10.0.2.100\",\"guest_port\":80,\"ephemeral\":true}" \
		"[$who] 4: listed with its real port"
	# the relay (loopback UDP) has a socket per client: a second forward to
	# 10.0.2.100:53 works; through libslirp it is refused
	api_add '{"proto":"udp","host_addr":"127.0.0.1","host_port":0,"guest_port":53}'
	msg=$(host_udp_roundtrip 127.0.0.1 "$API_PORT" 512) || fail "[$who] 1: $msg"
	ok "[$who] 1: a second UDP forward to 10.0.2.100:53 on the relay carries data"
	api_add '{"proto":"udp","host_addr":"127.0.0.1","host_port":0,"guest_port":53,"path":"slirp"}'
	api rootlesskit '{"execute":"add_hostfwd","arguments":{"proto":"udp","host_addr":"127.0.0.1","host_port":0,"guest_port":53,"path":"slirp"}}'
	assert_contains "$API_REPLY" 'bad arguments.guest_port (a UDP forward to the same guest address and port exists' \
		"[$who] 1: a second libslirp UDP forward to 10.0.2.100:53 is refused (libslirp would mix their replies)"
	ns_server "$pid" udp-echo 55
	api_add '{"proto":"udp","host_addr":"127.0.0.1","host_port":0,"guest_port":55}'
	[ -n "$API_PORT" ] || fail "[$who] 4: no host_port in $API_REPLY"
	msg=$(host_udp_roundtrip 127.0.0.1 "$API_PORT" 512) || fail "[$who] 4: $msg"
	ok "[$who] 4: UDP through the ephemeral port $API_PORT"

	# --- 5: remove closes the listener, not an accepted connection
	p=$(free_port tcp)
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$p,\"guest_port\":80}"
	id=$API_ID
	(for i in 1 2 3 4 5 6; do echo "line $i"; sleep 0.3; done) |
		timeout 20 socat -t 5 - "TCP4:127.0.0.1:$p" >"$dir/long.out" 2>&1 &
	n=$!
	wait_for -t 5 _established "$p" ||
		fail "[$who] 5: the long connection did not start"
	api_remove "$id"
	host_port_closed 127.0.0.1 "$p" || fail "[$who] 5: 127.0.0.1:$p still accepts"
	ok "[$who] 5: the listener is closed"
	wait "$n" || true
	assert_eq "$(printf 'line %s\n' 1 2 3 4 5 6)" "$(cat "$dir/long.out")" \
		"[$who] 5: the connection accepted before the remove finished"
	api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$p,\"guest_port\":80}"
	[ "$API_ID" -gt "$id" ] || fail "[$who] 5: id $API_ID after $id"
	ok "[$who] 5: the next id is $API_ID (ids are never reused)"
	msg=$(host_tcp_roundtrip 127.0.0.1 "$p" 1000) || fail "[$who] 5: $msg"
	ok "[$who] 5: the port works again after a new add"

	if [ "$who" = root ]; then
		# --- 2: IPv6
		p6=$(free_port tcp)
		api_add "{\"proto\":\"tcp\",\"host_addr\":\"::1\",\"host_port\":$p6,\"guest_addr\":\"::\",\"guest_port\":80}"
		# the guest's address is learned from its neighbour discovery
		wait_for -t 15 host_tcp_roundtrip ::1 "$p6" 100 ||
			fail "[$who] 2: [::1]:$p6 never reached the guest"
		msg=$(host_tcp_roundtrip ::1 "$p6" 1000000) || fail "[$who] 2: $msg"
		ok "[$who] 2: TCP [::1]:$p6 -> the guest's IPv6 address: 1 MB there and back"
		g6=$(ns_addrs6 "$pid" tap0)
		g6=${g6%%/*}
		[ -n "$g6" ] || fail "[$who] 2: the guest has no global IPv6 address"
		p6=$(free_port tcp)
		api_add "{\"proto\":\"tcp\",\"host_addr\":\"::1\",\"host_port\":$p6,\"guest_addr\":\"$g6\",\"guest_port\":80}"
		msg=$(host_tcp_roundtrip ::1 "$p6" 1000000) || fail "[$who] 2: $msg"
		ok "[$who] 2: TCP [::1]:$p6 -> [$g6]:80: 1 MB there and back"
		pu6=$(free_port udp)
		api rootlesskit "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"udp\",\"host_addr\":\"::1\",\"host_port\":$pu6,\"guest_addr\":\"::\",\"guest_port\":54}}"
		assert_contains "$API_REPLY" 'for TCP only: give it for UDP' \
			"[$who] 2: UDP to the guest's learned IPv6 address is refused (libslirp learns it for TCP only)"
		api_add "{\"proto\":\"udp\",\"host_addr\":\"::1\",\"host_port\":$pu6,\"guest_addr\":\"$g6\",\"guest_port\":54}"
		msg=$(host_udp_roundtrip ::1 "$pu6" 1000) || fail "[$who] 2: $msg"
		ok "[$who] 2: UDP [::1]:$pu6 -> [$g6]:54 and back"
		p=$(free_port tcp)
		api_add "{\"proto\":\"tcp\",\"host_addr\":\"::\",\"host_port\":$p,\"guest_addr\":\"$g6\",\"guest_port\":80}"
		api_add "{\"proto\":\"tcp\",\"host_addr\":\"0.0.0.0\",\"host_port\":$p,\"guest_addr\":\"\",\"guest_port\":80}"
		ok "[$who] 2: [::]:$p and 0.0.0.0:$p side by side (IPV6_V6ONLY)"
		msg=$(host_tcp_roundtrip ::1 "$p" 10000) || fail "[$who] 2: $msg"
		msg=$(host_tcp_roundtrip 127.0.0.1 "$p" 10000) || fail "[$who] 2: $msg"
		ok "[$who] 2: both carry data"
		api rootlesskit '{"execute":"list_hostfwd"}'
		assert_contains "$API_REPLY" "\"host_addr\":\"::\",\"host_port\":$p,\"guest_addr\":\"$g6\",\"guest_port\":80,\"family\":\"ipv6\"}" \
			"[$who] 2: the IPv6 list entry"

		# --- 6: backlog and a burst
		p=$(free_port tcp)
		api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$p,\"guest_port\":80}"
		n=$(listen_backlog "$p")
		[ "$n" -ge 128 ] || fail "[$who] 6: the listener's backlog is $n"
		ok "[$who] 6: the listener's backlog is $n (libslirp's is 1)"
		start=$(date +%s%N)
		burst=()
		for i in $(seq 1 200); do
			printf 'burst %s\n' "$i" | timeout 20 socat -t 10 - "TCP4:127.0.0.1:$p" >"$dir/burst.$i" 2>&1 &
			burst+=($!)
		done
		wait "${burst[@]}" || true
		out=$(( ($(date +%s%N) - start) / 1000000 ))
		n=0
		for i in $(seq 1 200); do
			[ "$(cat "$dir/burst.$i")" = "burst $i" ] && n=$((n + 1))
		done
		assert_eq 200 "$n" "[$who] 6: 200 parallel connections all echoed"
		# how long it took is for the benchmark to judge, not a test
		info "[$who] 6: the burst took $out ms"
	fi

	alive "$DAEMON_PID" || fail "[$who] the daemon died"
	daemon_stop
	assert_eq 0 "$DAEMON_STATUS" "[$who] exit status"
	if ! sandboxed; then
		[ ! -e "$dir/exit.sock" ] || fail "[$who] 3: the unix: socket file is left after exit"
		ok "[$who] 3: the unix: socket file is removed at exit"
	fi
	[ ! -e "$API_SOCK" ] || fail "[$who] the API socket file is left after exit"
	kill_wait "$pid"
}

run_variant root
# --enable-seccomp alone keeps run-time unix: forwards: the filter answers
# openat2 with ENOSYS and the directory is walked with O_NOFOLLOW instead
if ! sandboxed; then
	dir=$T/seccomp
	mkdir -p "$dir"
	API_SOCK=$dir/api.sock
	pid=$(ns_start)
	daemon_start --exit-fd 4 -- -c --enable-seccomp --api-socket "$API_SOCK" "$pid" tap0
	ns_server "$pid" tcp-echo 80
	unix_no_symlinks seccomp "$dir"
	alive "$DAEMON_PID" || fail "[seccomp] the daemon died"
	daemon_stop
	assert_eq 0 "$DAEMON_STATUS" "[seccomp] exit status"
	kill_wait "$pid"
fi
if have_test_user; then
	run_variant user
else
	info "no usable $TEST_USER: skipping the rootless variant"
fi
info "PASS"
