#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-oci-hook.sh - "slirpd oci-hook STAGE" driven the way an OCI runtime
# drives it (the state JSON on stdin, createContainer run inside the
# container's user+net namespaces), without a runtime, so that every error
# path can be reached. The runtimes themselves: test-oci-hook-crun.sh and
# test-oci-hook-podman.sh.
#
# Rootless (TEST_USER) and as root (default state dir /run/slirpd):
#   1  createRuntime -> createContainer -> the namespace reaches a host
#      loopback service through 10.0.2.2 and a published port (-p from the
#      hook's args, a second from io.slirpd.publish) reaches a server inside;
#      io.slirpd.mtu sets the MTU; one daemon runs, watching the pidfd
#      createRuntime opened (--exit-with-pid=fd:N: its fd N is a pidfd of the
#      container's process); poststop stops it through its API socket and
#      removes the state: no process, no directory left
#   2  the daemon ends with the container's process (--exit-with-pid), and
#      a later poststop cleans the state
#   5  annotations only add to the hook's args: one that would take out
#      --disable-host-loopback, --enable-sandbox or --enable-seccomp, change
#      --mtu, publish a unix: path or a host port below 1024 is refused; the
#      allowed ones leave the args' flags in force (get_info, and 10.0.2.2
#      does not reach the host's loopback)
#   7  io.slirpd.deny end to end (rootless): its rule goes in front of the
#      hook's own; a connection to the destination it names is refused at
#      once (an RST), another one works, and the args' own deny holds; an
#      annotation cannot allow anything: io.slirpd.allow, or an allow=
#      word inside io.slirpd.deny, is refused at createRuntime
#   6  the state directory: a /tmp/slirpd-UID of another user, or a
#      symbolic link in its place (in a private /tmp), and a group-writable
#      ROOT or DIR are refused by every stage, touching nothing in them
#   3  a waiter whose container dies before createContainer cleans up
#   4  poststop before createContainer wakes the waiter, which exits
# Errors (one line on stderr, exit 1, nothing left behind):
#   bad JSON, no id, an id with '/', no pid, a PID that exited, an unknown
#   stage, an unknown io.slirpd.* annotation, a bad option value, an option
#   the hook sets itself, a second createRuntime for the same id (the first
#   one's state untouched), a second createContainer, a daemon that fails
#   at start (its reason shown, state removed); poststop with no state: 0.
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip nsenter unshare setpriv socat ss jq
SLIRPCTL=${SLIRPCTL:-$(dirname "$SLIRPD")/slirpctl}
is_slirpd || skip "oci-hook is slirpd's (SLIRPD is not slirpd)"
have_test_user || skip_kernel "no unprivileged user namespaces or no TUN"

UID_T=$(id -u "$TEST_USER")
TAG=$RANDOM$RANDOM
read -r -a EXTRA <<<"${SLIRPD_TEST_EXTRA_ARGS:-}"

# state root the hook uses for TEST_USER without --state-dir
if [ -d "/run/user/$UID_T" ]; then
	USER_ROOT=/run/user/$UID_T/slirpd
else
	USER_ROOT=/tmp/slirpd-$UID_T
