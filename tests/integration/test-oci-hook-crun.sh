#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-oci-hook-crun.sh - a rootless `crun run` (Debian's crun, as the
# unprivileged test user) whose config.json carries slirpd's OCI hooks:
#   createRuntime  slirpd oci-hook createRuntime -p 127.0.0.1:HP:8080
#   createContainer slirpd oci-hook createContainer
#   poststop       slirpd oci-hook poststop
# with the annotation io.slirpd.mtu=9000 (the default state directory: no
# --state-dir, so every hook must find the same one by itself).
#   1  crun run (foreground): the container has tap0 10.0.2.100/24, MTU 9000
#      (the annotation), a default route via 10.0.2.2; it reaches a service
#      on the host's 127.0.0.1 through 10.0.2.2 and downloads 1 MiB intact;
#      after it exits no slirpd process and no state directory are left
#   2  crun run -d: the published port 127.0.0.1:HP reaches a server in the
#      container; crun kill + crun delete (poststop): nothing left
#   3  a container whose createRuntime hook fails (a bad annotation): crun
#      refuses to start it with the hook's one line, nothing left
#   4  the hook's args have --disable-host-loopback and an annotation says
#      io.slirpd.disable-host-loopback=false: refused the same way (the
#      args win), nothing left
. "$(dirname "$0")/peers.sh"

peers_init test-oci-hook-crun crun jq
case $("$SLIRPD" --version 2>/dev/null | head -1) in
slirpd\ *) ;;
*) peers_skip_not_slirpd "oci-hook is slirpd's" ;;
esac

T=$RANDOM$RANDOM
read -r -a EXTRA <<<"${SLIRPD_TEST_EXTRA_ARGS:-}"
if [ -d "/run/user/$PEERS_UID" ]; then
	ROOT=/run/user/$PEERS_UID/slirpd
else
	ROOT=/tmp/slirpd-$PEERS_UID
fi
[ -d "$ROOT" ] && ROOT_EXISTED=1 || ROOT_EXISTED=
BIG_SHA=$(peers_make_file "$PEERS_DIR/big" 1024)
peers_echo_service P_ECHO
peers_file_service P_FILE "$PEERS_DIR/big"

# the bundle: busybox-static rootfs, `crun spec --rootless`, our hooks
B=$PEERS_DIR/bundle
mkdir -p "$B/rootfs/bin" "$B/rootfs/tmp" "$B/rootfs/etc"
cp /bin/busybox "$B/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -sf busybox "$B/rootfs/bin/$a"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$B/rootfs/etc/passwd"
chown -R "$PEERS_UID:$PEERS_GID" "$B"
peers_as_user crun spec --rootless --bundle "$B" || peers_die "crun spec --rootless failed"
[ -f "$B/config.json" ] || peers_die "crun spec wrote no config.json"
cp "$B/config.json" "$B/config.orig.json"

# bundle_config SCRIPT HP ANNOTATIONS-JSON [ARG...]: the config.json for one
# run (ARGs: more createRuntime args)
bundle_config() {
	local extra
	extra=$(printf '%s\n' "${EXTRA[@]}" "${@:4}" | jq -R . | jq -s 'map(select(. != ""))')
	jq --arg s "$1" --arg hp "$2" --argjson ann "$3" --arg slirpd "$PEERS_SLIRPD" \
		--argjson extra "$extra" '
		.process.args = ["/bin/sh", "-c", $s] |
		.process.terminal = false |
		.annotations = $ann |
		.hooks = {
			createRuntime: [{ path: $slirpd, args: (["slirpd", "oci-hook", "createRuntime",
				"-p", ("127.0.0.1:" + $hp + ":8080")] + $extra) }],
			createContainer: [{ path: $slirpd, args: ["slirpd", "oci-hook", "createContainer"] }],
			poststop: [{ path: $slirpd, args: ["slirpd", "oci-hook", "poststop"] }]
		}' "$B/config.orig.json" >"$B/config.json" || peers_die "jq failed"
	chown "$PEERS_UID:$PEERS_GID" "$B/config.json"
}

# our slirpd processes (daemons or waiters), found by their environment tag
# and executable
slirpd_procs() { peers_hook_procs "$ROOT"; }


nothing_left() { # ID
	local i
	for ((i = 0; i < 50; i++)); do
		[ -z "$(slirpd_procs)" ] && [ ! -e "$ROOT/$1" ] && return 0
		sleep 0.1
	done
	echo "left behind: processes: $(slirpd_procs | tr '\n' ' ') state: $(ls -la "$ROOT/$1" 2>&1)"
	return 1
}

