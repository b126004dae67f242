#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-ipv6.sh - -6/--enable-ipv6: libslirp's router advertisements give tap0
# a global fd00::/64 SLAAC address (bounded wait) and a default route via
# fe80::2, and TCP to [fd00::2]:PORT reaches a host service on [::1].  Root
# runs with the kernel's default DAD, the user with accept_dad=0 set before
# the daemon creates the tap (podman's workaround).  Without -6 no fd00::
# address appears.
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip nsenter unshare setpriv socat ss
[ -e /proc/net/if_inet6 ] || skip_kernel "no IPv6 on this host"
ip -6 addr show dev lo | grep -q '::1/128' || skip_kernel "no ::1 on the host loopback"

svc_start tcp-echo ::1
tcp6_port=$SVC_PORT

# global_fd00 PID: a non-tentative global fd00:: address on tap0
global_fd00() {
	ns_exec "$1" ip -o -6 addr show dev tap0 scope global 2>/dev/null |
		grep -v tentative | grep -q ' inet6 fd00::'
}
any_fd00() {
	ns_exec "$1" ip -o -6 addr show dev tap0 2>/dev/null | grep -q ' inet6 fd00:'
}
ll_ready() {
	ns_exec "$1" ip -o -6 addr show dev tap0 scope link 2>/dev/null |
		grep -v tentative | grep -q ' inet6 fe80::'
}

test_variants
for who in "${VARIANTS[@]}"; do
	as_variant "$who"
	flag=-6
	pid=$(ns_start)
	if [ "$who" = user ]; then
		flag=--enable-ipv6
		kill_wait "$pid"
		pid=$(ns_start --user)
		ns_exec "$pid" sh -c 'echo 0 >/proc/sys/net/ipv6/conf/default/accept_dad' ||
			fail "[$who] cannot set accept_dad=0 in the namespace"
	fi
	daemon_start "${UOPT[@]}" --exit-fd 4 -- -c "$flag" "$pid" tap0
	if ! wait_for -t 10 global_fd00 "$pid"; then
		fail "[$who $flag] no usable fd00:: address on tap0 within 10 s: $(ns_exec "$pid" ip -6 addr show dev tap0 2>&1)"
	fi
	ok "[$who $flag] tap0 got a global fd00::/64 SLAAC address: $(ns_addrs6 "$pid" tap0)"
	assert_match "$(ns_addrs6 "$pid" tap0)" '^fd00::[0-9a-f:]+/64' "[$who $flag] the address is in fd00::/64"
	assert_match "$(ns_exec "$pid" ip -6 route show default)" '^default via fe80::2 dev tap0' \
		"[$who $flag] IPv6 default route via fe80::2"
	msg=$(ns_tcp_roundtrip "$pid" fd00::2 "$tcp6_port" 100000) ||
		fail "[$who $flag] TCP to [fd00::2]:$tcp6_port: $msg"
	ok "[$who $flag] TCP to [fd00::2]:$tcp6_port reaches [::1]:$tcp6_port on the host"
	# the IPv4 side still works
	assert_eq 10.0.2.100/24 "$(ns_addrs4 "$pid" tap0)" "[$who $flag] IPv4 address still set"
	daemon_stop_ok "[$who $flag]"
	# slirp4netns prints "WARNING: Support for IPv6 is experimental"; slirpd
	# may print its IPv6 banner lines instead: informational only
	if grep -q '^WARNING: Support for IPv6 is experimental' "$DAEMON_LOG"; then
		info "[$who $flag] stdout has the 'Support for IPv6 is experimental' WARNING"
	else
		info "[$who $flag] no 'Support for IPv6 is experimental' WARNING on stdout (slirp4netns prints one)"
	fi
	kill_wait "$pid"
done

# without -6: the link-local address completes DAD (so router solicitations
# have been sent), then no fd00:: address may show up
pid=$(ns_start)
daemon_start --exit-fd 4 -- -c "$pid" tap0
wait_for -t 10 ll_ready "$pid" ||
	fail "[no -6] tap0 link-local address never left DAD: $(ns_exec "$pid" ip -6 addr show dev tap0 2>&1)"
if wait_for -t 3 any_fd00 "$pid"; then
	fail "[no -6] an fd00:: address appeared: $(ns_exec "$pid" ip -6 addr show dev tap0 2>&1)"
fi
ok "[no -6] no fd00:: address on tap0"
msg=$(ns_tcp_fails "$pid" fd00::2 "$tcp6_port") || fail "[no -6] $msg"
ok "[no -6] [fd00::2]:$tcp6_port is not reachable"
daemon_stop_ok "[no -6]"

info "PASS"
