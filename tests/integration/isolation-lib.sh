# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# isolation-lib.sh - checks shared by test-sandbox*.sh and test-seccomp.sh,
# sourced after lib.sh:
#   iso_check_status LABEL PID CAPS [SECCOMP]  every task's status fields
#   iso_check_root LABEL PID DIR [--chroot]    the daemon's root holds DIR,
#                                              empty /etc and /run only
#   iso_check_api_forward LABEL NSPID SOCK     add_hostfwd + traffic through it
#   iso_preload                                the LD_PRELOAD probe, built once

# iso_check_status LABEL PID CAPS [SECCOMP]: for every /proc/PID/task/TID:
# NoNewPrivs 1, Seccomp SECCOMP (default 2), and with CAPS=sandbox only
# CAP_NET_BIND_SERVICE (0x400) in CapEff/CapPrm/CapBnd (kept as slirp4netns
# keeps it: root's daemon and one in the target's user namespace alike),
# CapInh and CapAmb empty; CAPS=any leaves the capabilities alone.
iso_check_status() {
	local label=$1 pid=$2 caps=$3 seccomp=${4:-2} t st k want v n=0 checks
	checks=("NoNewPrivs:1" "Seccomp:$seccomp")
	case $caps in
	sandbox) want=0000000000000400 ;;
	any) want= ;;
	*) fail "iso_check_status: CAPS is sandbox or any" ;;
	esac
	[ -n "$want" ] && checks+=("CapInh:0000000000000000" "CapAmb:0000000000000000"
		"CapEff:$want" "CapPrm:$want" "CapBnd:$want")
	for t in "/proc/$pid/task/"*; do
		st=$(cat "$t/status" 2>/dev/null) || fail "[$label] cannot read $t/status"
		n=$((n + 1))
		for k in "${checks[@]}"; do
			v=$(awk -v k="${k%%:*}:" '$1 == k { print $2; exit }' <<<"$st")
			[ "$v" = "${k#*:}" ] ||
				fail "[$label] task ${t##*/}: ${k%%:*} is '$v', expected '${k#*:}'"
		done
	done
	[ "$n" -gt 0 ] || fail "[$label] no tasks under /proc/$pid/task"
	ok "[$label] all $n task(s): ${checks[*]}"
}

# _iso_mounts PID: "MOUNTPOINT OPTIONS FSTYPE" per line of /proc/PID/mountinfo
_iso_mounts() {
	awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break; print $5, $6, $(i + 1) }' \
		"/proc/$1/mountinfo"
}

# iso_check_root LABEL PID DIR [--chroot]: the daemon's root (seen through
# /proc/PID/root) holds only the top directory of DIR, etc and run (as
# slirp4netns's: its sandbox test looks for both), run empty unless DIR is
# in it, no host file, cannot be written; unless --chroot, its mount table
# is exactly: a read-only tmpfs on / and read-only mounts at or below DIR.
iso_check_root() {
	local label=$1 pid=$2 dir=$3 chroot=${4:-} top want got p line mp opts fs
	local root=/proc/$pid/root
	top=${dir#/}
	top=${top%%/*}
	want=$(printf '%s\n' "$top" etc run | sort -u | xargs)
	got=$(ls -A "$root/" 2>&1 | sort | xargs)
	assert_eq "$want" "$got" "[$label] the daemon's / holds only: $want"
	for p in usr bin lib sbin proc sys dev home root var opt "${SLIRPD#/}"; do
		[ "${p%%/*}" = "$top" ] && continue
		[ -e "$root/$p" ] && fail "[$label] the daemon's root has /$p"
	done
	if [ "$top" != run ]; then
		got=$(ls -A "$root/run" 2>&1)
		assert_eq "" "$got" "[$label] the daemon's /run is empty"
	fi
	ok "[$label] no host files (/usr, /proc, /dev, /run's, the binary ...) in the daemon's root"
	[ -e "$root$dir" ] || fail "[$label] $dir is missing from the daemon's root"
	if touch "$root/probe" 2>/dev/null || touch "$root$dir/.slirpd-probe" 2>/dev/null; then
		rm -f "$root/probe" "$root$dir/.slirpd-probe"
		fail "[$label] the daemon's root or $dir is writable"
	fi
	ok "[$label] the daemon's root and $dir are read-only"
	[ -n "$chroot" ] && return 0
	line=$(_iso_mounts "$pid" | head -n 1)
	read -r mp opts fs <<<"$line"
	[ "$mp" = / ] && [ "$fs" = tmpfs ] && [[ $opts == ro,* ]] ||
		fail "[$label] first mount is '$line', expected a read-only tmpfs on /"
	while read -r mp opts fs; do
		case $mp in
		/ | "$dir" | "$dir"/*) ;;
		*) fail "[$label] unexpected mount $mp ($fs) in the daemon's mount namespace" ;;
		esac
		[[ $opts == ro,* || $opts == ro ]] || fail "[$label] $mp is mounted $opts, not ro"
	done < <(_iso_mounts "$pid")
	ok "[$label] mounts: read-only tmpfs on / and read-only $dir only ($(_iso_mounts "$pid" | wc -l) mounts)"
}

# iso_check_api_forward LABEL NSPID SOCK: a TCP echo server at :8080 in the
# namespace, an add_hostfwd 127.0.0.1:HP -> :8080 through the API socket, a
# round trip from the host through it, and list_hostfwd shows it.
iso_check_api_forward() {
	local label=$1 pid=$2 sock=$3 hp req reply in out
	_ns_prefix "$pid"
	spawn --log "$T/guest-echo.$pid.svc.log" timeout 120 "${NS_PREFIX[@]}" \
		socat TCP4-LISTEN:8080,reuseaddr,fork EXEC:cat
	wait_for -t 10 ns_exec "$pid" sh -c "ss -Htln 'sport = :8080' | grep -q 8080" ||
		fail "[$label] guest echo server did not start"
	hp=$(free_port tcp)
	req='{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_addr":"127.0.0.1","host_port":'$hp',"guest_addr":"","guest_port":8080}}'
	reply=$(printf '%s\n' "$req" | timeout 10 socat -t 5 - "UNIX-CONNECT:$sock" 2>&1) || true
	assert_contains "$reply" '"return"' "[$label] API add_hostfwd in the sandbox"
	reply=$(printf '%s\n' '{"execute":"list_hostfwd"}' | timeout 10 socat -t 5 - "UNIX-CONNECT:$sock" 2>&1) || true
	assert_contains "$reply" "\"host_port\":$hp" "[$label] API list_hostfwd in the sandbox"
	in=$T/fwd.$pid.in
	out=$in.out
	payload "$in" 200000
	timeout 30 socat -t 10 -T 10 - "TCP4:127.0.0.1:$hp,connect-timeout=10" <"$in" >"$out" 2>"$out.err" ||
		fail "[$label] forwarded connection failed: $(head -c 300 "$out.err")"
	cmp -s "$in" "$out" || fail "[$label] forwarded 200 kB came back different ($(stat -c %s "$out") bytes)"
	ok "[$label] 200 kB round trip through the forwarded port"
}

# iso_preload: path of the LD_PRELOAD probe (tests/integration/isolation-preload.c)
iso_preload() {
	local so=$T/isolation-preload.so
	if [ ! -e "$so" ]; then
		command -v cc >/dev/null 2>&1 || skip "needs cc to build the preload probe"
		cc -shared -fPIC -O1 -o "$so" "$LIB_DIR/isolation-preload.c" -ldl -lpthread >&2 ||
			fail "cannot build the preload probe"
		chmod 755 "$so"
	fi
	printf '%s\n' "$so"
}
