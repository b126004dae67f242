# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# peers.sh - shared helpers for the integration tests that drive real
# slirp4netns clients (podman 4.3.1, RootlessKit 1.1.0) as an unprivileged
# user against the daemon under test ($SLIRPD).  Source it, don't run it.
#
#   peers_init NAME [TOOL...]   checks (root, user, tools, kernel), makes the
#                               private work dir $PEERS_DIR, installs cleanup
#   peers_as_user CMD...        runs CMD as $PEERS_USER with the private env
#   peers_podman ARGS...        runs podman as $PEERS_USER (private mount ns,
#                               hybrid-cgroup workaround), bounded
#   peers_crun ARGS...          runs crun the same way (--root in the work dir)
#   peers_podman_setup          private containers.conf/storage.conf and the
#                               busybox-static image $PEERS_IMAGE
#   peers_free_port VAR [N]     N (default 1) consecutive free ports in
#                               41000-41999, the first one into VAR
#   peers_service VAR ADDR      socat loopback TCP service (ADDR = socat's
#                               right-hand address), its port into VAR
#   peers_echo_service VAR      ... replying "got:<first line>"
#   peers_file_service VAR F    ... sending file F
#   peers_service6 VAR ADDR     the same on [::1] (peers_echo_service6)
#   peers_host_services         echo on 127.0.0.1 and [::1], 1 MiB served on
#                               both, a sha256 sink on [::1]: P_ECHO, P_ECHO6,
#                               P_FILE, P_FILE6, P_SHA6, BIG_SHA
#   peers_rk_run/peers_rk_start/peers_rk_wait_ready/peers_rk_stop/peers_rkctl
#                               RootlessKit (+ rootlessctl) as the user
#   peers_daemon_pids           the daemons (podman's/RootlessKit's) we started
#   peers_check NAME CMD...     runs one check: PASS/FAIL line, output on fail
#   peers_finish                exits 1 if any check failed, else 0
#
# Environment: SLIRPD (required: the binary under test, e.g.
# /usr/bin/slirp4netns to validate the harness), SLIRPD_TEST_USER (default
# slirpd-test), PEERS_KEEP=1 keeps the work dir, PEERS_VERBOSE=1 shows the
# output of passing checks too.
#
# Everything the test starts carries PEERS_TAG=<unique> in its environment
# (podman passes it on to conmon, slirp4netns, rootlessport, catatonit;
# RootlessKit to its child and to slirp4netns); the cleanup kills those
# processes and all their descendants (e.g. the container processes under
# conmon) by pid, bounded, then removes the work dir.

PEERS_USER=${SLIRPD_TEST_USER:-slirpd-test}
PEERS_IMAGE=localhost/bb
PEERS_TIMEOUT=${PEERS_TIMEOUT:-60}     # default bound for one client command
PEERS_SERVICE_LIFETIME=${PEERS_SERVICE_LIFETIME:-280}
PEERS_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
PEERS_FAILED=0
PEERS_PASSED=0
PEERS_BG=()
PEERS_PORTS_USED=" "
PEERS_DIR=
PEERS_PODMAN_READY=0

peers_log() { printf '%s: %s\n' "${PEERS_NAME:-peers}" "$*"; }

# a setup problem (missing package, no test user, not root): a failure, not a
# skip; tests/deps.sh sets the machine up
peers_die() {
	printf '%s: FAIL (setup): %s\n' "${PEERS_NAME:-peers}" "$*" >&2
	exit 1
}

# only when the kernel really can't run the test
peers_skip() {
	printf 'SKIP (kernel): %s: %s\n' "${PEERS_NAME:-peers}" "$*"
	exit 77
}

# the binary under test is not slirpd (the reference, validating the harness)
peers_skip_not_slirpd() {
	printf 'SKIP: %s: %s (SLIRPD is not slirpd)\n' "${PEERS_NAME:-peers}" "$*"
	exit 77
}

