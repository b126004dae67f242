#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# soak.sh - a long run of one slirpd daemon under mixed, bounded traffic,
# watching its fd count and RSS. Run by hand, as root, on Debian 12: it is
# NOT part of the meson suites nor of tests/run-tests.sh (CI).
#
#   bash tests/soak.sh [--duration SECONDS] [--interval SECONDS]
#                      [--cycle-every SECONDS]
#
#   --duration     how long the traffic runs (default 3600)
#   --interval     one status line every SECONDS (default 60)
#   --cycle-every  a second, short-lived daemon every SECONDS (default 600,
#                  or a quarter of --duration when that is shorter)
# The binary is $SLIRPD, else build/src/slirpd.
#
# Everything runs in a private network namespace whose loopback plays "the
# host" (as the integration tests do, through tests/integration/lib.sh), and
# in namespaces this script makes; nothing is written outside its temp dir,
# and every process it starts is killed at exit.
#
# One daemon (-c -6 --api-socket) runs for the whole duration, for a
# namespace made with unshare as the unprivileged test user (as root where
# that user cannot make one). Load generators (python3, each loop bounded
# in time and count, every socket with a timeout) drive, all the time:
#   a  TCP from the namespace to a host echo and a host sink on 127.0.0.1
#      through 10.0.2.2 (libslirp): short connections and 4 MB streams
#   b  UDP datagrams from the namespace to a host echo through 10.0.2.2
#   c  TCP (short, and 1 MB every 20th) and UDP into the namespace through
#      two loopback forwards (the splice path and the UDP relay)
#   d  API requests in a loop: add_hostfwd, a round trip, remove_hostfwd of
#      TCP and UDP forwards on 127.0.0.1, TCP on [::1] (where ::1 exists)
#      and a unix: forward in the temp dir; list_hostfwd, get_info,
#      get_connections
# "Helper restarts": a daemon never restarts its splice helper (one that
# dies is given up, and later forwards go through libslirp), so this is
# what the script does instead:
#   * halfway through, it kills the long-lived daemon's splice helper (with
#     c and d paused), checks that the daemon gives up the splice path,
#     that a new loopback forward carries 1 MB through libslirp, then
#     replaces the forwards of c and resumes; the second half runs on
#     libslirp alone;
#   * every --cycle-every seconds, it starts a SECOND daemon for a new
#     namespace (so a new helper each time), runs TCP and UDP through
#     10.0.2.2 and a spliced forward, and stops it (exit status 0).
#
# Every --interval seconds one line: the elapsed time, the long-lived
# daemon's fd count (/proc/PID/fd) and RSS (VmRSS), the operations done
# since the last line, and the errors. It fails (exit 1, saying why) when:
#   * the daemon, a load generator or a cycle fails or dies;
#   * errors exceed 1% of all operations so far;
#   * growth, judged after a warm-up of 2 intervals (the 2nd sample is the
#     baseline; the helper kill starts a new warm-up, since the pooled
#     helper sockets go away and libslirp takes over the forwards):
#       - the fd count exceeds the baseline by more than 64, or
#       - RSS exceeds the baseline by more than 32 MB, or
#       - over the last 5 samples (baseline included) the fd count rose at
#         every sample and by more than 16 in all, or RSS rose at every
#         sample and by more than 8 MB in all.

usage() {
	sed -n '6,12p' "$0" | sed 's/^# \{0,1\}//'
}

# the options are read before lib.sh makes the temp dir
DURATION=3600
INTERVAL=60
CYCLE_EVERY=
_a=("$@")
while [ ${#_a[@]} -gt 0 ]; do
	case ${_a[0]} in
	--duration) DURATION=${_a[1]:-} ;;
	--interval) INTERVAL=${_a[1]:-} ;;
	--cycle-every) CYCLE_EVERY=${_a[1]:-} ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	_a=("${_a[@]:2}")
done
for _v in "$DURATION" "$INTERVAL" "${CYCLE_EVERY:-1}"; do
	[[ $_v =~ ^[1-9][0-9]*$ ]] || { usage >&2; exit 2; }
done
[ "$INTERVAL" -ge 5 ] || { echo "soak: --interval is at least 5" >&2; exit 2; }
if [ -z "$CYCLE_EVERY" ]; then
	CYCLE_EVERY=600
	[ $((DURATION / 4)) -ge "$CYCLE_EVERY" ] || CYCLE_EVERY=$((DURATION / 4))
	[ "$CYCLE_EVERY" -ge 1 ] || CYCLE_EVERY=1
