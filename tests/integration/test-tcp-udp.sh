#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-tcp-udp.sh - TCP and UDP from inside the namespace to loopback services
# on the host through the gateway 10.0.2.2 (host loopback), data both ways,
# compared byte for byte; as root and as TEST_USER.
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip nsenter unshare setpriv socat ss

svc_start tcp-echo 127.0.0.1
tcp_port=$SVC_PORT
svc_start udp-echo 127.0.0.1
udp_port=$SVC_PORT
info "tcp echo on 127.0.0.1:$tcp_port, udp echo on 127.0.0.1:$udp_port"

test_variants
for who in "${VARIANTS[@]}"; do
	# root runs with podman's MTU, the user with the default 1500 (so the
	# 8000-byte datagram is fragmented on the tap)
	as_variant "$who"
	mtu=(--mtu 65520)
	[ "$who" = user ] && mtu=()
	pid=$(ns_start "${UOPT[@]}")
	daemon_start "${UOPT[@]}" --exit-fd 4 -- -c "${mtu[@]}" "$pid" tap0

	msg=$(ns_tcp_roundtrip "$pid" 10.0.2.2 "$tcp_port" 100) || fail "[$who] small TCP echo: $msg"
	ok "[$who] TCP 100 bytes to 10.0.2.2:$tcp_port and back"
	msg=$(ns_tcp_roundtrip "$pid" 10.0.2.2 "$tcp_port" 4000000) || fail "[$who] large TCP echo: $msg"
	ok "[$who] TCP 4 MB to 10.0.2.2:$tcp_port and back"
	msg=$(ns_udp_roundtrip "$pid" 10.0.2.2 "$udp_port" 512) || fail "[$who] UDP echo: $msg"
	ok "[$who] UDP 512-byte datagram to 10.0.2.2:$udp_port and back"
	msg=$(ns_udp_roundtrip "$pid" 10.0.2.2 "$udp_port" 8000) || fail "[$who] large UDP echo: $msg"
	ok "[$who] UDP 8000-byte datagram to 10.0.2.2:$udp_port and back"

	daemon_stop_ok "[$who] (the exit fd closed)"
	kill_wait "$pid"
done

info "PASS"
