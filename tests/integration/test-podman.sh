#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-podman.sh - rootless podman 4.3.1 with `--network slirp4netns` runs the
# daemon under test ($SLIRPD, via containers.conf network_cmd_path).
#
# podman 4.3.1 runs it as
#   $SLIRPD [--disable-host-loopback] --mtu=65520 [--enable-sandbox]
#           [--enable-seccomp] [--cidr=C] --enable-ipv6 -c -e 3 -r 4
#           --netns-type=path <netns> tap0
# and, for containers with their own user namespace (--userns=keep-id),
#   ... -c -e 3 -r 4 <container PID> tap0
#
# Checks:
#  1  allow_host_loopback=true: 10.0.2.2:PORT reaches a service on the host's
#     127.0.0.1 (request and reply), a 1 MiB download arrives intact, and
#     [fd00::2]:PORT reaches [::1]
#  1b default (--disable-host-loopback): 10.0.2.2 / fd00::2 do not reach it
#  2  -c configured the netns: lo up, inet 10.0.2.100/24 on tap0, MTU 65520,
#     default route via 10.0.2.2, resolv.conf nameserver 10.0.2.3, the
#     gateway answers ping, tap0 gets an fd00::/64 address (--enable-ipv6)
#  2b cidr=10.5.0.0/24,mtu=1500: 10.5.0.100/24, MTU 1500, gateway 10.5.0.2
#     reaches the host, 1 MiB download intact at MTU 1500
#  2c mtu=1500 with IPv6 (podman's default): 1 MiB each way over IPv6 via
#     fd00::2 intact, tap0's IPv6 MTU still 1500 after the RA
#  3  -p HOSTPORT:CPORT with the default port handler (rootlessport, which
#     dials 10.0.2.100 inside the netns) reaches a server in the container;
#     the daemon exits once the container is gone (exit fd)
#  5  --userns=keep-id (the PID form of the command line) reaches the host
#     service and has 10.0.2.100
#  6  podman info shows `$SLIRPD --version` verbatim as host.slirp4netns
#  7  (slirpd only) a deny rule in the user's slirpd.conf
#     ($XDG_CONFIG_HOME/slirpd/slirpd.conf, with log-denied) and
#     allow_host_loopback=true: the container is refused at once
#     ("Connection refused") on the denied port of the host's loopback
#     while another port answers; the daemon's get_policy (through the API
#     socket podman gives it with port_handler=slirp4netns) shows the rule
#     from that file with 1 hit, and its log (podman's unlinked file,
#     read through /proc/PID/fd/1) the refusal; the file is removed again
# (case 4, port_handler=slirp4netns, is test-podman-api.sh)

set -u
. "$(dirname "$0")/peers.sh"

peers_init test-podman podman jq
peers_podman_setup

T=$RANDOM$RANDOM
peers_host_services

run() { peers_podman run --rm "$@"; }

# poll until no daemon we started is left (they exit on the exit fd's HUP)
no_daemon_left() {
	local i pids
	for ((i = 0; i < 50; i++)); do
		pids=$(peers_daemon_pids)
		[ -z "$pids" ] && return 0
		sleep 0.1
	done
	for p in $pids; do echo "still running: $p $(peers_daemon_cmdline "$p")"; done
	return 1
}