peers_init() {
	PEERS_NAME=$1
	shift
	export LC_ALL=C
	# a packager's plain `meson test` as a user: not a failure, but not a
	# kernel limit either (run-tests.sh, as root, would count it as failed)
	if [ "$(id -u)" != 0 ]; then
		printf 'SKIP: %s: needs root (it drops to %s itself)\n' "$PEERS_NAME" "$PEERS_USER"
		exit 77
	fi
	[ -n "${SLIRPD:-}" ] || peers_die "SLIRPD is not set (the binary under test; /usr/bin/slirp4netns validates the harness)"
	SLIRPD=$(realpath -e "$SLIRPD" 2>/dev/null) || peers_die "SLIRPD: no such file"
	[ -x "$SLIRPD" ] || peers_die "SLIRPD=$SLIRPD is not executable"
	local t
	for t in setpriv unshare nsenter timeout socat ss ip awk sha256sum "$@"; do
		command -v "$t" >/dev/null 2>&1 || peers_die "$t not found (run tests/deps.sh)"
	done
	id -u "$PEERS_USER" >/dev/null 2>&1 || peers_die "no user $PEERS_USER (run tests/deps.sh)"
	PEERS_UID=$(id -u "$PEERS_USER")
	PEERS_GID=$(id -g "$PEERS_USER")
	grep -q "^$PEERS_USER:" /etc/subuid && grep -q "^$PEERS_USER:" /etc/subgid ||
		peers_die "$PEERS_USER has no /etc/subuid or /etc/subgid range (run tests/deps.sh)"
	[ -c /dev/net/tun ] || peers_skip "/dev/net/tun is missing (no TUN/TAP in this kernel)"

	PEERS_TAG="slirpd-peers-$$-$RANDOM$RANDOM"
	export PEERS_TAG
	# short: podman's API socket is $XDG_RUNTIME_DIR/libpod/tmp/<64 hex>.net,
	# which must stay under the 108 bytes of sun_path
	PEERS_DIR=$(mktemp -d /tmp/sp.XXXXXX) || peers_die "mktemp failed"
	trap peers_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	mkdir -p "$PEERS_DIR"/{home,run,cfg,data,tmp,bin}
	chmod 755 "$PEERS_DIR"
	chmod 700 "$PEERS_DIR/run"
	chown -R "$PEERS_UID:$PEERS_GID" "$PEERS_DIR"

	# the kernel checks, as the user
	if ! peers_as_user unshare -Ur true >/dev/null 2>&1; then
		peers_skip "$PEERS_USER cannot create a user namespace (unprivileged user namespaces disabled)"
	fi
	peers_as_user sh -c 'exec 3<>/dev/net/tun' 2>/dev/null ||
		peers_die "$PEERS_USER cannot open /dev/net/tun (chmod 666 it: tests/deps.sh)"

	# the binary as the user sees it (copied if the user can't reach it)
	PEERS_SLIRPD=$SLIRPD
	if ! peers_as_user test -x "$SLIRPD"; then
		PEERS_SLIRPD=$PEERS_DIR/bin/$(basename "$SLIRPD")
		cp "$SLIRPD" "$PEERS_SLIRPD"
		chmod 755 "$PEERS_SLIRPD"
		peers_log "note: $PEERS_USER cannot execute $SLIRPD; using a copy at $PEERS_SLIRPD"
	fi
	peers_log "daemon under test: $PEERS_SLIRPD ($(timeout 10 "$SLIRPD" --version 2>&1 | head -1))"
	peers_log "work dir: $PEERS_DIR"
}

