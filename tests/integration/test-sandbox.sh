#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-sandbox.sh - --enable-sandbox (with --enable-seccomp), as root and as
# TEST_USER, inside a private network + mount namespace playing "the host":
#   * every thread's /proc/PID/task/TID/status: NoNewPrivs 1, Seccomp 2,
#     CapInh/CapAmb 0, CapEff/CapPrm/CapBnd only CAP_NET_BIND_SERVICE (as
#     slirp4netns: root's, and the user's in its own user namespace);
#   * the daemon's root: a read-only tmpfs holding only the directory of the
#     real resolv.conf (read-only bind) and empty /etc, /run, no host files
#     (/usr, /proc, /tmp, the binary), nothing writable, no other mounts;
#   * slirp4netns's own sandbox checks, as the user who started it:
#     getpcaps names cap_net_bind_service, /proc/PID/root/{etc,run} are
#     there, home, root, var are not; the user's daemon makes a user
#     namespace of its own (not the target's, which the container's root
#     could ptrace it in), so it stays dumpable and its user reads
#     /proc/PID/root;
#   * DNS, TCP, UDP out and an API port forward in keep working;
#   * a user's daemon given a tap fd (no user namespace to join) makes its
#     own user namespace for the sandbox;
#   * the directory fds kept for the API socket and a UNIX-socket forward
#     cannot reach the host's tree (../.. through them, LD_PRELOAD probe),
#     and both socket files are still removed at exit;
#   * /etc/resolv.conf a symlink outside /etc and /run (which breaks
#     slirp4netns): the daemon's /etc/resolv.conf follows it, and replacing
#     the file by rename() on the host changes the server libslirp uses;
#   * the ready byte comes after isolation (the status is checked right
#     after it), and the daemon still exits 0 on the exit fd.
# test-sandbox-fallback.sh covers hosts where pivot_root() is impossible.
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip nsenter unshare setpriv mount socat getpcaps
is_slirpd || skip "checks slirpd's own sandbox (SLIRPD is not slirpd)"
enter_private_host_ns "$@"
# this test chooses its flags itself
SLIRPD_TEST_EXTRA_ARGS=
. "$LIB_DIR/isolation-lib.sh"

NAME=slirpd-sandbox.example.test

# the private host: resolv.conf names a local responder
private_resolver "$NAME" 192.0.2.53 280
svc_start tcp-echo
ECHO_PORT=$SVC_PORT
svc_start udp-echo
UECHO_PORT=$SVC_PORT

test_variants
for who in "${VARIANTS[@]}"; do
	as_variant "$who"
	mkdir -p "$T/api-$who"
	chmod 777 "$T/api-$who"
	sock=$T/api-$who/api.sock
	pid=$(ns_start "${UOPT[@]}")
	daemon_start "${UOPT[@]}" --exit-fd 4 -- -c --enable-sandbox --enable-seccomp \
		--api-socket "$sock" "$pid" tap0
	# right after the ready byte: isolation must be complete already
	iso_check_status "$who" "$DAEMON_PID" sandbox
	iso_check_root "$who" "$DAEMON_PID" /etc
	# slirp4netns's own sandbox test, as the user who started the daemon
	by=()
	[ "$who" = user ] && by=(as_user)
	caps=$("${by[@]}" getpcaps "$DAEMON_PID" 2>&1 | tail -n 1)
	assert_contains "$caps" cap_net_bind_service "[$who] getpcaps (by the daemon's user) names cap_net_bind_service"
	assert_not_contains "$caps" cap_sys_admin "[$who] getpcaps: no cap_sys_admin"
	if [ "$who" = user ]; then
		# a user namespace of its own, not the target's: out of the
		# container's reach and still dumpable, so that its user can look
		# into /proc/PID/root, as slirp4netns's sandbox test does
		# (the checks of /proc/PID/root below run as that user)
		assert_contains "$(cat "$DAEMON_LOG")" "user namespace: a new one" \
			"[$who] the daemon made a user namespace of its own"
	fi
	for p in etc run; do
		"${by[@]}" test -e "/proc/$DAEMON_PID/root/$p" ||
			fail "[$who] /proc/PID/root/$p is not there"
	done
	for p in home root var; do
		"${by[@]}" test ! -e "/proc/$DAEMON_PID/root/$p" ||
			fail "[$who] /proc/PID/root/$p is there"
	done
	ok "[$who] /proc/PID/root has etc and run, not home, root, var"
	assert_match "$(cat "$DAEMON_LOG")" "^sandbox: pivot_root root" "[$who] log names the pivot_root sandbox"

	out=$(ns_exec -t 15 "$pid" "$DNSRESP" --query 10.0.2.3 "$NAME" 53 5 2>&1) || true
	assert_eq 192.0.2.53 "$out" "[$who] DNS through 10.0.2.3 in the sandbox"
	r=$(ns_tcp_roundtrip "$pid" 10.0.2.2 "$ECHO_PORT" 300000) || fail "[$who] $r"
	ok "[$who] TCP 300 kB round trip to the host's loopback"
	r=$(ns_udp_roundtrip "$pid" 10.0.2.2 "$UECHO_PORT" 1200) || fail "[$who] $r"
	ok "[$who] UDP round trip to the host's loopback"
	iso_check_api_forward "$who" "$pid" "$sock"

	alive "$DAEMON_PID" || fail "[$who] the daemon died: $(tail -5 "$DAEMON_LOG")"
	assert_not_contains "$(cat "$DAEMON_LOG")" "is not allowed" "[$who] no blocked system call"
	daemon_stop
	assert_eq 0 "$DAEMON_STATUS" "[$who] exit status 0 after the exit fd"
	kill_wait "$pid"
