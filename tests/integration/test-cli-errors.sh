#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-cli-errors.sh - command-line parsing (contract 3.1 table and "More
# parsing rules", 3.2):
#   * parse errors: exit 1, message on stderr, usage on stdout;
#   * configuration errors (MAC, outbound address): exit 1, no usage;
#   * too many positionals: WARNING only, the daemon starts;
#   * GNU permutation: options after positionals;
#   * --help / -h: exit 0, usage on stdout with the feature words callers grep
#     for; --version / -v: "<name> version X.Y.Z" then "libslirp: ...".
# slirpd-specific (gated on is_slirpd): --enable-sandbox/--enable-seccomp are
# either not advertised by --help or work when used, --outbound-addr6=lo resolves lo's
# IPv6 address, --target-type=bess is rejected naming bess, and
# --netns-type=tapfd with a non-fd fails clearly, and --exit-fd/--ready-fd
# numbers that are not open are refused at once.
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip nsenter unshare

slirpd=
is_slirpd && slirpd=1

# Every case gets a live (throw-away) namespace as target, so that a daemon
# that wrongly accepts its arguments only touches that namespace; and
# --hup-exit-fd makes such a daemon exit at once.
pid=$(ns_start)

# exit_1 LABEL ARGS...: run_cli ARGS, and it exits 1
exit_1() {
	local label=$1
	shift
	run_cli "$@"
	[ "$CLI_RC" = 1 ] || _afail "$label: expected exit status 1, seen $CLI_RC
stdout: $CLI_OUT
stderr: $CLI_ERR"
}

# usage_error LABEL MESSAGE ARGS...: exit 1, MESSAGE on stderr, usage on stdout
usage_error() {
	local label=$1 msg=$2
	shift 2
	exit_1 "$label" "$@"
	[ -z "$msg" ] || assert_contains "$CLI_ERR" "$msg" "$label: stderr message"
	assert_contains "$CLI_OUT" "Usage:" "$label: exit 1 with the usage on stdout"
}

# config_error LABEL MESSAGE ARGS...: exit 1, MESSAGE on stderr, no usage
config_error() {
	local label=$1 msg=$2
	shift 2
	exit_1 "$label" "$@"
	assert_contains "$CLI_ERR" "$msg" "$label: exit 1, stderr message"
	assert_not_contains "$CLI_OUT" "Usage:" "$label: no usage"
}

h=(--hup-exit-fd 9)

# --- fds
for v in -1 abc 1x; do
	usage_error "-e '$v'" "exit-fd must be a non-negative integer" -e "$v" "$pid" tap0
done
usage_error "--exit-fd=-3" "exit-fd must be a non-negative integer" --exit-fd=-3 "$pid" tap0
for v in -1 x; do
	usage_error "-r '$v'" "ready-fd must be a non-negative integer" "${h[@]}" -r "$v" "$pid" tap0
done
usage_error "--ready-fd=-2" "ready-fd must be a non-negative integer" "${h[@]}" --ready-fd=-2 "$pid" tap0
if [ -n "$slirpd" ]; then
	# fds that are not open (slirp4netns: -e exits 0 via POLLNVAL, -r fails
	# to write): refused before anything is opened, exit 1, no usage
	config_error "-e 57 (not open)" "exit-fd 57 is not an open file descriptor" -e 57 "$pid" tap0
	config_error "--exit-fd=10 (not open)" "exit-fd 10 is not an open file descriptor" --exit-fd=10 "$pid" tap0
	config_error "-r 58 (not open)" "ready-fd 58 is not an open file descriptor" "${h[@]}" -r 58 "$pid" tap0
	assert_not_contains "$CLI_OUT$CLI_ERR" "tapfd" "-r 58 (not open): refused before the tap is made"
fi

# --- MTU
for v in 0 65522 70000 abc -5 ""; do
	usage_error "--mtu '$v'" "MTU must be a positive integer (< 65522)" "${h[@]}" --mtu "$v" "$pid" tap0
done
usage_error "--mtu=0" "MTU must be a positive integer (< 65522)" "${h[@]}" --mtu=0 "$pid" tap0
usage_error "-m 65522" "MTU must be a positive integer (< 65522)" "${h[@]}" -m 65522 "$pid" tap0

# --- target
usage_error "--netns-type=path /nonexistent" "existing path expected when --netns-type=path" \
	"${h[@]}" --netns-type=path /nonexistent tap0
usage_error "--userns-path=/nonexistent" "userns path doesn't exist: /nonexistent" \
	"${h[@]}" --userns-path=/nonexistent "$pid" tap0
config_error "--tap-netns with a PID" "--tap-netns is only for --netns-type=tapfd" \
	"${h[@]}" --tap-netns=/proc/self/ns/net "$pid" tap0
