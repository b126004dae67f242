#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-policy.sh - the egress policy (--allow/--deny) enforced in the daemon:
#   1  a malformed rule is an error at start that names it
#   2  (root and TEST_USER) allowed TCP, UDP and ICMP echo get through;
#      denied ones are refused at once: TCP with an RST ("connection
#      refused" well within the client's 10 s), UDP with ICMP "administratively
#      prohibited" (the socket's error), echo dropped; the rules' counters
#      move; --log-denied writes one line per destination per interval
#   3  slirpctl policy shows the rules; policy set replaces them at once;
#      an open connection the new rules deny lasts, unless --reset
#   4  --disable-host-loopback with allow=tcp:host-loopback:PORT: that port
#      of the host's loopback is reachable, another one refused at once;
#      with -6 the same through fd00::2 and through another address of
#      fd00::/64 (reached with a static neighbour entry), which libslirp
#      also sends to the host's ::1
#   5  with --deny=all, port forwards through libslirp (TCP and UDP) still
#      carry data both ways: they are not egress
#   6  (root, -6) the same over IPv6: allowed TCP, UDP and ICMPv6 echo (to
#      the gateway: libslirp 4.7 sends no ICMPv6 out) get through; denied ones are refused at once (RST; ICMPv6
#      admin-prohibited; dropped), the counters move; policy set --reset
#      ends an open IPv6 connection the new rules deny (the client sees it
#      within 3 s), while an allowed one, one to the host's ::1 through
#      fd00::2 and an IPv6 port forward's connection through libslirp last
#   7  (root and TEST_USER) root in the namespace undoes and rewrites what
#      it owns: removes the namespace's own iptables rule that kept it from
#      192.0.2.2, DNATs an allowed destination to the denied one, SNATs to
#      a second address of tap0, routes 192.0.2.2 through the gateway and
#      then on-link with a static neighbour entry (the gateway's MAC),
#      turns on ECN (its SYNs carry ECE|CWR); and reaches the host's
#      loopback through both addresses libslirp sends there (10.0.2.2,
#      255.255.255.255): every denied flow is still refused at once (RST,
#      admin-prohibited; echo and the broadcast dropped) and counted,
#      while the allowed ones get through the same set-up
# In a private network namespace whose loopback is "the host": the remote
# addresses 192.0.2.1, 192.0.2.2, 2001:db8::1 and 2001:db8::2 live on it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
enter_private_host_ns "$@"

require_root
require_cmd ip nsenter unshare setpriv socat ss jq
is_slirpd || skip "slirpd-only: --allow/--deny"
require_python "the probes"
SLIRPCTL=${SLIRPCTL:-$(dirname "$SLIRPD")/slirpctl}
[ -x "$SLIRPCTL" ] || skip "no slirpctl next to $SLIRPD"
api_init

cp "$(dirname "$0")/policyprobe.py" "$T/probe.py"
chmod 644 "$T/probe.py"

ip addr add 192.0.2.1/32 dev lo
ip addr add 192.0.2.2/32 dev lo
ip -6 addr show dev lo | grep -q '::1/128' || skip_kernel "no ::1 on the host loopback"
ip -6 addr add 2001:db8::1/128 dev lo nodad
ip -6 addr add 2001:db8::2/128 dev lo nodad
# libslirp's echo requests go out on ICMP datagram sockets
sysctl -qw net.ipv4.ping_group_range="0 2147483647"

svc_start tcp-echo 192.0.2.1
t1=$SVC_PORT
svc_start tcp-echo 192.0.2.2
t2=$SVC_PORT
svc_start udp-echo 192.0.2.1
u1=$SVC_PORT
svc_start udp-echo 192.0.2.2
u2=$SVC_PORT
svc_start tcp-echo 127.0.0.1
l1=$SVC_PORT
svc_start tcp-echo 127.0.0.1
l2=$SVC_PORT
svc_start tcp-echo ::1
l6=$SVC_PORT
svc_start tcp-echo ::1
l6b=$SVC_PORT
info "192.0.2.1: tcp $t1 udp $u1; 192.0.2.2: tcp $t2 udp $u2; 127.0.0.1: tcp $l1 $l2; ::1: tcp $l6 $l6b"
global_fd00() {
	ns_exec "$1" ip -o -6 addr show dev tap0 scope global 2>/dev/null |
		grep -v tentative | grep -q ' inet6 fd00::'
}

