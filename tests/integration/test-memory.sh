#!/bin/bash
# test-memory.sh - the daemon's memory under connection churn, bursts and
# many idle connections (src/timewait.c; the mmap threshold, daemon.c):
#   1  2000 short namespace -> host connections (the host closes first):
#      the daemon's peak RSS stays within 8 MB of its idle RSS (libslirp's
#      sockets do not pile up in TIME_WAIT, freed buffers are reused)
#   2  a burst of 200 concurrent connections, 256 KiB each: once they are
#      closed, the RSS falls back to within 8 MB of idle in a few seconds
#      (libslirp's buffers are mmapped: free() returns them)
#   3  400 idle connections held open cost less than 16 MB together
#      (libslirp's buffers on the heap would cost 256 KiB each: 100 MB)
# in a private network namespace whose loopback is "the host".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
enter_private_host_ns "$@"

require_root
require_cmd ip nsenter unshare ss jq
is_slirpd || skip "slirpd-only: TIME_WAIT reaping, mmap threshold"
PY=$(command -v /usr/bin/python3 || command -v python3 || true)
[ -n "$PY" ] || skip "needs python3"
api_init
API_SOCK=$T/api.sock
# meson sets it for every test: glibc then fills each allocation and free
# with a byte, which makes every page of libslirp's buffers resident
unset MALLOC_PERTURB_

cat >"$T/m.py" <<'EOF'
import selectors, socket, sys, time
mode = sys.argv[1]
if mode == 'answer-close':          # PORT: 1 byte in, 1 out, close first
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', int(sys.argv[2]))); ls.listen(256)
    while True:
        c, _ = ls.accept()
        try:
            if c.recv(1): c.sendall(b'y')
        except OSError: pass
        c.close()
elif mode == 'sink':                # PORT: read every connection to EOF
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', int(sys.argv[2]))); ls.listen(1024); ls.setblocking(False)
    sel = selectors.DefaultSelector(); sel.register(ls, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj is ls:
                c, _ = ls.accept(); c.setblocking(False)
                sel.register(c, selectors.EVENT_READ)
            else:
                try: d = key.fileobj.recv(262144)
                except BlockingIOError: continue
                except OSError: d = b''
                if not d:
                    sel.unregister(key.fileobj); key.fileobj.close()
elif mode == 'churn':               # HOST PORT N: sequential short connections
    host, port, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    ok = 0; end = time.monotonic() + 120
    for i in range(n):
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(b'x')
        ok += s.recv(1) == b'y' and s.recv(1) == b''
        s.close()
        if time.monotonic() > end: break
    print(ok)
elif mode == 'burst':               # HOST PORT N SIZE OUT: concurrent, close all but one
    host, port, n, size = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    socks = [socket.create_connection((host, port), timeout=10) for i in range(n)]
    # opened last, held open: the memory must come back while the daemon
    # still serves a connection allocated after the burst's
    last = socket.create_connection((host, port), timeout=10); last.sendall(b'z')
    chunk = b'z' * 16384; sent = [0] * n; end = time.monotonic() + 120
    while min(sent) < size and time.monotonic() < end:
        for i, s in enumerate(socks):
            if sent[i] < size:
                s.sendall(chunk); sent[i] += len(chunk)
    for s in socks: s.close()
    open(sys.argv[6], 'w').write('%d\n' % sum(sent))
    time.sleep(60)
elif mode == 'hold':                # HOST PORT N OUT: N idle connections
    host, port, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    socks = [socket.create_connection((host, port), timeout=10) for i in range(n)]
    open(sys.argv[5], 'w').write('%d\n' % len(socks))
    time.sleep(60)
EOF
chmod 644 "$T/m.py"

_rss() { awk '/^VmRSS/ { print $2 }' "/proc/$DAEMON_PID/status"; }
_hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$DAEMON_PID/status"; }
_up() { ss -Htln "sport = :$1" | grep -q .; }

NS=$(ns_start)
daemon_start --exit-fd 4 -- -c --api-socket "$API_SOCK" "$NS" tap0
_ns_prefix "$NS"
idle=$(_rss)
info "idle RSS: $idle KiB"

# 1
p=$(free_port tcp)
spawn --log "$T/ac.log" timeout 300 "$PY" "$T/m.py" answer-close "$p"
wait_for -t 10 _up "$p" || fail "1: host server"
echo 5 >"/proc/$DAEMON_PID/clear_refs"  # resets VmHWM
out=$("${NS_PREFIX[@]}" timeout 150 "$PY" "$T/m.py" churn 10.0.2.2 "$p" 2000)
assert_eq 2000 "$out" "1: 2000 short connections closed by the host, all clean"
hwm=$(_hwm)
[ "$hwm" -le $((idle + 8192)) ] || fail "1: peak RSS $hwm KiB, idle $idle KiB"
ok "1: peak RSS during them $hwm KiB (idle $idle KiB)"

# 2
ps=$(free_port tcp)
spawn --log "$T/sink.log" timeout 300 "$PY" "$T/m.py" sink "$ps"
wait_for -t 10 _up "$ps" || fail "2: host sink"
spawn --log "$T/burst.log" "${NS_PREFIX[@]}" timeout 200 "$PY" "$T/m.py" burst 10.0.2.2 "$ps" 200 262144 "$T/burst.out"
bp=$SPAWN_PID
wait_for -t 130 test -s "$T/burst.out" || fail "2: the burst did not finish: $(cat "$T/burst.log")"
assert_eq $((200 * 262144)) "$(cat "$T/burst.out")" "2: 200 concurrent connections sent 256 KiB each (one more held open)"
info "2: peak RSS $(_hwm) KiB"
_settled() { [ "$(_rss)" -le $((idle + 8192)) ]; }
wait_for -t 15 _settled || fail "2: RSS still $(_rss) KiB after the burst (idle $idle KiB)"
ok "2: RSS back to $(_rss) KiB after the burst (idle $idle KiB)"
kill_wait "$bp"
wait_for -t 15 _settled || fail "2: RSS $(_rss) KiB after the burst's last connection closed"

# 3
base=$(_rss)
spawn --log "$T/hold.log" "${NS_PREFIX[@]}" timeout 200 "$PY" "$T/m.py" hold 10.0.2.2 "$ps" 400 "$T/hold.out"
hp=$SPAWN_PID
wait_for -t 60 test -s "$T/hold.out" || fail "3: the connections did not open: $(cat "$T/hold.log")"
assert_eq 400 "$(cat "$T/hold.out")" "3: 400 idle connections open"
rss=$(_rss)
[ "$rss" -le $((base + 16384)) ] || fail "3: 400 idle connections cost $((rss - base)) KiB"
ok "3: 400 idle connections cost $((rss - base)) KiB"
kill_wait "$hp"

daemon_stop
ok "memory"
