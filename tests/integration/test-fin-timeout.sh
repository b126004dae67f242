#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-fin-timeout.sh - TCP connections that one side closed and the other
# never did end after --fin-timeout (here 3 s), on both data paths:
#   1  libslirp (namespace -> host via 10.0.2.2): 100 namespace clients
#      half-close against a host server that never closes; every one is
#      reset (the namespace is told), not before the timeout, none is left
#      in FIN-WAIT-2 in the namespace, the daemon's fds are back to what
#      they were, get_info counts them
#   2  the splice path (a loopback forward, host -> namespace): 100 host
#      clients half-close against a namespace server that never closes:
#      the same
#   3  a half-closed connection whose remote still sends (a byte every
#      0.5 s for 5 s) is not cut, on either path: all of it, then EOF
#   4  the namespace's side closes first, the host client never does: 20
#      connections of a libslirp forward and 20 of a splice forward reset
#   5  --fin-timeout=0 keeps such connections; a bad value is refused
# in a private network namespace whose loopback is "the host".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
enter_private_host_ns "$@"

require_root
require_cmd ip nsenter unshare ss jq
is_slirpd || skip "slirpd-only: --fin-timeout"
require_python
api_init
API_SOCK=$T/api.sock

cp "$(dirname "$0")/halfopen.py" "$T/ho.py"
chmod 644 "$T/ho.py"

_up() { ss -Htln "sport = :$1" | grep -q .; }
_info() { # PATH in get_info's reply
	api rootlesskit '{"execute":"get_info"}'
	jq -r ".return.$1" <<<"$API_REPLY"
}
_fin_wait2() { ns_exec "$NS" ss -Htn state fin-wait-2 | wc -l; }
# (+ one epoll fd per shard: a shard given more than a few sockets makes
# its epoll set, which stays)
_fds_back() { [ "$(daemon_fds)" -le $((fds0 + 4 + shards)) ]; }

NS=$(ns_start)
daemon_start --exit-fd 4 -- -c --fin-timeout=3 --api-socket "$API_SOCK" "$NS" tap0
_ns_prefix "$NS"

# the splice forward first, so that its listener and pool are in the baseline
spawn --log "$T/nc-ns.log" timeout 120 "${NS_PREFIX[@]}" "$PY" "$T/ho.py" never-close 0.0.0.0 81 110
wait_for -t 10 _ns_listening "$NS" tcp 81 || fail "server in the namespace"
pf=$(free_port tcp)
api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$pf,\"guest_port\":81}"
assert_eq 1 "$(_info splice.forwards)" "the loopback forward is spliced"
ph=$(free_port tcp)
spawn --log "$T/nc-host.log" timeout 120 "$PY" "$T/ho.py" never-close 127.0.0.1 "$ph" 110
wait_for -t 10 _up "$ph" || fail "host server"
sleep 0.5   # the helper's pool, refilled after the forward's first sockets
fds0=$(daemon_fds)
shards=$(_info stats.shards)

# 1
t0=$(date +%s%N)
out=$("${NS_PREFIX[@]}" timeout 60 "$PY" "$T/ho.py" halfclose 10.0.2.2 "$ph" 100 30)
el=$((($(date +%s%N) - t0) / 1000000))
assert_eq "reset 100 eof 0 open 0" "$out" \
	"1: libslirp: 100 half-closed connections to a host server that never closes are reset"
[ "$el" -ge 3000 ] || fail "1: they ended after $el ms, before the 3 s timeout"
[ "$el" -le 15000 ] || fail "1: they ended after $el ms (timeout 3 s)"
ok "1: after $el ms (--fin-timeout=3)"
assert_eq 0 "$(_fin_wait2)" "1: no socket is left in FIN-WAIT-2 in the namespace"
wait_for -t 5 _fds_back || fail "1: the daemon holds $(daemon_fds) fds (was $fds0)"
ok "1: the daemon holds $(daemon_fds) fds (was $fds0 before the 100 connections)"
n=$(_info stats.fin_timeout_reset)
[ "$n" -ge 100 ] || fail "1: get_info counts $n connections ended"
ok "1: get_info: fin_timeout_reset $n"

# 2
t0=$(date +%s%N)
out=$(timeout 60 "$PY" "$T/ho.py" halfclose 127.0.0.1 "$pf" 100 30)
el=$((($(date +%s%N) - t0) / 1000000))
assert_eq "reset 100 eof 0 open 0" "$out" \
	"2: splice: 100 half-closed host clients of a namespace server that never closes are reset"
