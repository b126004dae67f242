#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-host-loopback.sh - 10.0.2.2 reaches 127.0.0.1 on the host by default;
# with --disable-host-loopback TCP connections to 10.0.2.2 fail (refused or no
# answer, bounded) and UDP gets no echo, while the daemon keeps working.
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip nsenter unshare setpriv socat ss

svc_start tcp-echo 127.0.0.1
tcp_port=$SVC_PORT
svc_start udp-echo 127.0.0.1
udp_port=$SVC_PORT

uopt=()
have_test_user && uopt=(--user)

# default: host loopback reachable
pid=$(ns_start "${uopt[@]}")
daemon_start "${uopt[@]}" --exit-fd 4 -- -c "$pid" tap0
msg=$(ns_tcp_roundtrip "$pid" 10.0.2.2 "$tcp_port" 1000) ||
	fail "without --disable-host-loopback, TCP to 10.0.2.2:$tcp_port should work: $msg"
ok "without --disable-host-loopback: TCP 10.0.2.2:$tcp_port reaches 127.0.0.1"
daemon_stop
assert_eq 0 "$DAEMON_STATUS" "exit status (default)"
assert_match "$(cat "$DAEMON_LOG")" '^WARNING: 127\.0\.0\.1:\* on the host is accessible as 10\.0\.2\.2' \
	"without --disable-host-loopback: the stdout WARNING about 10.0.2.2"
kill_wait "$pid"

# --disable-host-loopback: not reachable
pid=$(ns_start "${uopt[@]}")
daemon_start "${uopt[@]}" --exit-fd 4 -- -c --disable-host-loopback "$pid" tap0
msg=$(ns_tcp_fails "$pid" 10.0.2.2 "$tcp_port") || fail "--disable-host-loopback: $msg"
ok "--disable-host-loopback: TCP to 10.0.2.2:$tcp_port does not get through"
if msg=$(UDP_TRIES=1 ns_udp_roundtrip "$pid" 10.0.2.2 "$udp_port" 100); then
	fail "--disable-host-loopback: UDP to 10.0.2.2:$udp_port was echoed"
fi
ok "--disable-host-loopback: UDP to 10.0.2.2:$udp_port gets no echo"
alive "$DAEMON_PID" || fail "--disable-host-loopback: the daemon died"
daemon_stop
assert_eq 0 "$DAEMON_STATUS" "exit status (--disable-host-loopback)"
assert_not_contains "$(cat "$DAEMON_LOG")" "is accessible as 10.0.2.2" \
	"--disable-host-loopback: no host-loopback WARNING"

info "PASS"
