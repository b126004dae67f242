#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-fds.sh - the ready and exit fds (contract 1.3, 1.5, 3.3):
#   * the ready fd gets a byte once tap0 is configured, then EOF (closed);
#   * closing the write end of the exit pipe makes the daemon exit 0 promptly;
#   * -e with a closed fd number: slirpd refuses it at once (exit 1, a
#     message), before opening anything; slirp4netns exits 0 (POLLNVAL);
#   * podman <= 4.6 (-c -e 3 -r 4 PID tap0) and >= 4.7 (-c -r 3 -e 4
#     --netns-type=path NETNS tap0, run inside the user namespace) both work,
#     as root and as TEST_USER;
#   * RootlessKit's -r 3 alone (no exit fd): SIGKILL is the only way out.
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip nsenter unshare setpriv

# ready_then_eof LABEL: after the ready byte (consumed by daemon_start), the
# pipe reaches EOF: nobody keeps the write end open
ready_then_eof() {
	local rc=0 extra
	extra=$(timeout 5 cat <&"$DAEMON_READY_R" | od -An -c | head -c 200) || rc=$?
	[ "$rc" = 0 ] || fail "[$1] the ready fd was not closed after the ready byte (no EOF within 5 s)"
	ok "[$1] ready byte received, then EOF on the ready pipe${extra:+ (extra bytes: $extra)}"
}

# exit_by_exit_fd LABEL: close the exit pipe, expect exit 0 within 5 s
exit_by_exit_fd() {
	daemon_close_exit_fd
	daemon_exits 5 0 "[$1] (the exit fd closed)"
}

test_variants
for who in "${VARIANTS[@]}"; do
	as_variant "$who"

	# podman <= 4.6: fd 3 = exit pipe read end, fd 4 = ready pipe write end
	pid=$(ns_start "${UOPT[@]}")
	daemon_start "${UOPT[@]}" --raw --exit-fd 3 --ready-fd 4 -- \
		--disable-host-loopback --mtu=65520 -c -e 3 -r 4 "$pid" tap0
	# ready means configured: no waiting here
	assert_eq 10.0.2.100/24 "$(ns_addrs4 "$pid" tap0)" "[$who podman<=4.6 -e 3 -r 4] tap0 configured at ready time"
	assert_eq 65520 "$(ns_link_field "$pid" tap0 mtu)" "[$who podman<=4.6 -e 3 -r 4] MTU"
	ready_then_eof "$who podman<=4.6 -e 3 -r 4"
	alive "$DAEMON_PID" || fail "[$who podman<=4.6] daemon died after ready"
	exit_by_exit_fd "$who podman<=4.6 -e 3 -r 4"
	kill_wait "$pid"

	# podman >= 4.7: fd 3 = ready, fd 4 = exit; --netns-type=path, the daemon
	# runs inside the (rootless) user namespace like podman's
	pid=$(ns_start "${UOPT[@]}")
	daemon_start "${UOPT[@]}" --wrap "nsenter -t $pid -U --preserve-credentials" \
		--raw --ready-fd 3 --exit-fd 4 -- \
		--disable-host-loopback --mtu=65520 -c -r 3 -e 4 \
		--netns-type=path "/proc/$pid/ns/net" tap0
	assert_eq 10.0.2.100/24 "$(ns_addrs4 "$pid" tap0)" "[$who podman>=4.7 -r 3 -e 4] tap0 configured at ready time"
	ready_then_eof "$who podman>=4.7 -r 3 -e 4"
	exit_by_exit_fd "$who podman>=4.7 -r 3 -e 4"
	kill_wait "$pid"
done

# long option forms --exit-fd=N --ready-fd=N, fd numbers above 9
pid=$(ns_start)
daemon_start --raw --ready-fd 12 --exit-fd 17 -- --ready-fd=12 --exit-fd=17 -c "$pid" tap0
ready_then_eof "root --ready-fd=12 --exit-fd=17"
exit_by_exit_fd "root --ready-fd=12 --exit-fd=17"

# -e with a closed fd number: slirp4netns exits at once (POLLNVAL, status 0);
# slirpd refuses it before it opens anything (exit 1, a clear message): a
# low number such as 10 would otherwise be taken by an fd of its own, which
# never hangs up, and it would run forever
for e in 10 57; do
	daemon_start --raw --ready-fd 3 --no-wait -- -c -r 3 -e "$e" "$pid" tap0
	if is_slirpd; then
		daemon_exits 10 1 "[-e $e (closed)]"
		assert_contains "$(cat "$DAEMON_LOG")" "exit-fd $e is not an open file descriptor" \
			"[-e $e (closed)] the message names the fd"
		assert_not_contains "$(cat "$DAEMON_LOG")" "tapfd" "[-e $e (closed)] refused before the tap"
	else
		daemon_exits 10 0 "[-e $e (closed)]"
	fi
done

# an exit pipe that is already hung up before the daemon starts
daemon_start --raw --ready-fd 3 --exit-fd 4 --no-wait -- -c -r 3 -e 4 "$pid" tap0
daemon_close_exit_fd
daemon_exits 10 0 "[-e 4 hung up early]"

# RootlessKit: -r 3 only; the daemon stays until killed
daemon_start --raw --ready-fd 3 -- -c -r 3 "$pid" tap0
ready_then_eof "root -r 3 only"
alive "$DAEMON_PID" || fail "[root -r 3 only] the daemon exited on its own"
ok "[root -r 3 only] daemon running after ready"
daemon_stop --signal KILL
assert_eq 137 "$DAEMON_STATUS" "[root -r 3 only] killed by SIGKILL"

# no -r at all: still comes up (nothing to signal)
daemon_start --no-ready --exit-fd 4 -- -c "$pid" tap0
wait_for -t 10 sh -c "nsenter -t $pid -U -n --preserve-credentials ip -o -4 addr show dev tap0 | grep -q 10.0.2.100" ||
	fail "[no -r] tap0 never got configured"
ok "[no -r] tap0 configured"
exit_by_exit_fd "no -r"

info "PASS"
