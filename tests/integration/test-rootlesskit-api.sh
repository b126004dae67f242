#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-rootlesskit-api.sh - RootlessKit 1.1.0 `--net=slirp4netns
# --port-driver=slirp4netns`: RootlessKit starts the daemon under test with
# `--api-socket STATE/.s4nn.sock` and turns `rootlessctl add-ports` /
# `remove-ports` into the daemon's `add_hostfwd` (it needs a numeric
# return.id and reads the reply until EOF) / `remove_hostfwd` requests.  This
# needs the daemon's API socket; a daemon without it fails these checks.
#
# Checks:
#  1  add-ports 127.0.0.1:HP:8080/tcp returns an id and reaches a server in
#     the child; the host listener is the daemon itself
#  1b add-ports 0.0.0.0:HP2:8081/tcp listens on 0.0.0.0 and carries a 1 MiB
#     download intact (rootlessctl 1.1.0 insists on a parent IP, so the
#     host_addr "" form can't be reached from here)
#  1c add-ports 127.0.0.1:HPU:9090/udp: a datagram gets its reply back (not
#     with --disable-host-loopback: slirp4netns loses the replies to
#     host-initiated UDP then, podman#4586, so RootlessKit runs without it)
#  1d list-ports shows the three ports with their ids
#  1e remove-ports of the first id closes 127.0.0.1:HP (connection refused),
#     list-ports no longer has it, the other forwards keep working
#  1f RootlessKit exits cleanly
# (A stale .s4nn.sock can't be staged through RootlessKit: it empties its
# --state-dir before it starts the daemon.)

set -u
. "$(dirname "$0")/peers.sh"

peers_init test-rootlesskit-api rootlesskit rootlessctl jq
T=$RANDOM$RANDOM
BIG_SHA=$(peers_make_file "$PEERS_DIR/big" 1024)
HP='' HP2='' HPU='' ID1=''

listener_pids() { ss -Hlnp "$@" | sed -n 's/.*pid=\([0-9]*\).*/\1/p'; }