# a refusal is "at once": well below the probes' own bounds (10 s TCP,
# 3 s UDP), with room for a loaded 2-core machine
FAST_MS=1500

probe() { # NS ARGS...: PROBE (the probe's line)
	PROBE=$(ns_exec -t 20 "$1" "$PY" "$T/probe.py" "${@:2}" 2>"$T/probe.err") ||
		fail "probe ${*:2}: $(cat "$T/probe.err")"
}
expect() { # WANT WHAT: the probe's result is WANT
	[ "${PROBE%% *}" = "$1" ] || fail "$2: got '$PROBE', want $1"
}
expect_fast() { # WANT WHAT: ... within FAST_MS
	local t
	expect "$1" "$2"
	t=$(awk '{ print $2 }' <<<"$PROBE")
	[ "$t" -lt "$FAST_MS" ] || fail "$2: $1 after $t ms (want < $FAST_MS)"
	ok "$2 ($t ms)"
}
policy() { # JQ-PATH: from get_policy
	api rootlesskit '{"execute":"get_policy"}'
	jq -r ".return$1" <<<"$API_REPLY"
}
ctl() { # ARGS...: CTL_RC, CTL_OUT, CTL_ERR
	CTL_RC=0
	timeout 20 "$SLIRPCTL" -a "$API_SOCK" "$@" >"$T/ctl.out" 2>"$T/ctl.err" || CTL_RC=$?
	CTL_OUT=$(cat "$T/ctl.out")
	CTL_ERR=$(cat "$T/ctl.err")
}

# --- 1
run_cli --deny=tcp:192.0.2.0/24:99999 1 tap0
assert_eq 1 "$CLI_RC" "1: a bad port: exit status 1"
assert_contains "$CLI_ERR" "tcp:192.0.2.0/24:99999" "1: the message names the rule"
run_cli --allow=udp:10.0.0.1/8 1 tap0
assert_contains "$CLI_ERR" "--allow: udp:10.0.0.1/8" "1: host bits set: named"

