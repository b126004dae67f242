# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Results go to globals the tests read (DAEMON_*, CLI_*, SVC_*, SPAWN_PID,
# VARIANTS, UOPT, VDIR, PY, DNSRESP, RESOLV_TARGET):
# shellcheck disable=SC2034
# lib.sh - shared helpers for the slirpd integration tests.  Sourced by every
# tests/integration/test-*.sh, right at the top:
#
#   . "$(dirname "$0")/lib.sh"
#
# Environment (meson sets the first four):
#   SLIRPD             binary under test (slirpd, or /usr/bin/slirp4netns to
#                      validate the tests against the reference)
#   SLIRPD_HELPERS     directory holding the tests/helpers programs (dnsresp);
#                      a missing helper is compiled from source into the temp dir
#   SLIRPD_SOURCE_DIR, SLIRPD_BUILD_DIR
#   SLIRPD_TEST_USER   unprivileged user for the rootless cases (slirpd-test)
#   SLIRPD_KEEP_TMP=1  keep the per-test temp dir (it is kept on failure too)
#   SLIRPD_TEST_KEEP_GOING=1  failed assert_* calls are recorded and the test
#                      goes on; it exits 1 at the end (lists every deviation)
#   SLIRPD_TEST_EXTRA_ARGS  options daemon_start adds to every daemon, e.g.
#                      "--enable-sandbox --enable-seccomp" (the sandbox run)
#
# Exit status of a test: 0 pass, 1 fail, 77 skip. Only skip_kernel may skip
# a test that runs as root against slirpd: tests/run-tests.sh counts any other
# skip (a missing package, a missing test user, a binary the test user cannot
# reach) as a failure, since the suite sets all of those up itself.
#
# Conventions:
#   * every process a test starts goes through spawn/ns_start/daemon_start/
#     svc_start and is killed by PID at exit (TERM, bounded wait, KILL);
#   * every wait is bounded (wait_for -t, timeout(1) on clients);
#   * nothing is synchronised by sleeping: readiness comes from the ready fd,
#     /proc, or ss(8).

set -euo pipefail

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SLIRPD_SOURCE_DIR:=$(cd "$LIB_DIR/../.." && pwd)}"
: "${SLIRPD_BUILD_DIR:=$SLIRPD_SOURCE_DIR/build}"
: "${SLIRPD:=$SLIRPD_BUILD_DIR/src/slirpd}"
: "${SLIRPD_HELPERS:=$SLIRPD_BUILD_DIR/tests}"
TEST_USER=${SLIRPD_TEST_USER:-slirpd-test}
TEST_NAME=$(basename "$0" .sh)
export SLIRPD SLIRPD_HELPERS SLIRPD_SOURCE_DIR SLIRPD_BUILD_DIR

# ---------------------------------------------------------------- reporting

info() { printf '# %s\n' "$*"; }
ok() { printf 'ok - %s\n' "$*"; }

# skip MSG: the whole test is skipped (exit 77): for what the suite's own
# set-up cannot give (not root, not slirpd but the reference binary);
# tests/run-tests.sh counts it as a failure
skip() {
	printf 'SKIP: %s: %s\n' "$TEST_NAME" "$*"
	exit 77
}

# skip_kernel MSG: skipped because the kernel (or the host's configuration
# of it) cannot do what the test needs; the only skip run-tests.sh accepts
skip_kernel() {
	printf 'SKIP (kernel): %s: %s\n' "$TEST_NAME" "$*"
	exit 77
}

# Print the logs of every daemon (and other logged process) of this test.
dump_logs() {
	local f
	[ -n "${T:-}" ] && [ -d "$T" ] || return 0
	for f in "$T"/daemon.*.log; do
		[ -e "$f" ] || continue
		printf -- '----- %s (%s) -----\n' "${f##*/}" \
			"$(cat "${f%.log}.cmd" 2>/dev/null || echo '?')"
		tail -n 80 "$f"
	done
	for f in "$T"/*.svc.log; do
		[ -s "$f" ] || continue
		printf -- '----- %s -----\n' "${f##*/}"
		tail -n 20 "$f"
	done
	printf -- '-----\n'
}

# fail MSG: print MSG and the daemon logs, exit 1
fail() {
	printf 'FAIL: %s: %s\n' "$TEST_NAME" "$*" >&2
	dump_logs >&2
	exit 1
}

# _afail MSG: an assertion failed.  Normally the same as fail; with
# SLIRPD_TEST_KEEP_GOING=1 it is recorded, the test goes on, and the test
# exits 1 at the end (to list every deviation of a daemon in one run).
_afail() {
	if [ -n "${SLIRPD_TEST_KEEP_GOING:-}" ]; then
		printf 'FAIL: %s: %s\n' "$TEST_NAME" "$*" >&2
		printf '%s\n' "$*" | head -n 1 >>"$T/.failed"
		return 0
	fi
	fail "$@"
}

# assert_eq EXPECTED SEEN WHAT
assert_eq() {
	if [ "$1" != "$2" ]; then
		_afail "$3: expected '$1', seen '$2'"
		return 0
	fi
	ok "$3"
}