# The private environment every user-side command gets.  The commands are
# built as argv arrays (PEERS_ARGV) so that a caller can also start them in
# the background as a simple command, making $! the pid of `timeout` itself.
peers_env() {
	printf '%s\n' env -i -C "$PEERS_DIR" "PATH=$PEERS_PATH" "HOME=$PEERS_DIR/home" \
		"USER=$PEERS_USER" "LOGNAME=$PEERS_USER" "LC_ALL=C" \
		"XDG_RUNTIME_DIR=$PEERS_DIR/run" "XDG_CONFIG_HOME=$PEERS_DIR/cfg" \
		"XDG_DATA_HOME=$PEERS_DIR/data" "TMPDIR=$PEERS_DIR/tmp" \
		"CONTAINERS_CONF=$PEERS_DIR/containers.conf" \
		"CONTAINERS_STORAGE_CONF=$PEERS_DIR/storage.conf" \
		"PEERS_TAG=$PEERS_TAG" "PEERS_DIR=$PEERS_DIR"
	# a sanitizer build's reports; podman and RootlessKit sandbox the daemon,
	# where LeakSanitizer's exit scan cannot run
	if [ -n "${SLIRPD_SANITIZED:-}" ]; then
		printf '%s\n' "ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0" "UBSAN_OPTIONS=${UBSAN_OPTIONS:-}"
	fi
}

# peers_user_argv CMD...: PEERS_ARGV = CMD as the user, private env, cwd =
# work dir, bounded by $PEERS_TIMEOUT
peers_user_argv() {
	local -a e
	mapfile -t e < <(peers_env)
	PEERS_ARGV=(timeout -k 5 "$PEERS_TIMEOUT"
		setpriv --reuid="$PEERS_UID" --regid="$PEERS_GID" --init-groups
		"${e[@]}" "$@")
}
peers_as_user() {
	local PEERS_ARGV
	peers_user_argv "$@"
	"${PEERS_ARGV[@]}"
}

# peers_podman_argv ARGS...: PEERS_ARGV = rootless podman in a private mount
# namespace, bounded by $PEERS_TIMEOUT.
# This host has hybrid cgroups (a cgroup2 mount at /sys/fs/cgroup/unified)
# and crun refuses rootless containers there, so that mount is detached
# first (in the private namespace only: unshare makes / private, and the
# --make-rshared afterwards makes a new peer group inside it, which keeps
# podman's "/ is not a shared mount" warning away without reaching the host).
peers_podman_argv() {
	local -a e
	mapfile -t e < <(peers_env)
	# shellcheck disable=SC2016
	PEERS_ARGV=(timeout -k 5 "$PEERS_TIMEOUT"
		unshare -m --propagation private -- /bin/sh -c '
			if mountpoint -q /sys/fs/cgroup/unified; then
				umount -l /sys/fs/cgroup/unified || exit 125
			fi
			mount --make-rshared / 2>/dev/null
			exec "$@"' peers-podman
		setpriv --reuid="$PEERS_UID" --regid="$PEERS_GID" --init-groups
		"${e[@]}" podman "$@")
}
peers_podman() {
	local PEERS_ARGV
	peers_podman_argv "$@"
	"${PEERS_ARGV[@]}"
}