fi

. "$(dirname "$0")/integration/lib.sh"
. "$(dirname "$0")/integration/lib-api.sh"
enter_private_host_ns "$@"

WARMUP=2          # samples before the baseline is taken
GROW_FDS=64       # fds over the baseline
GROW_RSS_KB=32768 # RSS over the baseline
MONO_N=5          # samples in the monotonic-growth window
MONO_FDS=16
MONO_RSS_KB=8192

require_root
require_cmd ip nsenter unshare socat ss jq pgrep
is_slirpd || skip "slirpd-only: the API, the splice helper"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "needs $PY"
api_init

UOPT=()
if have_test_user; then
	UOPT=(--user)
else
	info "no usable $TEST_USER: the namespaces and daemons are root's"
fi
HAVE_V6=
ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128' && HAVE_V6=1
NO_UNIX=
sandboxed && NO_UNIX=1

# ---------------------------------------------------------------- load generator

cat >"$T/load.py" <<'EOF'
# load.py - the soak's traffic: "ns" mode inside the namespace, "host" mode
# on the host side (see tests/soak.sh). Prints "STATS k=v ..." (totals so
# far) every second, "ERR ..." for the first 50 errors.
import json, os, random, select, socket, socketserver, sys, threading, time

MODE = sys.argv[1]
A = dict(a.split('=', 1) for a in sys.argv[2:])
DEADLINE = time.time() + float(A['limit'])  # a safety bound only
MAX_OPS = 50_000_000
lock = threading.Lock()
counts = {}
printed = [0]
stop = threading.Event()
DATA = os.urandom(4 << 20)


def count(k, n=1):
    with lock:
        counts[k] = counts.get(k, 0) + n


def error(who, msg):
    with lock:
        counts['err'] = counts.get('err', 0) + 1
        if printed[0] < 50:
            printed[0] += 1
            print('ERR %s %s: %s' % (time.strftime('%H:%M:%S'), who, msg),
                  file=sys.stderr, flush=True)


def running():
    return not stop.is_set() and time.time() < DEADLINE


def stats(keys):
    with lock:
        line = ' '.join('%s=%d' % (k, counts.get(k, 0)) for k in keys)
    print('STATS ' + line, flush=True)


def echo_roundtrip(s, data, timeout=20):
    """send data, half-close, read the echo and the EOF"""
    s.setblocking(False)
    end = time.monotonic() + timeout
    sent, got = 0, bytearray()
    while True:
        left = end - time.monotonic()
        if left <= 0:
            raise TimeoutError('sent %d, got %d of %d' % (sent, len(got), len(data)))
        w = [s] if sent < len(data) else []
        r, w, _ = select.select([s], w, [], left)
        if w:
            try:
                sent += s.send(data[sent:sent + 65536])
            except BlockingIOError:
                pass
            if sent == len(data):
                s.shutdown(socket.SHUT_WR)
        if r:
            d = s.recv(65536)
            if not d:
                break
            got += d
    if got != data:
        raise ValueError('echo: sent %d bytes, got %d different' % (len(data), len(got)))


def tcp_echo(fam, addr, size, timeout=20):
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.settimeout(10)
        s.connect(addr)
        off = random.randrange(len(DATA) - size + 1)
        echo_roundtrip(s, DATA[off:off + size], timeout)
    finally:
        s.close()


def udp_echo(s, addr, seq, size=512):
    msg = b'%012d' % seq + DATA[:size - 12]
    s.sendto(msg, addr)
    end = time.monotonic() + 2
    while True:
        left = end - time.monotonic()
        if left <= 0:
            raise TimeoutError('udp %s: no echo of datagram %d in 2 s' % (addr, seq))
        s.settimeout(left)
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        if d == msg:
            return
        # a late echo of an earlier datagram: skip it


def worker(name, fn, pause=None, pace=0.01):
    def run():
        for i in range(MAX_OPS):
            if pause:
                pause.checkpoint()
            if not running():
                break
            try:
                fn(i)
            except Exception as e:
                error(name, '%s: %s' % (type(e).__name__, e))
                time.sleep(0.2)
            time.sleep(pace)
        if pause:
            pause.done()
    t = threading.Thread(target=run, name=name, daemon=True)
    t.start()
    return t


# ---- servers

class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        s.settimeout(30)
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                s.sendall(d)
        except OSError:
            pass


