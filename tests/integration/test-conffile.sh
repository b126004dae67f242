#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-conffile.sh - default options from configuration files:
#   1  the user's file ($XDG_CONFIG_HOME/slirpd/slirpd.conf): its options
#      apply (a rule, --log-denied, --busy-poll), its rules come before
#      the command line's (a file's deny is not undone by a caller's
#      allow), a value on the command line wins; get_info names the file
#      and each rule's FILE:LINE
#   2  ~/.config/slirpd/slirpd.conf when XDG_CONFIG_HOME is unset
#   3  /etc/slirpd.conf (bind-mounted in this test's private mount
#      namespace) before the user's file
#   4  --no-config and SLIRPD_NO_CONFIG turn the files off
#   5  a bad line is an error at start naming the file and the line
#   6  a file the user may not read is skipped with a warning
# Never the real user's or system's files: everything is in the temp dir,
# and /etc is a copy mounted in a private mount namespace.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
enter_private_host_ns "$@"

require_root
require_cmd ip nsenter unshare socat ss jq mount
is_slirpd || skip "slirpd-only: configuration files"
require_python "the probes"
api_init
API_SOCK=$T/api.sock
cp "$(dirname "$0")/policyprobe.py" "$T/probe.py"
chmod 644 "$T/probe.py"

ip addr add 192.0.2.2/32 dev lo
svc_start tcp-echo 192.0.2.2
t2=$SVC_PORT

# the test's own files only, then the switch meson sets taken off
export XDG_CONFIG_HOME=$T/xdg HOME=$T/home
mkdir -p "$XDG_CONFIG_HOME/slirpd" "$HOME/.config/slirpd"
unset SLIRPD_NO_CONFIG
UCONF=$XDG_CONFIG_HOME/slirpd/slirpd.conf

info_get() { # JQ-PATH in get_info
	api rootlesskit '{"execute":"get_info"}'
	jq -r ".return$1" <<<"$API_REPLY"
}
start() { # ARGS...: a daemon with the API socket
	NS=$(ns_start)
	daemon_start --exit-fd 4 -- -c --api-socket "$API_SOCK" "$@" "$NS" tap0
}
stop() {
	daemon_stop_ok "$1"
	kill_wait "$NS"
}

# --- 1
cat >"$UCONF" <<EOF
# every container: no database on 192.0.2.2, quieter polling

deny=tcp:192.0.2.2:$t2
  log-denied
busy-poll = 0
EOF
start --allow=tcp:192.0.2.2:"$t2" --shards=2
assert_eq "$UCONF" "$(info_get '.policy.config_files[0]')" "1: get_info names the file"
assert_eq "tcp:192.0.2.2:$t2" "$(info_get '.policy.rules[0].rule')" "1: the file's rule first"
assert_eq "$UCONF:3" "$(info_get '.policy.rules[0].origin')" "1: ... with its FILE:LINE"
assert_eq "command line" "$(info_get '.policy.rules[1].origin')" "1: the command line's after it"
assert_eq true "$(info_get '.policy.log_denied')" "1: log-denied from the file"
assert_eq 0 "$(info_get '.busy_poll.max_us')" "1: busy-poll from the file"
PROBE=$(ns_exec -t 20 "$NS" "$PY" "$T/probe.py" tcp 192.0.2.2 "$t2")
assert_match "$PROBE" "^refused " "1: the file's deny wins over the caller's allow"
assert_contains "$(cat "$DAEMON_LOG")" "policy: denied tcp 10.0.2.100 -> 192.0.2.2 port $t2 (rule 1: deny=tcp:192.0.2.2:$t2, $UCONF:3)" \
	"1: the log line names the file's rule"
stop "1"
start --busy-poll=30
assert_eq 30 "$(info_get '.busy_poll.max_us')" "1: the command line's value wins"
stop "1 (value)"

