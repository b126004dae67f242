#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-side-by-side.sh - run one compact set of checks against $SLIRPD and
# against the reference /usr/bin/slirp4netns, and compare the results line by
# line: interface state after -c (address, route, MTU, UP, lo), --mtu/--cidr,
# TCP through 10.0.2.2, the --help feature words, and the exit status / usage
# presence of a set of bad command lines.  stderr wording differences are
# reported but do not fail.  Skipped (77) only when /usr/bin/slirp4netns is
# absent.
. "$(dirname "$0")/lib.sh"

REF=${SLIRPD_REFERENCE:-/usr/bin/slirp4netns}
[ -x "$REF" ] || skip "no reference binary $REF"
require_root
require_cmd ip nsenter unshare setpriv socat ss

svc_start tcp-echo 127.0.0.1
tcp_port=$SVC_PORT

# words whose presence in --help is compared; sandbox/seccomp are listed
# separately (slirpd deliberately does not advertise them yet)
help_words=(--configure --exit-fd --ready-fd --mtu --enable-ipv6 --api-socket --cidr
	--disable-host-loopback --netns-type --userns-path --outbound-addr --outbound-addr6
	--disable-dns --macaddress --target-type --help --version)

bad_cmdlines=(
	"-e -1 PID tap0"
	"-r abc PID tap0"
	"--mtu 0 PID tap0"
	"--mtu 65522 PID tap0"
	"--cidr 10.0.2.0/26 PID tap0"
	"--cidr 10.0.2.100/24 PID tap0"
	"--cidr 300.0.2.0/24 PID tap0"
	"--cidr abc PID tap0"
	"--netns-type=path /nonexistent tap0"
	"--userns-path=/nonexistent PID tap0"
	"--macaddress 02:11:22:33:44:55 PID tap0"
	"-c --macaddress zz:11:22:33:44:55 PID tap0"
	"--outbound-addr=bogus0 PID tap0"
	"--outbound-addr6=bogus0 PID tap0"
	"--target-type=foo PID tap0"
	"--bogus PID tap0"
	"PID"
	"0 tap0"
)

# collect NAME BIN: write "key value" result lines to $T/res.NAME
collect() {
	local name=$1 bin=$2 out=$T/res.$1 pid c rc words w msg
	local saved=$SLIRPD
	SLIRPD=$bin
	: >"$out"
	pid=$(ns_start)

	daemon_start --exit-fd 4 -- -c "$pid" tap0
	{
		echo "c.addr $(ns_addrs4 "$pid" tap0)"
		echo "c.gw $(ns_default_gw "$pid")"
		echo "c.mtu $(ns_link_field "$pid" tap0 mtu)"
		echo "c.up $(ns_link_up "$pid" tap0 && echo yes || echo no)"
		echo "c.lo $(ns_link_up "$pid" lo && echo yes || echo no)"
		if msg=$(ns_tcp_roundtrip "$pid" 10.0.2.2 "$tcp_port" 300000); then
			echo "c.tcp ok"
		else
			echo "c.tcp FAILED $msg"
		fi
	} >>"$out"
	daemon_stop
	echo "c.exit $DAEMON_STATUS" >>"$out"

	daemon_start --exit-fd 4 -- -c --mtu 65520 --cidr 10.7.0.0/24 "$pid" tap0
	{
		echo "cidr.addr $(ns_addrs4 "$pid" tap0)"
		echo "cidr.gw $(ns_default_gw "$pid")"
		echo "cidr.mtu $(ns_link_field "$pid" tap0 mtu)"
		if msg=$(ns_tcp_roundtrip "$pid" 10.7.0.2 "$tcp_port" 300000); then
			echo "cidr.tcp ok"
		else
			echo "cidr.tcp FAILED $msg"
		fi
	} >>"$out"
	daemon_stop
	echo "cidr.exit $DAEMON_STATUS" >>"$out"

	rc=0
	words=$(timeout 10 "$bin" --help 2>/dev/null) || rc=$?
	echo "help.exit $rc" >>"$out"
	for w in "${help_words[@]}"; do
		grep -qw -- "$w" <<<"$words" && echo "help$w yes" || echo "help$w no"
	done >>"$out"
	for w in --enable-sandbox --enable-seccomp; do
		grep -qw -- "$w" <<<"$words" && echo "help$w yes" || echo "help$w no"
	done >"$T/sandbox.$name"

	for c in "${bad_cmdlines[@]}"; do
		# a started daemon exits at once on a hung-up exit fd (not added when
		# the case is about -e itself: slirpd takes the last -e)
		h=(--hup-exit-fd 9)
		[[ " $c " == *" -e "* ]] && h=()
		# shellcheck disable=SC2086
		run_cli "${h[@]}" ${c//PID/$pid}
		echo "cli[$c] exit=$CLI_RC usage=$([[ $CLI_OUT == *Usage:* ]] && echo yes || echo no)" >>"$out"
		printf '%s\n' "${CLI_ERR%%$'\n'*}" >"$T/err.$name.$(printf '%s' "$c" | md5sum | cut -c1-8)"
	done

	SLIRPD=$saved
	kill_wait "$pid"
}

collect ref "$REF"
collect dut "$SLIRPD"

if ! diff -u "$T/res.ref" "$T/res.dut" >"$T/res.diff"; then
	fail "results differ between $REF (-) and $SLIRPD (+):
$(cat "$T/res.diff")"
fi
ok "$(wc -l <"$T/res.ref") results identical between $REF and $SLIRPD"
grep -q 'FAILED' "$T/res.ref" && fail "the reference itself failed a check: $(grep FAILED "$T/res.ref")"

# informational: stderr wording and sandbox/seccomp advertisement
for c in "${bad_cmdlines[@]}"; do
	k=$(printf '%s' "$c" | md5sum | cut -c1-8)
	r=$(cat "$T/err.ref.$k")
	d=$(cat "$T/err.dut.$k")
	[ "$r" = "$d" ] || info "stderr differs for '$c': ref '$r' / dut '$d'"
done
diff <(cat "$T/sandbox.ref") <(cat "$T/sandbox.dut") >/dev/null ||
	info "sandbox/seccomp advertisement: ref $(xargs <"$T/sandbox.ref") / dut $(xargs <"$T/sandbox.dut")"

info "PASS"