# peers_crun ARGS...: rootless crun (state in $PEERS_DIR/crun) as the user,
# in a private mount namespace with the same hybrid-cgroup workaround
peers_crun() {
	local PEERS_ARGV
	peers_podman_argv "$@"
	PEERS_ARGV[${#PEERS_ARGV[@]} - $# - 1]=crun
	"${PEERS_ARGV[@]:0:${#PEERS_ARGV[@]}-$#}" --root "$PEERS_DIR/crun" "$@"
}

peers_podman_setup() {
	local d=$PEERS_DIR bb=${PEERS_BUSYBOX:-/bin/busybox} a
	[ -x "$bb" ] || peers_die "$bb not found (busybox-static; run tests/deps.sh)"
	# a dynamic busybox fails in the image with "missing dynamic library?"
	if ldd "$bb" >/dev/null 2>&1; then
		peers_die "$bb is dynamically linked: install busybox-static (tests/deps.sh)"
	fi
	cat >"$d/containers.conf" <<-EOF
		[containers]
		cgroups = "disabled"

		[engine]
		network_cmd_path = "$PEERS_SLIRPD"
		cgroup_manager = "cgroupfs"
		events_logger = "file"
	EOF
	cat >"$d/storage.conf" <<-EOF
		[storage]
		driver = "vfs"
		runroot = "$d/run/containers"
		graphroot = "$d/storage"
		rootless_storage_path = "$d/storage"
	EOF
	mkdir -p "$d/rootfs/bin" "$d/rootfs/etc" "$d/rootfs/root" "$d/rootfs/tmp" "$d/rootfs/www"
	chmod 1777 "$d/rootfs/tmp"
	cp "$bb" "$d/rootfs/bin/busybox"
	for a in $("$bb" --list); do
		[ "$a" = busybox ] || ln -sf busybox "$d/rootfs/bin/$a"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$d/rootfs/etc/passwd"
	echo 'root:x:0:' >"$d/rootfs/etc/group"
	tar --numeric-owner --owner=0 --group=0 -C "$d/rootfs" -cf "$d/rootfs.tar" . ||
		peers_die "tar of the image rootfs failed"
	rm -rf "$d/rootfs"
	chown -R "$PEERS_UID:$PEERS_GID" "$d"
	if ! peers_podman import --change CMD=/bin/sh "$d/rootfs.tar" "$PEERS_IMAGE" >"$d/import.log" 2>&1; then
		cat "$d/import.log" >&2
		peers_die "podman import failed"
	fi
	PEERS_PODMAN_READY=1
}

# RootlessKit as the user.  The child command is a shell script with BODY
# (root in RootlessKit's user namespace, in its own netns, seeing the host's
# files); its output and RootlessKit's go to $PEERS_DIR/NAME.log, the state
# dir (api.sock, .s4nn.sock) is $PEERS_DIR/NAME.state.
#   peers_rk_run NAME BODY RKFLAGS...    foreground, returns RootlessKit's rc
#   peers_rk_start NAME BODY RKFLAGS...  background; BODY runs, then the child
#                                        touches NAME.ready and waits for
#                                        NAME.done (at most 60 s)
#   peers_rk_wait_ready NAME [SECONDS]   0 once NAME.ready exists
#   peers_rk_stop NAME                   touches NAME.done, waits, returns rc
declare -A PEERS_RK_PID
peers_rk_script() {
	local name=$1 body=$2 longlived=$3 f=$PEERS_DIR/$1.sh
	{
		echo '#!/bin/sh'
		echo "# RootlessKit child for $name"
		printf '%s\n' "$body"
		if [ "$longlived" = 1 ]; then
			echo ": >'$PEERS_DIR/$name.ready'"
			echo "i=0; while [ ! -e '$PEERS_DIR/$name.done' ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i+1)); done"
		fi
	} >"$f"
	chmod 755 "$f"
	chown "$PEERS_UID:$PEERS_GID" "$f"
}
peers_rk_cmd() { # NAME RKFLAGS... -> the argv, one per line
	local name=$1
	shift
	printf '%s\n' rootlesskit --state-dir "$PEERS_DIR/$name.state" --net=slirp4netns \
		"--slirp4netns-binary=$PEERS_SLIRPD" "$@" /bin/sh "$PEERS_DIR/$name.sh"
}
peers_rk_run() {
	local name=$1 body=$2
	local -a rkargv
	shift 2
	peers_rk_script "$name" "$body" 0
	mapfile -t rkargv < <(peers_rk_cmd "$name" "$@")
	peers_as_user "${rkargv[@]}" >"$PEERS_DIR/$name.log" 2>&1
}
peers_rk_start() {
	local name=$1 body=$2
	local -a rkargv
	shift 2
	peers_rk_script "$name" "$body" 1
	mapfile -t rkargv < <(peers_rk_cmd "$name" "$@")
	peers_user_argv "${rkargv[@]}"
	"${PEERS_ARGV[@]}" >"$PEERS_DIR/$name.log" 2>&1 &
	PEERS_RK_PID[$name]=$!
	PEERS_BG+=($!)
}
peers_rk_wait_ready() {
	local name=$1 secs=${2:-20} i
	for ((i = 0; i < secs * 10; i++)); do
		[ -e "$PEERS_DIR/$name.ready" ] && return 0
		kill -0 "${PEERS_RK_PID[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	echo "the RootlessKit child $name did not get ready; its log:"
	cat "$PEERS_DIR/$name.log"
	return 1
}
peers_rk_stop() {
	local name=$1 rc
	: >"$PEERS_DIR/$name.done"
	wait "${PEERS_RK_PID[$name]}"
	rc=$?
	return $rc
}
# rootlessctl as the user against NAME's RootlessKit
peers_rkctl() {
	local name=$1
	shift
	peers_as_user rootlessctl --socket "$PEERS_DIR/$name.state/api.sock" "$@"
}

# peers_free_port VAR [N]: N consecutive ports in 41000-41999 that nothing
# uses (any TCP/UDP state) and this test hasn't handed out yet
peers_free_port() {
	local var=$1 n=${2:-1} used base i ok
	used=" $(ss -Htanu 2>/dev/null | awk '{k=split($5,a,":"); print a[k]}' | sort -un | tr '\n' ' ')"
	for _ in $(seq 1 300); do
		base=$((41000 + RANDOM % (1000 - n)))
		ok=1
		for ((i = base; i < base + n; i++)); do
			case "$used$PEERS_PORTS_USED" in *" $i "*) ok=0; break ;; esac
		done
		if [ $ok = 1 ]; then
			for ((i = base; i < base + n; i++)); do PEERS_PORTS_USED+="$i "; done
			printf -v "$var" '%s' "$base"
			return 0
		fi
	done
	peers_die "no free port in 41000-41999"
}

# peers_wait_listen PORT [SECONDS] [tcp|udp]: until something listens on it
peers_wait_listen() {
	local port=$1 secs=${2:-10} proto=${3:-tcp} i flag=-Hltn
	[ "$proto" = udp ] && flag=-Hlun
	for ((i = 0; i < secs * 10; i++)); do
		[ -n "$(ss $flag "sport = :$port" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	return 1
}

# peers_bg CMD...: background, bounded by $PEERS_SERVICE_LIFETIME, remembered
peers_bg() {
	timeout -k 2 "$PEERS_SERVICE_LIFETIME" "$@" </dev/null &
	PEERS_BG+=($!)
}

# _peers_listen 4|6 VAR SOCAT-ADDRESS: a TCP service on 127.0.0.1 or [::1],
# on a free port (in VAR)
_peers_listen() {
	local fam=$1 var=$2 addr=$3 port host=127.0.0.1
	[ "$fam" = 6 ] && host='[::1]'
	peers_free_port port
	peers_bg socat -t 30 "TCP$fam-LISTEN:$port,bind=$host,reuseaddr,fork" "$addr" \
		>>"$PEERS_DIR/services.log" 2>&1
	peers_wait_listen "$port" 10 || peers_die "service on $host:$port did not start"
	printf -v "$var" '%s' "$port"
}

# peers_service VAR SOCAT-ADDRESS: a TCP service on 127.0.0.1:<free port>
peers_service() { _peers_listen 4 "$@"; }

# peers_service6 VAR SOCAT-ADDRESS: the same on [::1]
peers_service6() { _peers_listen 6 "$@"; }

# replies "got:<first line the client sent>"
# shellcheck disable=SC2016
peers_echo_service() { peers_service "$1" 'SYSTEM:read -r l; echo "got:$l"'; }
# shellcheck disable=SC2016
peers_echo_service6() { peers_service6 "$1" 'SYSTEM:read -r l; echo "got6:$l"'; }
peers_file_service() { peers_service "$1" "SYSTEM:exec cat $2"; }
peers_file_service6() { peers_service6 "$1" "SYSTEM:exec cat $2"; }
# peers_sha_service6 VAR: on [::1], reads 1 MiB and answers its sha256
peers_sha_service6() { peers_service6 "$1" 'SYSTEM:head -c 1048576 | sha256sum'; }

# peers_make_file PATH KIB: random data, readable by everybody; prints sha256
peers_make_file() {
	head -c "$(($2 * 1024))" /dev/urandom >"$1"
	chmod 644 "$1"
	sha256sum <"$1" | awk '{print $1}'
}

# peers_host_services: what the podman and RootlessKit cases reach on the
# host: echo services on 127.0.0.1 (P_ECHO) and [::1] (P_ECHO6), 1 MiB of
# random data (BIG_SHA, its sha256) served on 127.0.0.1 (P_FILE) and [::1]
# (P_FILE6), and on [::1] (P_SHA6) the sha256 of 1 MiB sent to it
peers_host_services() {
	BIG_SHA=$(peers_make_file "$PEERS_DIR/big" 1024)
	peers_echo_service P_ECHO
	peers_echo_service6 P_ECHO6
	peers_file_service P_FILE "$PEERS_DIR/big"
	peers_file_service6 P_FILE6 "$PEERS_DIR/big"
	peers_sha_service6 P_SHA6
	peers_log "host services: echo 127.0.0.1:$P_ECHO, echo [::1]:$P_ECHO6, file 127.0.0.1:$P_FILE and [::1]:$P_FILE6, sha256 [::1]:$P_SHA6"
}

# peers_fetch HOST PORT [INPUT]: connect, send INPUT (if any) then half-close,
# print what comes back; bounded
peers_fetch() {
	printf '%s' "${3:-}" | timeout -k 2 15 socat -t 10 - "TCP:$1:$2" 2>/dev/null
}

# peers_retry SECONDS CMD...: until CMD succeeds (0.2 s apart)
peers_retry() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 5; i++)); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}