# --- 2
mv "$UCONF" "$HOME/.config/slirpd/slirpd.conf"
unset XDG_CONFIG_HOME
start
assert_eq "$HOME/.config/slirpd/slirpd.conf" "$(info_get '.policy.config_files[0]')" \
	"2: ~/.config/slirpd/slirpd.conf without XDG_CONFIG_HOME"
stop "2"
export XDG_CONFIG_HOME=$T/xdg
rm "$HOME/.config/slirpd/slirpd.conf"

# --- 3: /etc/slirpd.conf, on a copy of /etc mounted in this mount namespace
cp -a /etc "$T/etc"
# (a flag that every build runs with: the sanitizers' runtime does not
# live under the seccomp filter)
printf 'deny=udp:192.0.2.9\ndisable-dns\n' >"$T/etc/slirpd.conf"
mount --bind "$T/etc" /etc
printf 'deny=tcp:192.0.2.9\n' >"$UCONF"
start
assert_eq /etc/slirpd.conf "$(info_get '.policy.config_files[0]')" "3: /etc/slirpd.conf read"
assert_eq "$UCONF" "$(info_get '.policy.config_files[1]')" "3: then the user's"
assert_eq "/etc/slirpd.conf:1" "$(info_get '.policy.rules[0].origin')" "3: /etc's rule first"
assert_eq "$UCONF:1" "$(info_get '.policy.rules[1].origin')" "3: the user's second"
assert_eq true "$(info_get '.config.disable_dns')" "3: a flag from /etc"
stop "3"

# --- 4
start --no-config
assert_eq 0 "$(info_get '.policy.rules | length')" "4: --no-config: no rules"
assert_eq 0 "$(info_get '.policy.config_files | length')" "4: --no-config: no file"
stop "4"
SLIRPD_NO_CONFIG=1 start
assert_eq 0 "$(info_get '.policy.config_files | length')" "4: SLIRPD_NO_CONFIG: no file"
stop "4 (env)"
umount /etc

# --- 5
bad() { # LINE WANT WHAT
	printf '# a comment\n%s\n' "$1" >"$UCONF"
	run_cli -c 1 tap0
	assert_eq 1 "$CLI_RC" "5: $3: exit status 1"
	assert_contains "$CLI_ERR" "$UCONF:2: $2" "5: $3: the message names the file and line"
}
bad frobnicate=1 "unknown option 'frobnicate'" "an unknown option"
bad mtu=abc "MTU must be" "a bad value"
bad "deny=tcp:192.0.2.0/24:99999" "--deny: tcp:192.0.2.0/24:99999" "a bad rule"
bad enable-seccomp=yes "enable-seccomp takes no value" "a value for a flag"
bad busy-poll "busy-poll needs a value" "a flag for a value"
bad api-socket=/x "api-socket cannot be set in a configuration file" "a per-instance option"
bad "--mtu=1500" "'--mtu' is not an option name" "dashes"
rm "$UCONF"

# --- 6: a file the user may not read (a HOME that is not theirs, as after
# su without -) is skipped with a warning, not a failure
if have_test_user; then
	mkdir -p "$T/roothome/.config/slirpd"
	echo 'deny=tcp:192.0.2.2' >"$T/roothome/.config/slirpd/slirpd.conf"
	chmod 700 "$T/roothome"
	rc=0
	as_user env -u SLIRPD_NO_CONFIG -u XDG_CONFIG_HOME HOME="$T/roothome" \
		timeout 10 "$SLIRPD" 0 tap0 </dev/null >"$T/u.out" 2>"$T/u.err" || rc=$?
	assert_eq 1 "$rc" "6: exit status 1 (for the PID 0, not for the file)"
	assert_contains "$(cat "$T/u.out")" \
		"WARNING: cannot read $T/roothome/.config/slirpd/slirpd.conf (permission denied), ignoring it" \
		"6: the unreadable file is named in a warning"
	assert_contains "$(cat "$T/u.err")" "PID must be a positive integer" \
		"6: and the start goes on to the next check"
fi

info "PASS"
