#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-bulk.sh - 200 MiB each way through the daemon (namespace -> host and
# host -> namespace over a connection the namespace opened), with offloads on
# and off, at MTU 1500 and 65520, IPv4 and IPv6; SHA-256 of what arrived must
# match what was sent. Guards the checksum completion, the GSO coalescer and
# IPv6 super-frames passed to libslirp whole (its if_mtu above the tap's).
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip nsenter unshare socat sha256sum jq
SLIRPCTL=${SLIRPCTL:-$(dirname "$SLIRPD")/slirpctl}

size=${SLIRPD_BULK_BYTES:-209715200}
payload "$T/data" "$size"
chmod 644 "$T/data"
want=$(sha256sum <"$T/data" | cut -d' ' -f1)
info "payload: $size bytes, sha256 $want"

offload_variants=("")
is_slirpd && offload_variants+=(--disable-offload)

_has_v6() {
	[ -n "$(ns_addrs6 "$1" tap0)" ]
}

# transfer PID HOSTBIND GUESTHOST FAM LABEL
transfer() {
	local pid=$1 bind=$2 ghost=$3 fam=$4 label=$5 port got

	# namespace -> host: the host receives into a file
	port=$(free_port tcp)
	spawn --log "$T/up.$port.log" timeout 120 socat -u \
		"TCP$fam-LISTEN:$port,bind=$bind,reuseaddr" "OPEN:$T/up.$port,creat,trunc"
	wait_for -t 5 _svc_up tcp "$port" "$SPAWN_PID" || fail "$label: upload listener"
	ns_exec -t 120 "$pid" socat -u "FILE:$T/data" "TCP$fam:$ghost:$port" ||
		fail "$label: upload client failed"
	wait_gone "$SPAWN_PID" 30 || fail "$label: upload receiver did not finish"
	got=$(sha256sum <"$T/up.$port" | cut -d' ' -f1)
	assert_eq "$want" "$got" "$label: namespace -> host, $size bytes, sha256"
	rm -f "$T/up.$port"

	# host -> namespace: the namespace reads from the host
	port=$(free_port tcp)
	spawn --log "$T/down.$port.log" timeout 120 socat -u "FILE:$T/data" \
		"TCP$fam-LISTEN:$port,bind=$bind,reuseaddr"
	wait_for -t 5 _svc_up tcp "$port" "$SPAWN_PID" || fail "$label: download listener"
	got=$(ns_exec -t 120 "$pid" socat -u "TCP$fam:$ghost:$port" - | sha256sum | cut -d' ' -f1)
	assert_eq "$want" "$got" "$label: host -> namespace, $size bytes, sha256"
}

for off in "${offload_variants[@]}"; do
	for mtu in 1500 65520; do
		label="mtu $mtu${off:+ $off}"
		pid=$(ns_start)
		api=()
		is_slirpd && api=(--api-socket "$T/api.sock")
		daemon_start --exit-fd 4 -- -c -6 --mtu "$mtu" ${off:+"$off"} "${api[@]}" "$pid" tap0
		transfer "$pid" 127.0.0.1 10.0.2.2 4 "$label IPv4"
		wait_for -t 10 _has_v6 "$pid" || fail "$label: no fd00:: address"
		transfer "$pid" "[::1]" "[fd00::2]" 6 "$label IPv6"
		if is_slirpd; then
			stats=$(timeout 10 "$SLIRPCTL" -a "$T/api.sock" --json info)
			rx=$(jq -r .return.stats.rx_gso_frames <<<"$stats")
			tx=$(jq -r .return.stats.tx_gso_frames <<<"$stats")
			# libslirp's if_mtu is above the tap's: nothing it wrote
			# was too large to cut
			over=$(jq -r .return.stats.tx_oversize <<<"$stats")
			[ "$over" = 0 ] || fail "$label: $over frames above the MTU dropped ($stats)"
			if [ -z "$off" ]; then
				# the data really went through the offload paths
				[ "$rx" -gt 0 ] || fail "$label: no TSO frame from the namespace ($stats)"
				# the coalescer merges segments up to 16 KiB: at 1500, not
				# at 65520 (libslirp's 32 KiB segments go out as they are)
				if [ "$mtu" = 1500 ]; then
					[ "$tx" -gt 0 ] || fail "$label: the coalescer wrote no GSO frame ($stats)"
				else
					[ "$tx" = 0 ] || fail "$label: 32 KiB segments were merged ($stats)"
				fi
				ok "$label: $rx TSO frames in, $tx GSO frames out"
			else
				[ "$rx" = 0 ] && [ "$tx" = 0 ] || fail "$label: offload counters move with --disable-offload ($stats)"
				ok "$label: no offload with $off"
			fi
		fi
		daemon_stop
	done
done
