#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-sandbox-fallback.sh - --enable-sandbox where pivot_root() is
# impossible (rootfs/initramfs hosts, slirp4netns#249).  pivot_root() fails
# with the same EINVAL when the parent of the root mount is shared, so the
# daemon runs (as root) chrooted into a bind mount (private, holding a
# read-only bind of /usr, a procfs, a tap device node) that sits on a shared
# mount; the daemon's own "make / private" cannot reach that parent.  Checks:
#   * the daemon says it fell back to chroot() and still becomes ready;
#   * its root holds only etc, read-only; NoNewPrivs 1, caps dropped, and
#     Seccomp 2 even without --enable-seccomp (the namespace-escape filter);
#   * unshare(CLONE_NEWUSER) from inside the daemon (LD_PRELOAD probe) fails
#     with EPERM, so CAP_SYS_CHROOT cannot come back;
#   * TCP, DNS keep working; with --enable-seccomp too, a call outside the
#     allow-list still traps.
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip nsenter unshare mount socat chroot cc
is_slirpd || skip "checks slirpd's own sandbox (SLIRPD is not slirpd)"
enter_private_host_ns "$@"
SLIRPD_TEST_EXTRA_ARGS=
. "$LIB_DIR/isolation-lib.sh"

NAME=slirpd-fallback.example.test
PRELOAD=$(iso_preload)

private_resolver "$NAME" 192.0.2.55 280
svc_start tcp-echo
ECHO_PORT=$SVC_PORT

# the chroot: a private mount on a shared one, with what the daemon needs.
# Nothing writable from the host is bound into it (lib.sh removes $T with
# rm -rf at exit): /usr is a read-only bind, /proc a fresh procfs, the
# device nodes are made here, resolv.conf is a copy; and every mount under
# $B is detached before lib.sh's cleanup runs.
B=$T/base
C=$B/root
fallback_umount() {
	umount -R -l "$B" 2>/dev/null || true
}
trap 'rc=$?; fallback_umount; (exit $rc); _cleanup' EXIT
mkdir -p "$B"
mount --bind "$B" "$B"
mount --make-shared "$B"
mkdir -p "$C"
mount --bind "$C" "$C"
mount --make-private "$C"
mkdir -p "$C"/{usr,etc,proc,dev/net,tmp,probe,bin-dut}
mount --bind /usr "$C/usr"
mount -o remount,bind,ro "$C/usr"
touch "$C/usr/.slirpd-probe" 2>/dev/null && fail "the chroot's /usr bind is writable"
mount -t proc proc "$C/proc"
mknod -m 666 "$C/dev/net/tun" c 10 200
mknod -m 666 "$C/dev/null" c 1 3
cp "$T/resolv.conf" "$C/etc/resolv.conf"
for l in bin sbin lib lib32 lib64 libx32; do
	if [ -L "/$l" ]; then
		ln -s "$(readlink "/$l")" "$C/$l"
	fi
done
[ -e "$C/lib64" ] && [ -e "$C/bin" ] || skip "needs a merged-/usr host (/bin, /lib64 symlinks)"
cp "$SLIRPD" "$C/bin-dut/slirpd"
cp "$PRELOAD" "$C/probe/preload.so"
chmod 755 "$C" "$C/bin-dut" "$C/probe" "$C/bin-dut/slirpd" "$C/probe/preload.so"

# start_chrooted LABEL ACTION ARGS...: the daemon in the chroot as root
start_chrooted() {
	local label=$1 action=$2
	shift 2
	SLIRPD=/bin-dut/slirpd daemon_start --wrap \
		"chroot $C env LD_PRELOAD=/probe/preload.so SLIRPD_PRELOAD_ACTION=$action" \
		--exit-fd 4 -- "$@"
	info "[$label] daemon $DAEMON_PID ready"
}

# --- sandbox only: chroot fallback + escape filter
pid=$(ns_start)
start_chrooted "sandbox" escape -c --enable-sandbox "$pid" tap0
log=$(cat "$DAEMON_LOG")
assert_contains "$log" "pivot_root() is not possible here" "[sandbox] the fallback is announced"
assert_match "$log" "^sandbox: chroot root" "[sandbox] log names the chroot sandbox"
iso_check_status "sandbox" "$DAEMON_PID" sandbox 2
iso_check_root "sandbox" "$DAEMON_PID" /etc --chroot
out=$(ns_exec -t 15 "$pid" "$DNSRESP" --query 10.0.2.3 "$NAME" 53 5 2>&1) || true
assert_eq 192.0.2.55 "$out" "[sandbox] DNS through 10.0.2.3"
r=$(ns_tcp_roundtrip "$pid" 10.0.2.2 "$ECHO_PORT" 200000) || fail "[sandbox] $r"
ok "[sandbox] TCP 200 kB round trip"
# the probe ran at the first poll(): after isolation
wait_for -t 5 grep -q 'preload: unshare' "$DAEMON_LOG" || fail "the escape probe did not run"
assert_contains "$(cat "$DAEMON_LOG")" "preload: unshare(CLONE_NEWUSER) = -1 EPERM" \
	"[sandbox] no new user namespace from the chroot (CAP_SYS_CHROOT stays gone)"
daemon_stop
assert_eq 0 "$DAEMON_STATUS" "[sandbox] exit status 0 after the exit fd"
kill_wait "$pid"

# --- sandbox + seccomp in the fallback: the allow-list still bites
pid=$(ns_start)
start_chrooted "sandbox+seccomp" trap -c --enable-sandbox --enable-seccomp "$pid" tap0
daemon_wait_exit 10 || fail "[sandbox+seccomp] the daemon did not exit after a forbidden call"
assert_eq 159 "$DAEMON_STATUS" "[sandbox+seccomp] exit status 159 (128 + SIGSYS)"
assert_contains "$(cat "$DAEMON_LOG")" "seccomp: system call personality (" \
	"[sandbox+seccomp] the blocked call is named in the log"
kill_wait "$pid"

info "PASS"
