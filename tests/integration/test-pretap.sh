#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-pretap.sh - RootlessKit 1.x shape: the tap is created persistent and UP
# by the caller (ip tuntap add name tap0 mode tap), the daemon attaches to it
# without -c (`--mtu 65520 -r 3 PID tap0`), touches no address/route/MTU, and
# traffic flows once the caller configures 10.0.2.100/24 + the default route.
# After SIGKILL (RootlessKit's way to stop it) the tap survives and a new
# daemon can attach again.  As root and as TEST_USER.
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip nsenter unshare setpriv socat ss

svc_start tcp-echo 127.0.0.1
tcp_port=$SVC_PORT

# snapshot PID: what a daemon without -c must leave alone: IPv4 and global
# IPv6 addresses, IPv4 routes, tap0's MTU and MAC.  (Attaching gives the tap
# carrier, so the kernel adds a link-local IPv6 address: not compared.)
snapshot() {
	{
		ns_exec "$1" ip -o -4 addr show | sed 's/valid_lft.*//'
		ns_exec "$1" ip -o -6 addr show scope global | sed 's/valid_lft.*//'
		ns_exec "$1" ip -4 route show
		echo "mtu $(ns_link_field "$1" tap0 mtu) mac $(ns_link_field "$1" tap0 link/ether)"
	} 2>&1
}

test_variants
for who in "${VARIANTS[@]}"; do
	as_variant "$who"
	pid=$(ns_start "${UOPT[@]}")
	ns_pretap "$pid" || fail "[$who] cannot make tap0"
	before=$(snapshot "$pid")

	daemon_start "${UOPT[@]}" -- --mtu 65520 "$pid" tap0
	after=$(snapshot "$pid")
	if [ "$before" != "$after" ]; then
		fail "[$who] the daemon changed the namespace without -c:
--- before
$before
--- after
$after"
	fi
	ok "[$who] no address, route or link change by the daemon"
	assert_eq "" "$(ns_addrs4 "$pid" tap0)" "[$who] no IPv4 address on tap0"
	assert_eq 1500 "$(ns_link_field "$pid" tap0 mtu)" "[$who] tap0 MTU untouched"

	# the caller (RootlessKit's child) configures the interface itself
	ns_pretap_configure "$pid"
	msg=$(ns_tcp_roundtrip "$pid" 10.0.2.2 "$tcp_port" 200000) || fail "[$who] TCP via the pre-made tap: $msg"
	ok "[$who] TCP to 10.0.2.2:$tcp_port through the pre-made tap"

	daemon_stop --signal KILL
	assert_eq 137 "$DAEMON_STATUS" "[$who] killed by SIGKILL"
	ns_exec "$pid" ip link show tap0 >/dev/null 2>&1 || fail "[$who] the persistent tap0 vanished with the daemon"
	assert_eq 10.0.2.100/24 "$(ns_addrs4 "$pid" tap0)" "[$who] persistent tap0 keeps its address"

	# a new daemon re-attaches to the same tap
	daemon_start "${UOPT[@]}" -- --mtu 65520 "$pid" tap0
	msg=$(ns_tcp_roundtrip "$pid" 10.0.2.2 "$tcp_port" 1000) || fail "[$who] TCP after re-attaching: $msg"
	ok "[$who] a second daemon re-attaches to the persistent tap"
	daemon_stop --signal KILL
	kill_wait "$pid"
done

info "PASS"