case_host_loopback() {
	local out
	out=$(run --network slirp4netns:allow_host_loopback=true "$PEERS_IMAGE" sh -c "
		echo ping-$T | nc -w 10 10.0.2.2 $P_ECHO
		echo sha=\$(nc -w 10 10.0.2.2 $P_FILE </dev/null | sha256sum)
		i=0; while [ \$i -lt 50 ]; do
			ip -6 addr show dev tap0 scope global | grep -q 'inet6 fd00::' && break
			sleep 0.1; i=\$((i+1))
		done
		echo ping6-$T | nc -w 10 fd00::2 $P_ECHO6" 2>&1)
	echo "$out"
	peers_expect_contains "$out" "got:ping-$T" "the reply from 127.0.0.1:$P_ECHO via 10.0.2.2" &&
		peers_expect_contains "$out" "sha=$BIG_SHA" "sha256 of 1 MiB from 127.0.0.1:$P_FILE" &&
		peers_expect_contains "$out" "got6:ping6-$T" "the reply from [::1]:$P_ECHO6 via fd00::2" &&
		no_daemon_left
}

case_no_host_loopback() {
	local out
	out=$(run --network slirp4netns "$PEERS_IMAGE" sh -c "
		echo ping-$T | nc -w 5 10.0.2.2 $P_ECHO; echo rc4=\$?
		i=0; while [ \$i -lt 50 ]; do
			ip -6 addr show dev tap0 scope global | grep -q 'inet6 fd00::' && break
			sleep 0.1; i=\$((i+1))
		done
		echo ping6-$T | nc -w 5 fd00::2 $P_ECHO6; echo rc6=\$?" 2>&1)
	echo "$out"
	peers_expect_contains "$out" "rc6=" "the container output" &&
		peers_expect_not_contains "$out" "got:" "the output (--disable-host-loopback)" &&
		peers_expect_not_contains "$out" "got6:" "the output (--disable-host-loopback)"
}

case_addresses() {
	local out ns1
	out=$(run --network slirp4netns "$PEERS_IMAGE" sh -c '
		ip link show lo; ip -4 addr show tap0; ip link show tap0; ip -4 route
		echo "ns1=$(grep ^nameserver /etc/resolv.conf | head -1)"
		ping -c 1 -W 5 10.0.2.2 >/dev/null && echo gw-ping-ok
		ping -c 1 -W 5 127.0.0.1 >/dev/null && echo lo-ping-ok
		i=0; while [ $i -lt 50 ]; do
			ip -6 addr show dev tap0 scope global | grep -q "inet6 fd00::" && break
			sleep 0.1; i=$((i+1))
		done
		ip -6 addr show dev tap0' 2>&1)
	echo "$out"
	ns1=$(printf '%s\n' "$out" | sed -n 's/^ns1=//p')
	peers_expect_contains "$out" "inet 10.0.2.100/24" "ip addr of tap0" &&
		peers_expect_contains "$(printf '%s\n' "$out" | grep ': tap0:')" "mtu 65520" "the tap0 link" &&
		peers_expect_contains "$(printf '%s\n' "$out" | grep ': lo:')" ",UP" "the lo link" &&
		peers_expect_contains "$out" "default via 10.0.2.2 dev tap0" "the routes" &&
		peers_expect_contains "$ns1" "nameserver 10.0.2.3" "the first nameserver in resolv.conf" &&
		peers_expect_contains "$out" "gw-ping-ok" "ping 10.0.2.2" &&
		peers_expect_contains "$out" "lo-ping-ok" "ping 127.0.0.1" &&
		peers_expect_contains "$out" "inet6 fd00::" "the IPv6 addresses of tap0 (SLAAC from fd00::/64)"
}

case_cidr_mtu() {
	local out
	out=$(run --network slirp4netns:cidr=10.5.0.0/24,mtu=1500,allow_host_loopback=true \
		"$PEERS_IMAGE" sh -c "
		ip -4 addr show tap0; ip link show tap0; ip -4 route
		grep ^nameserver /etc/resolv.conf | head -1
		echo ping-$T | nc -w 10 10.5.0.2 $P_ECHO
		echo sha=\$(nc -w 10 10.5.0.2 $P_FILE </dev/null | sha256sum)" 2>&1)
	echo "$out"
	peers_expect_contains "$out" "inet 10.5.0.100/24" "ip addr of tap0" &&
		peers_expect_contains "$(printf '%s\n' "$out" | grep ': tap0:')" "mtu 1500" "the tap0 link" &&
		peers_expect_contains "$out" "default via 10.5.0.2 dev tap0" "the routes" &&
		peers_expect_contains "$out" "nameserver 10.5.0.3" "resolv.conf" &&
		peers_expect_contains "$out" "got:ping-$T" "the reply via 10.5.0.2:$P_ECHO" &&
		peers_expect_contains "$out" "sha=$BIG_SHA" "sha256 of 1 MiB via 10.5.0.2:$P_FILE"
}

# IPv6 is on by default: at MTU 1500 the namespace's TSO6 super-frames go
# to libslirp whole; 1 MiB each way over IPv6 must arrive intact, the RA
# must leave tap0's IPv6 MTU at 1500, and no UDP reply may exceed it
case_ipv6_mtu1500() {
	local out
	out=$(run --network slirp4netns:mtu=1500,allow_host_loopback=true \
		"$PEERS_IMAGE" sh -c "
		i=0; while [ \$i -lt 50 ]; do
			ip -6 addr show dev tap0 scope global | grep -q 'inet6 fd00::' && break
			sleep 0.1; i=\$((i+1))
		done
		echo mtu6=\$(cat /proc/sys/net/ipv6/conf/tap0/mtu)
		echo sha=\$(nc -w 10 fd00::2 $P_FILE6 </dev/null | sha256sum)
		head -c 1048576 /dev/urandom >/tmp/up
		echo up=\$(sha256sum </tmp/up)
		echo got=\$(nc -w 10 fd00::2 $P_SHA6 </tmp/up)" 2>&1)
	echo "$out"
	local up got
	up=$(printf '%s\n' "$out" | sed -n 's/^up=\([0-9a-f]*\).*/\1/p')
	got=$(printf '%s\n' "$out" | sed -n 's/^got=\([0-9a-f]*\).*/\1/p')
	peers_expect_contains "$out" "mtu6=1500" "tap0's IPv6 MTU after the RA" &&
		peers_expect_contains "$out" "sha=$BIG_SHA" "sha256 of 1 MiB from [::1]:$P_FILE6 via fd00::2" &&
		{ [ -n "$up" ] && [ "$up" = "$got" ] ||
			{ echo "1 MiB to [::1]:$P_SHA6: sent $up, the host got $got"; false; }; }
}

case_publish_rootlessport() {
	local hp out rc
	peers_free_port hp
	peers_podman run -d --name pub-$T --network slirp4netns -p "$hp:8080" "$PEERS_IMAGE" \
		sh -c "nc -ll -p 8080 -e echo pub-$T" || { echo "podman run -d failed"; return 1; }
	peers_fetch_expect 127.0.0.1 "$hp" "pub-$T" 20
	rc=$?
	out=$(peers_podman rm -f -t 0 "pub-$T" 2>&1) || { echo "podman rm: $out"; rc=1; }
	[ $rc = 0 ] && no_daemon_left
}

case_keep_id() {
	local out i pids cmd=
	peers_podman run -d --name kid-$T --userns=keep-id \
		--network slirp4netns:allow_host_loopback=true "$PEERS_IMAGE" sh -c "
		id; ip -4 addr show tap0
		echo ping-$T | nc -w 10 10.0.2.2 $P_ECHO
		echo done-$T; sleep 100" || { echo "podman run -d failed"; return 1; }
	for ((i = 0; i < 100; i++)); do
		out=$(peers_podman logs "kid-$T" 2>&1)
		case "$out" in *"done-$T"*) break ;; esac
		sleep 0.2
	done
	pids=$(peers_daemon_pids)
	for p in $pids; do cmd=$(peers_daemon_cmdline "$p"); done
	PEERS_TIMEOUT=30 peers_podman rm -f -t 0 "kid-$T" >/dev/null 2>&1
	echo "$out"
	echo "daemon: $cmd"
	# the harness must really exercise the PID form
	if ! [[ "$cmd" =~ \ [0-9]+\ tap0\ $ ]] || [[ "$cmd" == *--netns-type* ]]; then
		echo "expected the PID form (... -c -e 3 -r 4 <PID> tap0) for --userns=keep-id"
		return 1
	fi
	peers_expect_contains "$out" "uid=$PEERS_UID" "id in the keep-id container" &&
		peers_expect_contains "$out" "inet 10.0.2.100/24" "ip addr of tap0" &&
		peers_expect_contains "$out" "got:ping-$T" "the reply via 10.0.2.2:$P_ECHO"
}

case_info() {
	local want got exe
	want=$(peers_as_user "$PEERS_SLIRPD" --version) || { echo "$PEERS_SLIRPD --version failed"; return 1; }
	got=$(peers_podman info --format json) || { echo "podman info failed: $got"; return 1; }
	exe=$(printf '%s' "$got" | jq -r .host.slirp4netns.executable)
	got=$(printf '%s' "$got" | jq -r .host.slirp4netns.version)
	printf 'podman info executable: %s\nversion:\n%s\n--- $SLIRPD --version:\n%s\n' "$exe" "$got" "$want"
	[ "$exe" = "$PEERS_SLIRPD" ] || { echo "executable differs"; return 1; }
	[ "$got" = "$want" ] || { echo "version text differs"; return 1; }
	[[ "$want" =~ ^[^[:space:]]+\ version\ [0-9] ]] ||
		{ echo "the --version text should start with \"<name> version X.Y.Z\""; return 1; }
}

case_conf_deny() {
	local dir=$PEERS_DIR/cfg/slirpd conf out i d='' cmd='' sock hp pol log rc=0
	conf=$dir/slirpd.conf
	mkdir -p "$dir"
	printf 'deny=tcp:host-loopback:%s\nlog-denied\n' "$P_DENY" >"$conf"
	chown -R "$PEERS_UID:$PEERS_GID" "$dir"
	peers_free_port hp
	# podman gives the daemon an API socket only for its own port handler
	peers_podman run -d --name pol-$T \
		--network slirp4netns:allow_host_loopback=true,port_handler=slirp4netns \
		-p "$hp:8080" "$PEERS_IMAGE" sh -c "
		echo ping-$T | nc -w 10 10.0.2.2 $P_ECHO
		s=\$(date +%s)
		echo deny-$T | nc -w 10 10.0.2.2 $P_DENY 2>&1
		echo rc=\$? took=\$((\$(date +%s) - s))
		echo done-$T; sleep 100" >/dev/null 2>&1 || rc=1
	# the daemon has read it at its start: later cases must not see it
	rm -rf "$dir"
	[ $rc = 0 ] || { echo "podman run -d failed"; return 1; }
	for ((i = 0; i < 100; i++)); do
		out=$(peers_podman logs "pol-$T" 2>&1)
		case "$out" in *"done-$T"*) break ;; esac
		sleep 0.2
	done
	for d in $(peers_daemon_pids); do cmd=$(peers_daemon_cmdline "$d"); break; done
	sock=$(sed -n 's/.* --api-socket \([^ ]*\) .*/\1/p' <<<"$cmd")
	pol=$(printf '{"execute":"get_policy"}' | timeout 5 socat - "UNIX-CONNECT:$sock" 2>&1)
	log=$(timeout 2 cat "/proc/$d/fd/1" 2>&1 | grep 'policy:')
	PEERS_TIMEOUT=30 peers_podman rm -f -t 0 "pol-$T" >/dev/null 2>&1
	printf '%s\ndaemon: %s\nget_policy: %s\nlog: %s\n' "$out" "$cmd" "$pol" "$log"
	peers_expect_contains "$out" "got:ping-$T" "the reply from 127.0.0.1:$P_ECHO (not denied)" &&
		peers_expect_contains "$out" "Connection refused" "nc to 10.0.2.2:$P_DENY (denied)" &&
		peers_expect_not_contains "$out" "got:deny-$T" "the output (denied)" &&
		{ [ "$(sed -n 's/.*took=\([0-9]*\).*/\1/p' <<<"$out")" -le 2 ] 2>/dev/null ||
			{ echo "the refusal took more than 2 s"; false; }; } &&
		peers_expect_contains "$(jq -c '.return.rules[0] | [.rule, .origin, .hits]' <<<"$pol")" \
			"[\"tcp:host-loopback:$P_DENY\",\"$conf:1\",1]" "get_policy: the file's rule, 1 hit" &&
		peers_expect_contains "$log" \
			"denied tcp 10.0.2.100 -> 10.0.2.2 port $P_DENY (rule 1: deny=tcp:host-loopback:$P_DENY, $conf:1)" \
			"the daemon's log" &&
		no_daemon_left
}

peers_check "1: allow_host_loopback=true reaches host 127.0.0.1/::1 via 10.0.2.2/fd00::2" case_host_loopback
peers_check "1b: default --disable-host-loopback blocks 10.0.2.2/fd00::2" case_no_host_loopback
peers_check "2: -c addresses: lo, 10.0.2.100/24, mtu 65520, route, dns 10.0.2.3, fd00::/64" case_addresses
peers_check "2b: cidr=10.5.0.0/24,mtu=1500" case_cidr_mtu
peers_check "2c: IPv6 at mtu=1500: 1 MiB each way via fd00::2, RA keeps tap0's MTU" case_ipv6_mtu1500
peers_check "3: -p with rootlessport reaches the container; daemon exits with it" case_publish_rootlessport
peers_check "5: --userns=keep-id (PID form) reaches the host service" case_keep_id
peers_check "6: podman info shows the --version text" case_info
case $(timeout 5 "$SLIRPD" --version 2>/dev/null | head -n 1) in
slirpd\ *)
	peers_echo_service P_DENY
	peers_check "7: a deny rule in the user's slirpd.conf refuses the container at once, counted" case_conf_deny
	;;
*) peers_log "7: skipped: SLIRPD is not slirpd (no slirpd.conf)" ;;
esac
peers_finish
