#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-podman-api.sh - rootless podman 4.3.1 with
# `--network slirp4netns:port_handler=slirp4netns -p ...`: podman starts the
# daemon under test with `--api-socket <tmpdir>/<ctrID>.net`, waits for the
# socket file, then sends one `add_hostfwd` request per port (one connection
# each, guest_addr "", host_addr "0.0.0.0") and reads one reply.  This needs
# the daemon's API socket; a daemon without it fails these checks.
#
# Checks:
#  4   -p HP:8080 and -p HP2:8081: a server in the container is reached from
#      the host at 127.0.0.1:HP, the listener is the daemon itself (not
#      rootlessport), and a 1 MiB download through HP2 arrives intact
#  4b  -p A-B:A-B (3 ports): every port of the range reaches its server
#  4c  after the container is removed the daemon is gone and its published
#      ports are closed (the socket file itself may stay: slirp4netns with
#      --enable-sandbox can't unlink it from inside its pivot_root)

set -u
. "$(dirname "$0")/peers.sh"

peers_init test-podman-api podman
peers_podman_setup
T=$RANDOM$RANDOM
HP='' HP2='' R=''
STARTED=0
RANGE_PORTS=

# api_run NAME ARGS...: `podman run -d --name NAME ARGS...`, failing in 15 s
# instead of podman's 60 s when the daemon runs but never creates its API
# socket (podman waits for the file), with the daemon's log (podman gives it
# an unlinked file as stdout/stderr; /proc/PID/fd/1 still reads it)
api_run() {
	local name=$1 out=$PEERS_DIR/run-$1.out pid i d cmd sock rc
	shift
	peers_podman_argv run -d --name "$name" "$@"
	"${PEERS_ARGV[@]}" >"$out" 2>&1 &
	pid=$!   # timeout's
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "podman run still waiting after 15 s"
		for d in $(peers_daemon_pids); do
			cmd=$(peers_daemon_cmdline "$d")
			echo "daemon $d: $cmd"
			sock=$(sed -n 's/.* --api-socket \([^ ]*\) .*/\1/p' <<<"$cmd")
			if [ -n "$sock" ] && [ ! -S "$sock" ]; then
				echo "its API socket $sock does not exist"
			fi
			echo "daemon log:"
			timeout 2 cat "/proc/$d/fd/1" 2>&1 | tail -n 20 | sed 's/^/  | /'
		done
		kill -TERM "$pid"
		wait "$pid"
		cat "$out"
		PEERS_TIMEOUT=30 peers_podman rm -f -t 0 "$name" >/dev/null 2>&1
		return 1
	fi
	wait "$pid"
	rc=$?
	cat "$out"
	return $rc
}

# pid listening on 127.0.0.1/0.0.0.0:PORT/tcp (from ss -p)
listener_pid() { ss -Hltnp "sport = :$1" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1; }

case_publish_api() {
	local out i sha got lp dpids cmd=
	peers_free_port HP
	peers_free_port HP2
	out=$(api_run "api-$T" --network slirp4netns:port_handler=slirp4netns \
		-p "$HP:8080" -p "$HP2:8081" "$PEERS_IMAGE" sh -c "
		head -c 1048576 /dev/urandom >/tmp/big
		echo sha=\$(sha256sum </tmp/big)
		nc -ll -p 8081 -e cat /tmp/big &
		nc -ll -p 8080 -e echo api-$T &
		echo started; wait" 2>&1) || { echo "podman run -d failed:"; echo "$out"; return 1; }
	STARTED=$((STARTED + 1))
	for p in $(peers_daemon_pids); do cmd=$(peers_daemon_cmdline "$p"); dpids+=" $p"; done
	echo "daemon: $cmd"
	[[ "$cmd" == *" --api-socket "* ]] || { echo "podman did not pass --api-socket"; return 1; }
	peers_fetch_expect 127.0.0.1 "$HP" "api-$T" 20 || return 1
	lp=$(listener_pid "$HP")
	echo "listener on :$HP: pid $lp; daemon pid(s):$dpids"
	[[ " $dpids " == *" $lp "* ]] || { echo "127.0.0.1:$HP is not served by the daemon"; ss -Hltnp "sport = :$HP"; return 1; }
	for ((i = 0; i < 50; i++)); do
		out=$(peers_podman logs "api-$T" 2>&1)
		case "$out" in *started*) break ;; esac
		sleep 0.2
	done
	sha=$(printf '%s\n' "$out" | sed -n 's/^sha=\([0-9a-f]*\).*/\1/p')
	[ -n "$sha" ] || { echo "no sha in the container log: $out"; return 1; }
	got=$(timeout 20 socat -u "TCP:127.0.0.1:$HP2" - 2>&1 | sha256sum | awk '{print $1}')
	echo "1 MiB via :$HP2: container sha $sha, host got $got"
	[ "$got" = "$sha" ]
}

case_range() {
	local out p n=0 sh_cmd=
	peers_free_port R 3
	RANGE_PORTS="$R $((R + 1)) $((R + 2))"
	for p in $RANGE_PORTS; do sh_cmd+="nc -ll -p $p -e echo range-$p-$T & "; done
	out=$(api_run "rng-$T" --network slirp4netns:port_handler=slirp4netns \
		-p "$R-$((R + 2)):$R-$((R + 2))" "$PEERS_IMAGE" sh -c "${sh_cmd}wait" 2>&1) ||
		{ echo "podman run -d failed:"; echo "$out"; return 1; }
	STARTED=$((STARTED + 1))
	for p in $RANGE_PORTS; do
		peers_fetch_expect 127.0.0.1 "$p" "range-$p-$T" 20 && n=$((n + 1))
	done
	echo "$n of 3 ports of the range reached"
	[ $n = 3 ]
}

case_teardown() {
	local out p rc=0 i
	[ "$STARTED" = 2 ] || { echo "the containers of 4 and 4b did not start"; rc=1; }
	out=$(peers_podman rm -f -t 0 "api-$T" "rng-$T" 2>&1) || { echo "podman rm: $out"; rc=1; }
	for ((i = 0; i < 50; i++)); do
		[ -z "$(peers_daemon_pids)" ] && break
		sleep 0.1
	done
	for p in $(peers_daemon_pids); do echo "daemon still running: $(peers_daemon_cmdline "$p")"; rc=1; done
	for p in $HP $HP2 $RANGE_PORTS; do
		if [ -n "$(ss -Hltn "sport = :$p")" ]; then
			echo "port $p still listening:"; ss -Hltnp "sport = :$p"; rc=1
		fi
	done
	return $rc
}

peers_check "4: port_handler=slirp4netns -p publishes through the API (1 MiB intact)" case_publish_api
peers_check "4b: port_handler=slirp4netns -p A-B:A-B, all 3 ports reachable" case_range
peers_check "4c: after removal: daemon gone, ports closed" case_teardown
peers_finish
