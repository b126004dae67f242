#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# udp-forward.sh - UDP port forwards: libslirp's path against slirpd's relay (run-bench has no UDP test)
#
#   flock /tmp/slirpd-bench.lock tests/bench/udp-forward.sh [--rounds N]
#       [--duration S] [--mtu M] [--rate R] SLIRP4NETNS SLIRPD APICLIENT
#
# Per round and system (alternating): a namespace holder (unshare -rn), the
# daemon (-c --mtu M --api-socket) as root, forwards 127.0.0.1:P -> guest
# port 5201 for TCP (iperf3's control connection) and UDP, then
#   udp_in / udp_in_rev  iperf3 -u -c 127.0.0.1 -p P -b R -l 1400 -t S (and
#                        -R): what the receiver got (Mbit/s), its loss, and
#                        the daemon's CPU time per datagram received (us,
#                        from /proc/PID/schedstat)
#   udp_in_32k           the same with -l 32000 and -b 4 x R
#   udp_rr               1-byte UDP request/echo from the host to a python
#                        echo in the namespace, one at a time, 20000 times:
#                        transactions per second, and the daemon's CPU time
#                        per transaction (us)
# The offered rate is bounded (-b): on 2 cores a flood measures who wins the
# CPU, and the receiving iperf3's socket is then where datagrams are lost.
# Systems: slirp4netns (the baseline), slirpd --forward-path=slirp (UDP
# through libslirp) and slirpd (auto: the relay). Prints one line per
# sample and a median table with ratios to slirp4netns (same round).
set -euo pipefail

rounds=3 dur=4 mtu=65520 rate=1000
while [ $# -gt 3 ]; do
	case $1 in
	--rounds) rounds=$2; shift 2 ;;
	--duration) dur=$2; shift 2 ;;
	--mtu) mtu=$2; shift 2 ;;
	--rate) rate=$2; shift 2 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