# --- 2, 3
test_variants
for who in "${VARIANTS[@]}"; do
	as_variant "$who"
	API_SOCK=$VDIR/api.sock
	pid=$(ns_start "${UOPT[@]}")
	daemon_start "${UOPT[@]}" --exit-fd 4 -- -c --api-socket "$API_SOCK" --log-denied \
		--allow=tcp:192.0.2.1:"$t1" --allow=udp:192.0.2.1:"$u1" \
		--allow=icmp:192.0.2.1 --deny=192.0.2.0/24 "$pid" tap0

	probe "$pid" tcp 192.0.2.1 "$t1"
	expect echo "[$who] 2: allowed TCP"
	ok "[$who] 2: TCP to 192.0.2.1:$t1 allowed, echoed"
	probe "$pid" tcp 192.0.2.2 "$t2"
	expect_fast refused "[$who] 2: TCP to 192.0.2.2:$t2 refused at once"
	probe "$pid" udp 192.0.2.1 "$u1"
	expect echo "[$who] 2: allowed UDP"
	ok "[$who] 2: UDP to 192.0.2.1:$u1 allowed, echoed"
	probe "$pid" udp 192.0.2.2 "$u2"
	expect_fast unreachable "[$who] 2: UDP to 192.0.2.2:$u2 gets ICMP admin-prohibited"
	probe "$pid" udp 192.0.2.1 "$((u1 + 1))"
	expect_fast unreachable "[$who] 2: UDP to another port of 192.0.2.1 too"
	probe "$pid" icmp 192.0.2.1
	expect reply "[$who] 2: allowed echo"
	ok "[$who] 2: echo to 192.0.2.1 answered"
	probe "$pid" icmp 192.0.2.2
	expect timeout "[$who] 2: denied echo"
	ok "[$who] 2: echo to 192.0.2.2 dropped"
	# the same TCP destination again: refused, not logged again
	probe "$pid" tcp 192.0.2.2 "$t2"
	expect_fast refused "[$who] 2: TCP to 192.0.2.2:$t2 refused again"

	assert_eq 1 "$(policy '.rules[0].hits')" "[$who] 2: allow tcp: 1 hit"
	assert_eq 1 "$(policy '.rules[1].hits')" "[$who] 2: allow udp: 1 flow"
	assert_eq 1 "$(policy '.rules[2].hits')" "[$who] 2: allow icmp: 1 flow"
	assert_eq 5 "$(policy '.rules[3].hits')" "[$who] 2: the deny rule: 5 refusals"
	assert_eq 2 "$(policy '.denied_tcp')" "[$who] 2: denied_tcp"
	assert_eq 2 "$(policy '.denied_udp')" "[$who] 2: denied_udp"
	assert_eq 1 "$(policy '.denied_icmp')" "[$who] 2: denied_icmp"
	assert_eq 2 "$(policy '.icmp_sent')" "[$who] 2: icmp_sent"
	assert_eq null "$(policy '.ipv6_flows')" "[$who] 2: no IPv6 flows recorded without -6"
	assert_eq 1 "$(policy '.log_suppressed')" "[$who] 2: the repeated TCP refusal not logged"
	api rootlesskit '{"execute":"get_info"}'
	assert_eq 5 "$(jq -r '.return.policy.rules[3].hits' <<<"$API_REPLY")" \
		"[$who] 2: get_info shows the rules and counters"
	log=$(cat "$DAEMON_LOG")
	assert_eq 1 "$(grep -c "policy: denied tcp 10.0.2.100 -> 192.0.2.2 port $t2 (rule 4: deny=192.0.2.0/24, command line)" <<<"$log")" \
		"[$who] 2: --log-denied: one line for the TCP destination"
	assert_contains "$log" "policy: denied udp 10.0.2.100 -> 192.0.2.2 port $u2" \
		"[$who] 2: --log-denied: the UDP one"
	assert_contains "$log" "policy: denied icmp 10.0.2.100 -> 192.0.2.2 port 0" \
		"[$who] 2: --log-denied: the echo"

	# --- 3
	ctl policy
	assert_eq 0 "$CTL_RC" "[$who] 3: slirpctl policy"
	assert_match "$CTL_OUT" "deny +192\.0\.2\.0/24 +5 +command line" \
		"[$who] 3: slirpctl policy shows a rule, its hits and origin"
	ctl policy set bad=1
	assert_eq 2 "$CTL_RC" "[$who] 3: a bad rule: exit status 2, nothing sent"
	# a connection to 192.0.2.1 is open while new rules deny it: it lasts
	_ns_prefix "$pid"
	spawn --log "$T/hold1.$who.log" timeout 30 "${NS_PREFIX[@]}" "$PY" "$T/probe.py" hold 192.0.2.1 "$t1" 4
	hold=$SPAWN_PID
	wait_for -t 10 sh -c "ss -Htn state established 'dport = :$t1' | grep -q ." ||
		fail "[$who] 3: the held connection did not come up"
	ctl policy set "allow=tcp:192.0.2.2:$t2" deny=all
	assert_eq 0 "$CTL_RC" "[$who] 3: slirpctl policy set: $CTL_ERR"
	assert_contains "$CTL_OUT" "1 rules, default deny" "[$who] 3: ... its answer"
	assert_eq deny "$(policy .default)" "[$who] 3: the default is deny now"
	assert_eq "tcp:192.0.2.2:$t2" "$(policy '.rules[0].rule')" "[$who] 3: the new rule"
	assert_eq api "$(policy '.rules[0].origin')" "[$who] 3: ... from the API"
	probe "$pid" tcp 192.0.2.2 "$t2"
	expect echo "[$who] 3: TCP to 192.0.2.2:$t2 allowed now"
	probe "$pid" tcp 192.0.2.1 "$t1"
	expect_fast refused "[$who] 3: TCP to 192.0.2.1:$t1 refused now"
	wait_for -t 20 sh -c "! kill -0 $hold 2>/dev/null" || fail "[$who] 3: hold did not end"
	assert_match "$(cat "$T/hold1.$who.log")" "^held " \
		"[$who] 3: the connection open before the change lasted"
	# with --reset, an open connection the new rules deny is ended
	spawn --log "$T/hold2.$who.log" timeout 30 "${NS_PREFIX[@]}" "$PY" "$T/probe.py" hold 192.0.2.2 "$t2" 8
	hold=$SPAWN_PID
	wait_for -t 10 sh -c "ss -Htn state established 'dport = :$t2' | grep -q ." ||
		fail "[$who] 3: the second held connection did not come up"
	ctl policy set --reset deny=all
	assert_eq 0 "$CTL_RC" "[$who] 3: policy set --reset: $CTL_ERR"
	assert_contains "$CTL_OUT" "1 connections reset" "[$who] 3: one connection reset"
	wait_for -t 20 sh -c "! kill -0 $hold 2>/dev/null" || fail "[$who] 3: hold did not end"
	assert_match "$(cat "$T/hold2.$who.log")" "^cut " \
		"[$who] 3: --reset ended the open connection"

	daemon_stop_ok "[$who]"
	kill_wait "$pid"