usage_error "--tap-netns=/nonexistent" "--tap-netns: /nonexistent:" \
	"${h[@]}" --netns-type=tapfd --tap-netns=/nonexistent 0
config_error "tapfd + --userns-path" "--userns-path cannot be used with --netns-type=tapfd without --tap-netns" \
	"${h[@]}" --netns-type=tapfd --userns-path=/proc/self/ns/user 0
usage_error "PID 0" "PID must be a positive integer" "${h[@]}" 0 tap0
usage_error "PID abc" "PID must be a positive integer" "${h[@]}" abc tap0
usage_error "--target-type=foo" '--target-type must be either "netns" or "bess"' \
	"${h[@]}" --target-type=foo "$pid" tap0

# --- MAC
# slirp4netns: "--macaddr cannot be specified when --configure or -c is not
# specified"
usage_error "--macaddress without -c" "cannot be specified when --configure or -c is not specified" \
	"${h[@]}" --macaddress 02:11:22:33:44:55 "$pid" tap0
for v in zz:11:22:33:44:55 hello ""; do
	config_error "-c --macaddress '$v'" "\"$v\" is an invalid MAC address" \
		"${h[@]}" -c --macaddress "$v" "$pid" tap0
done

# --- outbound addresses
for v in bogus0 999.1.1.1 ::1; do
	config_error "--outbound-addr=$v" "outbound-addr has to be valid ipv4 address or interface name" \
		"${h[@]}" "--outbound-addr=$v" "$pid" tap0
done
for v in bogus0 zz:: 127.0.0.1; do
	# slirp4netns prints "outbound-addr has to be valid ipv4 address or
	# iterface name." here; only the common part is required
	config_error "--outbound-addr6=$v" "has to be valid" "${h[@]}" "--outbound-addr6=$v" "$pid" tap0
	assert_contains "$CLI_ERR" "outbound-addr" "--outbound-addr6=$v: message names outbound-addr"
done

# --- a bad CIDR (test-cidr.sh has all forms)
config_error "--cidr 10.0.2.0/26" "prefix length needs to be 1-25" "${h[@]}" --cidr 10.0.2.0/26 "$pid" tap0

# --- unknown options and positionals
usage_error "--bogus" "unrecognized option '--bogus'" "${h[@]}" --bogus "$pid" tap0
usage_error "--bogus=1" "unrecognized option '--bogus=1'" "${h[@]}" --bogus=1 "$pid" tap0
usage_error "missing TAPNAME" "" "${h[@]}" "$pid"
usage_error "no arguments" "" "${h[@]}"
usage_error "-e without argument" "" -e

# too many positionals: a warning, the daemon still starts
daemon_start --exit-fd 4 -- "$pid" tap0 extra
ok "too many positionals: the daemon became ready"
daemon_stop
assert_eq 0 "$DAEMON_STATUS" "too many positionals: exit status"
assert_contains "$(cat "$DAEMON_LOG")" "WARNING: too many arguments" "too many positionals: WARNING"

# GNU permutation: options after the positionals
daemon_start --raw --ready-fd 3 --exit-fd 4 -- "$pid" --mtu 9000 tap0 -c -r 3 -e 4
assert_eq 9000 "$(ns_link_field "$pid" tap0 mtu)" "permutation 'PID --mtu 9000 tap0 -c ...': MTU"
assert_eq 10.0.2.100/24 "$(ns_addrs4 "$pid" tap0)" "permutation 'PID --mtu 9000 tap0 -c ...': -c honoured"
daemon_stop
assert_eq 0 "$DAEMON_STATUS" "permutation: exit status"

# deprecated alias
run_cli "${h[@]}" --no-host-loopback "$pid" tap0
assert_eq 0 "$CLI_RC" "--no-host-loopback (deprecated alias) accepted"
assert_contains "$CLI_OUT" "deprecated" "--no-host-loopback: deprecation WARNING on stdout"

# --- --help / -h
advertised=()
for o in --help -h; do
	rc=0
	out=$(timeout 10 "$SLIRPD" "$o" 2>"$T/help.err") || rc=$?
	assert_eq 0 "$rc" "$o: exit status"
	assert_contains "$out" "Usage:" "$o: usage on stdout"
	for w in --netns-type --mtu --cidr --disable-host-loopback --api-socket --enable-ipv6 \
		--outbound-addr --configure --exit-fd --ready-fd --userns-path; do
		grep -qw -- "$w" <<<"$out" || _afail "$o: stdout lacks the whole word $w: $out"
	done
	ok "$o: stdout has the feature words podman/RootlessKit/dockerd-rootless.sh grep for"
	for w in --enable-sandbox --enable-seccomp; do
		if grep -qw -- "$w" <<<"$out"; then
			advertised+=("$w")
		fi
	done
