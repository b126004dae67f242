#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-api-slirpctl.sh - the slirpctl client against a running daemon:
#   1  usage errors exit 2; a missing socket exits 1 and says so; the
#      client links none of the daemon's libraries
#   2  add (the --publish syntax and the three-word form, ephemeral
#      ports, --guest-addr), list, remove, info, connections, raw: human
#      output, and --json giving the daemon's bytes; a forward added with
#      slirpctl carries data
#   3  the daemon's errors reach stderr with exit status 1
#   4  the same client drives slirp4netns 1.2.0 (add, list, remove), if
#      installed
# In a private network namespace whose loopback is "the host".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
enter_private_host_ns "$@"

require_root
require_cmd ip nsenter unshare socat ss awk readelf
is_slirpd || skip "slirpd-only (slirpctl is built with slirpd)"
SLIRPCTL=${SLIRPCTL:-$(dirname "$SLIRPD")/slirpctl}
[ -x "$SLIRPCTL" ] || skip "no slirpctl next to $SLIRPD"
api_init

ctl() { # ARGS...: sets CTL_RC, CTL_OUT, CTL_ERR
	CTL_RC=0
	timeout 20 "$SLIRPCTL" "$@" >"$T/ctl.out" 2>"$T/ctl.err" || CTL_RC=$?
	CTL_OUT=$(cat "$T/ctl.out")
	CTL_ERR=$(cat "$T/ctl.err")
}

# --- 1: usage and a missing socket; what the client links
needed=$(readelf -d "$SLIRPCTL" | awk '$2 == "(NEEDED)" { print $NF }')
assert_contains "$needed" "libc.so" "1: slirpctl's libraries are listed"
for lib in libslirp libglib libseccomp libcap libmnl; do
	assert_not_contains "$needed" "$lib" "1: slirpctl does not link $lib"
done
ctl list
assert_eq 2 "$CTL_RC" "1: no socket given: exit status 2"
assert_contains "$CTL_ERR" "use --api-socket PATH or set SLIRPD_API_SOCKET" "1: ... and says how"
ctl -a "$T/api.sock" frobnicate
assert_eq 2 "$CTL_RC" "1: an unknown command: exit status 2"
ctl -a "$T/api.sock" add 8080
assert_eq 2 "$CTL_RC" "1: add with a bad spec: exit status 2"
assert_contains "$CTL_ERR" "expected [HOSTADDR:]HOSTPORT:GUESTPORT" "1: ... and says why"
ctl -a "$T/api.sock" list
assert_eq 1 "$CTL_RC" "1: no daemon: exit status 1"
assert_contains "$CTL_ERR" "cannot talk to the API socket $T/api.sock: No such file or directory" \
	"1: ... and a clear message"
ctl --help
assert_eq 0 "$CTL_RC" "1: --help"
assert_contains "$CTL_OUT" "add [--guest-addr=ADDR] SPEC" "1: --help lists the commands"

# --- 2: a daemon
if sandboxed; then
	# with the sandbox on, a run-time unix: forward is refused, and slirpctl
	# says so; the rest of this client test needs it, so it goes on with a
	# daemon without the sandbox (isolation is covered by test-sandbox.sh)
	pid=$(ns_start)
	daemon_start --exit-fd 4 -- -c --api-socket "$T/sbx.sock" "$pid" tap0
	ctl -a "$T/sbx.sock" add "unix:$T/refused.sock:80"
	assert_eq 1 "$CTL_RC" "sandbox: add unix:PATH:PORT: exit status 1"
	assert_contains "$CTL_ERR" "with the sandbox on, unix: forwards can only be given with --publish" \
		"sandbox: ... and slirpctl prints the daemon's reason"
	daemon_stop
	kill_wait "$pid"
	SLIRPD_TEST_EXTRA_ARGS=
