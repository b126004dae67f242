#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-sandbox-peers.sh - the isolation as the real clients turn it on:
#  1  rootless podman 4.3.1 (which passes --enable-sandbox --enable-seccomp
#     because --help lists them, and starts the daemon in a new mount
#     namespace), `--network slirp4netns:port_handler=slirp4netns,
#     allow_host_loopback=true -p HP:8080`: podman passed both flags; every
#     task of the daemon has NoNewPrivs 1, Seccomp 2 and (held at start in
#     podman's user namespace) only CAP_NET_BIND_SERVICE; its root holds no
#     host files; the port published through the API and an outbound
#     connection to the host's 127.0.0.1 work; the daemon is gone with the
#     container
#  2  RootlessKit 1.1.0 with --slirp4netns-sandbox=true
#     --slirp4netns-seccomp=true --port-driver=slirp4netns: same checks, the
#     daemon made a user namespace of its own and keeps CAP_NET_BIND_SERVICE
#     there (as slirp4netns; it grants nothing on the host),
#     `rootlessctl add-ports` through the API, and the child reaches the host
# Root only; the clients run as the unprivileged user (peers.sh).

set -u
. "$(dirname "$0")/peers.sh"

peers_init test-sandbox-peers podman rootlesskit rootlessctl jq
case $(timeout 5 "$SLIRPD" --version 2>/dev/null | head -n 1) in
slirpd\ *) ;;
*) peers_skip_not_slirpd "checks slirpd's own isolation" ;;
esac
peers_podman_setup
T=$RANDOM$RANDOM
peers_echo_service P_ECHO

# isolated PID CAPS: every task's status and the daemon's root (CAPS: the
# expected CapEff/CapPrm/CapBnd)
isolated() {
	local pid=$1 caps=$2 t st k v entries
	for t in "/proc/$pid/task/"*; do
		st=$(cat "$t/status") || return 1
		for k in NoNewPrivs:1 Seccomp:2 CapInh:0000000000000000 \
			CapAmb:0000000000000000 "CapEff:$caps" "CapPrm:$caps" "CapBnd:$caps"; do
			v=$(awk -v k="${k%%:*}:" '$1 == k { print $2; exit }' <<<"$st")
			[ "$v" = "${k#*:}" ] || {
				echo "daemon $pid task ${t##*/}: ${k%%:*} is '$v', expected '${k#*:}'"
				return 1
			}
		done
	done
	entries=$(ls -A "/proc/$pid/root/" 2>&1 | xargs)
	for k in usr bin lib proc dev home root var tmp/..; do
		[ -e "/proc/$pid/root/$k" ] && { echo "the daemon's root has /$k (holds: $entries)"; return 1; }
	done
	echo "daemon $pid: every task NoNewPrivs 1, Seccomp 2, caps $caps; its / holds: $entries"
}

case_podman() {
	local out d cmd='' pids='' i
	peers_free_port HP
	out=$(peers_podman run -d --name "sb-$T" \
		--network slirp4netns:port_handler=slirp4netns,allow_host_loopback=true \
		-p "$HP:8080" "$PEERS_IMAGE" sh -c "
		nc -ll -p 8080 -e echo sb-$T &
		echo started; wait" 2>&1) || { echo "podman run -d failed: $out"; return 1; }
	for d in $(peers_daemon_pids); do cmd=$(peers_daemon_cmdline "$d"); pids+=" $d"; done
	echo "daemon:$pids: $cmd"
	[[ "$cmd" == *" --enable-sandbox "* && "$cmd" == *" --enable-seccomp "* ]] ||
		{ echo "podman did not pass --enable-sandbox --enable-seccomp"; return 1; }
	for d in $pids; do isolated "$d" 0000000000000400 || return 1; done
	peers_fetch_expect 127.0.0.1 "$HP" "sb-$T" 20 || return 1
	out=$(peers_podman exec "sb-$T" sh -c "echo ping-$T | nc 10.0.2.2 $P_ECHO" 2>&1)
	peers_expect_contains "$out" "got:ping-$T" "the container's connection to the host's 127.0.0.1" || return 1
	PEERS_TIMEOUT=30 peers_podman rm -f -t 0 "sb-$T" >/dev/null 2>&1
	for ((i = 0; i < 50; i++)); do
		[ -z "$(peers_daemon_pids)" ] && return 0
		sleep 0.1
	done
	echo "the daemon outlived the container: $(peers_daemon_pids)"
	return 1
}

case_rootlesskit() {
	local hp out rc=0 d pids='' cmd=''
	peers_free_port hp
	peers_rk_start rks "
		echo ping-$T | timeout 10 socat -t 5 - TCP4:10.0.2.2:$P_ECHO | sed 's/^/hostlo-reply: /'
		timeout 70 socat TCP4-LISTEN:8080,reuseaddr,fork SYSTEM:'echo rk-$T' &
		i=0; while [ -z \"\$(ss -Hltn 'sport = :8080')\" ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i+1)); done" \
		--port-driver=slirp4netns --slirp4netns-sandbox=true --slirp4netns-seccomp=true
	peers_rk_wait_ready rks 30 || return 1
	for d in $(peers_daemon_pids); do cmd=$(peers_daemon_cmdline "$d"); pids+=" $d"; done
	echo "daemon:$pids: $cmd"
	[[ "$cmd" == *" --enable-sandbox "* && "$cmd" == *" --enable-seccomp "* ]] ||
		{ echo "RootlessKit did not pass --enable-sandbox --enable-seccomp"; rc=1; }
	for d in $pids; do isolated "$d" 0000000000000400 || rc=1; done
	if [ $rc = 0 ]; then
		out=$(peers_rkctl rks add-ports "127.0.0.1:$hp:8080/tcp" 2>&1) ||
			{ echo "add-ports failed: $out"; rc=1; }
	fi
	[ $rc = 0 ] && { peers_fetch_expect 127.0.0.1 "$hp" "rk-$T" 10 || rc=1; }
	peers_rk_stop rks || { echo "rootlesskit exited with $?"; rc=1; }
	out=$(cat "$PEERS_DIR/rks.log")
	echo "$out"
	[ $rc = 0 ] && peers_expect_contains "$out" "hostlo-reply: got:ping-$T" \
		"the child's connection to the host's 127.0.0.1"
}

peers_check "1: podman 4.3.1: sandbox+seccomp as advertised, API -p and outbound work" case_podman
peers_check "2: RootlessKit --slirp4netns-sandbox=true --slirp4netns-seccomp=true, add-ports and outbound work" case_rootlesskit
peers_finish