done

# --- directory fds kept past the sandbox (the API socket's, a UNIX-socket
# forward's) cannot lead out of it, and the socket files go at exit
PRELOAD=$(iso_preload)
for who in "${VARIANTS[@]}"; do
	as_variant "$who"
	d=$T/socks-$who
	mkdir -p "$d"
	chmod 777 "$d"
	pid=$(ns_start "${UOPT[@]}")
	daemon_start "${UOPT[@]}" --wrap "env LD_PRELOAD=$PRELOAD SLIRPD_PRELOAD_ACTION=dotdot" \
		--exit-fd 4 -- -c --enable-sandbox --enable-seccomp --api-socket "$d/api.sock" \
		-p "unix:$d/fwd.sock:8080" "$pid" tap0
	wait_for -t 5 grep -q 'preload: dotdot done' "$DAEMON_LOG" || fail "[$who] the dotdot probe did not run"
	log=$(cat "$DAEMON_LOG")
	assert_not_contains "$log" "OPENED" "[$who] no directory fd reaches the host's /etc/passwd"
	assert_match "$log" "^preload: dirfd [0-9]+: blocked" "[$who] the kept directory fds were probed"
	[ -S "$d/api.sock" ] && [ -S "$d/fwd.sock" ] || fail "[$who] socket files missing while running"
	daemon_stop_ok "[$who]"
	[ ! -e "$d/api.sock" ] || fail "[$who] the API socket file is left after exit"
	ok "[$who] the API socket file is removed at exit, from inside the sandbox"
	[ ! -e "$d/fwd.sock" ] || fail "[$who] the UNIX forward's socket file is left after exit"
	ok "[$who] the UNIX forward's socket file is removed at exit"
	kill_wait "$pid"
done

# --- an unprivileged daemon with no user namespace to join (a tap fd from
# elsewhere): it makes one of its own for the sandbox
if have_test_user && [ -x /usr/bin/python3 ]; then
	cat >"$T/tapfd-recv.py" <<-'EOF'
		# receive a tap fd on a UNIX socket, then exec ARGV with TAPFD replaced
		import os, socket, sys
		srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		srv.bind(sys.argv[1])
		srv.listen(1)
		srv.settimeout(10)
		conn, _ = srv.accept()
		_, fds, _, _ = socket.recv_fds(conn, 1, 1)
		os.set_inheritable(fds[0], True)
		argv = [str(fds[0]) if a == "TAPFD" else a for a in sys.argv[2:]]
		os.execvp(argv[0], argv)
	EOF
	cat >"$T/tapfd-send.py" <<-'EOF'
		# create tap0 here (inside the namespace) and send its fd
		import fcntl, os, socket, struct, sys
		fd = os.open("/dev/net/tun", os.O_RDWR)
		fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", b"tap0", 0x0002 | 0x1000))
		s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		s.connect(sys.argv[1])
		socket.send_fds(s, [b"t"], [fd])
	EOF
	chmod 644 "$T/tapfd-recv.py" "$T/tapfd-send.py"
	mkdir -p "$T/tapfd"
	chmod 777 "$T/tapfd"
	pid=$(ns_start --user)
	daemon_start --user --no-wait --wrap "/usr/bin/python3 $T/tapfd-recv.py $T/tapfd/sock" \
		--exit-fd 4 -- --enable-sandbox --enable-seccomp --netns-type=tapfd TAPFD
	wait_for -t 10 test -S "$T/tapfd/sock" || fail "[user tapfd] the receiver did not listen"
	ns_exec -t 10 "$pid" /usr/bin/python3 "$T/tapfd-send.py" "$T/tapfd/sock" ||
		fail "[user tapfd] could not create and send the tap fd"
	byte=$(timeout 10 head -c 1 <&"$DAEMON_READY_R") || true
	[ -n "$byte" ] || fail "[user tapfd] no ready byte"
	ok "[user tapfd] ready"
	assert_contains "$(cat "$DAEMON_LOG")" "user namespace: a new one" \
		"[user tapfd] the sandbox lives in a user namespace of its own"
	iso_check_status "user tapfd" "$DAEMON_PID" sandbox
	iso_check_root "user tapfd" "$DAEMON_PID" /etc
	ns_exec "$pid" ip addr add 10.0.2.100/24 dev tap0
	ns_exec "$pid" ip link set tap0 up
	ns_exec "$pid" ip route add default via 10.0.2.2
	r=$(ns_tcp_roundtrip "$pid" 10.0.2.2 "$ECHO_PORT" 100000) || fail "[user tapfd] $r"
	ok "[user tapfd] TCP round trip"
	daemon_stop_ok "[user tapfd]"
	kill_wait "$pid"