# assert_contains HAYSTACK NEEDLE WHAT  (fixed string)
assert_contains() {
	case "$1" in
	*"$2"*) ok "$3" ;;
	*) _afail "$3: expected to contain '$2', seen: $(printf '%s' "$1" | head -c 2000)" ;;
	esac
}

# assert_not_contains HAYSTACK NEEDLE WHAT
assert_not_contains() {
	case "$1" in
	*"$2"*) _afail "$3: expected NOT to contain '$2', seen: $(printf '%s' "$1" | head -c 2000)" ;;
	*) ok "$3" ;;
	esac
}

# assert_match HAYSTACK ERE WHAT  (grep -E on any line)
assert_match() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok "$3"
	else
		_afail "$3: expected a line matching /$2/, seen: $(printf '%s' "$1" | head -c 2000)"
	fi
}

# ---------------------------------------------------------------- requirements

require_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (to make namespaces and switch to $TEST_USER)"
}

require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "needs $c"
	done
}

# require_python [WHAT FOR]: PY, the python3 the test's own tools run with
require_python() {
	PY=$(command -v /usr/bin/python3 || command -v python3 || true)
	[ -n "$PY" ] || skip "needs python3${1:+ ($1)}"
}

# have_test_user: true when the unprivileged cases can run. As root, the
# suite's set-up (tests/deps.sh) provides the user and a usable
# /dev/net/tun, so their absence fails the test; only a kernel that lets no
# unprivileged user make a user namespace (or has no TUN) returns false.
# Not root (a packager's plain `meson test`): false.
_HAVE_TEST_USER=
have_test_user() {
	if [ -z "$_HAVE_TEST_USER" ]; then
		_HAVE_TEST_USER=no
		if [ "$(id -u)" = 0 ]; then
			id -u "$TEST_USER" >/dev/null 2>&1 ||
				fail "setup: no user $TEST_USER (tests/deps.sh makes it)"
			if [ ! -c /dev/net/tun ]; then
				info "kernel: no /dev/net/tun: no unprivileged cases"
			elif ! as_user unshare -Ur true 2>/dev/null; then
				info "kernel: $TEST_USER cannot make a user namespace: no unprivileged cases"
			else
				as_user sh -c 'test -r /dev/net/tun && test -w /dev/net/tun' 2>/dev/null ||
					fail "setup: $TEST_USER cannot open /dev/net/tun (tests/deps.sh makes it 0666)"
				as_user test -x "$SLIRPD" 2>/dev/null ||
					fail "setup: $TEST_USER cannot execute $SLIRPD"
				_HAVE_TEST_USER=yes
			fi
		fi
	fi
	[ "$_HAVE_TEST_USER" = yes ]
}

# test_variants: VARIANTS=(root user): who the per-user cases run as: root,
# and TEST_USER where it is usable (have_test_user).  A test loops
#   test_variants
#   for who in "${VARIANTS[@]}"; do
#   	as_variant "$who"
#   	pid=$(ns_start "${UOPT[@]}")
test_variants() {
	VARIANTS=(root)
	if have_test_user; then
		VARIANTS+=(user)
	else
		info "no usable $TEST_USER: root only"
	fi
}

# as_variant WHO (root or user): UOPT, the option that ns_start,
# daemon_start and spawn take for WHO (--user, or none); VDIR, a directory
# WHO may write in ($T for root, $T/u owned by TEST_USER)
as_variant() {
	UOPT=()
	VDIR=$T
	if [ "$1" = user ]; then
		UOPT=(--user)
		VDIR=$T/u
		mkdir -p "$VDIR"
		chown "$TEST_USER:" "$VDIR"
	fi
}

# is_slirpd: the binary under test is slirpd (not slirp4netns)
is_slirpd() {
	local v
	v=$(timeout 5 "$SLIRPD" --version 2>/dev/null </dev/null) || true
	[[ ${v%%$'\n'*} == "slirpd "* ]]
}

# helper NAME: path of a tests/helpers program, compiled on demand
helper() {
	local name=$1 src
	if [ -x "$SLIRPD_HELPERS/$name" ]; then
		printf '%s\n' "$SLIRPD_HELPERS/$name"
		return 0
	fi
	if [ -x "$T/helpers/$name" ]; then
		printf '%s\n' "$T/helpers/$name"
		return 0
	fi
	src=$SLIRPD_SOURCE_DIR/tests/helpers/$name.c
	[ -r "$src" ] || skip "helper $name not built and $src missing"
	command -v cc >/dev/null 2>&1 || skip "helper $name not built and no cc"
	mkdir -p "$T/helpers"
	chmod 755 "$T/helpers"
	cc -O2 -o "$T/helpers/$name" "$src" >&2 || skip "cannot compile $src"
	chmod 755 "$T/helpers/$name"
	printf '%s\n' "$T/helpers/$name"
}

# ---------------------------------------------------------------- processes

# starttime of PID (field 22 of /proc/PID/stat), to never kill a reused PID
_starttime() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	printf '%s\n' "${20}"
}

