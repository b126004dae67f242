#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-scale.sh - many connections at once through libslirp (src/pollset.c,
# src/steer.c): 5000 namespace -> host connections open together, each
# echoing twice (so each still carries data with all the others open);
# after they are closed the daemon's fds come back to what it held before
# and its RSS to within 16 MB of it; the epoll sets changed per connection,
# not per socket and iteration; each shard polled through its epoll set
# while it had many sockets, and its few sockets directly again after.
# in a private network namespace whose loopback is "the host".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
enter_private_host_ns "$@"

require_root
require_cmd ip nsenter unshare ss jq prlimit
is_slirpd || skip "slirpd-only: many connections"
require_python
api_init
API_SOCK=$T/api.sock
unset MALLOC_PERTURB_   # (see test-memory.sh)
cp "$(dirname "$0")/shortconn.py" "$T/sc.py"
chmod 644 "$T/sc.py"
N=5000

_rss() { awk '/^VmRSS/ { print $2 }' "/proc/$DAEMON_PID/status"; }
_up() { ss -Htln "sport = :$1" | grep -q .; }
_opened() { grep -q '^open' "$1" 2>/dev/null; }
_done() { [ "$(wc -l <"$1" 2>/dev/null)" -ge 2 ]; }
_settled() { [ "$(daemon_fds)" -le $((fds0 + 2)) ]; }

# every process here needs more than 5000 fds
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((N + 100)) ] || fail "cannot raise RLIMIT_NOFILE above $N"

NS=$(ns_start)
daemon_start --exit-fd 4 -- -c --api-socket "$API_SOCK" "$NS" tap0
_ns_prefix "$NS"
p=$(free_port tcp)
spawn --log "$T/echo.log" timeout 300 "$PY" "$T/sc.py" echo 127.0.0.1 "$p"
wait_for -t 10 _up "$p" || fail "host echo server"
# a first round warms libslirp and the daemon's heap up: the baseline
# (each shard it gave more than a few sockets made its epoll set, which
# stays)
fds0=$(( $(daemon_fds) + $(api_stat shards) ))
out=$("${NS_PREFIX[@]}" timeout 60 "$PY" "$T/sc.py" many 10.0.2.2 "$p" 100 | tail -1)
assert_eq "100 0" "$out" "100 connections first"
wait_for -t 30 _settled || fail "the 100 connections' fds did not go: $(daemon_fds) (before: $fds0)"
fds0=$(daemon_fds)
rss0=$(_rss)
ctl0=$(api_stat epoll_changes)
info "before: $fds0 fds, RSS $rss0 KiB"

spawn --log "$T/many.out" "${NS_PREFIX[@]}" timeout 240 "$PY" "$T/sc.py" many 10.0.2.2 "$p" $N 2
wait_for -t 120 _opened "$T/many.out" || fail "$N connections did not open: $(tail -3 "$T/many.out")"
fds=$(daemon_fds)
[ "$fds" -ge $((fds0 + N)) ] || fail "the daemon holds $fds fds with $N connections open (before: $fds0)"
ok "$N connections open, the daemon holds $fds fds"
assert_eq "$(api_stat shards)" "$(api_stat epoll_shards)" \
	"with $N connections every shard polls through its epoll set"
wait_for -t 120 _done "$T/many.out" || fail "the client did not finish: $(tail -3 "$T/many.out")"
assert_eq "$N 0" "$(tail -1 "$T/many.out")" "$N connections at once, each echoed twice"
ctl=$(( $(api_stat epoll_changes) - ctl0 ))
# a connection's socket is added, changes its events a few times, and is
# dropped once: tens of changes each, not one per socket per iteration
[ "$ctl" -le $((N * 40)) ] || fail "$ctl changes to the epoll sets for $N connections"
ok "$ctl changes to the epoll sets for $N connections"

wait_for -t 60 _settled || fail "the daemon still holds $(daemon_fds) fds (before: $fds0)"
ok "the fds came back: $(daemon_fds) (before: $fds0)"
_direct() { [ "$(api_stat epoll_shards)" = 0 ]; }
wait_for -t 30 _direct || fail "$(api_stat epoll_shards) shards still poll through their epoll set"
ok "with the connections gone, every shard polls its few sockets directly again"
rss=$(_rss)
if [ -z "${SLIRPD_SANITIZED:-}" ]; then
	[ "$rss" -le $((rss0 + 16384)) ] || fail "RSS $rss KiB after the $N connections closed (before: $rss0 KiB)"
fi
ok "RSS $rss KiB after the $N connections closed (before: $rss0 KiB)"

daemon_close_exit_fd
daemon_wait_exit 10 || fail "the daemon did not exit on --exit-fd"
assert_eq 0 "$DAEMON_STATUS" "exit status 0"