else
	info "no usable $TEST_USER or no /usr/bin/python3: skipping the tapfd case"
fi

# --- /etc/resolv.conf -> a file outside /etc and /run, replaced by rename()
umount "$RESOLV_TARGET"
mkdir -p "$T/ovl/up" "$T/ovl/work" "$T/dns"
chmod 755 "$T/dns"
# (an overlay in this test's private mount namespace: the host's /etc is
# only its read-only lower layer; detached before lib.sh's cleanup)
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$T/ovl/up,workdir=$T/ovl/work" /etc ||
	skip_kernel "cannot mount an overlay on /etc (no overlayfs)"
trap 'rc=$?; umount -l /etc 2>/dev/null; (exit $rc); _cleanup' EXIT
[ "$(findmnt -n -o FSTYPE --mountpoint /etc)" = overlay ] || fail "/etc is not the overlay"
rm -f /etc/resolv.conf
ln -s "$T/dns/resolv.conf" /etc/resolv.conf
printf 'nameserver 127.0.0.1\n' >"$T/dns/resolv.conf"
chmod 644 "$T/dns/resolv.conf"
spawn --log "$T/dns2.svc.log" "$DNSRESP" 127.0.0.2 53 "$NAME" 192.0.2.54 280
wait_for -t 5 grep -q listening "$T/dns2.svc.log" || fail "second dnsresp did not start"

for who in "${VARIANTS[@]}"; do
	as_variant "$who"
	printf 'nameserver 127.0.0.1\n' >"$T/dns/resolv.conf"
	pid=$(ns_start "${UOPT[@]}")
	daemon_start "${UOPT[@]}" --exit-fd 4 -- -c --enable-sandbox --enable-seccomp "$pid" tap0
	iso_check_root "$who symlinked resolv.conf" "$DAEMON_PID" "$T/dns"
	link=$(readlink "/proc/$DAEMON_PID/root/etc/resolv.conf") || link=
	assert_eq "$T/dns/resolv.conf" "$link" "[$who] the daemon's /etc/resolv.conf links to the real file"
	out=$(ns_exec -t 15 "$pid" "$DNSRESP" --query 10.0.2.3 "$NAME" 53 5 2>&1) || true
	assert_eq 192.0.2.53 "$out" "[$who] DNS via the symlinked resolv.conf (127.0.0.1)"
	# the host's resolver changes: a new file renamed over the old one
	printf 'nameserver 127.0.0.2\n' >"$T/dns/resolv.conf.new"
	chmod 644 "$T/dns/resolv.conf.new"
	mv -f "$T/dns/resolv.conf.new" "$T/dns/resolv.conf"
	# libslirp re-checks resolv.conf at most once a second
	got=
	for ((i = 0; i < 20; i++)); do
		got=$(ns_exec -t 10 "$pid" "$DNSRESP" --query 10.0.2.3 "$NAME" 53 2 2>&1) || true
		[ "$got" = 192.0.2.54 ] && break
		sleep 0.5
	done
	assert_eq 192.0.2.54 "$got" "[$who] DNS follows the host's new resolv.conf (127.0.0.2)"
	daemon_stop_ok "[$who]"
	kill_wait "$pid"
done

info "PASS"
