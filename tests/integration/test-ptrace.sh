#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-ptrace.sh - nothing inside the namespace can ptrace what the daemon
# runs there. An attacker is root of the namespace's user namespace (nsenter
# -U -n into the holder: CAP_SYS_PTRACE there), with the host's PIDs in view
# (no PID namespace), running tests/helpers/ptraceprobe (PTRACE_SEIZE):
#   * it can attach to the holder (the control: it holds the capability);
#   * it cannot attach to the splice helper, the daemon's long-lived child
#     that joined the namespace (found as the daemon's child whose
#     /proc/PID/ns/net is the holder's): EPERM. The helper keeps the host
#     uid and mount namespace; before it was made non-dumpable, this attach
#     succeeded;
#   * it cannot attach to the daemon either: its credentials stay in the
#     host's user namespace, where the attacker holds no capability (even
#     with the same host uid, as a rootless namespace's root has), or, for
#     an unprivileged daemon with --enable-sandbox, which joins the target's
#     user namespace, it is not dumpable. Before, that sandboxed daemon was
#     attachable.
# As root (a user namespace whose root is host uid 100000, not ours) and as
# TEST_USER (unshare -r: its root is the user).
. "$(dirname "$0")/lib.sh"

require_root
require_cmd nsenter unshare setpriv
is_slirpd || skip "probes slirpd's own children (SLIRPD is not slirpd)"

PROBE=$(helper ptraceprobe)

# _userns_ready PID: PID is in a user and network namespace of its own
_userns_ready() {
	alive "$1" &&
		[ "$(readlink "/proc/$1/ns/user")" != "$(readlink /proc/$$/ns/user)" ] &&
		[ "$(readlink "/proc/$1/ns/net")" != "$(readlink /proc/$$/ns/net)" ]
}

# root_holder: a namespace holder (as root) whose user namespace maps its
# uid and gid 0 to 100000 on the host; prints its PID
root_holder() {
	local pid
	spawn --log "$T/holders.log" unshare -U -n sleep 600
	pid=$SPAWN_PID
	wait_for -t 10 _userns_ready "$pid" || fail "holder $pid did not come up"
	echo "0 100000 65536" >"/proc/$pid/uid_map"
	echo "0 100000 65536" >"/proc/$pid/gid_map"
	printf '%s\n' "$pid"
}

# ns_child DAEMON HOLDER: the daemon's child in HOLDER's network namespace
ns_child() {
	local c want
	want=$(readlink "/proc/$2/ns/net")
	for c in $(pgrep -P "$1"); do
		[ "$(readlink "/proc/$c/ns/net" 2>/dev/null)" = "$want" ] && {
			printf '%s\n' "$c"
			return 0
		}
	done
	return 1
}

# probe_line OUT PID: what ptraceprobe said about PID
probe_line() {
	printf '%s\n' "$1" | awk -v p="$2" '$1 == p { print $2 }'
}

test_variants
for who in "${VARIANTS[@]}"; do
	as_variant "$who"
	by=()
	cred=()
	if [ "$who" = user ]; then
		# the user is root there already (unshare -r, setgroups denied)
		by=(as_user)
		cred=(--preserve-credentials)
		holder=$(ns_start --user)
	else
		holder=$(root_holder)
	fi
	daemon_start "${UOPT[@]}" -- "$holder" tap0
	wait_for -t 5 ns_child "$DAEMON_PID" "$holder" ||
		fail "[$who] no child of the daemon in the namespace (the splice helper)"
	helper=$(ns_child "$DAEMON_PID" "$holder")
	info "[$who] daemon $DAEMON_PID, helper $helper, holder $holder"

	out=$("${by[@]}" nsenter -t "$holder" -U -n "${cred[@]}" -- "$PROBE" "$holder" "$helper" "$DAEMON_PID" 2>&1) ||
		fail "[$who] ptraceprobe did not run: $out"
	info "[$who] ptraceprobe: $(printf '%s' "$out" | xargs)"
	assert_eq attached "$(probe_line "$out" "$holder")" \
		"[$who] control: root of the namespace attaches to the holder"
	assert_eq EPERM "$(probe_line "$out" "$helper")" \
		"[$who] root of the namespace cannot attach to the splice helper"
	assert_eq 0 "$(awk '/^TracerPid/ { print $2 }' "/proc/$helper/status")" \
		"[$who] the helper is not traced"
	where="outside the namespace"
	grep -q "user namespace: the target's" "$DAEMON_LOG" &&
		where="sandbox: in the target's user namespace"
	assert_eq EPERM "$(probe_line "$out" "$DAEMON_PID")" \
		"[$who] nor to the daemon ($where)"
	assert_eq 0 "$(awk '/^TracerPid/ { print $2 }' "/proc/$DAEMON_PID/status")" \
		"[$who] the daemon is not traced"
	alive "$DAEMON_PID" || fail "[$who] the daemon died"
	alive "$helper" || fail "[$who] the helper died"
	daemon_stop_ok "[$who]"
	kill_wait "$holder"
done

info "PASS"
