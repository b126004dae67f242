#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-dns.sh - the built-in DNS forwarder at cidr+3: queries sent to 10.0.2.3
# (10.6.0.3 with --cidr 10.6.0.0/24) from the namespace reach the host's
# resolver from /etc/resolv.conf and the answer comes back; with --disable-dns
# nothing answers (bounded wait).
#
# Everything runs in a private network + mount namespace (re-exec as root):
# its loopback plays "the host", /etc/resolv.conf there is a bind mount of
# "nameserver 127.0.0.1", and tests/helpers/dnsresp answers on 127.0.0.1:53.
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip nsenter unshare setpriv mount
enter_private_host_ns "$@"

NAME=slirpd-dns.example.test
ANSWER=192.0.2.53

# the private "host": its resolv.conf names the local responder
private_resolver "$NAME" "$ANSWER" 120
assert_eq "nameserver 127.0.0.1" "$(cat /etc/resolv.conf)" "private /etc/resolv.conf in place"
out=$("$DNSRESP" --query 127.0.0.1 "$NAME" 53 5) || fail "dnsresp does not answer locally: $out"
assert_eq "$ANSWER" "$out" "dnsresp answers on 127.0.0.1:53"

# query PID SERVER NAME -> sets Q_OUT, Q_RC
query() {
	Q_RC=0
	Q_OUT=$(ns_exec -t 15 "$1" "$DNSRESP" --query "$2" "$3" 53 "${4:-5}" 2>&1) || Q_RC=$?
}

test_variants
for who in "${VARIANTS[@]}"; do
	as_variant "$who"
	pid=$(ns_start "${UOPT[@]}")
	daemon_start "${UOPT[@]}" --exit-fd 4 -- -c "$pid" tap0
	query "$pid" 10.0.2.3 "$NAME"
	assert_eq "0 $ANSWER" "$Q_RC $Q_OUT" "[$who] A $NAME via 10.0.2.3"
	query "$pid" 10.0.2.3 nonexistent.example.test
	assert_eq "1 NXDOMAIN" "$Q_RC $Q_OUT" "[$who] NXDOMAIN via 10.0.2.3"
	daemon_stop_ok "[$who]"
	kill_wait "$pid"
done

# another cidr: the DNS address follows it (cidr+3)
pid=$(ns_start)
daemon_start --exit-fd 4 -- -c --cidr 10.6.0.0/24 "$pid" tap0
query "$pid" 10.6.0.3 "$NAME"
assert_eq "0 $ANSWER" "$Q_RC $Q_OUT" "[--cidr 10.6.0.0/24] A $NAME via 10.6.0.3"
daemon_stop
kill_wait "$pid"

# --disable-dns: no answer at cidr+3
pid=$(ns_start)
daemon_start --exit-fd 4 -- -c --disable-dns "$pid" tap0
before=$(grep -c "query $NAME" "$T/dnsresp.svc.log" || true)
query "$pid" 10.0.2.3 "$NAME" 3
case $Q_RC in
0) fail "[--disable-dns] 10.0.2.3 answered: $Q_OUT" ;;
2) ok "[--disable-dns] no answer from 10.0.2.3 (timeout)" ;;
*) fail "[--disable-dns] expected a timeout, seen status $Q_RC: $Q_OUT" ;;
esac
after=$(grep -c "query $NAME" "$T/dnsresp.svc.log" || true)
assert_eq "$before" "$after" "[--disable-dns] the host resolver saw no query"
alive "$DAEMON_PID" || fail "[--disable-dns] the daemon died"
daemon_stop_ok "[--disable-dns]"

info "PASS"