fi
user_root_existed=$([ -d "$USER_ROOT" ] && echo 1 || true)
root_root_existed=$([ -d /run/slirpd ] && echo 1 || true)
# at exit (also on failure): our containers' state, then the roots if new
cleanup_roots() {
	local d
	for d in "$USER_ROOT"/*-"$TAG" /run/slirpd/*-"$TAG"; do
		[ -d "$d" ] && rm -rf --one-file-system "$d"
	done
	[ -n "$user_root_existed" ] || rmdir "$USER_ROOT" 2>/dev/null || true
	[ -n "$root_root_existed" ] || rmdir /run/slirpd 2>/dev/null || true
}
on_cleanup cleanup_roots

# state ID PID [ANNOTATIONS-JSON]: an OCI state as crun gives it
state() {
	printf '{"ociVersion":"1.0","id":"%s","pid":%s,"root":"rootfs","bundle":"/nonexistent","status":"created","annotations":{%s}}' \
		"$1" "$2" "${3:-}"
}

# hook WHO STAGE STATE [ARGS...]: run the hook in the host namespaces as WHO
# (root|user); sets HOOK_RC, HOOK_ERR (stderr), HOOK_OUT
hook() {
	local who=$1 stage=$2 st=$3 pre=()
	shift 3
	[ "$who" = user ] && pre=(setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --init-groups --)
	HOOK_RC=0
	printf '%s' "$st" | timeout 30 "${pre[@]}" "$SLIRPD" oci-hook "$stage" "$@" \
		>"$T/hook.out" 2>"$T/hook.err" || HOOK_RC=$?
	HOOK_OUT=$(cat "$T/hook.out")
	HOOK_ERR=$(cat "$T/hook.err")
}

# hook_in_ns HOLDER STATE [ARGS...]: createContainer inside HOLDER's
# user+net namespaces, as the container's root (the holder's owner)
hook_in_ns() {
	local pid=$1 st=$2
	shift 2
	HOOK_RC=0
	printf '%s' "$st" | ns_exec -t 30 "$pid" "$SLIRPD" oci-hook createContainer "$@" \
		>"$T/hook.out" 2>"$T/hook.err" || HOOK_RC=$?
	HOOK_OUT=$(cat "$T/hook.out")
	HOOK_ERR=$(cat "$T/hook.err")
}

# our daemons and waiters: processes running $SLIRPD whose state dir is DIR
procs_of() {
	local p
	for p in $(pgrep -f -- "$1" || true); do
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$(readlink -f "$SLIRPD")" ] && echo "$p"
	done
}
_has_waiter() { [ -n "$(waiter_of "$1")" ]; }
waiter_of() { # DIR: the waiter (before the exec) has no api-socket argument
	# (it writes DIR/slirpd.pid itself, after createRuntime has returned:
	# wait for it with _has_waiter)
	local p
	for p in $(pgrep -f -- "oci-hook createRuntime" || true); do
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$(readlink -f "$SLIRPD")" ] || continue
		[ -e "$1/slirpd.pid" ] && [ "$(cat "$1/slirpd.pid")" = "$p" ] && echo "$p"
	done
}

expect_fail() { # WHAT NEEDLE
	assert_eq 1 "$HOOK_RC" "$1: exit status"
	assert_contains "$HOOK_ERR" "$2" "$1: the message"
	[ "$(printf '%s\n' "$HOOK_ERR" | grep -c .)" = 1 ] ||
		fail "$1: expected one line on stderr, got: $HOOK_ERR"
}

expect_nothing_left() { # WHAT DIR
	local i
	for ((i = 0; i < 100; i++)); do
		[ -e "$2" ] || [ -n "$(procs_of "$2")" ] || break
		sleep 0.1
	done
	[ ! -e "$2" ] || fail "$1: $2 is left: $(ls -la "$2")"
	[ -z "$(procs_of "$2")" ] || fail "$1: processes left: $(procs_of "$2")"
	ok "$1: no state and no process left"
}

# expect_pidfd WHAT DAEMON PID: DAEMON was given, as --exit-with-pid=fd:N,
# an fd N it inherited, a pidfd of PID (never the PID to look up again)
expect_pidfd() {
	local cmd n
	cmd=$(tr '\0' ' ' <"/proc/$2/cmdline")
	n=$(sed -n 's/.*--exit-with-pid=fd:\([0-9][0-9]*\) .*/\1/p' <<<"$cmd")
	[ -n "$n" ] || { _afail "$1: the daemon was not given a pidfd: $cmd"; return 0; }
	assert_match "$(cat "/proc/$2/fdinfo/$n")" "^Pid:[[:space:]]+$3\$" \
		"$1 the daemon's fd $n, inherited from createRuntime, is a pidfd of the container's process $3"
}

SVC_LIFETIME=280 svc_start tcp-echo 127.0.0.1
ECHO=$SVC_PORT

# ---------------------------------------------------------------- lifecycle