_track() {
	local st
	st=$(_starttime "$1") || return 0
	printf '%s %s\n' "$1" "$st" >>"$T/.pids"
}

# alive PID: exists and is not a zombie
alive() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}

# Close every fd >= 3 except the ones given; used in each spawned child so
# that pipe ends (exit fds especially) never leak into other processes.
_close_fds() {
	local f n k keep
	for f in "/proc/$BASHPID/fd/"*; do
		n=${f##*/}
		[ "$n" -gt 2 ] 2>/dev/null || continue
		keep=
		for k in "$@"; do [ "$n" = "$k" ] && keep=1; done
		[ -n "$keep" ] || eval "exec $n>&-" 2>/dev/null || true
	done
}

# as_user CMD...: run CMD as TEST_USER (foreground)
as_user() {
	setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --init-groups -- "$@"
}

# spawn [--user] [--log FILE] CMD...: start CMD in the background with only
# fds 0-2 (stdin /dev/null), track it; sets SPAWN_PID.
spawn() {
	local u='' log=/dev/null
	while :; do
		case ${1:-} in
		--user) u=1; shift ;;
		--log) log=$2; shift 2 ;;
		*) break ;;
		esac
	done
	if [ -n "$u" ]; then
		set -- setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --init-groups -- "$@"
	fi
	(
		trap - INT QUIT
		_close_fds
		exec "$@"
	) </dev/null >>"$log" 2>&1 &
	SPAWN_PID=$!
	_track "$SPAWN_PID"
}

# kill_wait PID [SECONDS]: TERM, bounded wait, KILL
kill_wait() {
	local pid=$1 t=${2:-5} i
	alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < t * 20; i++)); do
		alive "$pid" || return 0
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# wait_for [-t SECONDS] CMD...: poll CMD (every 0.1 s) until it succeeds
wait_for() {
	local t=10 end
	if [ "${1:-}" = -t ]; then
		t=$2
		shift 2
	fi
	end=$((SECONDS + t))
	while :; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# wait_gone PID [SECONDS]: wait until PID is gone (or a zombie)
wait_gone() {
	local pid=$1 t=${2:-10} i
	for ((i = 0; i < t * 20; i++)); do
		alive "$pid" || return 0
		sleep 0.05
	done
	return 1
}

# ---------------------------------------------------------------- namespaces

_proc_id() { # PID Uid|Gid -> real id
	awk -v k="$2:" '$1 == k { print $2; exit }' "/proc/$1/status"
}

_ns_ready() {
	local pid=$1 comm
	alive "$pid" || return 1
	[ "$(readlink "/proc/$pid/ns/net")" != "$(readlink /proc/$$/ns/net)" ] || return 1
	comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
	[ "$comm" = sleep ]
}

# ns_start [--user]: start a namespace holder (unshare -rn sleep 600), as
# root or as TEST_USER, wait until it is in its own netns, print its PID.
#   pid=$(ns_start --user)
ns_start() {
	local uopt=() pid
	if [ "${1:-}" = --user ]; then
		uopt=(--user)
		shift
	fi
	spawn "${uopt[@]}" --log "$T/holders.log" unshare -rn sleep 600
	pid=$SPAWN_PID
	wait_for -t 10 _ns_ready "$pid" ||
		fail "namespace holder $pid did not come up: $(cat "$T/holders.log")"
	printf '%s\n' "$pid"
}

# _ns_prefix TARGET: NS_PREFIX=(command prefix that runs a command inside
# TARGET's network namespace).  TARGET is one of
#   PID                a holder from ns_start: its user+net namespaces, as the
#                      user owning the holder
#   file:PATH          a netns bind-mounted on PATH (root, no user namespace)
#   mnt:PID:PATH       a netns bind-mounted on PATH inside the mount namespace
#                      of holder PID (rootless podman's netns files): enter
#                      PID's user+mount namespaces as its owner, then PATH
#   host               none: the command runs on the host, as this process
_ns_prefix() {
	local tgt=$1 pid path uid gid
	case $tgt in
	host)
		NS_PREFIX=()
		return 0
		;;
	file:*)
		NS_PREFIX=(nsenter "--net=${tgt#file:}" --)
		return 0
		;;
	mnt:*)
		pid=${tgt#mnt:}
		path=${pid#*:}
		pid=${pid%%:*}
		NS_PREFIX=(nsenter -t "$pid" -U -m --preserve-credentials -- nsenter "--net=$path" --)
		;;
	*)
		pid=$tgt
		NS_PREFIX=(nsenter -t "$pid" -U -n --preserve-credentials --)
		;;
	esac
	uid=$(_proc_id "$pid" Uid 2>/dev/null) || uid=
	[ -n "$uid" ] || fail "ns_exec: no process $pid"
	if [ "$uid" != "$(id -u)" ]; then
		gid=$(_proc_id "$pid" Gid)
		NS_PREFIX=(setpriv --reuid="$uid" --regid="$gid" --init-groups -- "${NS_PREFIX[@]}")
	fi
}

