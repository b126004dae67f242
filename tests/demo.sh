#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# demo.sh - install, build, and show the main job: an unprivileged user's
# network namespace gets a network from slirpd; it reaches a service on the
# host's loopback through 10.0.2.2, and the host reaches a service inside it
# through a port forward. Run as root on Debian 12 (it drops to a test user).
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/deps.sh demo
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
slirpd=$PWD/build/src/slirpd
user=${SLIRPD_TEST_USER:-slirpd-test}
as_user() { setpriv --reuid="$user" --regid="$user" --init-groups "$@"; }
# the user's own HOME: slirpd reads its configuration file there. (setpriv
# runs the program itself: an env(1) in between could not execute a build
# under /root, which only setpriv, started by root, can still reach)
uhome=$(getent passwd "$user" | cut -d: -f6)

work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

host_port=40080 fwd_port=40081
echo "== a service on the host's loopback, 127.0.0.1:$host_port"
timeout 60 socat TCP-LISTEN:$host_port,bind=127.0.0.1,reuseaddr,fork \
	SYSTEM:'echo hello from the host' &
pids+=($!)

echo "== an unprivileged user ($user) makes a user+network namespace"
# (setpriv itself in the background: "$!" of a shell function would be a subshell)
setpriv --reuid="$user" --regid="$user" --init-groups unshare -rn sleep 120 &
nspid=$!
pids+=($nspid)
for _ in $(seq 100); do
	[ "$(readlink /proc/$nspid/ns/net 2>/dev/null)" != "$(readlink /proc/self/ns/net)" ] && break
	sleep 0.05
done
in_ns() { as_user nsenter -t "$nspid" -U -n --preserve-credentials "$@"; }
echo "   before: $(in_ns ip -o link | awk -F': ' '{print $2}' | tr '\n' ' ')"

echo "== slirpd -c -p 127.0.0.1:$fwd_port:8080 $nspid tap0 (as $user)"
mkfifo "$work/ready"
HOME=$uhome setpriv --reuid="$user" --regid="$user" --init-groups \
	"$slirpd" -c -r 3 -p 127.0.0.1:$fwd_port:8080 "$nspid" tap0 \
	3>"$work/ready" >"$work/slirpd.log" 2>&1 &
pids+=($!)
# one byte: a daemon that exits closes the pipe without writing it
if [ "$(timeout 10 head -c1 "$work/ready" | wc -c)" != 1 ]; then
	cat "$work/slirpd.log"
	echo "slirpd did not become ready" >&2
	exit 1
fi
sed 's/^/   | /' "$work/slirpd.log"

echo "== inside the namespace"
in_ns ip -br addr | sed 's/^/   /'
in_ns ip route | sed 's/^/   /'

echo "== namespace -> host: connect to 10.0.2.2:$host_port"
reply=$(in_ns timeout 10 socat -T5 - TCP:10.0.2.2:$host_port </dev/null)
echo "   got: $reply"
[ "$reply" = "hello from the host" ]

echo "== host -> namespace: 127.0.0.1:$fwd_port is forwarded to the namespace's port 8080"
setpriv --reuid="$user" --regid="$user" --init-groups \
	nsenter -t "$nspid" -U -n --preserve-credentials \
	timeout 30 socat TCP-LISTEN:8080,reuseaddr,fork SYSTEM:'echo hello from the namespace' &
pids+=($!)
reply=
for _ in $(seq 50); do
	reply=$(timeout 5 socat -T5 - TCP:127.0.0.1:$fwd_port </dev/null 2>/dev/null || true)
	[ -n "$reply" ] && break
	sleep 0.1
done
echo "   got: $reply"
[ "$reply" = "hello from the namespace" ]
echo "== demo OK"