cleanup_state() {
	rm -rf --one-file-system "$ROOT"/*-"$T" 2>/dev/null
	[ -n "$ROOT_EXISTED" ] || rmdir "$ROOT" 2>/dev/null
	return 0
}
# (the test's status survives cleanup_state: peers_cleanup exits with $?)
trap 'rc_=$?; cleanup_state; (exit $rc_); peers_cleanup' EXIT

case_run() {
	local id=c1-$T out hp
	peers_free_port hp
	bundle_config "
		ip -o link show tap0; ip -o -4 addr show tap0; ip route
		echo ping-$T | nc -w 10 10.0.2.2 $P_ECHO
		echo sha=\$(nc -w 10 10.0.2.2 $P_FILE </dev/null | sha256sum)" "$hp" \
		'{"io.slirpd.mtu": "9000"}'
	out=$(peers_crun run --bundle "$B" "$id" 2>&1)
	echo "$out"
	peers_expect_contains "$out" "inet 10.0.2.100/24" "tap0's address" &&
		peers_expect_contains "$(printf '%s\n' "$out" | grep ': tap0:')" "mtu 9000" "tap0 (io.slirpd.mtu)" &&
		peers_expect_contains "$out" "default via 10.0.2.2 dev tap0" "the routes" &&
		peers_expect_contains "$out" "got:ping-$T" "the reply from 127.0.0.1:$P_ECHO via 10.0.2.2" &&
		peers_expect_contains "$out" "sha=$BIG_SHA" "sha256 of 1 MiB via 10.0.2.2:$P_FILE" &&
		nothing_left "$id"
}

case_publish() {
	local id=c2-$T out hp rc=0 i st
	peers_free_port hp
	bundle_config "echo started-$T; nc -ll -p 8080 -e echo pub-$T" "$hp" '{}'
	peers_crun run -d --bundle "$B" "$id" >"$PEERS_DIR/c2.log" 2>&1 ||
		{ cat "$PEERS_DIR/c2.log"; return 1; }
	echo "daemon: $(for p in $(slirpd_procs); do peers_daemon_cmdline "$p"; done)"
	peers_fetch_expect 127.0.0.1 "$hp" "pub-$T" 20 || rc=1
	peers_crun kill "$id" KILL || rc=1
	for ((i = 0; i < 50; i++)); do
		st=$(peers_crun state "$id" 2>/dev/null | jq -r .status)
		[ "$st" = stopped ] && break
		sleep 0.1
	done
	peers_crun delete "$id" || { echo "crun delete failed"; rc=1; }
	[ $rc = 0 ] && nothing_left "$id"
}

# refused_start ID NEEDLE ANNOTATIONS-JSON [ARG...]: crun refuses to start
# the container: its createRuntime hook fails with one line naming NEEDLE
refused_start() {
	local id=$1 needle=$2 ann=$3 out rc=0 hp
	shift 3
	peers_free_port hp
	# crun discards a hook's stderr unless run.oci.hooks.stderr names a file
	: >"$PEERS_DIR/hooks.err"
	chown "$PEERS_UID" "$PEERS_DIR/hooks.err"
	bundle_config "echo should-not-run-$T" "$hp" \
		"$(jq -c --arg f "$PEERS_DIR/hooks.err" '. + {"run.oci.hooks.stderr": $f}' <<<"$ann")" "$@"
	out=$(peers_crun run --bundle "$B" "$id" 2>&1) || rc=$?
	echo "crun exit status $rc: $out"
	echo "hook stderr: $(cat "$PEERS_DIR/hooks.err")"
	peers_crun delete -f "$id" >/dev/null 2>&1
	[ $rc != 0 ] || { echo "crun started the container despite the failed hook"; return 1; }
	peers_expect_contains "$out" "error executing hook" "crun's error" &&
		peers_expect_contains "$(cat "$PEERS_DIR/hooks.err")" \
			"slirpd oci-hook: container $id: $needle" "the hook's stderr" &&
		[ "$(grep -c . "$PEERS_DIR/hooks.err")" = 1 ] &&
		peers_expect_not_contains "$out" "should-not-run-$T" "the output" &&
		nothing_left "$id"
}

case_bad_annotation() {
	refused_start "c3-$T" "unknown annotation io.slirpd.mttu" '{"io.slirpd.mttu": "9000"}'
}

case_undo_flag() {
	refused_start "c4-$T" "annotation io.slirpd.disable-host-loopback=false cannot take out --disable-host-loopback" \
		'{"io.slirpd.disable-host-loopback": "false"}' --disable-host-loopback
}

peers_check "1: crun run: tap0 from the hooks, host loopback via 10.0.2.2, nothing left" case_run
peers_check "2: crun run -d: a published port reaches the container; kill+delete leave nothing" case_publish
peers_check "3: a failing createRuntime hook stops the start, nothing left" case_bad_annotation
peers_check "4: an annotation cannot take out a flag of the hook's args" case_undo_flag
peers_finish