# ns_exec [-t SECONDS] TARGET CMD...: run CMD in the network namespace of
# TARGET (a holder PID: its user+net namespaces as the user owning it; see
# _ns_prefix for the other forms), optionally under timeout.  All ns_* and
# ns_*_roundtrip helpers take a TARGET the same way.
ns_exec() {
	local t=()
	if [ "$1" = -t ]; then
		t=(timeout "$2")
		shift 2
	fi
	_ns_prefix "$1"
	shift
	"${t[@]}" "${NS_PREFIX[@]}" "$@"
}

# ns_addrs PID IFNAME: "10.0.2.100/24 ..." (IPv4) on IFNAME inside the ns
ns_addrs4() {
	ns_exec "$1" ip -o -4 addr show dev "$2" 2>/dev/null |
		awk '{ for (i = 1; i < NF; i++) if ($i == "inet") print $(i + 1) }' | xargs
}

# ns_addrs6 PID IFNAME [SCOPE]: IPv6 addresses (default scope global)
ns_addrs6() {
	ns_exec "$1" ip -o -6 addr show dev "$2" scope "${3:-global}" 2>/dev/null |
		awk '{ for (i = 1; i < NF; i++) if ($i == "inet6") print $(i + 1) }' | xargs
}

# ns_link_field PID IFNAME FIELD: e.g. mtu, state, link/ether
ns_link_field() {
	ns_exec "$1" ip -o link show dev "$2" 2>/dev/null |
		awk -v k="$3" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'
}

# ns_link_up PID IFNAME: the link has the UP flag
ns_link_up() {
	ns_exec "$1" ip -o link show dev "$2" 2>/dev/null | grep -q '<[^>]*\bUP\b[^>]*>'
}

# ns_default_gw PID: the IPv4 default gateway inside the ns
ns_default_gw() {
	ns_exec "$1" ip -4 route show default 2>/dev/null |
		awk '$1 == "default" { for (i = 1; i < NF; i++) if ($i == "via") { print $(i + 1); exit } }'
}

# ns_pretap PID: a persistent tap0, UP, and lo UP in holder PID's namespace,
# as RootlessKit makes them for a daemon without -c
ns_pretap() {
	ns_exec "$1" ip tuntap add name tap0 mode tap || return 1
	ns_exec "$1" ip link set tap0 up
	ns_exec "$1" ip link set lo up
}

# ns_pretap_configure PID: configure that tap0 as RootlessKit's child does
# itself: MTU 65520, 10.0.2.100/24, the default route via 10.0.2.2
ns_pretap_configure() {
	ns_exec "$1" ip link set tap0 mtu 65520
	ns_exec "$1" ip addr add 10.0.2.100/24 dev tap0
	ns_exec "$1" ip route add default via 10.0.2.2 dev tap0
}

# private_resolver NAME ADDR SECONDS: for a test in enter_private_host_ns:
# /etc/resolv.conf (the file it resolves to: RESOLV_TARGET) is bound over by
# $T/resolv.conf, "nameserver 127.0.0.1", where tests/helpers/dnsresp
# (DNSRESP) answers NAME with ADDR for SECONDS; its log: $T/dnsresp.svc.log
private_resolver() {
	DNSRESP=$(helper dnsresp)
	printf 'nameserver 127.0.0.1\n' >"$T/resolv.conf"
	chmod 644 "$T/resolv.conf"
	RESOLV_TARGET=$(readlink -f /etc/resolv.conf)
	[ -e "$RESOLV_TARGET" ] ||
		skip "/etc/resolv.conf points to a missing file ($RESOLV_TARGET)"
	mount --bind "$T/resolv.conf" "$RESOLV_TARGET"
	spawn --log "$T/dnsresp.svc.log" "$DNSRESP" 127.0.0.1 53 "$1" "$2" "$3"
	wait_for -t 5 grep -q listening "$T/dnsresp.svc.log" ||
		fail "dnsresp did not start: $(cat "$T/dnsresp.svc.log")"
}

# enter_private_host_ns: re-run the calling test inside a private network and
# mount namespace (as root) whose loopback plays "the host".  Call it right
# after sourcing lib.sh; it never returns in the outer process.
enter_private_host_ns() {
	if [ -n "${SLIRPD_IN_PRIVATE_HOST_NS:-}" ]; then
		ip link set lo up
		return 0
	fi
	require_root
	require_cmd unshare
	[ -z "$(_mounts_below "$T")" ] && rm -rf --one-file-system "$T"
	trap - EXIT
	# the built binaries, not this run's copies in $T (just removed)
	exec env SLIRPD="${_SLIRPD_BUILT:-$SLIRPD}" SLIRPD_HELPERS="${_HELPERS_BUILT:-$SLIRPD_HELPERS}" \
		SLIRPD_IN_PRIVATE_HOST_NS=1 unshare --net --mount --propagation private \
		-- bash "$0" "$@"
}

# ---------------------------------------------------------------- the daemon

DAEMON_N=0
DAEMON_PID=
DAEMON_LOG=
DAEMON_STATUS=
DAEMON_READY_R=
DAEMON_EXIT_W=

