#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ipv6-tput.sh - TCP throughput over IPv4 and IPv6 side by side (run-bench measures IPv4 only)
#
#   flock /tmp/slirpd-bench.lock tests/bench/ipv6-tput.sh [--rounds N]
#       [--duration S] [--mtus "1500 65520"] LABEL=BINARY...
#
# Per round, MTU and system (alternating), as root: a namespace holder
# (unshare -rn), the daemon (-c -6 --mtu M --api-socket), then for IPv4
# (10.0.2.2 -> 127.0.0.1) and IPv6 (fd00::2 -> ::1):
#   out   iperf3 -c in the namespace to iperf3 -s on host loopback
#   in    iperf3 -c on the host through a TCP forward on libslirp's path
#         (0.0.0.0:P -> the guest, or [::]:P -> guest "::", learnt by
#         libslirp; slirpd gets "path":"slirp") to iperf3 -s in the namespace
#         (IPv4 only for slirp4netns, which hangs on that IPv6 forward)
# Prints one line per sample (Gbit/s, what the receiver got, and the
# daemon's CPU seconds per GB moved) and the median per system, MTU and test
# over the rounds, with the IPv6/IPv4 ratio.
. "$(dirname "$0")/../integration/lib.sh"
declare -A v

rounds=1 dur=3 mtus="1500 65520"
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift 2 ;;
	--duration) dur=$2; shift 2 ;;
	--mtus) mtus=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || fail "usage: $0 [--rounds N] [--duration S] [--mtus LIST] LABEL=BINARY..."
require_root
require_cmd iperf3 jq socat

# hostfwd PROTO-FAMILY HOSTPORT GUESTPORT SLIRPD?
hostfwd() {
	local ha ga path=
	if [ "$1" = 4 ]; then ha=0.0.0.0 ga=""; else ha="::" ga="::"; fi
	[ "$4" = 1 ] && path=',"path":"slirp"'
	printf '{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_addr":"%s","host_port":%d,"guest_addr":"%s","guest_port":%d%s}}' \
		"$ha" "$2" "$ga" "$3" "$path" | socat -t 5 - "UNIX-CONNECT:$T/api.sock"
}

_has6() { [ -n "$(ns_addrs6 "$1" tap0)" ]; }

# the daemon's CPU time so far, in clock ticks (utime + stime)
ticks() { awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat"; }

# sample LABEL MTU FAM TEST GBPS T0: one line, with CPU seconds per GB
sample() {
	awk -v l="$1" -v m="$2" -v f="$3" -v t="$4" -v g="$5" -v d="$((($(ticks) - $6)))" \
		-v hz="$(getconf CLK_TCK)" -v s="$dur" \
		'BEGIN { printf "%s %s v%s %s %.2f %.3f\n", l, m, f, t, g, (g > 0 ? d / hz / (g * s / 8) : 0) }' |
		tee -a "$T/samples"
}

# the receiver's rate, or 0 for a run that failed (a forward not made)
gbps() { jq -r '.end.sum_received.bits_per_second / 1e9 // 0' 2>/dev/null || echo 0; }

: >"$T/samples"
for ((round = 1; round <= rounds; round++)); do
	for mtu in $mtus; do
		for sys in "$@"; do
			label=${sys%%=*} SLIRPD=${sys#*=}
			is_s=1
			"$SLIRPD" --version 2>/dev/null | grep -q '^slirpd' || is_s=0
			pid=$(ns_start)
			daemon_start --exit-fd 4 -- -c -6 --mtu "$mtu" --api-socket "$T/api.sock" "$pid" tap0
			wait_for -t 10 _has6 "$pid" 2>/dev/null || sleep 2
			for fam in 4 6; do
				if [ $fam = 4 ]; then bind=127.0.0.1 gh=10.0.2.2; else bind=::1 gh=fd00::2; fi
				port=$(free_port tcp)
				spawn --log "$T/srv.$port" timeout $((dur + 20)) iperf3 -s -1 -B "$bind" -p "$port"
				wait_for -t 5 _svc_up tcp "$port" "$SPAWN_PID" || true
				t0=$(ticks)
				r=$(ns_exec -t $((dur + 15)) "$pid" iperf3 -J -c "$gh" -p "$port" -t "$dur" | gbps) || r=0
				sample "$label" "$mtu" "$fam" out "$r" "$t0"
				# slirp4netns 1.2 hangs (and then does not exit) after an
				# IPv6 forward to a guest "::": not measured
				[ "$fam$is_s" = 60 ] && continue
				gp=$(free_port tcp) hp=$(free_port tcp)
				ns_exec "$pid" iperf3 -s -1 -D -p "$gp" || true
				hostfwd "$fam" "$hp" "$gp" "$is_s" >/dev/null || true
				t0=$(ticks)
				r=$(timeout $((dur + 15)) iperf3 -J -c "$([ $fam = 4 ] && echo 127.0.0.1 || echo ::1)" \
					-p "$hp" -t "$dur" | gbps) || r=0
				sample "$label" "$mtu" "$fam" in "$r" "$t0"
			done
			daemon_stop
			kill_wait "$pid"
		done
	done
done

echo "# medians over $rounds round(s): Gbit/s (daemon CPU s/GB); v6/v4 in the same system and MTU"
med() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for sys in "$@"; do
	label=${sys%%=*}
	for mtu in $mtus; do
		for t in out in; do
			for f in 4 6; do
				for c in 5 6; do
					v[$f$c]=$(awk -v l="$label" -v m="$mtu" -v t="$t" -v f="v$f" -v c="$c" \
						'$1 == l && $2 == m && $3 == f && $4 == t { print $c }' "$T/samples" | med)
				done
			done
			awk -v l="$label" -v m="$mtu" -v t="$t" -v a="${v[45]}" -v ac="${v[46]}" \
				-v b="${v[65]}" -v bc="${v[66]}" \
				'BEGIN { printf "%-10s mtu %-5s %-3s IPv4 %5.2f (%.3f)  IPv6 %5.2f (%.3f)  v6/v4 %.2f\n", l, m, t, a, ac, b, bc, (a > 0 ? b / a : 0) }'
		done
	done
done
