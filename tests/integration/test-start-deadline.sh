#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-start-deadline.sh - a tap child stuck inside the namespace does not
# hang the daemon's start. The child that joins the target's namespaces to
# make the tap is stopped there (SIGSTOP, as a process inside the namespace
# can do: an LD_PRELOAD, stop-child-preload.c, makes it stop itself right
# after joining, so the shipped binary has no test hook). The daemon must:
#   * give up after its deadline (NS_ANSWER_TIMEOUT_MS, 5 s), not wait
#     forever: exit status 1 well within 15 s;
#   * say so clearly ("no tap from inside the namespace within 5 s");
#   * leave no process behind in the namespace (the child was killed);
#   * never write the ready byte.
# As root and as TEST_USER.
. "$(dirname "$0")/lib.sh"

require_root
require_cmd nsenter unshare setpriv
is_slirpd || skip "checks slirpd's start-up deadline (SLIRPD is not slirpd)"
command -v cc >/dev/null 2>&1 || skip "needs cc to build the preload"

PRELOAD=$T/stop-child-preload.so
cc -shared -fPIC -O1 -o "$PRELOAD" "$LIB_DIR/stop-child-preload.c" -ldl ||
	fail "cannot build the preload"
chmod 755 "$T" "$PRELOAD"

# in_ns HOLDER: PIDs (other than HOLDER) in HOLDER's network namespace
in_ns() {
	local p want
	want=$(readlink "/proc/$1/ns/net")
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = "$1" ] && continue
		[ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" = "$want" ] && printf '%s ' "$p"
	done
	return 0
}

test_variants
for who in "${VARIANTS[@]}"; do
	as_variant "$who"
	pid=$(ns_start "${UOPT[@]}")
	start=$(date +%s)
	daemon_start "${UOPT[@]}" --wrap "env LD_PRELOAD=$PRELOAD" --no-wait -- -c "$pid" tap0
	wait_for -t 5 grep -q 'preload: stopped in the namespace' "$DAEMON_LOG" ||
		fail "[$who] the tap child never stopped in the namespace"
	ok "[$who] the tap child is stopped inside the namespace"
	daemon_wait_exit 15 || fail "[$who] the daemon is still waiting for its stopped child after 15 s"
	took=$(($(date +%s) - start))
	assert_eq 1 "$DAEMON_STATUS" "[$who] exit status (after ${took} s)"
	[ "$took" -ge 4 ] || fail "[$who] gave up after ${took} s, before its deadline"
	assert_contains "$(cat "$DAEMON_LOG")" "no tap from inside the namespace within 5 s" \
		"[$who] the message says what happened"
	stray=$(in_ns "$pid")
	assert_eq "" "$stray" "[$who] no process of the daemon is left in the namespace"
	got=$(timeout 5 cat <&"$DAEMON_READY_R" | head -c 10) || true
	assert_eq "" "$got" "[$who] no ready byte"
	kill_wait "$pid"
done

info "PASS"