# daemon_start [OPTIONS] [--] ARGS...
#   --user          run as TEST_USER (setpriv)
#   --wrap "CMD"    prefix the daemon with CMD (word-split), e.g.
#                   "nsenter -t PID -U -m --preserve-credentials"
#   --ready-fd N    ready pipe write end on fd N (default 3)
#   --no-ready      no ready pipe (and no -r); returns at once
#   --exit-fd N     exit pipe read end on fd N; daemon_stop closes the write
#                   end (the write end stays in DAEMON_EXIT_W)
#   --raw           do not add -r N / -e N to ARGS (ARGS carry them)
#   --no-wait       do not wait for the ready byte
# Runs "$SLIRPD" ARGS with stdin /dev/null and stdout+stderr to DAEMON_LOG,
# waits (bounded, DAEMON_READY_TIMEOUT, default 10 s) for one byte on the
# ready pipe; fails with the log when the daemon exits or closes the pipe
# first.  Sets DAEMON_PID, DAEMON_LOG, DAEMON_READY_R (read end, still open:
# EOF follows the byte), DAEMON_EXIT_W.  Must be called in the main shell.
daemon_start() {
	local u='' wrap=() ready_fd=3 exit_fd='' raw='' wait_ready=1 n args=() cmd=() extra=()
	local rw r='' w='' erw er='' ew='' f rc
	while [ $# -gt 0 ]; do
		case $1 in
		--user) u=1; shift ;;
		--wrap) read -r -a wrap <<<"$2"; shift 2 ;;
		--ready-fd) ready_fd=$2; shift 2 ;;
		--no-ready) ready_fd=; shift ;;
		--exit-fd) exit_fd=$2; shift 2 ;;
		--raw) raw=1; shift ;;
		--no-wait) wait_ready=; shift ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	DAEMON_N=$((DAEMON_N + 1))
	n=$DAEMON_N
	DAEMON_LOG=$T/daemon.$n.log
	DAEMON_STATUS=
	DAEMON_READY_R=
	DAEMON_EXIT_W=
	if [ -z "$raw" ]; then
		[ -n "$ready_fd" ] && args+=(-r "$ready_fd")
		[ -n "$exit_fd" ] && args+=(-e "$exit_fd")
	fi
	# SLIRPD_TEST_EXTRA_ARGS (word-split) goes to every daemon: the suite's
	# second run uses "--enable-sandbox --enable-seccomp"
	read -r -a extra <<<"${SLIRPD_TEST_EXTRA_ARGS:-}"
	args+=("${extra[@]}" "$@")
	cmd=("${wrap[@]}" "$SLIRPD" "${args[@]}")
	# a sanitizer build: LeakSanitizer's exit scan needs /proc and system
	# calls that the sandbox and the seccomp filter take away
	case " ${args[*]} " in
	*" --enable-sandbox "* | *" --enable-seccomp "* | *" --create-sandbox "*)
		[ -z "${SLIRPD_SANITIZED:-}" ] ||
			cmd=(env "ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0" "${cmd[@]}")
		;;
	esac
	if [ -n "$u" ]; then
		cmd=(setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --init-groups -- "${cmd[@]}")
	fi
	printf '%s\n' "${cmd[*]}" >"$T/daemon.$n.cmd"
	info "daemon $n: ${cmd[*]}${ready_fd:+ (ready fd $ready_fd)}${exit_fd:+ (exit fd $exit_fd)}"

	# Pipes are FIFOs in the temp dir, opened so that no open() blocks and
	# the parent ends up with only the read end of the ready pipe and only
	# the write end of the exit pipe.
	if [ -n "$ready_fd" ]; then
		f=$T/ready.$n
		mkfifo -m 600 "$f"
		exec {rw}<>"$f"
		exec {r}<"$f"
		exec {w}>"$f"
		exec {rw}>&-
	fi
	if [ -n "$exit_fd" ]; then
		f=$T/exit.$n
		mkfifo -m 600 "$f"
		exec {erw}<>"$f"
		exec {er}<"$f"
		exec {ew}>"$f"
		exec {erw}>&-
	fi
	(
		# default dispositions, as podman/RootlessKit start it
		trap - INT QUIT
		[ -n "$ready_fd" ] && eval "exec $ready_fd>&$w"
		[ -n "$exit_fd" ] && eval "exec $exit_fd<&$er"
		_close_fds "$ready_fd" "$exit_fd"
		exec "${cmd[@]}"
	) </dev/null >"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	_track "$DAEMON_PID"
	[ -n "$w" ] && exec {w}>&-
	[ -n "$er" ] && exec {er}<&-
	DAEMON_EXIT_W=$ew
	DAEMON_READY_R=$r

	[ -n "$ready_fd" ] && [ -n "$wait_ready" ] || return 0
	rc=0
	timeout "${DAEMON_READY_TIMEOUT:-10}" head -c 1 <&"$r" >"$T/ready.$n.byte" || rc=$?
	if [ -s "$T/ready.$n.byte" ]; then
		return 0
	fi
	if [ "$rc" = 124 ]; then
		fail "daemon $n: no ready byte within ${DAEMON_READY_TIMEOUT:-10} s (pid $DAEMON_PID $(alive "$DAEMON_PID" && echo running || echo exited))"
	fi
	# EOF: the daemon closed the ready pipe without writing
	wait_gone "$DAEMON_PID" 5 || true
	if ! alive "$DAEMON_PID"; then
		rc=0
		wait "$DAEMON_PID" || rc=$?
		DAEMON_STATUS=$rc
		fail "daemon $n exited (status $rc) before signalling ready"
	fi
	fail "daemon $n closed the ready fd without writing a byte"
}

