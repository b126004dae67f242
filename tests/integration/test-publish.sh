#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-publish.sh - -p/--publish: forwards from the command line
#   1  a bad spec is a start-up error (exit 1, one clear line), before the
#      namespace is touched; so is a port in use
#   2  TCP, UDP, IPv6 ([::1]:P:G), unix:/path:G and an ephemeral port, all
#      listening when the ready byte arrives, carrying data both ways, listed
#      by the API with ids 1..5, and the banner names each one
#   3  the unix: socket file is removed at exit (SIGTERM)
#   4  with --enable-sandbox (and --enable-seccomp when advertised): unix:
#      from -p works and is removed at exit (through a directory fd kept
#      from before the sandbox), a unix: forward added at run time is
#      refused with a clear error; every other command still works
# in a private network namespace whose loopback is "the host".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
enter_private_host_ns "$@"

require_root
require_cmd ip nsenter unshare socat ss awk
is_slirpd || skip "slirpd-only: -p/--publish"
api_init

pid=$(ns_start)

# --- 1: bad specs, port in use
bad_spec() { # SPEC EXPECTED-TEXT [OPTIONS...]
	local spec=$1 want=$2
	shift 2
	run_cli --hup-exit-fd 5 -c "$@" -p "$spec" "$pid" tap0
	assert_eq 1 "$CLI_RC" "1: -p $spec: exit status 1"
	assert_contains "$CLI_ERR" "--publish $spec: $want" "1: -p $spec: says \"$want\""
	assert_not_contains "$CLI_ERR" "sent tapfd" "1: -p $spec: refused before the namespace is touched"
}
bad_spec 8080 "expected [HOSTADDR:]HOSTPORT:GUESTPORT"
bad_spec 99999:80 "bad host port"
bad_spec 8080:0 "bad guest port"
bad_spec 8080:80/sctp "the protocol must be tcp or udp"
bad_spec ::1:8080:80 "an IPv6 HOSTADDR goes in brackets"
bad_spec '[::1]:8080:80' "bad guest address: IPv6 is not enabled (--enable-ipv6)"
bad_spec example.com:8080:80 "bad host address"
bad_spec unix:relative.sock:80 "bad host address: unix: needs an absolute path"
bad_spec unix:/tmp/x.sock:80/udp "bad host address: unix: forwards are TCP only"
svc_start tcp-echo 127.0.0.1
busy=$SVC_PORT
run_cli --hup-exit-fd 5 -c -p "127.0.0.1:$busy:80" "$pid" tap0
assert_eq 1 "$CLI_RC" "1: a port in use: exit status 1"
assert_contains "$CLI_ERR" "--publish 127.0.0.1:$busy:80: Address already in use" \
	"1: a port in use: says which spec and why"

# --- 2: everything at once
ns_server "$pid" tcp-echo 80
ns_server "$pid" udp-echo 53
p1=$(free_port tcp)
p2=$(free_port udp)
p3=$(free_port tcp)
API_SOCK=$T/api.sock
daemon_start --exit-fd 4 -- -c -6 --api-socket "$API_SOCK" \
	-p "$p1:80" --publish "127.0.0.1:$p2:53/udp" -p "[::1]:$p3:80" \
	-p "unix:$T/pub.sock:80" --publish=127.0.0.1:0:80/tcp "$pid" tap0
# no wait: they listen before the ready byte
ss -Htln "sport = :$p1" | grep -q "0.0.0.0:$p1" || fail "2: no listener on 0.0.0.0:$p1 at ready time"
ss -Huln "sport = :$p2" | grep -q "127.0.0.1:$p2" || fail "2: no UDP socket on 127.0.0.1:$p2 at ready time"
ss -Htln "sport = :$p3" | grep -q "\[::1\]:$p3" || fail "2: no listener on [::1]:$p3 at ready time"
[ -S "$T/pub.sock" ] || fail "2: no socket file $T/pub.sock at ready time"
ok "2: the TCP, UDP, IPv6 and unix: listeners are there at ready time"
eph=$(sed -n 's/^\* Forward: *tcp 127\.0\.0\.1:\([0-9]*\) -> 10\.0\.2\.100:80$/\1/p' "$DAEMON_LOG")
[ -n "$eph" ] && [ "$eph" != 0 ] || fail "2: no banner line for the ephemeral forward: $(grep Forward "$DAEMON_LOG")"
ok "2: the banner names the ephemeral port ($eph)"
assert_eq 5 "$(grep -c '^\* Forward: ' "$DAEMON_LOG")" "2: one banner line per forward"