class Sink(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        s.settimeout(30)
        n = 0
        try:
            while True:
                d = s.recv(1 << 20)
                if not d:
                    break
                n += len(d)
            s.sendall(b'%d\n' % n)
        except OSError:
            pass


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 256


class Server6(Server):
    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def serve(srv):
    threading.Thread(target=srv.serve_forever, args=(0.5,), daemon=True).start()


def udp_server(fam, addr):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(addr)
    s.settimeout(0.5)

    def run():
        while time.time() < DEADLINE + 60:
            try:
                d, a = s.recvfrom(65536)
                s.sendto(d, a)
            except OSError:
                pass
    threading.Thread(target=run, daemon=True).start()


# ---- namespace side: servers for the forwards, clients through 10.0.2.2

def ns_main():
    gw = '10.0.2.2'
    echo, sink, uport = int(A['echo']), int(A['sink']), int(A['udp'])
    serve(Server6(('::', 80), Echo))
    udp_server(socket.AF_INET6, ('::', 53))
    udp_server(socket.AF_INET6, ('::', 54))
    print('READY', flush=True)

    def short(i):
        tcp_echo(socket.AF_INET, (gw, echo), random.randint(1, 4096))
        count('tcp')

    def bulk(i):
        s = socket.socket()
        try:
            s.settimeout(30)
            s.connect((gw, sink))
            s.sendall(DATA)
            s.shutdown(socket.SHUT_WR)
            reply = b''
            while True:
                d = s.recv(100)
                if not d:
                    break
                reply += d
        finally:
            s.close()
        if reply != b'%d\n' % len(DATA):
            raise ValueError('sink: sent %d bytes, it counted %r' % (len(DATA), reply))
        count('bulk')
        count('bulkmb', len(DATA) >> 20)

    usock = [None, 0]

    def udp(i):
        # a new source port (a new libslirp socket) every 30 s: libslirp
        # expires an idle one after 4 min, so more would only ramp up
        if time.monotonic() - usock[1] > 30:
            if usock[0]:
                usock[0].close()
            usock[0] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            usock[1] = time.monotonic()
        udp_echo(usock[0], (gw, uport), i)
        count('udp')

    ts = [worker('ns-tcp', short), worker('ns-bulk', bulk, pace=0.5),
          worker('ns-udp', udp)]

    def watch_stop():
        while not stop.is_set() and time.time() < DEADLINE:
            if os.path.exists(A['stopfile']):
                stop.set()
            time.sleep(0.2)
    threading.Thread(target=watch_stop, daemon=True).start()
    keys = ('tcp', 'bulk', 'bulkmb', 'udp', 'err')
    while any(t.is_alive() for t in ts):
        stats(keys)
        time.sleep(1)
    stats(keys)


# ---- host side: servers for the namespace, traffic through forwards, API

class Pause:
    """c and d stop at the top of their loop while paused"""

    def __init__(self, n):
        self.cv = threading.Condition()
        self.paused = False
        self.idle = 0
        self.finished = 0
        self.n = n

    def checkpoint(self):
        with self.cv:
            if not self.paused:
                return
            self.idle += 1
            self.cv.notify_all()
            while self.paused and running():
                self.cv.wait(0.5)
            self.idle -= 1

    def done(self):
        with self.cv:
            self.finished += 1
            self.cv.notify_all()

    def pause(self, timeout=60):
        end = time.monotonic() + timeout
        with self.cv:
            self.paused = True
            while self.idle + self.finished < self.n:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.cv.wait(left)
        return True

    def resume(self):
        with self.cv:
            self.paused = False
            self.cv.notify_all()


def api(req):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(10)
        s.connect(A['api'])
        s.sendall(json.dumps(req).encode() + b'\n')
        s.shutdown(socket.SHUT_WR)
        buf = b''
        while len(buf) < 4 << 20:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    finally:
        s.close()
    count('api')
    rep = json.loads(buf)
    # list_hostfwd answers {"entries":[...]} as slirp4netns, the rest
    # {"return":...}
    if 'error' in rep or not ('return' in rep or 'entries' in rep):
        raise RuntimeError('%s: %s' % (req['execute'], buf[:300]))
    return rep.get('return', rep)


def add(**args):
    return api({'execute': 'add_hostfwd', 'arguments': args})


def remove(fid):
    api({'execute': 'remove_hostfwd', 'arguments': {'id': fid}})


def host_main():
    have_v6, unix = A['v6'] == '1', A['unix']
    lo = '127.0.0.1'
    serve(Server((lo, int(A['echo'])), Echo))
    serve(Server((lo, int(A['sink'])), Sink))
    udp_server(socket.AF_INET, (lo, int(A['udp'])))
    print('LISTENING', flush=True)

    fwd = {}

    def make_forwards():
        for k in ('tcp', 'udp'):
            if k in fwd:
                remove(fwd[k][0])
        r = add(proto='tcp', host_addr=lo, host_port=0, guest_port=80)
        fwd['tcp'] = (r['id'], r['host_port'])
        r = add(proto='udp', host_addr=lo, host_port=0, guest_port=53)
        fwd['udp'] = (r['id'], r['host_port'])

    pause = Pause(3)

    def ftcp(i):
        size = 1 << 20 if i % 20 == 0 else random.randint(1, 4096)
        tcp_echo(socket.AF_INET, (lo, fwd['tcp'][1]), size)
        count('ftcp')

    usock = [None, None, 0]

    def fudp(i):
        # a new client (a new relay flow) every 30 s: an idle flow lives
        # for --udp-timeout (120 s)
        port = fwd['udp'][1]
        if time.monotonic() - usock[2] > 30 or usock[1] != port:
            if usock[0]:
                usock[0].close()
            usock[0] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            usock[1], usock[2] = port, time.monotonic()
        udp_echo(usock[0], (lo, port), i)
        count('fudp')

    def through(r, fn):
        try:
            fn(r)
            count('afwd')
        finally:
            remove(r['id'])

    def apiloop(i):
        through(add(proto='tcp', host_addr=lo, host_port=0, guest_port=80),
                lambda r: tcp_echo(socket.AF_INET, (lo, r['host_port']), 2000))

        def u(r):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                udp_echo(s, (lo, r['host_port']), i)
            finally:
                s.close()
        through(add(proto='udp', host_addr=lo, host_port=0, guest_port=54), u)
        if have_v6:
            through(add(proto='tcp', host_addr='::1', host_port=0,
                        guest_addr='::', guest_port=80),
                    lambda r: tcp_echo(socket.AF_INET6, ('::1', r['host_port']), 2000))
        if unix:
            through(add(proto='tcp', host_addr='unix:' + unix, guest_port=80),
                    lambda r: tcp_echo(socket.AF_UNIX, unix, 2000))
        ids = [e.get('id') for e in api({'execute': 'list_hostfwd'})['entries']]
        if fwd['tcp'][0] not in ids or fwd['udp'][0] not in ids:
            raise ValueError('list_hostfwd: the load\'s forwards are not listed: %s' % ids)
        if 'forwards' not in api({'execute': 'get_info'}):
            raise ValueError('get_info: no forwards')
        if not isinstance(api({'execute': 'get_connections'}).get('connections'), list):
            raise ValueError('get_connections: no connections')

    # commands from the script: "SEQ go|pause|resume|stop|exit" in ctl/cmd,
    # acknowledged in ctl/ack
    ctl, seen, ts = A['ctl'], None, []
    keys = ('ftcp', 'fudp', 'afwd', 'api', 'err')

    def ack(seq, what):
        with open(ctl + '/ack.tmp', 'w') as f:
            f.write('%s %s\n' % (seq, what))
        os.rename(ctl + '/ack.tmp', ctl + '/ack')

    last = 0
    while time.time() < DEADLINE + 60:
        if time.monotonic() - last >= 1:
            stats(keys)
            last = time.monotonic()
        time.sleep(0.2)
        try:
            with open(ctl + '/cmd') as f:
                seq, cmd = f.read().split()
        except (OSError, ValueError):
            continue
        if seq == seen:
            continue
        seen = seq
        try:
            if cmd == 'go':
                make_forwards()
                ts = [worker('fwd-tcp', ftcp, pause), worker('fwd-udp', fudp, pause),
                      worker('api', apiloop, pause, pace=0.1)]
                ack(seq, 'started %d %d' % (fwd['tcp'][1], fwd['udp'][1]))
            elif cmd == 'pause':
                ack(seq, 'paused' if pause.pause() else 'pause-timeout')
            elif cmd == 'resume':
                make_forwards()
                pause.resume()
                ack(seq, 'resumed %d %d' % (fwd['tcp'][1], fwd['udp'][1]))
            elif cmd == 'stop':
                stop.set()
                pause.resume()
                for t in ts:
                    t.join(60)
                stats(keys)
                ack(seq, 'stopped' if not any(t.is_alive() for t in ts) else 'stop-timeout')
            elif cmd == 'exit':
                ack(seq, 'exiting')
                break
        except Exception as e:
            error('ctl', '%s: %s: %s' % (cmd, type(e).__name__, e))
            ack(seq, 'failed')
    stats(keys)


ns_main() if MODE == 'ns' else host_main()
EOF
chmod 644 "$T/load.py"

# ---------------------------------------------------------------- helpers

NS_LOG=$T/load-ns.svc.log
HOST_LOG=$T/load-host.svc.log
CTL=$T/ctl
CTL_SEQ=0
mkdir -p "$CTL"
chmod 755 "$CTL"

# soak_fail MSG: the load generators' errors, then lib.sh's fail (logs, exit 1)
soak_fail() {
	local f
	for f in "$NS_LOG" "$HOST_LOG"; do
		[ -s "$f" ] || continue
		grep -q '^ERR ' "$f" || continue
		printf -- '----- errors in %s -----\n' "${f##*/}" >&2
		grep '^ERR ' "$f" | tail -n 20 >&2
	done
	fail "$@"
}

# ctl CMD EXPECT [SECONDS]: a command to the host load generator; its
# answer must start with EXPECT
_acked() { [[ "$(cat "$CTL/ack" 2>/dev/null)" == "$CTL_SEQ $1"* ]]; }
ctl() {
	CTL_SEQ=$((CTL_SEQ + 1))
	printf '%s %s\n' "$CTL_SEQ" "$1" >"$CTL/cmd.tmp"
	mv "$CTL/cmd.tmp" "$CTL/cmd"
	wait_for -t "${3:-90}" _acked "$2" ||
		soak_fail "the host load generator did not answer '$1' with '$2': $(cat "$CTL/ack" 2>/dev/null)"
	CTL_REPLY=$(cat "$CTL/ack")
}

_logged() { grep -q "^$2\$" "$1"; }
_gone() { [ ! -e "/proc/$1" ]; }
_helper_of() { pgrep -P "$1" -f 'slirpd: splice helper' || true; }
_splice_available() { # true|false
	api rootlesskit '{"execute":"get_info"}'
	[ "$(jq -r .return.splice.available <<<"$API_REPLY")" = "$1" ]
}

# the long-lived daemon's DAEMON_* (daemon_start overwrites them for a cycle)
main_save() {
	MAIN_PID=$DAEMON_PID MAIN_LOG=$DAEMON_LOG MAIN_READY_R=$DAEMON_READY_R
	MAIN_EXIT_W=$DAEMON_EXIT_W
}
main_restore() {
	DAEMON_PID=$MAIN_PID DAEMON_LOG=$MAIN_LOG DAEMON_READY_R=$MAIN_READY_R
	DAEMON_EXIT_W=$MAIN_EXIT_W API_SOCK=$MAIN_API_SOCK
}

# a user-owned directory below $T
user_dir() {
	mkdir -p "$1"
	if [ "${#UOPT[@]}" -gt 0 ]; then
		chown "$TEST_USER" "$1"
	fi
}

# ---------------------------------------------------------------- the long-lived daemon

user_dir "$T/main"
MAIN_API_SOCK=$T/main/api.sock
API_SOCK=$MAIN_API_SOCK
UNIX_FWD=
[ -n "$NO_UNIX" ] || UNIX_FWD=$T/main/fwd.sock

# the namespace holder lives as long as the run (ns_start's sleeps 600 s)
spawn "${UOPT[@]}" --log "$T/holders.log" unshare -rn sleep $((DURATION + 900))
NSPID=$SPAWN_PID
wait_for -t 10 _ns_ready "$NSPID" || soak_fail "namespace holder $NSPID did not come up"
daemon_start "${UOPT[@]}" --exit-fd 4 -- -c -6 --api-socket "$MAIN_API_SOCK" "$NSPID" tap0
main_save
H1=$(_helper_of "$MAIN_PID")
[ -n "$H1" ] || soak_fail "the daemon $MAIN_PID has no splice helper"
_splice_available true || soak_fail "get_info: the splice path is not available: $API_REPLY"

ECHO_PORT=$(free_port tcp)
SINK_PORT=$(free_port tcp)
while [ "$SINK_PORT" = "$ECHO_PORT" ]; do SINK_PORT=$(free_port tcp); done
UDP_PORT=$(free_port udp)
LIMIT=$((DURATION + 120))

spawn --log "$HOST_LOG" timeout $((LIMIT + 180)) "$PY" "$T/load.py" host "limit=$LIMIT" \
	"echo=$ECHO_PORT" "sink=$SINK_PORT" "udp=$UDP_PORT" "api=$MAIN_API_SOCK" \
	"v6=${HAVE_V6:-0}" "unix=$UNIX_FWD" "ctl=$CTL"
HOST_LOAD=$SPAWN_PID
wait_for -t 20 _logged "$HOST_LOG" LISTENING || soak_fail "the host load generator did not start"

_ns_prefix "$NSPID"
spawn --log "$NS_LOG" "${NS_PREFIX[@]}" timeout $((LIMIT + 180)) "$PY" "$T/load.py" ns \
	"limit=$LIMIT" "echo=$ECHO_PORT" "sink=$SINK_PORT" "udp=$UDP_PORT" "stopfile=$CTL/ns-stop"
NS_LOAD=$SPAWN_PID
wait_for -t 20 _logged "$NS_LOG" READY || soak_fail "the namespace load generator did not start"

# the guest's IPv6 address ("::" forwards) is learned from its neighbour
# discovery: wait for it before the API loop relies on it
if [ -n "$HAVE_V6" ]; then
	api_add '{"proto":"tcp","host_addr":"::1","host_port":0,"guest_addr":"::","guest_port":80}'
	wait_for -t 20 host_tcp_roundtrip ::1 "$API_PORT" 100 ||
		soak_fail "[::1]:$API_PORT never reached the guest"
	api rootlesskit "{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":$API_ID}}"