# daemon_wait_exit [SECONDS]: wait (bounded, default 10 s) for DAEMON_PID to
# exit; sets DAEMON_STATUS (128+N when killed by signal N).  Returns 1 on
# timeout.
daemon_wait_exit() {
	local secs=${1:-10} rc=0
	wait_gone "$DAEMON_PID" "$secs" || return 1
	wait "$DAEMON_PID" 2>/dev/null || rc=$?
	DAEMON_STATUS=$rc
	_daemon_close_fds
	return 0
}

_daemon_close_fds() {
	if [ -n "$DAEMON_READY_R" ]; then
		exec {DAEMON_READY_R}<&-
		DAEMON_READY_R=
	fi
	if [ -n "$DAEMON_EXIT_W" ]; then
		exec {DAEMON_EXIT_W}>&-
		DAEMON_EXIT_W=
	fi
}

# daemon_exits SECONDS STATUS LABEL: the daemon exits by itself within
# SECONDS, with STATUS
daemon_exits() {
	daemon_wait_exit "$1" || fail "$3 the daemon is still running after $1 s"
	assert_eq "$2" "$DAEMON_STATUS" "$3 exit status"
}

# daemon_close_exit_fd: close our write end of the exit pipe
daemon_close_exit_fd() {
	[ -n "$DAEMON_EXIT_W" ] || fail "daemon_close_exit_fd: no exit pipe"
	exec {DAEMON_EXIT_W}>&-
	DAEMON_EXIT_W=
}

# daemon_fds: how many fds the current daemon holds
daemon_fds() { ls "/proc/$DAEMON_PID/fd" | wc -l; }

# daemon_stop [--signal SIG]: stop the current daemon (by closing the exit
# pipe when there is one, else SIGTERM), bounded; sets DAEMON_STATUS.
# The exit-pipe way gives a clean exit 0 that flushes stdout (the banner).
# shellcheck disable=SC2120 # the tests pass --signal
daemon_stop() {
	local sig=
	[ "${1:-}" = --signal ] && sig=$2
	[ -n "$DAEMON_PID" ] || return 0
	if ! alive "$DAEMON_PID"; then
		daemon_wait_exit 1 || true
		return 0
	fi
	if [ -z "$sig" ] && [ -n "$DAEMON_EXIT_W" ]; then
		daemon_close_exit_fd
	else
		kill -"${sig:-TERM}" "$DAEMON_PID" 2>/dev/null || true
	fi
	if ! daemon_wait_exit 10; then
		kill -KILL "$DAEMON_PID" 2>/dev/null || true
		fail "daemon $DAEMON_PID did not exit within 10 s"
	fi
}

# daemon_stop_ok LABEL: daemon_stop, and it exits 0
daemon_stop_ok() {
	daemon_stop
	assert_eq 0 "$DAEMON_STATUS" "$1 exit status"
}

# run_cli [--hup-exit-fd N] ARGS...: run "$SLIRPD" ARGS in the foreground
# (timeout 10 s); sets CLI_RC, CLI_OUT, CLI_ERR.  With --hup-exit-fd N the
# daemon also gets "-e N" with a pipe whose writer is gone, so a daemon that
# unexpectedly starts exits at once instead of running until the timeout.
run_cli() {
	local hup=
	if [ "${1:-}" = --hup-exit-fd ]; then
		hup=$2
		shift 2
	fi
	CLI_RC=0
	if [ -n "$hup" ]; then
		eval "timeout 10 \"\$SLIRPD\" \"\$@\" -e $hup $hup< <(:)" \
			</dev/null >"$T/cli.out" 2>"$T/cli.err" || CLI_RC=$?
	else
		timeout 10 "$SLIRPD" "$@" </dev/null >"$T/cli.out" 2>"$T/cli.err" || CLI_RC=$?
	fi
	CLI_OUT=$(cat "$T/cli.out")
	CLI_ERR=$(cat "$T/cli.err")
}

# ---------------------------------------------------------------- services

# free_port tcp|udp: a port in 40000-40999 with no socket in this netns
free_port() {
	local proto=$1 base p i flag
	[ "$proto" = udp ] && flag=-Haun || flag=-Hatn
	base=$((RANDOM % 1000))
	for ((i = 0; i < 1000; i++)); do
		p=$((40000 + (base + i) % 1000))
		if [ -z "$(ss "$flag" "sport = :$p" 2>/dev/null)" ]; then
			printf '%s\n' "$p"
			return 0
		fi
	done
	fail "no free $proto port in 40000-40999"
}