done

# --- 4
pid=$(ns_start)
daemon_start --exit-fd 4 -- -c -6 --disable-host-loopback \
	--allow=tcp:host-loopback:"$l1" --allow=tcp:host-loopback:"$l6" "$pid" tap0
probe "$pid" tcp 10.0.2.2 "$l1"
expect echo "4: the exception"
ok "4: --disable-host-loopback --allow=tcp:host-loopback:$l1: that port is reachable"
probe "$pid" tcp 10.0.2.2 "$l2"
expect_fast refused "4: another port of the host's loopback refused at once"
wait_for -t 10 global_fd00 "$pid" ||
	fail "4: no usable fd00:: address on tap0 within 10 s: $(ns_exec "$pid" ip -6 addr show dev tap0 2>&1)"
probe "$pid" tcp fd00::2 "$l6"
expect echo "4: the exception over IPv6"
ok "4: [fd00::2]:$l6 reaches [::1]:$l6 (the exception)"
probe "$pid" tcp fd00::2 "$l6b"
expect_fast refused "4: [fd00::2]:$l6b refused at once"
# libslirp answers neighbour solicitations for its own addresses only; a
# namespace that names the gateway's MAC for another address of the
# prefix reaches libslirp with it, which sends it to the host's ::1
mac=$(ns_exec "$pid" ip -6 neigh show fd00::2 dev tap0 | awk '{ print $3 }')
[ -n "$mac" ] || fail "4: no neighbour entry for fd00::2"
ns_exec "$pid" ip -6 neigh replace fd00::99 lladdr "$mac" dev tap0 nud permanent
probe "$pid" tcp fd00::99 "$l6b"
expect_fast refused "4: [fd00::99]:$l6b (the host's ::1 as well) refused at once"
probe "$pid" tcp fd00::99 "$l6"
expect echo "4: the exception through fd00::99"
ok "4: [fd00::99]:$l6: the exception holds for the whole prefix"
daemon_stop_ok "4"
kill_wait "$pid"

# --- 5
pid=$(ns_start)
ft=$(free_port tcp)
fu=$(free_port udp)
daemon_start --exit-fd 4 -- -c --deny=all --forward-path=slirp \
	-p 127.0.0.1:"$ft":7001 -p 127.0.0.1:"$fu":7002/udp "$pid" tap0
ns_server "$pid" tcp-echo 7001 0.0.0.0
ns_server "$pid" udp-echo 7002 0.0.0.0
msg=$(host_tcp_roundtrip 127.0.0.1 "$ft" 1000) || fail "5: TCP forward under deny=all: $msg"
ok "5: deny=all: a TCP forward through libslirp carries data"
msg=$(host_udp_roundtrip 127.0.0.1 "$fu" 500) || fail "5: UDP forward under deny=all: $msg"
ok "5: deny=all: a UDP forward through libslirp is answered"
probe "$pid" tcp 192.0.2.1 "$t1"
expect_fast refused "5: deny=all: TCP out refused at once"
daemon_stop_ok "5"
kill_wait "$pid"

# --- 6
svc_start tcp-echo 2001:db8::1
t61=$SVC_PORT
svc_start tcp-echo 2001:db8::1
t61b=$SVC_PORT
svc_start tcp-echo 2001:db8::2
t62=$SVC_PORT
svc_start udp-echo 2001:db8::1
u61=$SVC_PORT
svc_start udp-echo 2001:db8::2
u62=$SVC_PORT
info "2001:db8::1: tcp $t61 $t61b udp $u61; 2001:db8::2: tcp $t62 udp $u62"
API_SOCK=$T/api6.sock
pid=$(ns_start)
ft=$(free_port tcp)
daemon_start --exit-fd 4 -- -c -6 --api-socket "$API_SOCK" --forward-path=slirp \
	-p "[::1]:$ft:7001" \
	--allow="tcp:[2001:db8::1]:$t61" --allow="tcp:[2001:db8::1]:$t61b" \
	--allow="udp:[2001:db8::1]:$u61" --allow=icmp:host-loopback \
	--deny=2001:db8::/32 "$pid" tap0