# peers_fetch_expect HOST PORT EXPECT [SECONDS]: retry until the reply
# contains EXPECT (a published port is often open on the host before the
# server inside is listening)
peers_fetch_expect() {
	local host=$1 port=$2 expect=$3 secs=${4:-15} i out
	for ((i = 0; i < secs * 4; i++)); do
		out=$(peers_fetch "$host" "$port")
		case "$out" in *"$expect"*) printf '%s\n' "$out"; return 0 ;; esac
		sleep 0.25
	done
	printf 'no "%s" from %s:%s after %ss (last reply: "%s")\n' "$expect" "$host" "$port" "$secs" "$out"
	return 1
}

# peers_check NAME CMD...: one test case; CMD's output is shown on failure
peers_check() {
	local name=$1 out rc start end took
	shift
	out=$PEERS_DIR/check.out
	start=$EPOCHREALTIME
	"$@" >"$out" 2>&1
	rc=$?
	end=$EPOCHREALTIME
	took=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
	if [ $rc = 0 ]; then
		PEERS_PASSED=$((PEERS_PASSED + 1))
		printf 'PASS: %s (%ss)\n' "$name" "$took"
		[ "${PEERS_VERBOSE:-0}" = 1 ] && sed 's/^/    /' "$out"
	else
		PEERS_FAILED=$((PEERS_FAILED + 1))
		printf 'FAIL: %s (exit %s, %ss)\n' "$name" "$rc" "$took"
		sed 's/^/    /' "$out" | tail -n 60
	fi
	return 0
}

