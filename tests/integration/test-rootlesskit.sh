#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-rootlesskit.sh - RootlessKit 1.1.0 `--net=slirp4netns
# --slirp4netns-binary=$SLIRPD` as an unprivileged user.  RootlessKit creates
# tap0 itself and runs the daemon under test as
#   $SLIRPD --mtu N -r 3 [--disable-host-loopback] [--cidr C]
#           [--enable-sandbox] [--enable-seccomp] [--enable-ipv6] <PID> tap0
# (no -c: the daemon attaches to the existing tap; RootlessKit's child sets
# the addresses).  The RootlessKit child is a short script that does the
# checks inside the namespaces and exits.
#
# Checks:
#  1  default (host loopback allowed, MTU 65520): tap0 has 10.0.2.100/24 and
#     MTU 65520, default route via 10.0.2.2; 10.0.2.2:PORT reaches a service
#     on the host's 127.0.0.1 (request and reply) and a 1 MiB download
#     arrives intact
#  1b --ipv6: [fd00::2]:PORT reaches the host's [::1]
#  2  --cidr=10.7.0.0/24 --mtu=1500: 10.7.0.100/24, MTU 1500, gateway
#     10.7.0.2 reaches the host service, 1 MiB intact at MTU 1500
#  3  docker-style --port-driver=builtin --disable-host-loopback
#     --slirp4netns-sandbox=auto --slirp4netns-seccomp=auto: 10.0.2.2 does not
#     reach the host loopback, and `rootlessctl add-ports
#     127.0.0.1:HP:8080/tcp` reaches a server in the child
# (the slirp4netns port driver, which uses the daemon's API, is
# test-rootlesskit-api.sh)

set -u
. "$(dirname "$0")/peers.sh"

peers_init test-rootlesskit rootlesskit rootlessctl
T=$RANDOM$RANDOM
peers_host_services

# the checks every child runs; $1 = gateway address
child_net_checks() {
	cat <<-EOF
		ip -o -4 addr show tap0
		ip -o link show tap0
		ip -4 route
		echo "ns1=\$(grep ^nameserver /etc/resolv.conf | head -1)"
		echo ping-$T | timeout 10 socat -t 5 - TCP4:$1:$P_ECHO
		echo "sha=\$(timeout 20 socat -u TCP4:$1:$P_FILE - | sha256sum)"
	EOF
}

# rk_expect NAME GW ADDR MTU: the log of child NAME shows the expected state
rk_expect() {
	local out
	out=$(cat "$PEERS_DIR/$1.log")
	echo "$out"
	peers_expect_contains "$out" "inet $3 " "ip addr of tap0" &&
		peers_expect_contains "$(printf '%s\n' "$out" | grep ': tap0:')" "mtu $4 " "the tap0 link" &&
		peers_expect_contains "$out" "default via $2 dev tap0" "the routes" &&
		peers_expect_contains "$out" "got:ping-$T" "the reply from 127.0.0.1:$P_ECHO via $2" &&
		peers_expect_contains "$out" "sha=$BIG_SHA" "sha256 of 1 MiB from 127.0.0.1:$P_FILE via $2"
}

case_default() {
	peers_rk_run rk1 "$(child_net_checks 10.0.2.2)" --port-driver=builtin ||
		{ echo "rootlesskit failed:"; cat "$PEERS_DIR/rk1.log"; return 1; }
	rk_expect rk1 10.0.2.2 10.0.2.100/24 65520
}

case_ipv6() {
	local out
	# RootlessKit 1.1.0 sets no IPv6 address: tap0 gets fd00::/64 by SLAAC
	# from the daemon's router advertisements, after DAD
	peers_rk_run rk1b "
		i=0; while ! ip -6 addr show dev tap0 scope global -tentative | grep -q 'inet6 fd00::' && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i+1)); done
		ip -o -6 addr show tap0
		echo ping6-$T | timeout 10 socat -t 5 - TCP6:[fd00::2]:$P_ECHO6" \
		--port-driver=builtin --ipv6 ||
		{ echo "rootlesskit failed:"; cat "$PEERS_DIR/rk1b.log"; return 1; }
	out=$(cat "$PEERS_DIR/rk1b.log")
	echo "$out"
	peers_expect_contains "$out" "got6:ping6-$T" "the reply from [::1]:$P_ECHO6 via fd00::2"
}

case_cidr_mtu() {
	peers_rk_run rk2 "$(child_net_checks 10.7.0.2)" --port-driver=builtin \
		--cidr=10.7.0.0/24 --mtu=1500 ||
		{ echo "rootlesskit failed:"; cat "$PEERS_DIR/rk2.log"; return 1; }
	rk_expect rk2 10.7.0.2 10.7.0.100/24 1500
}

case_builtin_ports() {
	local hp out rc=0 cmd='' p list
	peers_free_port hp
	peers_rk_start rk3 "
		echo ping-$T | timeout 5 socat -t 2 - TCP4:10.0.2.2:$P_ECHO 2>/dev/null | sed 's/^/hostlo-reply: /'
		echo hostlo-checked
		timeout 70 socat TCP4-LISTEN:8080,reuseaddr,fork SYSTEM:'echo rk-$T' &
		i=0; while [ -z \"\$(ss -Hltn 'sport = :8080')\" ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i+1)); done" \
		--port-driver=builtin --disable-host-loopback \
		--slirp4netns-sandbox=auto --slirp4netns-seccomp=auto
	peers_rk_wait_ready rk3 30 || return 1
	for p in $(peers_daemon_pids); do cmd=$(peers_daemon_cmdline "$p"); done
	echo "daemon: $cmd"
	out=$(peers_rkctl rk3 add-ports "127.0.0.1:$hp:8080/tcp" 2>&1) || { echo "add-ports failed: $out"; rc=1; }
	list=$(peers_rkctl rk3 list-ports 2>&1)
	echo "$list"
	[ $rc = 0 ] && { peers_fetch_expect 127.0.0.1 "$hp" "rk-$T" 10 || rc=1; }
	peers_rk_stop rk3 || { echo "rootlesskit exited with $?"; rc=1; }
	out=$(cat "$PEERS_DIR/rk3.log")
	echo "$out"
	[ $rc = 0 ] &&
		peers_expect_contains "$list" "$hp" "list-ports" &&
		peers_expect_contains "$out" "hostlo-checked" "the child log" &&
		peers_expect_not_contains "$out" "hostlo-reply:" "the child log (10.0.2.2 with --disable-host-loopback)"
}

peers_check "1: default: 10.0.2.100/24, mtu 65520, 10.0.2.2 reaches host 127.0.0.1" case_default
peers_check "1b: --ipv6: fd00::2 reaches host ::1" case_ipv6
peers_check "2: --cidr=10.7.0.0/24 --mtu=1500" case_cidr_mtu
peers_check "3: builtin port driver + --disable-host-loopback, sandbox/seccomp auto" case_builtin_ports
peers_finish