[ "$el" -ge 3000 ] || fail "2: they ended after $el ms, before the 3 s timeout"
[ "$el" -le 15000 ] || fail "2: they ended after $el ms (timeout 3 s)"
ok "2: after $el ms (--fin-timeout=3)"
assert_eq 0 "$(ss -Htn state fin-wait-2 | wc -l)" "2: no host socket is left in FIN-WAIT-2"
wait_for -t 5 _fds_back || fail "2: the daemon holds $(daemon_fds) fds (was $fds0)"
ok "2: the daemon holds $(daemon_fds) fds (was $fds0)"
n=$(_info splice.fin_timeout_reset)
[ "$n" -ge 100 ] || fail "2: get_info counts $n spliced connections ended"
ok "2: get_info: splice.fin_timeout_reset $n"

# 3
pt=$(free_port tcp)
spawn --log "$T/tr-host.log" timeout 60 "$PY" "$T/ho.py" trickle 127.0.0.1 "$pt" 5
wait_for -t 10 _up "$pt" || fail "3: host trickle server"
out=$("${NS_PREFIX[@]}" timeout 60 "$PY" "$T/ho.py" halfclose-read 10.0.2.2 "$pt" 30)
assert_eq "eof 10" "$out" "3: libslirp: a half-closed connection the remote still sends on is not cut"
spawn --log "$T/tr-ns.log" timeout 60 "${NS_PREFIX[@]}" "$PY" "$T/ho.py" trickle 0.0.0.0 82 5
wait_for -t 10 _ns_listening "$NS" tcp 82 || fail "3: trickle server in the namespace"
pf2=$(free_port tcp)
api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$pf2,\"guest_port\":82}"
out=$(timeout 60 "$PY" "$T/ho.py" halfclose-read 127.0.0.1 "$pf2" 30)
assert_eq "eof 10" "$out" "3: splice: a half-closed connection the namespace still sends on is not cut"

# 4
spawn --log "$T/hc-ns.log" timeout 60 "${NS_PREFIX[@]}" "$PY" "$T/ho.py" halfclose-accept 0.0.0.0 83 20 30
hcs=$SPAWN_PID
wait_for -t 10 _ns_listening "$NS" tcp 83 || fail "4: half-closing server in the namespace"
pl=$(free_port tcp)
api_add "{\"proto\":\"tcp\",\"host_addr\":\"0.0.0.0\",\"host_port\":$pl,\"guest_port\":83,\"path\":\"slirp\"}"
spawn --log "$T/hold1.log" timeout 60 "$PY" "$T/ho.py" hold 127.0.0.1 "$pl" 20 40 "$T/held1"
wait_for -t 45 sh -c "! kill -0 $hcs 2>/dev/null" || fail "4: the namespace's server did not finish"
assert_eq "reset 20 eof 0 open 0" "$(cat "$T/hc-ns.log")" \
	"4: libslirp forward: 20 connections the namespace closed, the host client never: reset"
spawn --log "$T/hc-ns2.log" timeout 60 "${NS_PREFIX[@]}" "$PY" "$T/ho.py" halfclose-accept 0.0.0.0 84 20 30
hcs=$SPAWN_PID
wait_for -t 10 _ns_listening "$NS" tcp 84 || fail "4: half-closing server in the namespace"
pl=$(free_port tcp)
api_add "{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$pl,\"guest_port\":84}"
spawn --log "$T/hold2.log" timeout 60 "$PY" "$T/ho.py" hold 127.0.0.1 "$pl" 20 40 "$T/held2"
wait_for -t 45 sh -c "! kill -0 $hcs 2>/dev/null" || fail "4: the namespace's server did not finish"
assert_eq "reset 20 eof 0 open 0" "$(cat "$T/hc-ns2.log")" \
	"4: splice forward: 20 connections the namespace closed, the host client never: reset"
daemon_stop

# 5
ph=$(free_port tcp)
spawn --log "$T/nc-host2.log" timeout 60 "$PY" "$T/ho.py" never-close 127.0.0.1 "$ph" 40
wait_for -t 10 _up "$ph" || fail "5: host server"
NS=$(ns_start)
daemon_start --exit-fd 4 -- -c --fin-timeout=0 --api-socket "$API_SOCK" "$NS" tap0
out=$(ns_exec -t 60 "$NS" "$PY" "$T/ho.py" halfclose 10.0.2.2 "$ph" 5 8)
assert_eq "reset 0 eof 0 open 5" "$out" "5: --fin-timeout=0: half-closed connections are kept (8 s)"
daemon_stop
run_cli --hup-exit-fd 5 -c --fin-timeout=x "$NS" tap0
assert_eq 1 "$CLI_RC" "5: --fin-timeout=x: exit status 1"
assert_contains "$CLI_ERR" "--fin-timeout must be a number of seconds from 0 to 86400: x" \
	"5: the message names the option and the value"
ok "fin-timeout"
