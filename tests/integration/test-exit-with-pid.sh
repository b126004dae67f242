#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-exit-with-pid.sh - --exit-with-pid=PID ends the daemon when PID exits
# (a pidfd in the poll loop), so a daemon started by hand or by the OCI hook
# never outlives its sandbox; and the API's {"execute":"shutdown"}.
#   * the namespace holder's PID: killing the holder ends the daemon, exit 0,
#     its API socket unlinked, its splice helper gone - as root and rootless
#     (and in the suite's sandbox+seccomp run: the pidfd is made before the
#     filter);
#   * without the option the daemon outlives the holder (it keeps the
#     namespace open): the option is what ends it;
#   * a PID that is not the target's (any process) works the same;
#   * bad values: not a number, 0, a PID that does not exist: one clear line,
#     exit 1, no ready byte;
#   * {"execute":"shutdown"} over the API: reply {"return":{}}, exit 0.
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip nsenter unshare setpriv socat
is_slirpd || skip "--exit-with-pid and shutdown are slirpd's (SLIRPD is not slirpd)"

# the splice helper of daemon PID, if any
helper_of() { pgrep -P "$1" -f 'slirpd: splice helper' || true; }

test_variants
for who in "${VARIANTS[@]}"; do
	as_variant "$who"
	dir=$VDIR
	pid=$(ns_start "${UOPT[@]}")
	sock=$dir/api.sock
	daemon_start "${UOPT[@]}" -- -c --exit-with-pid="$pid" --api-socket "$sock" "$pid" tap0
	dpid=$DAEMON_PID
	hpid=$(helper_of "$dpid")
	out=$(ns_exec "$pid" ip -o -4 addr show tap0)
	assert_contains "$out" "10.0.2.100/24" "[$who] the daemon configured tap0"
	kill -KILL "$pid"
	daemon_exits 10 0 "[$who] (the holder died)"
	[ ! -e "$sock" ] || fail "[$who] the API socket file was left behind"
	ok "[$who] API socket unlinked"
	if [ -n "$hpid" ]; then
		wait_gone "$hpid" 5 || fail "[$who] the splice helper $hpid outlived the daemon"
		ok "[$who] the splice helper is gone too"
	fi
	assert_contains "$(cat "$DAEMON_LOG")" "exit-with-pid exited" "[$who] the log says why"
done

# --- without the option the daemon keeps the namespace (and itself) alive
pid=$(ns_start)
daemon_start -- -c "$pid" tap0
kill -KILL "$pid"
wait_gone "$pid" 5 || fail "holder did not die"
sleep 1
alive "$DAEMON_PID" || fail "without --exit-with-pid the daemon exited with the holder (the option would be pointless)"
ok "without --exit-with-pid the daemon outlives the holder"
daemon_stop --signal TERM

# --- any process, not only the target
pid=$(ns_start)
spawn sleep 600
other=$SPAWN_PID
daemon_start -- -c --exit-with-pid "$other" "$pid" tap0
kill -KILL "$other"
daemon_exits 10 0 "[other pid]"

# --- bad values
spawn true
gone=$SPAWN_PID
wait_gone "$gone" 5 || true
wait "$gone" 2>/dev/null || true
for v in abc 0 -5 "$gone"; do
	run_cli --hup-exit-fd 5 -c --exit-with-pid="$v" -r 3 "$pid" tap0 3>"$T/ready.bad"
	assert_eq 1 "$CLI_RC" "[--exit-with-pid=$v] exit status"
	assert_contains "$CLI_ERR" "exit-with-pid" "[--exit-with-pid=$v] the error names the option"
	[ ! -s "$T/ready.bad" ] || fail "[--exit-with-pid=$v] the ready byte was written"
done
case $(printf '%s\n' "$CLI_ERR" | grep -c .) in
1) ok "a PID that does not exist: one line" ;;
*) fail "a PID that does not exist: expected one line, got: $CLI_ERR" ;;
esac
assert_contains "$CLI_ERR" "No such process" "a PID that does not exist says so"

# --- the API's shutdown
sock=$T/shut.sock
daemon_start --exit-fd 4 -- -c --api-socket "$sock" "$pid" tap0
reply=$(printf '{"execute":"shutdown"}' | timeout 10 socat -t 5 -T 5 - "UNIX-CONNECT:$sock")
assert_eq '{"return":{}}' "$reply" "shutdown reply"
daemon_exits 10 0 "[shutdown]"
[ ! -e "$sock" ] || fail "[shutdown] the API socket file was left behind"
ok "[shutdown] API socket unlinked"