lifecycle() { # WHO: user|root
	local who=$1 uopt=() pid id dir root hp hp2 hpu out dpid cmd
	[ "$who" = user ] && uopt=(--user)
	[ "$who" = user ] && root=$USER_ROOT || root=/run/slirpd
	pid=$(ns_start "${uopt[@]}")
	id=c1-$who-$TAG
	dir=$root/$id
	hp=$(free_port tcp)
	hp2=$((hp + 1))
	hpu=$(free_port udp)
	hook "$who" createRuntime "$(state "$id" "$pid" '"io.slirpd.enable":"true","io.slirpd.mtu":"9000","io.slirpd.publish":"127.0.0.1:'"$hp2"':8081,127.0.0.1:'"$hpu"':5353/udp"')" \
		-p "127.0.0.1:$hp:8080" "${EXTRA[@]}"
	assert_eq 0 "$HOOK_RC" "[$who 1] createRuntime exit status ($HOOK_ERR)"
	[ -S "$dir/tap.sock" ] || fail "[$who 1] no $dir/tap.sock"
	[ "$(stat -c %a "$dir")" = 700 ] || fail "[$who 1] $dir is not mode 0700"
	ok "[$who 1] the waiter listens in $dir (mode 0700)"
	hook_in_ns "$pid" "$(state "$id" 0 '"io.slirpd.enable":"true"')"
	assert_eq 0 "$HOOK_RC" "[$who 1] createContainer exit status ($HOOK_ERR)"
	[ -S "$dir/api.sock" ] || fail "[$who 1] no API socket once ready"
	[ ! -e "$dir/tap.sock" ] || fail "[$who 1] tap.sock still there after the handover"
	dpid=$(procs_of "$dir")
	[ "$(printf '%s\n' "$dpid" | grep -c .)" = 1 ] || fail "[$who 1] expected one daemon, got: $dpid"
	cmd=$(tr '\0' ' ' <"/proc/$dpid/cmdline")
	expect_pidfd "[$who 1]" "$dpid" "$pid"
	assert_contains "$cmd" "--netns-type=tapfd" "[$who 1] the daemon got the tap fd"
	assert_contains "$cmd" "--tap-netns=/proc/self/fd/" "[$who 1] ... and the container's namespaces"
	out=$(timeout 10 "$SLIRPCTL" -a "$dir/api.sock" --json info)
	assert_eq "true 3 1" "$(jq -r '"\(.return.splice.available) \(.return.splice.forwards) \(.return.udp_relay.forwards)"' <<<"$out")" \
		"[$who 1] the splice helper runs in the container: 3 fast-path forwards, 1 of them UDP (relay)"
	out=$(ns_exec "$pid" ip -o link show tap0)
	assert_contains "$out" "mtu 9000" "[$who 1] io.slirpd.mtu sets the MTU"
	out=$(ns_exec "$pid" ip -o -4 addr show tap0)
	assert_contains "$out" "10.0.2.100/24" "[$who 1] tap0 configured"
	out=$(printf 'ping-%s\n' "$TAG" | ns_exec -t 15 "$pid" socat -t 5 -T 10 - "TCP4:10.0.2.2:$ECHO,connect-timeout=10" 2>&1) || true
	assert_eq "ping-$TAG" "$out" "[$who 1] the namespace reaches 127.0.0.1:$ECHO through 10.0.2.2"
	for p in "$hp:8080" "$hp2:8081"; do
		_ns_prefix "$pid"
		spawn --log "$T/srv.log" "${NS_PREFIX[@]}" \
			timeout 30 socat "TCP4-LISTEN:${p#*:},reuseaddr" "SYSTEM:echo srv-${p#*:}-$TAG-\$SOCAT_PEERADDR"
		wait_for -t 5 ns_exec "$pid" sh -c "ss -Hltn 'sport = :${p#*:}' | grep -q ." ||
			fail "[$who 1] server on :${p#*:} did not listen"
		out=$(timeout 15 socat -t 5 -T 10 - "TCP4:127.0.0.1:${p%%:*},connect-timeout=10" </dev/null 2>&1) || true
		# spliced: the server sees the container's own address
		assert_eq "srv-${p#*:}-$TAG-10.0.2.100" "$out" \
			"[$who 1] 127.0.0.1:${p%%:*} reaches the server on :${p#*:} inside (spliced)"
	done
	# UDP: the relay's sockets come from the helper in the container too
	_ns_prefix "$pid"
	spawn --log "$T/udp.log" "${NS_PREFIX[@]}" timeout 30 socat UDP4-RECVFROM:5353,fork EXEC:cat
	wait_for -t 5 ns_exec "$pid" sh -c "ss -Hlun 'sport = :5353' | grep -q ." ||
		fail "[$who 1] UDP server on :5353 did not listen"
	out=$(printf 'udp-%s' "$TAG" | timeout 15 socat -t 3 -T 5 - "UDP4:127.0.0.1:$hpu" 2>&1) || true
	assert_eq "udp-$TAG" "$out" "[$who 1] 127.0.0.1:$hpu/udp reaches the UDP echo on :5353 inside"
	hook "$who" poststop "$(printf '{"ociVersion":"1.0","id":"%s","status":"stopped","annotations":{"io.slirpd.enable":"true"}}' "$id")"
	assert_eq 0 "$HOOK_RC" "[$who 1] poststop exit status ($HOOK_ERR)"
	wait_gone "$dpid" 5 || fail "[$who 1] the daemon $dpid is still running after poststop"
	alive "$pid" || fail "[$who 1] the container process died: poststop should have stopped the daemon, not the other way"
	assert_contains "$(cat /proc/"$pid"/comm)" sleep "[$who 1] the daemon was stopped by poststop (the container still runs)"
	expect_nothing_left "[$who 1]" "$dir"
	kill_wait "$pid"
}