# assertions for use inside checks (they print what they saw)
peers_expect_contains() { # TEXT NEEDLE DESCRIPTION
	case "$1" in *"$2"*) return 0 ;; esac
	printf 'expected %s to contain "%s"; got:\n%s\n' "$3" "$2" "$1"
	return 1
}
peers_expect_not_contains() {
	case "$1" in *"$2"*)
		printf 'expected %s NOT to contain "%s"; got:\n%s\n' "$3" "$2" "$1"
		return 1 ;;
	esac
	return 0
}

peers_finish() {
	peers_log "$PEERS_PASSED passed, $PEERS_FAILED failed"
	[ "$PEERS_FAILED" = 0 ] && exit 0
	exit 1
}

# the pids of processes carrying our tag
peers_tagged_pids() {
	[ -n "${PEERS_TAG:-}" ] || return 0
	grep -lzx "PEERS_TAG=$PEERS_TAG" /proc/[0-9]*/environ 2>/dev/null |
		awk -F/ '{print $3}'
}

# the pids of running daemons (argv[0] = the binary under test) we started
# (argv[0] is $PEERS_SLIRPD as podman/RootlessKit run it; when SLIRPD is a
# wrapper that execs the real binary, or runs it under a tracer, the daemon is
# the process whose last argument is the tap name, as every client passes it)
peers_daemon_pids() {
	local p a0 last
	for p in $(peers_tagged_pids); do
		a0=$(tr '\0' '\n' 2>/dev/null <"/proc/$p/cmdline" | head -1)
		last=$(tr '\0' '\n' 2>/dev/null <"/proc/$p/cmdline" | tail -1)
		if [ "$a0" = "$PEERS_SLIRPD" ] || [ "$last" = tap0 ]; then
			echo "$p"
		fi
	done
}