fi

ctl go started
api rootlesskit '{"execute":"get_info"}'
SPLICED=$(jq -r .return.splice.forwards <<<"$API_REPLY")
[ "$SPLICED" -ge 1 ] || soak_fail "the loopback forwards are not on the splice path: $API_REPLY"
info "soak: daemon $MAIN_PID (${UOPT[*]:-root}) for namespace $NSPID, helper $H1, $SPLICED forwards spliced"
info "soak: ${DURATION}s, a line every ${INTERVAL}s, a second daemon every ${CYCLE_EVERY}s, the helper killed at $((DURATION / 2))s; IPv6 [::1]: ${HAVE_V6:-no}, unix: forward: ${UNIX_FWD:-no (sandboxed)}"

# ---------------------------------------------------------------- a second daemon

CYCLES=0
cycle() {
	local n=$((CYCLES + 1)) dir pid srv p msg h t0=$SECONDS
	dir=$T/cycle.$n
	user_dir "$dir"
	pid=$(ns_start "${UOPT[@]}")
	daemon_start "${UOPT[@]}" --exit-fd 4 -- -c -6 --api-socket "$dir/api.sock" "$pid" tap0
	h=$(_helper_of "$DAEMON_PID")
	[ -n "$h" ] || soak_fail "cycle $n: daemon $DAEMON_PID has no splice helper"
	SVC_LIFETIME=60 ns_server "$pid" tcp-echo 80
	srv=$NS_SERVER_PID
	msg=$(ns_tcp_roundtrip "$pid" 10.0.2.2 "$ECHO_PORT" 100000) || soak_fail "cycle $n: $msg"
	msg=$(ns_udp_roundtrip "$pid" 10.0.2.2 "$UDP_PORT" 512) || soak_fail "cycle $n: $msg"
	API_SOCK=$dir/api.sock
	api_add '{"proto":"tcp","host_addr":"127.0.0.1","host_port":0,"guest_port":80}'
	p=$API_PORT
	api rootlesskit '{"execute":"get_info"}'
	[ "$(jq -r .return.splice.forwards <<<"$API_REPLY")" = 1 ] ||
		soak_fail "cycle $n: the forward is not spliced: $API_REPLY"
	msg=$(host_tcp_roundtrip 127.0.0.1 "$p" 1000000) || soak_fail "cycle $n: $msg"
	daemon_stop
	[ "$DAEMON_STATUS" = 0 ] || soak_fail "cycle $n: daemon exit status $DAEMON_STATUS"
	[ ! -e "$dir/api.sock" ] || soak_fail "cycle $n: the API socket is left after exit"
	wait_for -t 10 _gone "$h" || soak_fail "cycle $n: helper $h outlived its daemon"
	kill_wait "$srv" 2
	kill_wait "$pid" 2
	main_restore
	rm -f "$T"/tcp.*.in* "$T"/udp.*.in* "$T"/htcp.*.in*
	CYCLES=$n
	info "cycle $n: a second daemon (helper $h) carried TCP, UDP and a spliced 1 MB, stopped with status 0 ($((SECONDS - t0))s)"
}