[ $# = 3 ] || { sed -n 3,5p "$0" >&2; exit 2; }
S4NN=$1 SLIRPD=$(realpath "$2") API=$(realpath "$3")
T=$(mktemp -d /tmp/bench-udp.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true' EXIT

cat >"$T/u.py" <<'EOF'
import socket, sys, time
if sys.argv[1] == 'echo':
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('0.0.0.0', int(sys.argv[2])))
    while True:
        d, a = s.recvfrom(65535); s.sendto(d, a)
else:                               # rr HOST PORT N: transactions/s
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((sys.argv[2], int(sys.argv[3]))); s.settimeout(1)
    n, start = 0, time.monotonic()
    for i in range(int(sys.argv[4])):
        s.send(b'x')
        try:
            s.recv(16); n += 1
        except socket.timeout:
            pass
    print(n / (time.monotonic() - start))
EOF

port=52300
one() { # LABEL BIN ARGS...: one round of every test on one system
	local label=$1 bin=$2 hold pid d sock i out
	shift 2
	unshare -rn sleep 600 &
	hold=$!
	for i in $(seq 50); do
		[ "$(readlink /proc/$hold/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break
		sleep 0.1
	done
	sock=$T/api.$label.sock
	rm -f "$sock"
	"$bin" -c --mtu "$mtu" --api-socket "$sock" "$@" "$hold" tap0 >"$T/$label.log" 2>&1 &
	d=$!
	for i in $(seq 100); do
		[ -S "$sock" ] && "$API" rootlesskit "$sock" '{"execute":"list_hostfwd"}' >/dev/null 2>&1 && break
		sleep 0.1
	done
	port=$((port + 1))
	for proto in tcp udp; do
		"$API" rootlesskit "$sock" "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"$proto\",\"host_addr\":\"127.0.0.1\",\"host_port\":$port,\"guest_addr\":\"10.0.2.100\",\"guest_port\":5201}}" >/dev/null
	done
	local ns=(nsenter -t "$hold" -U -n --preserve-credentials --)
	for t in udp_in udp_in_rev udp_in_32k; do
		local extra=() len=1400 b=$rate c0 c1
		[ $t = udp_in_rev ] && extra=(-R)
		[ $t = udp_in_32k ] && len=32000 b=$((rate * 4))
		timeout $((dur + 20)) "${ns[@]}" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
		sleep 0.5
		c0=$(cut -d' ' -f1 "/proc/$d/schedstat")
		out=$(timeout $((dur + 15)) iperf3 -u -c 127.0.0.1 -p "$port" -b "${b}M" -l "$len" -t "$dur" "${extra[@]}" -J 2>/dev/null || true)
		c1=$(cut -d' ' -f1 "/proc/$d/schedstat")
		wait $! 2>/dev/null || true
		# the receiver's side: packets it got, as Mbit/s over the run
		jq -r --arg l "$label" --arg t "$t" --argjson len "$len" --argjson dur "$dur" \
			--argjson cpu "$(((c1 - c0) / 1000))" \
			'.end.sum as $s | ($s.packets - $s.lost_packets) as $got | "\($l) \($t) \(($got * $len * 8 / $dur / 1e6 * 10 | floor) / 10) loss=\($s.lost_percent | floor)% us=\(($cpu / ([$got, 1] | max) * 100 | floor) / 100)"' \
			<<<"$out" 2>/dev/null || echo "$label $t 0 failed"
	done
	timeout 30 "${ns[@]}" python3 "$T/u.py" echo 5201 &
	sleep 0.5
	c0=$(cut -d' ' -f1 "/proc/$d/schedstat")
	out=$(timeout 120 python3 "$T/u.py" rr 127.0.0.1 "$port" 20000)
	c1=$(cut -d' ' -f1 "/proc/$d/schedstat")
	printf '%s udp_rr %.0f us=%s\n' "$label" "$out" "$(awk "BEGIN { printf \"%.2f\", ($c1 - $c0) / 20000 / 1000 }")"
	kill $! 2>/dev/null || true
	kill "$d" "$hold" 2>/dev/null || true
	wait "$d" "$hold" 2>/dev/null || true
}

for r in $(seq "$rounds"); do
	one slirp4netns "$S4NN"
	one slirpd-slirp "$SLIRPD" --forward-path=slirp
	one slirpd-relay "$SLIRPD"
done | tee "$T/samples"

echo
echo "median over $rounds rounds, MTU $mtu, -b ${rate}M (32k: $((rate * 4))M), $dur s; (x: median ratio to slirp4netns in the same round)"
python3 - "$T/samples" <<'EOF'
import statistics, sys, collections
v = collections.defaultdict(list)
extra = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.split()
    v[(f[0], f[1])].append(float(f[2]))
    for kv in f[3:]:
        k, _, x = kv.partition('=')
        if x.rstrip('%').replace('.', '').isdigit():
            extra[(f[0], f[1], k)].append(float(x.rstrip('%')))
tests = ['udp_in', 'udp_in_rev', 'udp_in_32k', 'udp_rr']
print('| system | ' + ' | '.join(tests) + ' |')
print('|---|' + '---|' * len(tests))
for sysn in ['slirp4netns', 'slirpd-slirp', 'slirpd-relay']:
    cells = []
    for t in tests:
        x, b = v[(sysn, t)], v[('slirp4netns', t)]
        if not x:
            cells.append('-'); continue
        ratios = [a / c for a, c in zip(x, b) if c > 0]
        cell = '%.0f (x%.2f)' % (statistics.median(x), statistics.median(ratios) if ratios else 0)
        e = extra[(sysn, t, 'loss')]
        if e:
            cell += ' loss %.0f%%' % statistics.median(e)
        e = extra[(sysn, t, 'us')]
        if e:
            cell += ' %.2f us' % statistics.median(e)
        cells.append(cell)
    print('| %s | %s |' % (sysn, ' | '.join(cells)))
print('(udp_in*: Mbit/s received, loss at the receiver, daemon CPU us per datagram received; udp_rr: transactions/s, daemon CPU us per transaction)')
EOF
