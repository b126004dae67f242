#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-udp-big.sh - UDP datagrams larger than the MTU, IPv4 and IPv6, both
# ways between the namespace and host loopback services (at and around the
# MTU, then far above it): each must arrive whole, and no non-TCP frame
# larger than the MTU may reach the namespace (libslirp's if_mtu is above
# the tap's; slirpd cuts what it writes larger, and reassembles IPv6
# fragments from the namespace, which libslirp drops).
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip nsenter unshare jq
require_python "UDP peers"
SLIRPCTL=${SLIRPCTL:-$(dirname "$SLIRPD")/slirpctl}
cp "$(dirname "$0")/udpbig.py" "$T/ub.py"
chmod 755 "$T" && chmod 644 "$T/ub.py"

_has_v6() {
	[ -n "$(ns_addrs6 "$1" tap0)" ]
}

p4=$(free_port udp)
spawn --log "$T/srv4.log" timeout 120 "$PY" "$T/ub.py" server 127.0.0.1 "$p4" 110
p6=$(free_port udp)
spawn --log "$T/srv6.log" timeout 120 "$PY" "$T/ub.py" server ::1 "$p6" 110

for mtu in 1500 9000; do
	pid=$(ns_start)
	api=()
	is_slirpd && api=(--api-socket "$T/api.sock")
	daemon_start --exit-fd 4 -- -c -6 --mtu "$mtu" "${api[@]}" "$pid" tap0
	wait_for -t 10 _has_v6 "$pid" || fail "mtu $mtu: no fd00:: address"
	rc=0
	ns_exec -t 90 "$pid" "$PY" "$T/ub.py" client tap0 "$mtu" 10.0.2.2 fd00::2 \
		"$p4" "$p6" 3000 9000 20000 65000 >"$T/client.$mtu.log" 2>&1 || rc=$?
	sed "s/^/[mtu $mtu] /" "$T/client.$mtu.log"
	[ "$rc" = 0 ] || fail "mtu $mtu: a datagram did not arrive whole, or a frame was too large"
	if is_slirpd; then
		stats=$(timeout 10 "$SLIRPCTL" -a "$T/api.sock" --json info)
		frag=$(jq -r .return.stats.tx_fragmented <<<"$stats")
		re=$(jq -r .return.stats.rx_reassembled <<<"$stats")
		over=$(jq -r .return.stats.tx_oversize <<<"$stats")
		[ "$frag" -gt 0 ] && [ "$re" -gt 0 ] && [ "$over" = 0 ] ||
			fail "mtu $mtu: counters ($stats)"
		ok "mtu $mtu: $frag datagrams cut for the namespace, $re reassembled from it, none dropped"
	fi
	daemon_stop
	kill_wait "$pid"
done
info "PASS"