# ---------------------------------------------------------------- the helper kill

HELPER_KILLED=
kill_helper() {
	local h msg
	h=$(_helper_of "$MAIN_PID")
	[ "$h" = "$H1" ] || soak_fail "the splice helper changed: $H1, now '${h:-none}'"
	ctl pause paused
	kill -KILL "$h"
	wait_for -t 10 _gone "$h" || soak_fail "the killed helper $h was not reaped"
	wait_for -t 10 _splice_available false ||
		soak_fail "the daemon did not give up the killed helper: $API_REPLY"
	api_add '{"proto":"tcp","host_addr":"127.0.0.1","host_port":0,"guest_port":80}'
	msg=$(host_tcp_roundtrip 127.0.0.1 "$API_PORT" 1000000) ||
		soak_fail "after the helper kill, a new forward: $msg"
	api rootlesskit "{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":$API_ID}}"
	[ "$API_REPLY" = '{"return":{}}' ] || soak_fail "remove_hostfwd $API_ID: $API_REPLY"
	rm -f "$T"/htcp.*.in*
	ctl resume resumed
	api rootlesskit '{"execute":"get_info"}'
	[ "$(jq -r .return.splice.forwards <<<"$API_REPLY")" = 0 ] ||
		soak_fail "forwards still spliced after the helper died: $API_REPLY"
	HELPER_KILLED=1
	info "helper $h killed (SIGKILL): reaped, the splice path given up, a new forward carried 1 MB through libslirp; the forwards of the load replaced (${CTL_REPLY#* resumed })"
}

