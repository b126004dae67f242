#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-configure.sh - `-c PID tap0`: the daemon creates and configures the tap
# inside the target namespace (podman shape), as root and as TEST_USER.
#   tap0 10.0.2.100/24, UP, MTU 1500, default route via 10.0.2.2, lo UP;
#   --mtu 65520 / --mtu=9000, --macaddress, --cidr 10.5.0.0/24;
#   the stdout banner (* MTU/Network/Gateway/DNS/Recommended IP) and the
#   "sent tapfd=" log line.
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip nsenter unshare setpriv

# check_configured LABEL PID ADDR/PREFIX GW MTU
check_configured() {
	local label=$1 pid=$2 addr=$3 gw=$4 mtu=$5
	assert_eq "$addr" "$(ns_addrs4 "$pid" tap0)" "[$label] tap0 IPv4 address"
	ns_link_up "$pid" tap0 || fail "[$label] tap0 is not UP: $(ns_exec "$pid" ip link show tap0 2>&1)"
	ok "[$label] tap0 is UP"
	assert_eq "$mtu" "$(ns_link_field "$pid" tap0 mtu)" "[$label] tap0 MTU"
	assert_eq "$gw" "$(ns_default_gw "$pid")" "[$label] default route gateway"
	assert_match "$(ns_exec "$pid" ip -4 route show default)" "dev tap0" "[$label] default route on tap0"
	ns_link_up "$pid" lo || fail "[$label] lo is not UP: $(ns_exec "$pid" ip link show lo 2>&1)"
	ok "[$label] lo is UP"
}

# check_banner LABEL MTU NETWORK GW DNS RECOMMENDED  (after a clean stop)
check_banner() {
	local label=$1 log
	log=$(cat "$DAEMON_LOG")
	assert_match "$log" "^\* MTU: +$2\$" "[$label] banner '* MTU:'"
	assert_match "$log" "^\* Network: +$3\$" "[$label] banner '* Network:'"
	assert_match "$log" "^\* Gateway: +$4\$" "[$label] banner '* Gateway:'"
	assert_match "$log" "^\* DNS: +$5\$" "[$label] banner '* DNS:'"
	assert_match "$log" "^\* Recommended IP: +$6\$" "[$label] banner '* Recommended IP:'"
	assert_contains "$log" "sent tapfd=" "[$label] 'sent tapfd=' in the log"
}

stop_clean() {
	daemon_stop
	assert_eq 0 "$DAEMON_STATUS" "[$1] exit status after closing the exit fd"
}

# --- plain -c, root and user
test_variants
for who in "${VARIANTS[@]}"; do
	as_variant "$who"
	pid=$(ns_start "${UOPT[@]}")
	daemon_start "${UOPT[@]}" --exit-fd 4 -- -c "$pid" tap0
	check_configured "$who -c" "$pid" 10.0.2.100/24 10.0.2.2 1500
	stop_clean "$who -c"
	check_banner "$who -c" 1500 10.0.2.0 10.0.2.2 10.0.2.3 10.0.2.100
	kill_wait "$pid"
done

# --- MTU, both option forms
last=${VARIANTS[${#VARIANTS[@]} - 1]}
as_variant "$last"
pid=$(ns_start)
daemon_start --exit-fd 4 -- -c --mtu 65520 "$pid" tap0
check_configured "root --mtu 65520" "$pid" 10.0.2.100/24 10.0.2.2 65520
stop_clean "root --mtu 65520"
check_banner "root --mtu 65520" 65520 10.0.2.0 10.0.2.2 10.0.2.3 10.0.2.100
kill_wait "$pid"

pid=$(ns_start "${UOPT[@]}")
daemon_start "${UOPT[@]}" --exit-fd 4 -- -c --mtu=9000 "$pid" tap0
check_configured "$last --mtu=9000" "$pid" 10.0.2.100/24 10.0.2.2 9000
stop_clean "$last --mtu=9000"
kill_wait "$pid"

# --- MAC address
pid=$(ns_start "${UOPT[@]}")
daemon_start "${UOPT[@]}" --exit-fd 4 -- -c --macaddress 02:11:22:33:44:55 "$pid" tap0
assert_eq 02:11:22:33:44:55 "$(ns_link_field "$pid" tap0 link/ether)" "[$last --macaddress] tap0 MAC"
check_configured "$last --macaddress" "$pid" 10.0.2.100/24 10.0.2.2 1500
stop_clean "$last --macaddress"
assert_match "$(cat "$DAEMON_LOG")" '^\* MAC address: +02:11:22:33:44:55$' "[$last --macaddress] banner '* MAC address:'"
kill_wait "$pid"

# --- CIDR
pid=$(ns_start "${UOPT[@]}")
daemon_start "${UOPT[@]}" --exit-fd 4 -- -c --cidr 10.5.0.0/24 "$pid" tap0
check_configured "$last --cidr 10.5.0.0/24" "$pid" 10.5.0.100/24 10.5.0.2 1500
stop_clean "$last --cidr 10.5.0.0/24"
check_banner "$last --cidr 10.5.0.0/24" 1500 10.5.0.0 10.5.0.2 10.5.0.3 10.5.0.100
kill_wait "$pid"

# --- the tap goes away with the daemon (it is not persistent)
pid=$(ns_start)
daemon_start --exit-fd 4 -- -c "$pid" tap0
stop_clean "root tap removal"
if wait_for -t 5 sh -c "! nsenter -t $pid -U -n --preserve-credentials ip link show tap0"; then
	ok "[root] tap0 is gone after the daemon exited"
else
	fail "[root] tap0 still exists after the daemon exited: $(ns_exec "$pid" ip link show tap0 2>&1)"
fi

info "PASS"