msg=$(host_tcp_roundtrip 127.0.0.1 "$p1" 1000000) || fail "2: $msg"
ok "2: -p $p1:80: 1 MB there and back"
msg=$(host_udp_roundtrip 127.0.0.1 "$p2" 1000) || fail "2: $msg"
ok "2: -p 127.0.0.1:$p2:53/udp: a datagram there and back"
wait_for -t 15 host_tcp_roundtrip ::1 "$p3" 100 || fail "2: [::1]:$p3 never reached the guest"
msg=$(host_tcp_roundtrip ::1 "$p3" 1000000) || fail "2: $msg"
ok "2: -p [::1]:$p3:80 (to the guest's IPv6 address): 1 MB there and back"
msg=$(unix_roundtrip "$T/pub.sock" 1000000) || fail "2: $msg"
ok "2: -p unix:$T/pub.sock:80: 1 MB there and back"
msg=$(host_tcp_roundtrip 127.0.0.1 "$eph" 10000) || fail "2: $msg"
ok "2: -p 127.0.0.1:0:80: data through port $eph"
api rootlesskit '{"execute":"list_hostfwd"}'
assert_eq "{\"entries\":[{\"id\":1,\"proto\":\"tcp\",\"host_addr\":\"0.0.0.0\",\"host_port\":$p1,\"guest_addr\":\"10.0.2.100\",\"guest_port\":80},{\"id\":2,\"proto\":\"udp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$p2,\"guest_addr\":\"10.0.2.100\",\"guest_port\":53},{\"id\":3,\"proto\":\"tcp\",\"host_addr\":\"::1\",\"host_port\":$p3,\"guest_addr\":\"::\",\"guest_port\":80,\"family\":\"ipv6\"},{\"id\":4,\"proto\":\"tcp\",\"host_addr\":\"unix:$T/pub.sock\",\"host_port\":0,\"guest_addr\":\"10.0.2.100\",\"guest_port\":80,\"family\":\"unix\"},{\"id\":5,\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$eph,\"guest_addr\":\"10.0.2.100\",\"guest_port\":80,\"ephemeral\":true}]}" \
	"$API_REPLY" "2: the API lists them, ids 1..5"
api_remove 1
host_port_closed 127.0.0.1 "$p1" || fail "2: $p1 still accepts after remove_hostfwd"
ok "2: a --publish forward can be removed through the API"

# --- 3: SIGTERM removes the unix: socket file
kill -TERM "$DAEMON_PID"
daemon_wait_exit 10 || fail "3: no exit within 10 s of SIGTERM"
assert_eq 0 "$DAEMON_STATUS" "3: exit status after SIGTERM"
[ ! -e "$T/pub.sock" ] || fail "3: $T/pub.sock is left after SIGTERM"
ok "3: the unix: socket file is removed at exit"
[ ! -e "$API_SOCK" ] || fail "3: the API socket is left after SIGTERM"

# --- 4: with the sandbox
if "$SLIRPD" --help | grep -q -- --enable-sandbox; then
	seccomp=()
	"$SLIRPD" --help | grep -q -- --enable-seccomp && seccomp=(--enable-seccomp)
	daemon_start --exit-fd 4 -- --enable-sandbox "${seccomp[@]}" -c \
		--api-socket "$T/api2.sock" -p "unix:$T/sandbox.sock:80" "$pid" tap0
	msg=$(unix_roundtrip "$T/sandbox.sock" 100000) || fail "4: $msg"
	ok "4: [sandbox] -p unix:$T/sandbox.sock:80 carries data"
	api rootlesskit "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_addr\":\"unix:$T/late.sock\",\"guest_port\":80}}" "$T/api2.sock"
	assert_eq '{"error":{"desc":"bad request: add_hostfwd: bad arguments.host_addr (with the sandbox on, unix: forwards can only be given with --publish)"}}' \
		"$API_REPLY" "4: [sandbox] a unix: forward at run time is refused, clearly"
	p1=$(free_port tcp)
	api rootlesskit "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$p1,\"guest_port\":80}}" "$T/api2.sock"
	assert_eq '{"return":{"id":2}}' "$API_REPLY" "4: [sandbox] a TCP forward at run time works"
	msg=$(host_tcp_roundtrip 127.0.0.1 "$p1" 10000) || fail "4: $msg"
	ok "4: [sandbox] ... and carries data"
	api rootlesskit '{"execute":"add_hostfwd","arguments":{"proto":"udp","host_addr":"127.0.0.1","host_port":0,"guest_port":53}}' "$T/api2.sock"
	assert_match "$API_REPLY" '^\{"return":\{"id":3,"host_port":[0-9]+\}\}$' \
		"4: [sandbox] an ephemeral UDP forward at run time"
	api rootlesskit '{"execute":"get_connections"}' "$T/api2.sock"
	assert_contains "$API_REPLY" '"state":"HOST_FORWARD"' "4: [sandbox] get_connections"
	api rootlesskit '{"execute":"get_info"}' "$T/api2.sock"
	assert_contains "$API_REPLY" '"enable_sandbox":true' "4: [sandbox] get_info"
	api rootlesskit '{"execute":"remove_hostfwd","arguments":{"id":3}}' "$T/api2.sock"
	assert_eq '{"return":{}}' "$API_REPLY" "4: [sandbox] remove_hostfwd"
	alive "$DAEMON_PID" || fail "4: [sandbox] the daemon died (${seccomp[*]})"
	daemon_stop
	assert_eq 0 "$DAEMON_STATUS" "4: [sandbox] exit status"
	[ ! -e "$T/sandbox.sock" ] || fail "4: [sandbox] $T/sandbox.sock is left after exit"
	ok "4: [sandbox] the unix: socket file is removed at exit"
else
	info "4: --enable-sandbox is not advertised: skipped"
fi
info "PASS"