_listening() { # tcp|udp PORT PID
	local flag
	[ "$1" = udp ] && flag=-Hulnp || flag=-Htlnp
	ss "$flag" "sport = :$2" 2>/dev/null | grep -q "pid=$3,"
}

# svc_start KIND [ADDR]: start a loopback service with a bounded lifetime
# (SVC_LIFETIME, default 120 s) on a free port; sets SVC_PORT and SVC_PID.
#   tcp-echo   echoes every TCP connection (socat fork + cat)
#   udp-echo   echoes every UDP datagram
#   http       answers one HTTP/1.0 request per connection with "hello"
# ADDR defaults to 127.0.0.1; use ::1 for IPv6.
svc_start() {
	local kind=$1 addr=${2:-127.0.0.1} proto=tcp fam=4 bind port try lsn resp
	case $addr in
	*:*) fam=6; bind="[$addr]" ;;
	*) bind=$addr ;;
	esac
	[ "$kind" = udp-echo ] && proto=udp
	require_cmd socat
	for ((try = 0; try < 5; try++)); do
		port=$(free_port "$proto")
		case $kind in
		tcp-echo)
			lsn=(socat -T 30 "TCP$fam-LISTEN:$port,bind=$bind,reuseaddr,fork" EXEC:cat) ;;
		udp-echo)
			lsn=(socat -T 5 "UDP$fam-RECVFROM:$port,bind=$bind,fork" EXEC:cat) ;;
		http)
			# the reply is a script: socat's address parser would eat the \r\n
			resp=$T/http-responder.sh
			printf '%s\n' '#!/bin/sh' 'read -r l' \
				'printf "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello"' >"$resp"
			chmod 755 "$resp"
			lsn=(socat -T 30 "TCP$fam-LISTEN:$port,bind=$bind,reuseaddr,fork" "EXEC:$resp") ;;
		*) fail "svc_start: unknown kind $kind" ;;
		esac
		spawn --log "$T/$kind.$port.svc.log" timeout "${SVC_LIFETIME:-120}" "${lsn[@]}"
		SVC_PID=$SPAWN_PID
		SVC_PORT=$port
		# socat is the child of timeout
		if wait_for -t 5 _svc_up "$proto" "$port" "$SVC_PID"; then
			return 0
		fi
		kill_wait "$SVC_PID" 2
	done
	fail "svc_start $kind $addr: could not start a listener"
}

_svc_up() { # proto port timeout-pid
	local c
	alive "$3" || return 1
	for c in $(pgrep -P "$3"); do
		_listening "$1" "$2" "$c" && return 0
	done
	return 1
}

# payload FILE SIZE: SIZE random bytes
payload() {
	head -c "$2" /dev/urandom >"$1"
}

# ns_tcp_roundtrip PID|host HOST PORT SIZE [user-visible label]: send SIZE random
# bytes to an echo service at HOST:PORT from inside the ns (or the host) and compare what
# comes back.  HOST may be an IPv6 literal (brackets added).  Returns 1 on
# mismatch or error (and prints why).
ns_tcp_roundtrip() {
	local pid=$1 host=$2 port=$3 size=$4 in out rc=0 fam=4
	in=$T/tcp.$RANDOM.in
	out=$in.out
	case $host in *:*) host="[$host]"; fam=6 ;; esac
	payload "$in" "$size"
	ns_exec -t 30 "$pid" socat -t 20 -T 20 - \
		"TCP$fam:$host:$port,connect-timeout=10" <"$in" >"$out" 2>"$out.err" || rc=$?
	if [ "$rc" != 0 ]; then
		echo "tcp $host:$port: client exit status $rc: $(head -c 500 "$out.err")"
		return 1
	fi
	if ! cmp -s "$in" "$out"; then
		echo "tcp $host:$port: sent $size bytes, got back $(stat -c %s "$out") different bytes"
		return 1
	fi
}

# ns_udp_roundtrip PID|host HOST PORT SIZE: one datagram of SIZE random bytes to a
# UDP echo service, compare the echo (UDP_TRIES tries, default 3: UDP may
# lose packets)
ns_udp_roundtrip() {
	local pid=$1 host=$2 port=$3 size=$4 in out try rc fam=4
	in=$T/udp.$RANDOM.in
	out=$in.out
	case $host in *:*) host="[$host]"; fam=6 ;; esac
	payload "$in" "$size"
	for ((try = 0; try < ${UDP_TRIES:-3}; try++)); do
		rc=0
		ns_exec -t 10 "$pid" socat -t 2 -T 5 - "UDP$fam:$host:$port" \
			<"$in" >"$out" 2>"$out.err" || rc=$?
		if [ "$rc" = 0 ] && cmp -s "$in" "$out"; then
			return 0
		fi
	done
	echo "udp $host:$port: sent $size bytes, got back $(stat -c %s "$out") bytes (status $rc) $(head -c 300 "$out.err")"
	return 1
}