wait_for -t 10 global_fd00 "$pid" ||
	fail "6: no usable fd00:: address on tap0 within 10 s: $(ns_exec "$pid" ip -6 addr show dev tap0 2>&1)"
ns_server "$pid" tcp-echo 7001 ::

probe "$pid" tcp 2001:db8::1 "$t61"
expect echo "6: allowed TCP over IPv6"
ok "6: TCP to [2001:db8::1]:$t61 allowed, echoed"
probe "$pid" tcp 2001:db8::2 "$t62"
expect_fast refused "6: TCP to [2001:db8::2]:$t62 refused at once"
probe "$pid" udp 2001:db8::1 "$u61"
expect echo "6: allowed UDP over IPv6"
ok "6: UDP to [2001:db8::1]:$u61 allowed, echoed"
probe "$pid" udp 2001:db8::2 "$u62"
expect_fast unreachable "6: UDP to [2001:db8::2]:$u62 gets ICMPv6 admin-prohibited"
# libslirp 4.7 answers ICMPv6 echo to its own address only ("external
# icmpv6 not supported yet")
probe "$pid" icmp fd00::2
expect reply "6: allowed ICMPv6 echo"
ok "6: echo to fd00::2 (allow=icmp:host-loopback) answered"
probe "$pid" icmp 2001:db8::2
expect timeout "6: denied ICMPv6 echo"
ok "6: echo to 2001:db8::2 dropped"
assert_eq 1 "$(policy '.rules[0].hits')" "6: allow tcp: 1 hit"
assert_eq 1 "$(policy '.rules[2].hits')" "6: allow udp: 1 flow"
assert_eq 1 "$(policy '.rules[3].hits')" "6: allow icmp: 1 flow"
assert_eq 3 "$(policy '.rules[4].hits')" "6: the deny rule: 3 refusals"
assert_eq 1 "$(policy '.denied_tcp')" "6: denied_tcp"
assert_eq 1 "$(policy '.denied_udp')" "6: denied_udp"
assert_eq 1 "$(policy '.denied_icmp')" "6: denied_icmp"
assert_eq 1 "$(policy '.icmp_sent')" "6: icmp_sent"

# three flows out and a forward's connection in, all open; the new rules
# deny one of the flows (and, by deny=all, everything else they do not
# allow: the forward is not egress)
_ns_prefix "$pid"
spawn --log "$T/hold6a.log" timeout 30 "${NS_PREFIX[@]}" "$PY" "$T/probe.py" hold 2001:db8::1 "$t61" 8
hold_a=$SPAWN_PID
spawn --log "$T/hold6b.log" timeout 30 "${NS_PREFIX[@]}" "$PY" "$T/probe.py" hold 2001:db8::1 "$t61b" 8
hold_b=$SPAWN_PID
spawn --log "$T/hold6h.log" timeout 30 "${NS_PREFIX[@]}" "$PY" "$T/probe.py" hold fd00::2 "$l6" 8
hold_h=$SPAWN_PID
spawn --log "$T/hold6f.log" timeout 30 "$PY" "$T/probe.py" hold ::1 "$ft" 8
hold_f=$SPAWN_PID
for p in "$t61" "$t61b" "$l6"; do
	wait_for -t 10 sh -c "ss -Htn state established 'dport = :$p' | grep -q ." ||
		fail "6: the held connection to port $p did not come up"
done
wait_for -t 10 sh -c "ss -Htn state established 'dport = :$ft' | grep -q ." ||
	fail "6: the forward's held connection did not come up"
api rootlesskit '{"execute":"get_connections"}'
info "6: libslirp's IPv6 TCP sockets: $(jq -c '[.return.connections[] | select(.family == "ipv6" and .proto == "tcp") | [.state, .src_addr, .src_port, .dst_addr, .dst_port, .peer_addr, .peer_port]]' <<<"$API_REPLY")"
n6=$(policy '.ipv6_flows.recorded')
[ "$n6" -ge 3 ] 2>/dev/null || fail "6: get_policy: ipv6_flows.recorded is '$n6', want the 3 open flows at least"
assert_eq "1024 0" "$(policy '.ipv6_flows | "\(.capacity) \(.unrecorded)"')" \
	"6: get_policy: ipv6_flows ($n6 recorded, none left out)"
