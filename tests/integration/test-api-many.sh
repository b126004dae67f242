#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-api-many.sh - podman's `-p 10000-20000:10000-20000` with
# port_handler=slirp4netns: 10 001 add_hostfwd requests, each on a new
# connection with podman's framing (one read of at most 2048 bytes), fit in
# the default forward limit; afterwards the daemon still answers, lists all
# of them (a reply of about a megabyte, read to EOF), forwards data through
# one of them and removes another. The time taken is printed (slirp4netns
# 1.2.0 needs about as long: both poll every listener on every wake-up).
# In a private network namespace whose loopback is "the host".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
enter_private_host_ns "$@"

require_root
require_cmd ip nsenter unshare socat ss awk
is_slirpd || skip "slirpd-only: get_info"
api_init

pid=$(ns_start)
API_SOCK=$T/api.sock
daemon_start --exit-fd 4 -- -c --api-socket "$API_SOCK" "$pid" tap0
ns_server "$pid" tcp-echo 15000

start=$SECONDS
out=$(APICLIENT_TIMEOUT=30 "$API_CLIENT" podman-range "$API_SOCK" 10000 20000) ||
	fail "podman's 10 001 requests: $out"
assert_eq "10001 ok" "$out" "10 001 add_hostfwd requests, podman's way ($((SECONDS - start)) s)"

api podman '{"execute":"get_info"}'
assert_contains "$API_REPLY" '"forwards":{"count":10001,"max":131072,' "get_info counts 10 001 forwards"
assert_eq 10001 "$(ss -Htln 'sport >= :10000' 'sport <= :20000' | wc -l)" "10 001 listeners"
api rootlesskit '{"execute":"list_hostfwd"}'
assert_contains "$API_REPLY" '{"id":10001,"proto":"tcp","host_addr":"0.0.0.0","host_port":20000,' \
	"ids 1..10001"
assert_eq 10001 "$(printf '%s' "$API_REPLY" | grep -o '"id":' | wc -l)" \
	"list_hostfwd returns all 10 001 entries ($(printf '%s' "$API_REPLY" | wc -c) bytes)"
assert_contains "$API_REPLY" '{"id":5001,"proto":"tcp","host_addr":"0.0.0.0","host_port":15000,"guest_addr":"10.0.2.100","guest_port":15000}' \
	"... in order"
msg=$(host_tcp_roundtrip 127.0.0.1 15000 1000000) || fail "$msg"
ok "1 MB through 127.0.0.1:15000 with 10 001 forwards in place"
api_remove 10001
host_port_closed 127.0.0.1 20000 || fail "port 20000 still accepts"
ok "the last one removed"

daemon_stop
assert_eq 0 "$DAEMON_STATUS" "exit status"
info "PASS"
