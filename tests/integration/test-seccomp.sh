#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-seccomp.sh - the --enable-seccomp allow-list and the thread rules,
# with an LD_PRELOAD probe (isolation-preload.c) so the shipped binary has
# no test hook:
#   * a call outside the allow-list (personality(), made from the loop's
#     first poll(), i.e. after isolation) traps: the daemon names it on
#     stderr and exits 159 -- as root and as TEST_USER, with and without
#     --enable-sandbox; unshare() likewise;
#   * --enable-seccomp alone: NoNewPrivs 1 and Seccomp 2, traffic works;
#   * TSYNC: a thread that exists before the filter (started by the probe's
#     constructor) is filtered too: every /proc/PID/task/*/status shows
#     Seccomp 2 and NoNewPrivs 1;
#   * with --enable-sandbox a multi-threaded daemon refuses to start and says
#     why (setns() into a user namespace, and capabilities, are per thread).
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip nsenter unshare setpriv socat cc
is_slirpd || skip "checks slirpd's own seccomp filter (SLIRPD is not slirpd)"
enter_private_host_ns "$@"
SLIRPD_TEST_EXTRA_ARGS=
. "$LIB_DIR/isolation-lib.sh"

PRELOAD=$(iso_preload)
svc_start tcp-echo
ECHO_PORT=$SVC_PORT

test_variants

# --- a forbidden call traps, is named, and the daemon exits 159
for who in "${VARIANTS[@]}"; do
	as_variant "$who"
	for flags in "--enable-seccomp" "--enable-sandbox --enable-seccomp"; do
		for probe in trap:personality escape:unshare; do
			label="$who $flags ${probe#*:}()"
			pid=$(ns_start "${UOPT[@]}")
			# shellcheck disable=SC2086
			daemon_start "${UOPT[@]}" --wrap "env LD_PRELOAD=$PRELOAD SLIRPD_PRELOAD_ACTION=${probe%%:*}" \
				--exit-fd 4 -- -c $flags "$pid" tap0
			daemon_exits 10 159 "[$label] (a forbidden call: 128 + SIGSYS)"
			assert_match "$(cat "$DAEMON_LOG")" \
				"^[^ ]*: seccomp: system call ${probe#*:} \([0-9]+\) is not allowed; exiting\$" \
				"[$label] the blocked call is named on stderr"
			kill_wait "$pid"
		done
	done
done

# --- --enable-seccomp alone: status, traffic, clean exit
for who in "${VARIANTS[@]}"; do
	as_variant "$who"
	pid=$(ns_start "${UOPT[@]}")
	daemon_start "${UOPT[@]}" --exit-fd 4 -- -c --enable-seccomp "$pid" tap0
	iso_check_status "$who seccomp only" "$DAEMON_PID" any 2
	assert_match "$(cat "$DAEMON_LOG")" "^seccomp: allow-list of [0-9]+ rules loaded" \
		"[$who seccomp only] the filter is announced"
	r=$(ns_tcp_roundtrip "$pid" 10.0.2.2 "$ECHO_PORT" 200000) || fail "[$who seccomp only] $r"
	ok "[$who seccomp only] TCP 200 kB round trip"
	daemon_stop
	assert_eq 0 "$DAEMON_STATUS" "[$who seccomp only] exit status 0"
	assert_not_contains "$(cat "$DAEMON_LOG")" "is not allowed" "[$who seccomp only] nothing trapped"
	kill_wait "$pid"
done

# --- TSYNC: a thread from before the filter is covered
pid=$(ns_start)
daemon_start --wrap "env LD_PRELOAD=$PRELOAD SLIRPD_PRELOAD_ACTION=thread" \
	--exit-fd 4 -- -c --enable-seccomp "$pid" tap0
assert_contains "$(cat "$DAEMON_LOG")" "preload: thread started" "[tsync] the probe's thread runs"
n=$(ls "/proc/$DAEMON_PID/task" | wc -l)
assert_eq 2 "$n" "[tsync] the daemon has 2 threads"
iso_check_status "tsync" "$DAEMON_PID" any 2
r=$(ns_tcp_roundtrip "$pid" 10.0.2.2 "$ECHO_PORT" 100000) || fail "[tsync] $r"
ok "[tsync] traffic with two threads"
daemon_stop
assert_eq 0 "$DAEMON_STATUS" "[tsync] exit status 0"
kill_wait "$pid"

# --- --enable-sandbox refuses a multi-threaded process, clearly
for who in "${VARIANTS[@]}"; do
	as_variant "$who"
	pid=$(ns_start "${UOPT[@]}")
	daemon_start "${UOPT[@]}" --no-wait --wrap "env LD_PRELOAD=$PRELOAD SLIRPD_PRELOAD_ACTION=thread" \
		--exit-fd 4 -- -c --enable-sandbox "$pid" tap0
	daemon_wait_exit 10 || fail "[$who threads] the daemon did not exit"
	[ "$DAEMON_STATUS" != 0 ] || fail "[$who threads] exit status 0 with a thread and --enable-sandbox"
	ok "[$who threads] exit status $DAEMON_STATUS"
	assert_match "$(cat "$DAEMON_LOG")" "needs a single-threaded process, but 2 threads are running" \
		"[$who threads] the refusal says why"
	kill_wait "$pid"
done

info "PASS"