fi
pid=$(ns_start)
API_SOCK=$T/api.sock
daemon_start --exit-fd 4 -- -c -6 --api-socket "$API_SOCK" "$pid" tap0
ns_server "$pid" tcp-echo 80
ns_server "$pid" udp-echo 53
p1=$(free_port tcp)
ctl -a "$API_SOCK" add "127.0.0.1:$p1:80"
assert_eq 0 "$CTL_RC" "2: add 127.0.0.1:$p1:80"
assert_eq "added forward 1" "$CTL_OUT" "2: ... prints the id"
msg=$(host_tcp_roundtrip 127.0.0.1 "$p1" 1000000) || fail "2: $msg"
ok "2: the forward slirpctl added carries 1 MB both ways"
p2=$(free_port udp)
SLIRPD_API_SOCKET=$API_SOCK ctl add udp "127.0.0.1:$p2" 10.0.2.100:53
assert_eq "added forward 2" "$CTL_OUT" "2: add udp HOST GUEST (three words; SLIRPD_API_SOCKET)"
msg=$(host_udp_roundtrip 127.0.0.1 "$p2" 512) || fail "2: $msg"
ok "2: ... carries a datagram both ways"
ctl -a "$API_SOCK" add tcp 127.0.0.1:0 80
assert_match "$CTL_OUT" '^added forward 3 on host port [0-9]+$' "2: add with port 0 prints the port"
eph=${CTL_OUT##* }
ctl -a "$API_SOCK" add --guest-addr fd00::100 "[::1]:0:80"
assert_match "$CTL_OUT" '^added forward 4 on host port [0-9]+$' "2: add --guest-addr with an IPv6 host"
ctl -a "$API_SOCK" add "unix:$T/ctl.sock:80"
assert_eq "added forward 5" "$CTL_OUT" "2: add unix:PATH:PORT"
ctl -a "$API_SOCK" --json add tcp 127.0.0.1:0 81
assert_match "$CTL_OUT" '^\{"return":\{"id":6,"host_port":[0-9]+\}\}$' "2: --json add prints the reply"

ctl -a "$API_SOCK" list
assert_eq 0 "$CTL_RC" "2: list"
assert_match "$CTL_OUT" '^ID +PROTO +HOST +GUEST$' "2: list: the header"
assert_match "$CTL_OUT" "^1 +tcp +127\\.0\\.0\\.1:$p1 +10\\.0\\.2\\.100:80\$" "2: list: a TCP row"
assert_match "$CTL_OUT" "^2 +udp +127\\.0\\.0\\.1:$p2 +10\\.0\\.2\\.100:53\$" "2: list: a UDP row"
assert_match "$CTL_OUT" "^3 +tcp +127\\.0\\.0\\.1:$eph +10\\.0\\.2\\.100:80\$" "2: list: the ephemeral port"
assert_match "$CTL_OUT" "^4 +tcp +\\[::1\\]:[0-9]+ +\\[fd00::100\\]:80\$" "2: list: an IPv6 row"
assert_match "$CTL_OUT" "^5 +tcp +unix:$T/ctl\\.sock +10\\.0\\.2\\.100:80\$" "2: list: a unix: row"
ctl -a "$API_SOCK" --json list
api rootlesskit '{"execute":"list_hostfwd"}'
assert_eq "$API_REPLY" "$CTL_OUT" "2: --json list is the daemon's reply, byte for byte"

ctl -a "$API_SOCK" remove 6 3
assert_eq 0 "$CTL_RC" "2: remove 6 3"
assert_eq "$(printf 'removed forward 6\nremoved forward 3')" "$CTL_OUT" "2: ... says so"
host_port_closed 127.0.0.1 "$eph" || fail "2: port $eph still accepts"
ok "2: ... and the port is closed"

ctl -a "$API_SOCK" info
assert_eq 0 "$CTL_RC" "2: info"
assert_match "$CTL_OUT" '^version: [0-9]' "2: info: version"
assert_match "$CTL_OUT" '^config\.recommended_ip: 10\.0\.2\.100$' "2: info: addresses"
assert_match "$CTL_OUT" '^config\.ipv6: yes$' "2: info: flags"
assert_match "$CTL_OUT" '^forwards\.count: 4$' "2: info: forward count"
assert_match "$CTL_OUT" '^api\.requests: [0-9]+$' "2: info: API counters"

ctl -a "$API_SOCK" connections
assert_eq 0 "$CTL_RC" "2: connections"
assert_match "$CTL_OUT" '^PROTO +STATE +FD +SOURCE +DESTINATION +RECV-Q +SEND-Q$' "2: connections: header"
assert_match "$CTL_OUT" "^tcp +HOST_FORWARD +[0-9]+ +127\\.0\\.0\\.1:$p1 +10\\.0\\.2\\.100:80 " \
	"2: connections: a listener"
ctl -a "$API_SOCK" --json connections
assert_match "$CTL_OUT" '^\{"return":\{"connections":\[' "2: --json connections"

ctl -a "$API_SOCK" raw '{"execute":"list_hostfwd"}'
assert_eq 0 "$CTL_RC" "2: raw"
assert_match "$CTL_OUT" '^\{"entries":\[' "2: raw prints the reply"

# --- 3: daemon errors
ctl -a "$API_SOCK" add "127.0.0.1:$p1:80"
assert_eq 1 "$CTL_RC" "3: add on a port in use: exit status 1"
assert_eq "slirpctl: bad request: add_hostfwd: slirp_add_hostfwd failed: Address already in use" \
	"$CTL_ERR" "3: ... the daemon's text on stderr"
ctl -a "$API_SOCK" remove 99
assert_eq 1 "$CTL_RC" "3: remove 99: exit status 1"
assert_eq "slirpctl: bad request: remove_hostfwd: bad arguments.id" "$CTL_ERR" "3: ... says why"
ctl -a "$API_SOCK" add tcp '[::1]:0' 80
assert_eq 0 "$CTL_RC" "3: an IPv6 host goes to the guest's IPv6 address, as -p"
ctl -a "$API_SOCK" raw '{"execute":"bogus"}'
assert_eq 1 "$CTL_RC" "3: raw with an error reply: exit status 1"
ctl -a "$API_SOCK" shutdown
assert_eq 0 "$CTL_RC" "3: shutdown: exit status"
assert_eq "the daemon is stopping" "$CTL_OUT" "3: shutdown: says so"
daemon_wait_exit 10 || fail "3: the daemon did not exit after slirpctl shutdown"
assert_eq 0 "$DAEMON_STATUS" "exit status"
[ ! -e "$T/ctl.sock" ] || fail "the unix: socket file is left after exit"

# --- 4: slirp4netns
if [ -x /usr/bin/slirp4netns ]; then
	API_SOCK=$T/s4.sock
	SLIRPD=/usr/bin/slirp4netns daemon_start --exit-fd 4 -- -c --api-socket "$API_SOCK" "$pid" tap1
	p3=$(free_port tcp)
	ctl -a "$API_SOCK" add "127.0.0.1:$p3:80"
	assert_eq "added forward 1" "$CTL_OUT" "4: [slirp4netns] add"
	ctl -a "$API_SOCK" list
	assert_match "$CTL_OUT" "^1 +tcp +127\\.0\\.0\\.1:$p3 +10\\.0\\.2\\.100:80\$" "4: [slirp4netns] list"
	ctl -a "$API_SOCK" remove 1
	assert_eq "removed forward 1" "$CTL_OUT" "4: [slirp4netns] remove"
	ctl -a "$API_SOCK" remove 1
	assert_eq "slirpctl: bad request: remove_hostfwd: bad arguments.id" "$CTL_ERR" \
		"4: [slirp4netns] its errors too"
	daemon_stop
else
	info "4: no /usr/bin/slirp4netns: skipped"
fi
info "PASS"
