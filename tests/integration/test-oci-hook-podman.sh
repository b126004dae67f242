#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-oci-hook-podman.sh - rootless podman 4.3.1 with `--network none`, the
# hooks.d files slirpd installs (docs/oci-hooks/*.json.in, @SLIRPD@ = the
# binary under test) in a --hooks-dir, selected per container by the
# annotation io.slirpd.enable=true. podman runs createRuntime and
# createContainer through crun, and poststop itself ("podman container
# cleanup", with an empty environment): all three must agree on the state
# directory on their own.
#   1  --rm: tap0 10.0.2.100/24 with a default route via 10.0.2.2, a service
#      on the host's 127.0.0.1 answers through 10.0.2.2; once the container
#      is gone no slirpd process and no state are left
#   2  -d with io.slirpd.publish=127.0.0.1:HP:8080 and io.slirpd.mtu=65520:
#      the published port reaches a server in the container, tap0 has MTU
#      65520; podman rm -f leaves nothing
#   3  without the annotation the hooks do not run: only lo
#   4  podman run --annotation io.slirpd.publish=127.0.0.1:80:8080 (a host
#      port below 1024) and io.slirpd.publish=unix:PATH:8080: the start
#      fails with the hook's one line, nothing left, no socket made
# In the suite's sandbox run the daemons get io.slirpd.enable-sandbox and
# io.slirpd.enable-seccomp.
. "$(dirname "$0")/peers.sh"

peers_init test-oci-hook-podman podman jq
case $("$SLIRPD" --version 2>/dev/null | head -1) in
slirpd\ *) ;;
*) peers_skip_not_slirpd "oci-hook is slirpd's" ;;
esac
peers_podman_setup
SLIRPCTL=${SLIRPCTL:-$(dirname "$SLIRPD")/slirpctl}

T=$RANDOM$RANDOM
if [ -d "/run/user/$PEERS_UID" ]; then
	ROOT=/run/user/$PEERS_UID/slirpd
else
	ROOT=/tmp/slirpd-$PEERS_UID
fi
[ -d "$ROOT" ] && ROOT_EXISTED=1 || ROOT_EXISTED=
# (the test's status survives the rmdir: peers_cleanup exits with $?)
trap 'rc_=$?; [ -n "$ROOT_EXISTED" ] || rmdir "$ROOT" 2>/dev/null; (exit $rc_); peers_cleanup' EXIT