ctl policy set --reset "allow=tcp:[2001:db8::1]:$t61b" "allow=tcp:host-loopback:$l6" deny=all
assert_eq 0 "$CTL_RC" "6: policy set --reset: $CTL_ERR"
t_set=$(date +%s%N)
assert_contains "$CTL_OUT" "1 connections reset" "6: one IPv6 connection reset"
wait_for -t 3 sh -c "! kill -0 $hold_a 2>/dev/null" ||
	fail "6: the denied IPv6 connection was still open 3 s after the reset: $(cat "$T/hold6a.log")"
ok "6: the denied connection ended $((($(date +%s%N) - t_set) / 1000000)) ms after the reset"
assert_match "$(cat "$T/hold6a.log")" "^cut " "6: --reset ended the denied IPv6 connection"
for h in "$hold_b:b:the allowed flow" "$hold_h:h:the flow to fd00::2" "$hold_f:f:the forward's connection"; do
	IFS=: read -r hp hn hw <<<"$h"
	wait_for -t 20 sh -c "! kill -0 $hp 2>/dev/null" || fail "6: hold $hn did not end"
	assert_match "$(cat "$T/hold6$hn.log")" "^held " "6: $hw lasted through the reset"
done
probe "$pid" tcp 2001:db8::1 "$t61"
expect_fast refused "6: a new connection to [2001:db8::1]:$t61 is refused"
daemon_stop_ok "6"
kill_wait "$pid"

# --- 7
require_cmd iptables
# receivers on the host's loopback that keep what they get
ula=$(free_port udp)
spawn --log "$T/bcast-a.out" timeout 120 socat -u UDP4-RECV:"$ula",bind=127.0.0.1 STDOUT
uld=$(free_port udp)
spawn --log "$T/bcast-d.out" timeout 120 socat -u UDP4-RECV:"$uld",bind=127.0.0.1 STDOUT
for p in "$ula" "$uld"; do
	wait_for -t 5 sh -c "ss -Hlun 'sport = :$p' | grep -q ." || fail "7: no receiver on port $p"