done
# podman and RootlessKit's "auto" turn on whatever --help advertises, so an
# advertised --enable-sandbox/--enable-seccomp must really work (contract 5).
# (slirpd-specific: the original brief said slirpd must not advertise them
# yet; once it does, they have to start and carry traffic.)
mapfile -t advertised < <(printf '%s\n' "${advertised[@]}" | sort -u | grep .)
if [ -n "$slirpd" ] && [ "${#advertised[@]}" -gt 0 ]; then
	info "slirpd advertises ${advertised[*]}: checking that they work"
	svc_start tcp-echo 127.0.0.1
	daemon_start --exit-fd 4 -- -c "${advertised[@]}" "$pid" tap0
	if msg=$(ns_tcp_roundtrip "$pid" 10.0.2.2 "$SVC_PORT" 10000); then
		ok "advertised ${advertised[*]} work: daemon ready and TCP through 10.0.2.2 (slirpd-specific)"
	else
		_afail "with ${advertised[*]}: TCP to 10.0.2.2 failed: $msg"
	fi
	daemon_stop
	assert_eq 0 "$DAEMON_STATUS" "with ${advertised[*]}: exit status"
elif [ -n "$slirpd" ]; then
	ok "--help does not advertise --enable-sandbox/--enable-seccomp (slirpd-specific)"
fi

# --- --version / -v
for o in --version -v; do
	rc=0
	out=$(timeout 10 "$SLIRPD" "$o" 2>/dev/null) || rc=$?
	assert_eq 0 "$rc" "$o: exit status"
	first=${out%%$'\n'*}
	[[ $first =~ ^[A-Za-z0-9_.-]+\ version\ [0-9]+\.[0-9]+\.[0-9]+ ]] ||
		_afail "$o: first line should be '<name> version X.Y.Z', seen '$first'"
	ok "$o: first line '$first'"
	assert_match "$out" '^libslirp: [0-9]+\.[0-9]+' "$o: a 'libslirp:' line"
done

# --- slirpd-specific
if [ -n "$slirpd" ]; then
	run_cli "${h[@]}" --outbound-addr6=lo "$pid" tap0
	[ "$CLI_RC" = 0 ] || _afail "--outbound-addr6=lo should resolve lo's IPv6 address (slirpd-specific), exit $CLI_RC: $CLI_ERR"
	ok "--outbound-addr6=lo accepted (slirpd-specific)"
	assert_contains "$CLI_OUT" "::1" "--outbound-addr6=lo: the banner shows ::1 (slirpd-specific)"

	run_cli "${h[@]}" --target-type=bess "$pid" tap0
	assert_eq 1 "$CLI_RC" "--target-type=bess: exit status (slirpd-specific)"
	assert_contains "$CLI_ERR" "bess" "--target-type=bess: message names bess (slirpd-specific)"

	for v in abc 3x; do
		run_cli "${h[@]}" --netns-type=tapfd "$v"
		assert_eq 1 "$CLI_RC" "--netns-type=tapfd '$v': exit status (slirpd-specific)"
		printf '%s\n' "$CLI_ERR" | grep -Eqi 'fd|descriptor' ||
			_afail "--netns-type=tapfd '$v': stderr should say it needs a file descriptor, seen '$CLI_ERR'"
		ok "--netns-type=tapfd '$v': clear message (slirpd-specific)"
	done

	# installed as "slirp4netns" (-Dslirp4netns_link=true, what
	# dockerd-rootless.sh and RootlessKit look for): the usage and the
	# error text use the name it was invoked as
	ln -s "$SLIRPD" "$T/slirp4netns"
	out=$("$T/slirp4netns" --help) || _afail "slirp4netns --help through the link failed"
	assert_contains "$out" "Usage: slirp4netns [OPTION]..." "invoked as slirp4netns: the usage says slirp4netns (slirpd-specific)"
	grep -qw -- --netns-type <<<"$out" ||
		_afail "invoked as slirp4netns: --help | grep -w -- --netns-type fails"
	ok "invoked as slirp4netns: dockerd-rootless.sh's probe (grep -w -- --netns-type) finds it"
	err=$("$T/slirp4netns" --cidr=10.0.2.1/24 1 tap0 2>&1 >/dev/null) && _afail "bad cidr accepted through the link"
	assert_contains "$err" "slirp4netns: CIDR needs to be a network address" "invoked as slirp4netns: errors name slirp4netns (slirpd-specific)"
else
	info "not slirpd: skipping the slirpd-specific checks"
fi

info "PASS"
