#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-signals.sh - signals and the API socket file:
#   * SIGTERM / SIGINT: slirpd exits 0 and unlinks its --api-socket file
#     (slirpd-specific; slirp4netns dies by the signal and leaves the file);
#   * exit through the exit fd unlinks the API socket (both);
#   * a stale API socket file left by SIGKILL does not stop the next start on
#     the same path, and the new socket answers (both; RootlessKit does
#     exactly this), as root and as TEST_USER.
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip nsenter unshare setpriv socat

slirpd=
if is_slirpd; then
	slirpd=1
else
	info "not slirpd: signal exit status and unlink-on-signal checks are informational"
fi

# api_list SOCK [user]: list_hostfwd over the socket; prints the reply
api_list() {
	local pre=()
	[ "${2:-}" = user ] && pre=(setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --init-groups --)
	printf '{"execute":"list_hostfwd"}' |
		timeout 10 "${pre[@]}" socat -t 5 -T 5 - "UNIX-CONNECT:$1"
}

pid=$(ns_start)

# --- SIGTERM and SIGINT
for sig in TERM INT; do
	sock=$T/api-$sig.sock
	daemon_start --exit-fd 4 -- -c --api-socket "$sock" "$pid" tap0
	[ -S "$sock" ] || fail "[SIG$sig] API socket $sock missing after ready"
	ok "[SIG$sig] API socket exists at ready time"
	kill -"$sig" "$DAEMON_PID"
	daemon_wait_exit 10 || fail "[SIG$sig] the daemon did not exit within 10 s"
	if [ -n "$slirpd" ]; then
		assert_eq 0 "$DAEMON_STATUS" "[SIG$sig] exit status (slirpd-specific)"
		[ ! -e "$sock" ] || fail "[SIG$sig] the API socket file was not unlinked (slirpd-specific)"
		ok "[SIG$sig] API socket file unlinked (slirpd-specific)"
	else
		info "[SIG$sig] status $DAEMON_STATUS, socket file $([ -e "$sock" ] && echo left || echo removed)"
	fi
	rm -f "$sock"
done

# --- exit fd: clean exit unlinks the socket
sock=$T/api-exitfd.sock
daemon_start --exit-fd 4 -- -c --api-socket "$sock" "$pid" tap0
[ -S "$sock" ] || fail "[exit fd] API socket $sock missing after ready"
daemon_stop_ok "[exit fd]"
[ ! -e "$sock" ] || fail "[exit fd] the API socket file was not unlinked on exit"
ok "[exit fd] API socket file unlinked on exit"

# --- stale socket after SIGKILL
test_variants
for who in "${VARIANTS[@]}"; do
	as_variant "$who"
	dir=$VDIR
	kill_wait "$pid"
	pid=$(ns_start "${UOPT[@]}")
	sock=$dir/stale.sock
	daemon_start "${UOPT[@]}" -- --mtu 65520 --api-socket "$sock" "$pid" tap0
	daemon_stop --signal KILL
	assert_eq 137 "$DAEMON_STATUS" "[$who stale] killed by SIGKILL"
	[ -S "$sock" ] || fail "[$who stale] expected the socket file to be left behind by SIGKILL"
	ok "[$who stale] socket file left behind by SIGKILL"
	daemon_start "${UOPT[@]}" --exit-fd 4 -- -c --api-socket "$sock" "$pid" tap0
	ok "[$who stale] the next daemon on the same socket path became ready"
	reply=$(api_list "$sock" "$who") || fail "[$who stale] no reply on the new socket"
	assert_contains "$reply" '"entries"' "[$who stale] the new socket answers list_hostfwd"
	daemon_stop_ok "[$who stale]"
done

info "PASS"
