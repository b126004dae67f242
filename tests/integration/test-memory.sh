#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-memory.sh - the daemon's memory under connection churn, bursts and
# many idle connections (src/timewait.c; the mmap threshold, daemon.c):
#   2  (run first, on the fresh daemon) 400 idle connections held open
#      cost less than 16 MB together (libslirp's buffers on the heap would
#      cost 256 KiB each: 100 MB)
#   1  2000 short namespace -> host connections (the host closes first):
#      the daemon's peak RSS stays within 8 MB of its idle RSS (libslirp's
#      sockets do not pile up in TIME_WAIT, freed buffers are reused)
#   3  a burst of 200 concurrent connections, 256 KiB each (up to ~55 MB):
#      once they are closed, the RSS falls back to within 16 MB of idle
#      (libslirp's buffers are mmapped: free() returns them)
#   5  after 1 and 3, 400 idle connections again cost less than 16 MB
#      (src/heap.c: large blocks are never served from glibc's heap)
#   4  at MTU 65520, 300 short connections make the daemon call mremap()
#      not once: with libslirp's MSS capped at 32768 (if_mru, src/stack.c)
#      the buffers of a new socket keep their first size
# in a private network namespace whose loopback is "the host".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
enter_private_host_ns "$@"

require_root
require_cmd ip nsenter unshare ss jq strace
is_slirpd || skip "slirpd-only: TIME_WAIT reaping, mmap threshold"
require_python
api_init
API_SOCK=$T/api.sock
# meson sets it for every test: glibc then fills each allocation and free
# with a byte, which makes every page of libslirp's buffers resident
unset MALLOC_PERTURB_

# the TCP peers: a copy the namespace's user can read
cp "$(dirname "$0")/shortconn.py" "$T/sc.py"
chmod 644 "$T/sc.py"

_rss() { awk '/^VmRSS/ { print $2 }' "/proc/$DAEMON_PID/status"; }
_hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$DAEMON_PID/status"; }
_up() { ss -Htln "sport = :$1" | grep -q .; }
# _within KIB LIMIT: the RSS limits hold. Under a sanitizer heap.c is not
# built in and the runtime's allocator and shadow memory set the RSS: the
# same traffic runs (for the sanitizer's sake), the limits are not checked
_within() { [ -n "${SLIRPD_SANITIZED:-}" ] || [ "$1" -le "$2" ]; }
_settled() { _within "$(_rss)" $((idle + 16384)); }

NS=$(ns_start)
daemon_start --exit-fd 4 -- -c --api-socket "$API_SOCK" "$NS" tap0
_ns_prefix "$NS"
idle=$(_rss)
info "idle RSS: $idle KiB"

ps=$(free_port tcp)
spawn --log "$T/sink.log" timeout 300 "$PY" "$T/sc.py" sink 127.0.0.1 "$ps"
wait_for -t 10 _up "$ps" || fail "host sink"

# _idle N WHEN: 400 idle connections to the sink cost less than 16 MB
_idle() {
	local n=$1 when=$2 base rss hp
	base=$(_rss)
	spawn --log "$T/hold$n.log" "${NS_PREFIX[@]}" timeout 200 "$PY" "$T/sc.py" hold 10.0.2.2 "$ps" 400 "$T/hold$n.out"
	hp=$SPAWN_PID
	wait_for -t 60 test -s "$T/hold$n.out" || fail "$n: the connections did not open: $(cat "$T/hold$n.log")"
	assert_eq 400 "$(cat "$T/hold$n.out")" "$n: 400 idle connections open $when"
	rss=$(_rss)
	_within "$rss" $((base + 16384)) || fail "$n: 400 idle connections cost $((rss - base)) KiB $when"
	ok "$n: 400 idle connections cost $((rss - base)) KiB $when"
	kill_wait "$hp"
}

# 2, on the fresh daemon (5 repeats it after churn and a burst)
_idle 2 "on the fresh daemon"
wait_for -t 15 _settled || fail "2: RSS $(_rss) KiB after the idle connections closed"

# 1
p=$(free_port tcp)
spawn --log "$T/ac.log" timeout 300 "$PY" "$T/sc.py" answer-close 127.0.0.1 "$p"
wait_for -t 10 _up "$p" || fail "1: host server"
echo 5 >"/proc/$DAEMON_PID/clear_refs"  # resets VmHWM
out=$("${NS_PREFIX[@]}" timeout 150 "$PY" "$T/sc.py" client 10.0.2.2 "$p" 2000 server)
assert_eq "2000 0" "$out" "1: 2000 short connections closed by the host, all clean"
hwm=$(_hwm)
_within "$hwm" $((idle + 8192)) || fail "1: peak RSS $hwm KiB, idle $idle KiB"
ok "1: peak RSS during them $hwm KiB (idle $idle KiB)"

# 3
spawn --log "$T/burst.log" "${NS_PREFIX[@]}" timeout 200 "$PY" "$T/sc.py" burst 10.0.2.2 "$ps" 200 262144 "$T/burst.out"
bp=$SPAWN_PID
wait_for -t 130 test -s "$T/burst.out" || fail "3: the burst did not finish: $(cat "$T/burst.log")"
assert_eq $((200 * 262144)) "$(cat "$T/burst.out")" "3: 200 concurrent connections sent 256 KiB each (one more held open)"
info "3: peak RSS $(_hwm) KiB"
wait_for -t 15 _settled || fail "3: RSS still $(_rss) KiB after the burst (idle $idle KiB)"
ok "3: RSS back to $(_rss) KiB after the burst (idle $idle KiB)"
kill_wait "$bp"
wait_for -t 15 _settled || fail "3: RSS $(_rss) KiB after the burst's last connection closed"

# 5: after the churn and the burst, idle connections cost what they cost on
# the fresh daemon (their buffers are mappings of their own: src/heap.c;
# with glibc's malloc alone they took free heap chunks: 47-101 MB here)
_idle 5 "after churn and a burst"

daemon_stop

# 4
_traced() { [ "$(awk '/^TracerPid/ { print $2 }' "/proc/$DAEMON_PID/status")" != 0 ]; }
NS=$(ns_start)
daemon_start --exit-fd 4 -- -c --mtu=65520 --api-socket "$API_SOCK" "$NS" tap0
_ns_prefix "$NS"
spawn --log "$T/strace.log" strace -f -qq -e trace=mremap -o "$T/mremap.trace" -p "$DAEMON_PID"
st=$SPAWN_PID
wait_for -t 10 _traced || fail "4: strace did not attach: $(cat "$T/strace.log")"
out=$("${NS_PREFIX[@]}" timeout 150 "$PY" "$T/sc.py" client 10.0.2.2 "$p" 300 server)
assert_eq "300 0" "$out" "4: MTU 65520: 300 short connections closed by the host, all clean"
kill_wait "$st"
assert_eq 0 "$(grep -c mremap "$T/mremap.trace")" \
	"4: MTU 65520: no mremap() for them (libslirp's buffers keep their first size)"
daemon_stop
ok "memory"