done
nrecv() { grep -c '^probe$' "$T/bcast-$1.out" || true; }
for who in "${VARIANTS[@]}"; do
	as_variant "$who"
	API_SOCK=$VDIR/api7.sock
	pid=$(ns_start "${UOPT[@]}")
	daemon_start "${UOPT[@]}" --exit-fd 4 -- -c --api-socket "$API_SOCK" \
		--deny=192.0.2.2 --deny=tcp:host-loopback:"$l2" \
		--deny=udp:host-loopback:"$uld" "$pid" tap0
	# slirp4netns's way: the namespace's own firewall. It holds...
	ns_exec "$pid" iptables -A OUTPUT -p tcp -d 192.0.2.2 -j REJECT --reject-with tcp-reset
	probe "$pid" tcp 192.0.2.2 "$t2"
	expect refused "[$who] 7: the namespace's own iptables rule"
	assert_eq 0 "$(policy '.rules[0].hits')" \
		"[$who] 7: refused by the namespace's iptables rule: the daemon saw no SYN"
	# ... until root there removes it and rewrites the rest
	ns_exec "$pid" iptables -P OUTPUT ACCEPT
	ns_exec "$pid" iptables -F
	assert_eq "-P OUTPUT ACCEPT" "$(ns_exec "$pid" iptables -S OUTPUT)" \
		"[$who] 7: root in the namespace flushed its iptables rules"
	ns_exec "$pid" ip addr add 10.0.2.99/24 dev tap0
	ns_exec "$pid" iptables -t nat -A OUTPUT -p tcp -d 192.0.2.1 --dport "$t1" \
		-j DNAT --to-destination "192.0.2.2:$t2"
	ns_exec "$pid" iptables -t nat -A OUTPUT -p udp -d 192.0.2.1 --dport "$u1" \
		-j DNAT --to-destination "192.0.2.2:$u2"
	ns_exec "$pid" iptables -t nat -A POSTROUTING -o tap0 -d 192.0.2.0/24 \
		-j SNAT --to-source 10.0.2.99
	ns_exec "$pid" ip route add 192.0.2.2/32 via 10.0.2.2 dev tap0 src 10.0.2.99
	ns_exec "$pid" sysctl -qw net.ipv4.tcp_ecn=1
	assert_eq 1 "$(ns_exec "$pid" cat /proc/sys/net/ipv4/tcp_ecn)" "[$who] 7: ECN on in the namespace"

	# the same set-up carries allowed flows: what is refused is the policy's
	probe "$pid" icmp 192.0.2.1
	expect reply "[$who] 7: allowed echo from 10.0.2.99"
	ok "[$who] 7: echo to 192.0.2.1 from 10.0.2.99 (SNAT) answered"
	probe "$pid" tcp 10.0.2.2 "$l1"
	expect echo "[$who] 7: allowed TCP with ECN"
	ok "[$who] 7: TCP to 10.0.2.2:$l1 (the host's loopback) with ECN echoed"

	probe "$pid" tcp 192.0.2.2 "$t2"
	expect_fast refused "[$who] 7: TCP to 192.0.2.2:$t2 through a host route, SNAT, ECN"
	probe "$pid" udp 192.0.2.2 "$u2"
	expect_fast unreachable "[$who] 7: UDP to 192.0.2.2:$u2 through a host route, SNAT"
	probe "$pid" tcp 192.0.2.1 "$t1"
	expect_fast refused "[$who] 7: TCP to 192.0.2.1:$t1, DNATed to 192.0.2.2:$t2"
	probe "$pid" udp 192.0.2.1 "$u1"
	expect_fast unreachable "[$who] 7: UDP to 192.0.2.1:$u1, DNATed to 192.0.2.2:$u2"
	mac=$(ns_exec "$pid" ip neigh show 10.0.2.2 dev tap0 | awk '{ print $3 }')
	[ -n "$mac" ] || fail "[$who] 7: no neighbour entry for the gateway"
	ns_exec "$pid" ip route replace 192.0.2.2/32 dev tap0 src 10.0.2.99
	ns_exec "$pid" ip neigh replace 192.0.2.2 lladdr "$mac" dev tap0 nud permanent
	probe "$pid" tcp 192.0.2.2 "$t2"
	expect_fast refused "[$who] 7: TCP to 192.0.2.2:$t2 on-link, the gateway's MAC as its neighbour"
	probe "$pid" icmp 192.0.2.2
	expect timeout "[$who] 7: echo to 192.0.2.2 on-link"
	ok "[$who] 7: echo to 192.0.2.2 on-link dropped"
	probe "$pid" tcp 10.0.2.2 "$l2"
	expect_fast refused "[$who] 7: TCP to 10.0.2.2:$l2 (denied port of the host's loopback)"
	# the denied datagram goes first: had libslirp had it, it would have
	# sent it to the host before the allowed one
	na=$(nrecv a)
	nd=$(nrecv d)
	probe "$pid" bcast "$uld"
	probe "$pid" bcast "$ula"
	wait_for -t 5 sh -c "[ \$(grep -c '^probe\$' '$T/bcast-a.out') -gt $na ]" ||
		fail "[$who] 7: UDP to 255.255.255.255:$ula did not reach the host's 127.0.0.1"
	ok "[$who] 7: UDP to 255.255.255.255:$ula (allowed) reached the host's 127.0.0.1"
	! wait_for -t 1 sh -c "[ \$(grep -c '^probe\$' '$T/bcast-d.out') -gt $nd ]" ||
		fail "[$who] 7: UDP to 255.255.255.255:$uld (denied) reached the host's 127.0.0.1"
	ok "[$who] 7: UDP to 255.255.255.255:$uld (denied port of the host's loopback) dropped"

	assert_eq 6 "$(policy '.rules[0].hits')" "[$who] 7: deny=192.0.2.2: 6 refusals"
	assert_eq 1 "$(policy '.rules[1].hits')" "[$who] 7: deny=tcp:host-loopback:$l2: 1"
	assert_eq 1 "$(policy '.rules[2].hits')" "[$who] 7: deny=udp:host-loopback:$uld: 1"
	assert_eq 4 "$(policy '.denied_tcp')" "[$who] 7: denied_tcp"
	assert_eq 3 "$(policy '.denied_udp')" "[$who] 7: denied_udp"
	assert_eq 1 "$(policy '.denied_icmp')" "[$who] 7: denied_icmp"
	assert_eq 2 "$(policy '.icmp_sent')" "[$who] 7: icmp_sent (none for the broadcast)"
	daemon_stop_ok "[$who] 7"
	kill_wait "$pid"
done

info "PASS"