# ---------------------------------------------------------------- samples

# CUR: the generators' latest totals (err is the sum of both); PREV: at the
# last line
declare -A CUR=() PREV=()
read_stats() {
	local f line kv k
	CUR=([err]=0)
	for f in "$NS_LOG" "$HOST_LOG"; do
		line=$(tac "$f" | grep -m 1 '^STATS ' || true)
		for kv in ${line#STATS }; do
			k=${kv%%=*}
			if [ "$k" = err ]; then
				CUR[err]=$((CUR[err] + ${kv#*=}))
			else
				CUR[$k]=${kv#*=}
			fi
		done
	done
}
d() { echo $((${CUR[$1]:-0} - ${PREV[$1]:-0})); }
total_ops() {
	echo $((${CUR[tcp]:-0} + ${CUR[bulk]:-0} + ${CUR[udp]:-0} + ${CUR[ftcp]:-0} +
		${CUR[fudp]:-0} + ${CUR[afwd]:-0} + ${CUR[api]:-0}))
}

SINCE_BASE=0 BASE_FD=0 BASE_RSS=0 BASE_T=0
WIN_FD=() WIN_RSS=()
PREV_ERR=0 PREV_CYCLES=0
# growth NAME WINDOW... : rose at every step and by more than LIMIT in all
_rising() {
	local limit=$1 i
	shift
	[ $# -ge "$MONO_N" ] || return 1
	set -- "${@: -$MONO_N}"
	local a=("$@")
	for ((i = 1; i < ${#a[@]}; i++)); do
		[ "${a[i]}" -gt "${a[i - 1]}" ] || return 1
	done
	[ $((a[${#a[@]} - 1] - a[0])) -gt "$limit" ]
}

sample() {
	local el=$1 fds rss ops err
	alive "$MAIN_PID" || soak_fail "the daemon $MAIN_PID died (t=${el}s)"
	fds=$(find "/proc/$MAIN_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$MAIN_PID/status")
	read_stats
	ops=$(total_ops)
	err=${CUR[err]}
	printf 't=%5ss fds %4d rss %6d kB | +%d ops: tcp %d bulk %d (%d MB) udp %d fwd-tcp %d fwd-udp %d api %d (temp fwds %d) cycles %d | errors +%d (%d of %d)\n' \
		"$el" "$fds" "$rss" \
		$((ops - ${PREV_OPS:-0} + CYCLES - PREV_CYCLES)) \
		"$(d tcp)" "$(d bulk)" "$(d bulkmb)" "$(d udp)" "$(d ftcp)" "$(d fudp)" "$(d api)" "$(d afwd)" \
		$((CYCLES - PREV_CYCLES)) $((err - PREV_ERR)) "$err" "$ops"
	PREV=()
	for k in "${!CUR[@]}"; do PREV[$k]=${CUR[$k]}; done
	PREV_OPS=$ops PREV_ERR=$err PREV_CYCLES=$CYCLES

	[ "$ops" -gt 0 ] || soak_fail "no traffic at all by t=${el}s"
	[ $((err * 100)) -le "$ops" ] ||
		soak_fail "errors: $err of $ops operations, over 1% (t=${el}s)"

	SINCE_BASE=$((SINCE_BASE + 1))
	if [ "$SINCE_BASE" -lt "$WARMUP" ]; then
		return 0
	fi
	if [ "$SINCE_BASE" = "$WARMUP" ]; then
		BASE_FD=$fds BASE_RSS=$rss BASE_T=$el
		WIN_FD=("$fds") WIN_RSS=("$rss")
		info "baseline at t=${el}s: $fds fds, $rss kB"
		return 0
	fi
	WIN_FD+=("$fds")
	WIN_RSS+=("$rss")
	[ "$fds" -le $((BASE_FD + GROW_FDS)) ] ||
		soak_fail "fd growth: $fds fds at t=${el}s, baseline $BASE_FD at t=${BASE_T}s (more than +$GROW_FDS)"
	[ "$rss" -le $((BASE_RSS + GROW_RSS_KB)) ] ||
		soak_fail "RSS growth: $rss kB at t=${el}s, baseline $BASE_RSS kB at t=${BASE_T}s (more than +$GROW_RSS_KB kB)"
	if _rising "$MONO_FDS" "${WIN_FD[@]}"; then
		soak_fail "fd growth: rising at each of the last $MONO_N samples by more than $MONO_FDS: ${WIN_FD[*]: -$MONO_N}"
	fi
	if _rising "$MONO_RSS_KB" "${WIN_RSS[@]}"; then
		soak_fail "RSS growth: rising at each of the last $MONO_N samples by more than $MONO_RSS_KB kB: ${WIN_RSS[*]: -$MONO_N}"
	fi
}

# ---------------------------------------------------------------- the run

T0=$SECONDS
NEXT_SAMPLE=$INTERVAL
NEXT_CYCLE=$CYCLE_EVERY
KILL_AT=$((DURATION / 2))
while :; do
	EL=$((SECONDS - T0))
	[ "$EL" -lt "$DURATION" ] || break
	alive "$MAIN_PID" || soak_fail "the daemon $MAIN_PID died (t=${EL}s)"
	alive "$HOST_LOAD" || soak_fail "the host load generator exited early (t=${EL}s)"
	alive "$NS_LOAD" || soak_fail "the namespace load generator exited early (t=${EL}s)"
	if [ "$EL" -ge "$NEXT_SAMPLE" ]; then
		sample "$EL"
		NEXT_SAMPLE=$((NEXT_SAMPLE + INTERVAL))
	fi
	if [ -z "$HELPER_KILLED" ] && [ "$EL" -ge "$KILL_AT" ]; then
		kill_helper
		SINCE_BASE=0 # a new warm-up: the daemon's steady state changed
	fi
	if [ "$EL" -ge "$NEXT_CYCLE" ]; then
		cycle
		NEXT_CYCLE=$((NEXT_CYCLE + CYCLE_EVERY))
	fi
	sleep 1
done

# stop the traffic: the forwards' and API clients first, then the
# namespace's, then the host servers
ctl stop stopped
: >"$CTL/ns-stop"
wait_gone "$NS_LOAD" 60 || soak_fail "the namespace load generator did not stop"
ctl exit exiting
wait_gone "$HOST_LOAD" 20 || soak_fail "the host load generator did not exit"
EL=$((SECONDS - T0))
sample "$EL"
[ -n "$HELPER_KILLED" ] || [ "$KILL_AT" -ge "$DURATION" ] || soak_fail "the helper was not killed"

api rootlesskit '{"execute":"get_info"}'
info "get_info at the end: forwards $(jq -c .return.forwards <<<"$API_REPLY"), api $(jq -c '.return.api | {requests}' <<<"$API_REPLY")"
daemon_stop
[ "$DAEMON_STATUS" = 0 ] || soak_fail "the daemon's exit status: $DAEMON_STATUS"
printf 'PASS: soak: %ss, %d operations, %d errors, %d second-daemon cycles, the helper killed at %ss\n' \
	"$EL" "$(total_ops)" "${CUR[err]}" "$CYCLES" "$KILL_AT"