# peers_hook_procs ROOT: the daemons (and waiters) our OCI hooks started:
# the binary under test, with an API socket under ROOT or still a hook
# ("oci-hook"). They do not carry the test's tag (the runtime gives hooks
# their own environment); integration tests run one at a time.
peers_hook_procs() {
	local p exe
	for p in /proc/[0-9]*; do
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		case $exe in
		"$SLIRPD" | "$PEERS_SLIRPD") ;;
		*) continue ;;
		esac
		tr '\0' '\n' <"$p/cmdline" 2>/dev/null |
			grep -qx -e "--api-socket=$1/.*" -e oci-hook && echo "${p#/proc/}"
	done
}

# peers_daemon_cmdline PID: its argv, space-separated
peers_daemon_cmdline() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline"; }

# tagged processes plus all their descendants, minus this shell
peers_our_pids() {
	local seed
	seed=$(peers_tagged_pids | tr '\n' ' ')
	for p in "${PEERS_BG[@]}"; do seed+=" $p"; done
	[ -n "${seed// /}" ] || return 0
	ps -eo pid=,ppid= | awk -v seed="$seed" -v self="$$" -v me="$BASHPID" '
		BEGIN { n = split(seed, s, " "); for (i = 1; i <= n; i++) k[s[i]] = 1 }
		{ pp[$1] = $2; alive[$1] = 1 }
		END {
			do {
				ch = 0
				for (p in pp) if (!(p in k) && (pp[p] in k)) { k[p] = 1; ch = 1 }
			} while (ch)
			for (p in k) if ((p in alive) && p != self && p != me) print p
		}'
}

peers_kill_ours() {
	local pids i
	pids=$(peers_our_pids)
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null
	for ((i = 0; i < 30; i++)); do
		pids=$(peers_our_pids)
		[ -n "$pids" ] || return 0
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null
	sleep 0.2
}

# rm -rf, but never through a mount point: a bind mount of a host directory
# below DIR (of the same filesystem, so --one-file-system doesn't stop it)
# would have rm empty the host's directory.  These tests make no mounts in
# the caller's namespace; if one shows up anyway, keep DIR and say so.
peers_remove_dir() {
	local dir=$1 mounts
	case "$dir" in /tmp/sp.??????) ;; *) peers_log "not removing $dir (unexpected name)"; return 1 ;; esac
	mounts=$(awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo)
	if [ -n "$mounts" ]; then
		peers_log "not removing $dir: mount points below it: $mounts"
		return 1
	fi
	timeout 60 rm -rf --one-file-system "$dir"
}

peers_cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	if [ "$PEERS_PODMAN_READY" = 1 ]; then
		PEERS_TIMEOUT=30 peers_podman rm -a -f -t 0 >/dev/null 2>&1
	fi
	peers_kill_ours
	if [ -n "$PEERS_DIR" ] && [ -d "$PEERS_DIR" ]; then
		if [ "${PEERS_KEEP:-0}" = 1 ]; then
			peers_log "kept $PEERS_DIR"
		else
			peers_remove_dir "$PEERS_DIR"
		fi
	fi
	exit $rc
}