# ns_tcp_fails PID HOST PORT: a TCP connection from the ns must not get
# through (refused, reset or no answer within 8 s)
ns_tcp_fails() {
	local pid=$1 host=$2 port=$3 out rc=0 fam=4
	out=$T/tcpfail.$RANDOM
	case $host in *:*) host="[$host]"; fam=6 ;; esac
	printf 'ping\n' >"$out.in"
	ns_exec -t 10 "$pid" socat -t 3 -T 5 - \
		"TCP$fam:$host:$port,connect-timeout=8" <"$out.in" >"$out" 2>"$out.err" || rc=$?
	if [ "$rc" = 0 ] && [ -s "$out" ]; then
		echo "tcp $host:$port: connection went through and was echoed"
		return 1
	fi
	return 0
}

# ---------------------------------------------------------------- setup

# _mounts_below DIR: mount points at or below DIR in this mount namespace
_mounts_below() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo
}

# _unmount_below DIR: lazily detach every mount at or below DIR (deepest
# first); returns 1 if some remain
_unmount_below() {
	local m
	for m in $(_mounts_below "$1" | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	[ -z "$(_mounts_below "$1")" ]
}

# on_cleanup CMD...: run CMD (eval'd) at exit, after the tracked processes
# are gone: for what a test makes outside $T (e.g. the OCI hook's state)
_ON_CLEANUP=()
on_cleanup() { _ON_CLEANUP+=("$*"); }

_cleanup() {
	local rc=$? pid st line i left
	set +e
	trap - EXIT INT TERM
	if [ "$rc" = 0 ] && [ -s "${T:-/nonexistent}/.failed" ]; then
		printf 'FAIL: %s: %s failed assertion(s) (SLIRPD_TEST_KEEP_GOING):\n' \
			"$TEST_NAME" "$(wc -l <"$T/.failed")" >&2
		sed 's/^/  /' "$T/.failed" >&2
		dump_logs >&2
		rc=1
	fi
	if [ -n "${T:-}" ] && [ -f "$T/.pids" ]; then
		left=()
		# newest first
		while read -r pid st; do
			[ "$(_starttime "$pid" 2>/dev/null)" = "$st" ] || continue
			kill -TERM "$pid" 2>/dev/null && left+=("$pid")
		done < <(tac "$T/.pids")
		for ((i = 0; i < 60; i++)); do
			line=
			for pid in "${left[@]}"; do alive "$pid" && line=1; done
			[ -n "$line" ] || break
			sleep 0.05
		done
		for pid in "${left[@]}"; do
			alive "$pid" && kill -KILL "$pid" 2>/dev/null
		done
	fi
	for i in "${_ON_CLEANUP[@]}"; do
		eval "$i"
	done
	if [ -n "${T:-}" ] && [ -d "$T" ]; then
		# never rm through a mount point: a bind mount of a host directory
		# below $T (same filesystem, so rm --one-file-system would not stop)
		# would have rm empty the host's directory
		_unmount_below "$T" || rc=1
		if [ -n "$(_mounts_below "$T")" ]; then
			info "NOT removing $T: mount points below it: $(_mounts_below "$T" | tr '\n' ' ')"
		elif [ "$rc" = 0 ] || [ "$rc" = 77 ]; then
			if [ -n "${SLIRPD_KEEP_TMP:-}" ]; then
				info "kept $T"
			else
				rm -rf --one-file-system "$T"
			fi
		else
			info "temp dir kept: $T"
		fi
	fi
	exit "$rc"
}

T=$(mktemp -d "${TMPDIR:-/tmp}/slirpd-$TEST_NAME.XXXXXX")
chmod 711 "$T"
: >"$T/.pids"
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -x "$SLIRPD" ] || skip "SLIRPD=$SLIRPD is not an executable"

# The unprivileged cases run the binaries as TEST_USER. A build below a
# directory that user cannot enter (a clone in /root, mode 0700) is copied
# into $T: the binary, slirpctl beside it and the test helpers.
if [ "$(id -u)" = 0 ] && id -u "$TEST_USER" >/dev/null 2>&1 &&
	! as_user test -x "$SLIRPD" 2>/dev/null; then
	mkdir -p "$T/bin/helpers"
	for _f in "$SLIRPD" "$(dirname "$SLIRPD")/slirpctl"; do
		[ -f "$_f" ] && cp "$_f" "$T/bin/"
	done
	for _f in "$SLIRPD_HELPERS"/*; do
		[ -f "$_f" ] && [ -x "$_f" ] && cp "$_f" "$T/bin/helpers/"
	done
	chmod -R a+rX "$T/bin"
	info "$TEST_USER cannot reach $SLIRPD: using copies in $T/bin"
	_SLIRPD_BUILT=$SLIRPD _HELPERS_BUILT=$SLIRPD_HELPERS
	SLIRPD=$T/bin/$(basename "$SLIRPD")
	SLIRPD_HELPERS=$T/bin/helpers
	export SLIRPD SLIRPD_HELPERS
fi
info "$TEST_NAME: SLIRPD=$SLIRPD ($(timeout 5 "$SLIRPD" --version 2>/dev/null </dev/null | head -n 1 || true))"