H=$PEERS_DIR/hooks.d
mkdir -p "$H"
for f in "$(dirname "$0")"/../../docs/oci-hooks/*.json.in; do
	sed "s|@SLIRPD@|$PEERS_SLIRPD|" "$f" >"$H/$(basename "$f" .in)"
	jq -e . "$H/$(basename "$f" .in)" >/dev/null || peers_die "$f is not valid JSON"
done
chown -R "$PEERS_UID:$PEERS_GID" "$H"

ANN=(--annotation io.slirpd.enable=true)
for a in ${SLIRPD_TEST_EXTRA_ARGS:-}; do
	case $a in
	--enable-sandbox | --enable-seccomp) ANN+=(--annotation "io.slirpd.${a#--}=true") ;;
	esac
done

peers_echo_service P_ECHO

slirpd_procs() { peers_hook_procs "$ROOT"; }


# spliced_forwards NAME N: the daemon of container NAME has N forwards on
# the splice path (the createContainer hook handed its namespaces over)
spliced_forwards() { # NAME N
	local id sock info
	id=$(pod inspect --format '{{.Id}}' "$1" 2>&1)
	sock=$ROOT/$id/api.sock
	info=$(timeout 10 "$SLIRPCTL" -a "$sock" --json info 2>&1)
	[ "$(jq -r '.return.splice.forwards' <<<"$info" 2>/dev/null)" = "$2" ] && return 0
	echo "expected $2 spliced forward(s) from $sock: $info"
	return 1
}

nothing_left() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -z "$(slirpd_procs)" ] && [ -z "$(ls -A "$ROOT" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	echo "left behind: processes: $(slirpd_procs | tr '\n' ' ') state: $(ls -la "$ROOT" 2>&1)"
	return 1
}

pod() { peers_podman --hooks-dir "$H" "$@"; }

case_run() {
	local out
	out=$(pod run --rm --network none "${ANN[@]}" "$PEERS_IMAGE" sh -c "
		ip -o -4 addr show tap0; ip route
		echo ping-$T | nc -w 10 10.0.2.2 $P_ECHO" 2>&1)
	echo "$out"
	peers_expect_contains "$out" "inet 10.0.2.100/24" "tap0's address" &&
		peers_expect_contains "$out" "default via 10.0.2.2 dev tap0" "the routes" &&
		peers_expect_contains "$out" "got:ping-$T" "the reply from 127.0.0.1:$P_ECHO via 10.0.2.2" &&
		nothing_left
}

case_publish() {
	local hp rc=0 out
	peers_free_port hp
	pod run -d --name pub-$T --network none "${ANN[@]}" \
		--annotation io.slirpd.publish="127.0.0.1:$hp:8080" \
		--annotation io.slirpd.mtu=65520 "$PEERS_IMAGE" \
		sh -c "ip -o link show tap0; nc -ll -p 8080 -e echo pub-$T" ||
		{ echo "podman run -d failed"; return 1; }
	peers_fetch_expect 127.0.0.1 "$hp" "pub-$T" 20 || rc=1
	spliced_forwards "pub-$T" 1 || rc=1
	[ -n "$(slirpd_procs)" ] || { echo "its daemon is not found among the processes"; rc=1; }
	out=$(pod logs "pub-$T" 2>&1)
	echo "$out"
	peers_expect_contains "$out" "mtu 65520" "tap0 (io.slirpd.mtu)" || rc=1
	pod rm -f -t 0 "pub-$T" >/dev/null 2>&1 || { echo "podman rm failed"; rc=1; }
	[ $rc = 0 ] && nothing_left
}

case_not_selected() {
	local out
	out=$(pod run --rm --network none "$PEERS_IMAGE" ip -o link 2>&1)
	echo "$out"
	peers_expect_not_contains "$out" "tap0" "the links without io.slirpd.enable" &&
		[ -z "$(slirpd_procs)" ]
}

# refused ANNOTATION NEEDLE: podman run fails, the createRuntime hook's one
# line names NEEDLE, nothing is left
refused() {
	local out rc=0 err=$PEERS_DIR/hooks.err
	: >"$err"
	chown "$PEERS_UID" "$err"
	out=$(pod run --rm --network none "${ANN[@]}" --annotation "$1" \
		--annotation run.oci.hooks.stderr="$err" "$PEERS_IMAGE" echo should-not-run-$T 2>&1) || rc=$?
	echo "podman exit status $rc: $out"
	echo "hook stderr: $(cat "$err")"
	[ $rc != 0 ] || { echo "podman started the container despite the failed hook"; return 1; }
	peers_expect_not_contains "$out" "should-not-run-$T" "the output" &&
		peers_expect_contains "$(cat "$err")" "$2" "the hook's stderr" &&
		[ "$(grep -c . "$err")" = 1 ] &&
		nothing_left
}

case_refused() {
	refused io.slirpd.publish=127.0.0.1:80:8080 "annotation io.slirpd.publish: \"127.0.0.1:80:8080\": the host port must be from 1024" &&
		refused io.slirpd.publish="unix:$PEERS_DIR/pub.sock:8080" "unix: forwards come only from the hook's args" &&
		[ ! -e "$PEERS_DIR/pub.sock" ]
}

peers_check "1: --network none + io.slirpd.enable: tap0, host loopback, nothing left" case_run
peers_check "2: io.slirpd.publish reaches the container, io.slirpd.mtu; rm leaves nothing" case_publish
peers_check "3: without the annotation the hooks stay out" case_not_selected
peers_check "4: io.slirpd.publish of a port below 1024 or a unix: path is refused" case_refused
peers_finish