CHILD_SERVERS="
timeout 70 socat TCP4-LISTEN:8080,reuseaddr,fork SYSTEM:'echo api-$T' &
timeout 70 socat -t 30 TCP4-LISTEN:8081,reuseaddr,fork SYSTEM:'exec cat $PEERS_DIR/big' &
timeout 70 socat UDP4-RECVFROM:9090,fork SYSTEM:'read -r l; echo \"udp-\$l\"' &
i=0; while [ \$i -lt 50 ]; do
	[ -n \"\$(ss -Hltn 'sport = :8080')\" ] && [ -n \"\$(ss -Hltn 'sport = :8081')\" ] &&
		[ -n \"\$(ss -Hlun 'sport = :9090')\" ] && break
	sleep 0.1; i=\$((i+1))
done"

RK_FLAGS=(--port-driver=slirp4netns
	--slirp4netns-sandbox=auto --slirp4netns-seccomp=auto)

case_start() {
	local cmd='' p
	peers_rk_start rk1 "$CHILD_SERVERS" "${RK_FLAGS[@]}"
	peers_rk_wait_ready rk1 30 || return 1
	for p in $(peers_daemon_pids); do cmd=$(peers_daemon_cmdline "$p"); done
	echo "daemon: $cmd"
	[[ "$cmd" == *"--api-socket $PEERS_DIR/rk1.state/.s4nn.sock"* ]] ||
		{ echo "RootlessKit did not pass --api-socket"; return 1; }
}

case_add_tcp() {
	local out lp dp
	peers_free_port HP
	out=$(peers_rkctl rk1 add-ports "127.0.0.1:$HP:8080/tcp" 2>&1)
	echo "add-ports 127.0.0.1:$HP:8080/tcp: $out"
	[[ "$out" =~ ^[0-9]+$ ]] || { echo "add-ports did not print an id"; return 1; }
	ID1=$out
	peers_fetch_expect 127.0.0.1 "$HP" "api-$T" 10 || return 1
	lp=$(listener_pids -t "sport = :$HP" | head -1)
	dp=" $(peers_daemon_pids | tr '\n' ' ') "
	echo "listener on :$HP: pid $lp; daemon pid(s):$dp"
	[[ "$dp" == *" $lp "* ]] || { echo "127.0.0.1:$HP is not served by the daemon"; return 1; }
}

case_add_any_bulk() {
	local out got
	peers_free_port HP2
	out=$(peers_rkctl rk1 add-ports "0.0.0.0:$HP2:8081/tcp" 2>&1)
	echo "add-ports 0.0.0.0:$HP2:8081/tcp: $out"
	[[ "$out" =~ ^[0-9]+$ ]] || { echo "add-ports did not print an id"; return 1; }
	out=$(ss -Hltn "sport = :$HP2")
	echo "listening: $out"
	peers_expect_contains "$out" "0.0.0.0:$HP2" "the listener (host_addr \"\" means 0.0.0.0)" || return 1
	got=$(timeout 20 socat -u "TCP:127.0.0.1:$HP2" - 2>&1 | sha256sum | awk '{print $1}')
	echo "1 MiB via :$HP2: sent $BIG_SHA, got $got"
	[ "$got" = "$BIG_SHA" ]
}

udp_ask() { echo "$1" | timeout 10 socat -T 3 - "UDP4:127.0.0.1:$HPU" 2>/dev/null; }

case_add_udp() {
	local out i
	peers_free_port HPU
	out=$(peers_rkctl rk1 add-ports "127.0.0.1:$HPU:9090/udp" 2>&1)
	echo "add-ports 127.0.0.1:$HPU:9090/udp: $out"
	[[ "$out" =~ ^[0-9]+$ ]] || { echo "add-ports did not print an id"; return 1; }
	for ((i = 0; i < 5; i++)); do
		out=$(udp_ask "dgram-$T")
		[ "$out" = "udp-dgram-$T" ] && { echo "reply: $out"; return 0; }
	done
	echo "no UDP reply from 127.0.0.1:$HPU (last: \"$out\")"
	return 1
}

case_list() {
	local out n
	out=$(peers_rkctl rk1 list-ports --json 2>&1)
	echo "$out"
	n=$(printf '%s\n' "$out" | jq -s --argjson a "$HP" --argjson b "$HP2" --argjson c "$HPU" '
		[ .[] | select(.id != null) | .spec.parentPort ] as $p
		| [ $a, $b, $c ] - $p | length') || return 1
	[ "$n" = 0 ] || { echo "list-ports lacks $n of the ports $HP $HP2 $HPU"; return 1; }
	printf '%s\n' "$out" | jq -e --argjson id "$ID1" --argjson a "$HP" -s \
		'any(.[]; .id == $id and .spec.parentPort == $a)' >/dev/null ||
		{ echo "list-ports doesn't map id $ID1 to $HP"; return 1; }
}

case_remove() {
	local out i
	out=$(peers_rkctl rk1 remove-ports "$ID1" 2>&1) || { echo "remove-ports $ID1 failed: $out"; return 1; }
	echo "remove-ports $ID1: $out"
	for ((i = 0; i < 20; i++)); do
		[ -z "$(ss -Hltn "sport = :$HP")" ] && break
		sleep 0.1
	done
	out=$(ss -Hltnp "sport = :$HP")
	[ -z "$out" ] || { echo "127.0.0.1:$HP still listening after remove-ports: $out"; return 1; }
	if out=$(timeout 5 socat -u "TCP:127.0.0.1:$HP" - 2>&1); then
		echo "connecting to 127.0.0.1:$HP still works: $out"
		return 1
	fi
	echo "connect after remove: $out"
	out=$(peers_rkctl rk1 list-ports --json 2>&1)
	echo "$out"
	if printf '%s\n' "$out" | jq -e -s --argjson id "$ID1" 'any(.[]; .id == $id)' >/dev/null; then
		echo "id $ID1 still listed"
		return 1
	fi
	out=$(timeout 20 socat -u "TCP:127.0.0.1:$HP2" - 2>&1 | sha256sum | awk '{print $1}')
	[ "$out" = "$BIG_SHA" ] || { echo "TCP forward :$HP2 broken after removing another port"; return 1; }
	out=$(udp_ask "again-$T")
	[ "$out" = "udp-again-$T" ] || { echo "UDP forward broken after removing another port: \"$out\""; return 1; }
}

case_stop() {
	local rc
	peers_rk_stop rk1
	rc=$?
	cat "$PEERS_DIR/rk1.log"
	[ $rc = 0 ] || { echo "rootlesskit exited with $rc"; return 1; }
}

peers_check "0: rootlesskit --port-driver=slirp4netns starts the daemon with --api-socket" case_start
peers_check "1: add-ports 127.0.0.1:HP:8080/tcp: id, reachable, served by the daemon" case_add_tcp
peers_check "1b: add-ports 0.0.0.0:HP:8081/tcp: 1 MiB intact" case_add_any_bulk
peers_check "1c: add-ports 127.0.0.1:HP:9090/udp: datagram answered" case_add_udp
peers_check "1d: list-ports shows the three forwards" case_list
peers_check "1e: remove-ports closes the port, others keep working" case_remove
peers_check "1f: rootlesskit exits cleanly" case_stop
peers_finish