lifecycle user
lifecycle root

# --- 2: the daemon ends with the container
pid=$(ns_start --user)
id=c2-$TAG
dir=$USER_ROOT/$id
hook user createRuntime "$(state "$id" "$pid")" "${EXTRA[@]}"
assert_eq 0 "$HOOK_RC" "[2] createRuntime ($HOOK_ERR)"
hook_in_ns "$pid" "$(state "$id" 0)"
assert_eq 0 "$HOOK_RC" "[2] createContainer ($HOOK_ERR)"
dpid=$(procs_of "$dir")
expect_pidfd "[2]" "$dpid" "$pid"
kill -KILL "$pid"
wait_gone "$dpid" 10 || fail "[2] the daemon outlived the container's process"
ok "[2] the daemon exited with the container's process"
assert_contains "$(cat "$dir/slirpd.log")" "exit-with-pid exited" "[2] its log says why"
hook user poststop "$(printf '{"id":"%s","status":"stopped"}' "$id")"
assert_eq 0 "$HOOK_RC" "[2] poststop with the daemon gone ($HOOK_ERR)"
expect_nothing_left "[2]" "$dir"

# --- 3: the container dies before createContainer: the waiter cleans up
pid=$(ns_start --user)
id=c3-$TAG
dir=$USER_ROOT/$id
hook user createRuntime "$(state "$id" "$pid")"
assert_eq 0 "$HOOK_RC" "[3] createRuntime ($HOOK_ERR)"
wait_for -t 5 _has_waiter "$dir" || fail "[3] no waiter"
kill -KILL "$pid"
expect_nothing_left "[3] waiter after the container died" "$dir"

# --- 4: poststop before createContainer wakes the waiter
pid=$(ns_start --user)
id=c4-$TAG
dir=$USER_ROOT/$id
hook user createRuntime "$(state "$id" "$pid")"
assert_eq 0 "$HOOK_RC" "[4] createRuntime ($HOOK_ERR)"
wait_for -t 5 _has_waiter "$dir" || fail "[4] no waiter"
w=$(waiter_of "$dir")
hook user poststop "$(printf '{"id":"%s","status":"stopped"}' "$id")"
assert_eq 0 "$HOOK_RC" "[4] poststop ($HOOK_ERR)"
wait_gone "$w" 5 || fail "[4] the waiter $w is still there"
expect_nothing_left "[4]" "$dir"

