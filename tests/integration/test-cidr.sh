#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-cidr.sh - --cidr: 10.8.0.0/16 gives 10.8.0.100/16 on tap0, default
# route via 10.8.0.2, and 10.8.0.2 reaches the host loopback; a /25 with a
# non-zero base works too; every malformed CIDR exits 1 with the slirp4netns
# message on stderr and no usage (contract 3.1).
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip nsenter unshare setpriv socat ss

svc_start tcp-echo 127.0.0.1
tcp_port=$SVC_PORT

uopt=()
have_test_user && uopt=(--user)

# cidr_case LABEL OPTIONS ADDR GW BYTES [--user]: in a new namespace
# (pid), a daemon started with -c OPTIONS gives tap0 ADDR and the default
# route via GW, through which BYTES reach the host loopback; it exits 0
cidr_case() {
	local label=$1 opts=() addr=$3 gw=$4 bytes=$5 msg
	read -r -a opts <<<"$2"
	shift 5
	pid=$(ns_start "$@")
	daemon_start "$@" --exit-fd 4 -- -c "${opts[@]}" "$pid" tap0
	assert_eq "$addr" "$(ns_addrs4 "$pid" tap0)" "[$label] tap0 address"
	assert_eq "$gw" "$(ns_default_gw "$pid")" "[$label] default gateway"
	msg=$(ns_tcp_roundtrip "$pid" "$gw" "$tcp_port" "$bytes") || fail "[$label] TCP via $gw: $msg"
	ok "[$label] TCP to $gw:$tcp_port reaches the host loopback"
	daemon_stop_ok "[$label]"
}

# --cidr 10.8.0.0/16
cidr_case /16 "--cidr 10.8.0.0/16" 10.8.0.100/16 10.8.0.2 20000 "${uopt[@]}"
log=$(cat "$DAEMON_LOG")
assert_match "$log" '^\* Network: +10\.8\.0\.0$' "[/16] banner network"
assert_match "$log" '^\* Netmask: +255\.255\.0\.0$' "[/16] banner netmask"
assert_match "$log" '^\* Gateway: +10\.8\.0\.2$' "[/16] banner gateway"
assert_match "$log" '^\* DNS: +10\.8\.0\.3$' "[/16] banner DNS"
assert_match "$log" '^\* DHCP begin: +10\.8\.0\.15$' "[/16] banner DHCP begin"
assert_match "$log" '^\* Recommended IP: +10\.8\.0\.100$' "[/16] banner recommended IP"
kill_wait "$pid"

# --cidr=10.9.0.128/25 (upper half, the longest prefix allowed)
cidr_case /25 --cidr=10.9.0.128/25 10.9.0.228/25 10.9.0.130 1000

# malformed CIDRs: "VALUE|message" (message is a substring of stderr; the
# "network address like ..." message is fixed text in slirp4netns)
pid=$(ns_start)
bad=(
	"10.0.2.0|invalid CIDR: 10.0.2.0"
	"abc|invalid CIDR: abc"
	"|invalid CIDR: "
	"10.0.2.0/|invalid CIDR: 10.0.2.0/"
	"10.0.2.0/024|invalid CIDR: 10.0.2.0/024"
	"10.0.2.0/24x|invalid CIDR: 10.0.2.0/24x"
	"fd00::/64|invalid CIDR: fd00::/64"
	"10.0.2/24|invalid CIDR: 10.0.2/24"
	"300.0.2.0/24|invalid network address: 300.0.2.0"
	"10.0.2.0/0|prefix length needs to be 1-25"
	"10.0.2.0/26|prefix length needs to be 1-25"
	"10.0.2.0/32|prefix length needs to be 1-25"
	"10.0.2.0/99|prefix length needs to be 1-25"
	"10.0.2.100/24|CIDR needs to be a network address like 10.0.2.0/24, not like 10.0.2.100/24"
	"10.8.1.0/16|CIDR needs to be a network address like 10.0.2.0/24, not like 10.0.2.100/24"
)
for form in sep eq; do
	for b in "${bad[@]}"; do
		val=${b%%|*}
		want=${b#*|}
		if [ "$form" = sep ]; then
			run_cli --hup-exit-fd 4 --cidr "$val" "$pid" tap0
		else
			run_cli --hup-exit-fd 4 "--cidr=$val" "$pid" tap0
		fi
		[ "$CLI_RC" = 1 ] || _afail "--cidr '$val' ($form): expected exit status 1, seen $CLI_RC (stdout: $CLI_OUT) (stderr: $CLI_ERR)"
		ok "--cidr '$val' ($form): exit status 1"
		assert_contains "$CLI_ERR" "$want" "--cidr '$val' ($form): message"
		assert_not_contains "$CLI_OUT" "Usage:" "--cidr '$val' ($form): no usage"
	done
done

info "PASS"