# ---------------------------------------------------------------- annotations
# --- 5: the hook's args win; annotations only add what the allow-list permits
FLAGS=(--disable-host-loopback --enable-sandbox --enable-seccomp)
pid=$(ns_start --user)
id=c5-$TAG
dir=$USER_ROOT/$id
for ann in '"io.slirpd.disable-host-loopback":"false"' '"io.slirpd.enable-sandbox":"false"' \
	'"io.slirpd.enable-seccomp":"false"' '"io.slirpd.mtu":"9000"' \
	'"io.slirpd.publish":"unix:'"$T"'/pub.sock:80"' '"io.slirpd.publish":"127.0.0.1:80:8080"' \
	'"io.slirpd.publish":"127.0.0.1:'"$(free_port tcp)"':8080,1023:53/udp"'; do
	hook user createRuntime "$(state "$id" "$pid" "$ann")" "${FLAGS[@]}" --mtu=1500
	key=${ann#\"}
	expect_fail "[5] $ann" "annotation ${key%%\"*}"
	assert_contains "$HOOK_ERR" "hook's args" "[5] $ann: refused, the args win"
	[ ! -e "$dir" ] || fail "[5] $ann: $dir was left"
done
[ ! -e "$T/pub.sock" ] || fail "[5] a unix: socket was created"
ok "[5] no state and no socket left by the refused annotations"
# allowed: a flag the args set again, a value and a publish they do not set
hp=$(free_port tcp)
hook user createRuntime "$(state "$id" "$pid" '"io.slirpd.disable-host-loopback":"true","io.slirpd.enable-sandbox":"true","io.slirpd.mtu":"9000","io.slirpd.publish":"127.0.0.1:'"$hp"':8080"')" \
	"${FLAGS[@]}"
assert_eq 0 "$HOOK_RC" "[5] createRuntime with allowed annotations ($HOOK_ERR)"
hook_in_ns "$pid" "$(state "$id" 0)"
assert_eq 0 "$HOOK_RC" "[5] createContainer ($HOOK_ERR)"
out=$(timeout 10 "$SLIRPCTL" -a "$dir/api.sock" --json info)
assert_eq "true true true 9000 1" \
	"$(jq -r '.return | "\(.config.disable_host_loopback) \(.config.enable_sandbox) \(.config.enable_seccomp) \(.config.mtu) \(.forwards.count)"' <<<"$out")" \
	"[5] get_info: the args' flags in force, the annotations' MTU and forward added"
out=$(printf 'ping-%s\n' "$TAG" | ns_exec -t 15 "$pid" socat -t 3 -T 5 - "TCP4:10.0.2.2:$ECHO,connect-timeout=5" 2>&1) || true
assert_not_contains "$out" "ping-$TAG" "[5] 10.0.2.2 does not reach the host's loopback (--disable-host-loopback in force)"
hook user poststop "$(printf '{"id":"%s","status":"stopped"}' "$id")"
assert_eq 0 "$HOOK_RC" "[5] poststop ($HOOK_ERR)"
expect_nothing_left "[5]" "$dir"
kill_wait "$pid"

# --- 7: io.slirpd.deny end to end; no annotation loosens the args' rules
SVC_LIFETIME=120 svc_start tcp-echo 127.0.0.1
E_ANN=$SVC_PORT     # denied by the annotation
SVC_LIFETIME=120 svc_start tcp-echo 127.0.0.1
E_OK=$SVC_PORT      # allowed
SVC_LIFETIME=120 svc_start tcp-echo 127.0.0.1
E_ARGS=$SVC_PORT    # denied by the hook's args
pid=$(ns_start --user)
id=c7-$TAG
dir=$USER_ROOT/$id
# an annotation that would allow what the args deny: refused, nothing left
for ann in '"io.slirpd.allow":"tcp:host-loopback:'"$E_ARGS"'"' \
	'"io.slirpd.deny":"allow=tcp:host-loopback:'"$E_ARGS"'"' \
	'"io.slirpd.deny":"tcp:host-loopback:'"$E_ANN"',allow=all"'; do
	hook user createRuntime "$(state "$id" "$pid" "$ann")" \
		--deny="tcp:host-loopback:$E_ARGS" "${EXTRA[@]}"
	key=${ann#\"}
	expect_fail "[7] $ann" "annotation ${key%%\"*}"
	[ ! -e "$dir" ] || fail "[7] $ann: $dir was left"
done
ok "[7] no annotation can allow: the refused ones left no state"
hook user createRuntime "$(state "$id" "$pid" '"io.slirpd.deny":"tcp:host-loopback:'"$E_ANN"'"')" \
	--deny="tcp:host-loopback:$E_ARGS" "${EXTRA[@]}"
assert_eq 0 "$HOOK_RC" "[7] createRuntime with io.slirpd.deny ($HOOK_ERR)"
hook_in_ns "$pid" "$(state "$id" 0)"
assert_eq 0 "$HOOK_RC" "[7] createContainer ($HOOK_ERR)"
out=$(timeout 10 "$SLIRPCTL" -a "$dir/api.sock" --json policy)
assert_eq "deny tcp:host-loopback:$E_ANN|deny tcp:host-loopback:$E_ARGS|allow" \
	"$(jq -r '.return | "\(.rules[0].action) \(.rules[0].rule)|\(.rules[1].action) \(.rules[1].rule)|\(.default)"' <<<"$out")" \
	"[7] get_policy: the annotation's rule first, then the args'"
# connect_ms PORT: the namespace's connection to 10.0.2.2:PORT; OUT, MS
connect_ms() {
	local t0
	t0=$(date +%s%N)
	OUT=$(printf 'ping-%s\n' "$TAG" | ns_exec -t 20 "$pid" socat -t 3 -T 5 - "TCP4:10.0.2.2:$1,connect-timeout=10" 2>&1) || true
	MS=$((($(date +%s%N) - t0) / 1000000))
}
connect_ms "$E_ANN"
assert_contains "$OUT" "Connection refused" "[7] 10.0.2.2:$E_ANN (io.slirpd.deny) is refused"
[ "$MS" -lt 1500 ] || fail "[7] the refusal took $MS ms (want < 1500: an RST, not a timeout)"
ok "[7] ... at once ($MS ms)"
connect_ms "$E_OK"
assert_eq "ping-$TAG" "$OUT" "[7] 10.0.2.2:$E_OK, named by no rule, works"
connect_ms "$E_ARGS"
assert_contains "$OUT" "Connection refused" "[7] 10.0.2.2:$E_ARGS (the args' deny) is refused"
out=$(timeout 10 "$SLIRPCTL" -a "$dir/api.sock" --json policy)
assert_eq "1 1 2" "$(jq -r '.return | "\(.rules[0].hits) \(.rules[1].hits) \(.denied_tcp)"' <<<"$out")" \
	"[7] each deny rule refused one SYN"
hook user poststop "$(printf '{"id":"%s","status":"stopped"}' "$id")"
assert_eq 0 "$HOOK_RC" "[7] poststop ($HOOK_ERR)"
expect_nothing_left "[7]" "$dir"
kill_wait "$pid"

# ---------------------------------------------------------------- state dir
# --- 6: the state directory must be ours

# hook_privtmp SETUP CHECK STAGE STATE [ARGS...]: the hook as TEST_USER, in a
# private mount namespace whose /tmp (and /run/user, so that ROOT is
# /tmp/slirpd-UID) is a new tmpfs: root's shell snippet SETUP puts there what
# another user could have; CHECK runs after the hook, its output in
# HOOK_CHECK. Nothing outside the test's own namespace is touched.
hook_privtmp() {
	local setup=$1 check=$2 stage=$3 st=$4
	shift 4
	HOOK_RC=0
	printf '%s' "$st" | SETUP=$setup CHECK=$check U=$TEST_USER timeout 30 \
		unshare -m --propagation private sh -c '
		# the binary may be a copy in $T (a build the user cannot
		# reach): its directory, held as cwd, is bound back in place
		bin=$(dirname "$1")
		cd "$bin" || exit 97
		mount -t tmpfs -o mode=1777 tmpfs /tmp || exit 99
		case $bin in /tmp/*) { mkdir -p "$bin" && mount --no-canonicalize --bind . "$bin"; } || exit 97 ;; esac
		cd /
		if [ -d /run/user ]; then mount -t tmpfs tmpfs /run/user || exit 99; fi
		eval "$SETUP" </dev/null || exit 98
		rc=0
		setpriv --reuid="$U" --regid="$U" --init-groups -- "$@" || rc=$?
		eval "$CHECK" </dev/null >&3
		exit $rc' sh "$SLIRPD" oci-hook "$stage" "$@" \
		>"$T/hook.out" 2>"$T/hook.err" 3>"$T/hook.check" || HOOK_RC=$?
	HOOK_OUT=$(cat "$T/hook.out")
	HOOK_ERR=$(cat "$T/hook.err")
	HOOK_CHECK=$(cat "$T/hook.check")
}

pid=$(ns_start --user)
id=c6-$TAG
R=/tmp/slirpd-$UID_T
# a container's state as a poststop would find it: only files of ours
victim="mkdir -p $R/$id && echo keep >$R/$id/slirpd.log"
kept="[ -e $R/$id/slirpd.log ] && echo kept"
# another user's ROOT, writable by all (so that a hook of ours could delete)
other="$victim && chmod 0777 $R $R/$id && chmod 0666 $R/$id/slirpd.log && chown -R 65534:65534 $R"
for stage in createRuntime poststop; do
	hook_privtmp "$other" "$kept" "$stage" "$(state "$id" "$pid")"
	expect_fail "[6 $stage] $R owned by another user" "$R is owned by uid 65534, not by us"
	assert_eq kept "$HOOK_CHECK" "[6 $stage] nothing of the other user's deleted"
done
# a symbolic link in ROOT's place (ours, so that protected_symlinks lets us
# follow it) to a directory of ours
R2=/tmp/elsewhere
symlink="${victim//$R/$R2} && chown -R $TEST_USER $R2 && ln -s $R2 $R && chown -h $TEST_USER $R"
for stage in createRuntime poststop; do
	hook_privtmp "$symlink" "${kept//$R/$R2}" "$stage" "$(state "$id" "$pid")"
	expect_fail "[6 $stage] $R a symbolic link" "$R is a symbolic link: refusing it"
	assert_eq kept "$HOOK_CHECK" "[6 $stage] nothing deleted through the link"
done
# group-writable, with --state-dir (the same checks)
SD=$T/sd
mkdir -m 0755 "$SD"
chown "$TEST_USER" "$SD"
SR=$SD/root
hook user createRuntime "$(state "$id" "$pid")" --state-dir="$SR"
assert_eq 0 "$HOOK_RC" "[6] createRuntime with --state-dir ($HOOK_ERR)"
[ "$(stat -c '%a %U' "$SR")" = "700 $TEST_USER" ] || fail "[6] $SR: $(stat -c '%a %U' "$SR")"
chmod 0770 "$SR/$id"
hook_in_ns "$pid" "$(state "$id" 0)" --state-dir="$SR"
expect_fail "[6] a group-writable DIR at createContainer" "$SR/$id has mode 0770, writable by group or others: refusing it"
out=$(ns_exec "$pid" ip -o link show)
assert_not_contains "$out" tap0 "[6] no tap was made"
chmod 0700 "$SR/$id"
chmod 0770 "$SR"
hook user poststop "$(printf '{"id":"%s","status":"stopped"}' "$id")" --state-dir="$SR"
expect_fail "[6] a group-writable ROOT at poststop" "$SR has mode 0770"
[ -S "$SR/$id/tap.sock" ] || fail "[6] the refused poststop touched the state"
hook user createRuntime "$(state "$id-2" "$pid")" --state-dir="$SR"
expect_fail "[6] a group-writable ROOT at createRuntime" "$SR has mode 0770"
chmod 0700 "$SR"
chmod 0777 "$SD"
hook user poststop "$(printf '{"id":"%s","status":"stopped"}' "$id")" --state-dir="$SR"
expect_fail "[6] ROOT in a directory anyone may write to (not sticky)" "$SD has mode 0777, writable by group or others and not sticky"
chmod 0755 "$SD"
hook user poststop "$(printf '{"id":"%s","status":"stopped"}' "$id")" --state-dir="$SR"
assert_eq 0 "$HOOK_RC" "[6] poststop once the modes are back ($HOOK_ERR)"
expect_nothing_left "[6]" "$SR/$id"
kill_wait "$pid"
pid=$(ns_start --user)  # the container of the error cases

# ---------------------------------------------------------------- errors
id=e-$TAG
dir=$USER_ROOT/$id
hook user createRuntime 'not json'
expect_fail "bad JSON" "not a JSON object"
hook user createRuntime '{"status":"created","pid":1}'
expect_fail "no id" "no \"id\""
hook user createRuntime '{"id":"../../etc","status":"created","pid":1}'
expect_fail "an id with a slash" "invalid container id"
hook user createRuntime "$(printf '{"id":"%s","status":"created"}' "$id")"
expect_fail "no pid" "has no pid"
spawn true
gone=$SPAWN_PID
wait_gone "$gone" 5 || true
wait "$gone" 2>/dev/null || true
hook user createRuntime "$(state "$id" "$gone")"
expect_fail "a PID that exited" "no such process"
hook user prestart "$(state "$id" "$pid")"
expect_fail "an unknown stage" "unknown stage"
hook user createRuntime "$(state "$id" "$pid" '"io.slirpd.mtuu":"9000"')"
expect_fail "an unknown annotation" "unknown annotation io.slirpd.mtuu"
hook user createRuntime "$(state "$id" "$pid")" --mtu=abc
expect_fail "a bad --mtu" "MTU"
hook user createRuntime "$(state "$id" "$pid")" --api-socket=/tmp/x
expect_fail "an option the hook sets" "set by the hook"
hook user createRuntime "$(state "$id" "$pid")" extra-positional
expect_fail "a positional argument" "no positional"
[ ! -e "$dir" ] || fail "errors left $dir behind"
ok "none of the refused createRuntime calls left a state directory"

# a second createRuntime for the same id, then a second createContainer
hook user createRuntime "$(state "$id" "$pid")"
assert_eq 0 "$HOOK_RC" "[dup] first createRuntime ($HOOK_ERR)"
wait_for -t 5 _has_waiter "$dir" || fail "[dup] no waiter"
w=$(waiter_of "$dir")
hook user createRuntime "$(state "$id" "$pid")"
expect_fail "a second createRuntime" "exists already"
[ -S "$dir/tap.sock" ] && alive "$w" || fail "[dup] the first createRuntime's waiter or socket is gone"
ok "[dup] the first one's state and waiter are untouched"
hook_in_ns "$pid" "$(state "$id" 0)"
assert_eq 0 "$HOOK_RC" "[dup] first createContainer ($HOOK_ERR)"
hook_in_ns "$pid" "$(state "$id" 0)"
expect_fail "a second createContainer" "no slirpd waits"
out=$(ns_exec "$pid" ip -o link show)
[ "$(printf '%s\n' "$out" | grep -c 'tap')" = 1 ] || fail "[dup] the second createContainer left a tap: $out"
ok "[dup] the second createContainer created nothing"
hook user poststop "$(printf '{"id":"%s","status":"stopped"}' "$id")"
assert_eq 0 "$HOOK_RC" "[dup] poststop ($HOOK_ERR)"
expect_nothing_left "[dup]" "$dir"

# a daemon that fails at start: a published port that is taken
taken=$(free_port tcp)
spawn --user timeout 60 socat "TCP4-LISTEN:$taken,bind=127.0.0.1" -
wait_for -t 5 sh -c "ss -Hltn 'sport = :$taken' | grep -q ." || fail "socat did not listen"
hook user createRuntime "$(state "$id" "$pid")" -p "127.0.0.1:$taken:80"
assert_eq 0 "$HOOK_RC" "[fail] createRuntime ($HOOK_ERR)"
hook_in_ns "$pid" "$(state "$id" 0)"
expect_fail "a daemon that fails at start" "the daemon failed"
assert_contains "$HOOK_ERR" "$taken" "[fail] the reason names the port"
expect_nothing_left "[fail]" "$dir"

hook user poststop "$(printf '{"id":"%s","status":"stopped"}' "never-started-$TAG")"
assert_eq 0 "$HOOK_RC" "poststop with no state: exit status"
assert_eq "" "$HOOK_ERR" "poststop with no state: silent"

