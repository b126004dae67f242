#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-path-mode.sh - --netns-type=path and --userns-path:
#   A. RootlessKit 2/3 (--detach-netns) shape, no -c, pre-made tap:
#      `--mtu 65520 -r 3 --userns-path=/proc/PID/ns/user
#       --netns-type=path /proc/PID/ns/net tap0`, root and TEST_USER;
#   B. podman shape with -c on a netns bind-mounted to a file:
#      root: `unshare --net=FILE`, `-c -r 3 -e 4 --netns-type=path FILE tap0`;
#      TEST_USER: like rootless podman, the netns file lives in the mount
#      namespace of the user's own user namespace, and the daemon runs inside
#      that user+mount namespace: `-c -r 3 --netns-type=path FILE tap0`
#      (podman <= 4.6's rootless-netns form, no exit fd, SIGTERM to stop);
#   C. explicit --netns-type=pid.
# Runs in a private network+mount namespace (re-exec) so the bind mounts and
# services stay private.
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip nsenter unshare setpriv socat ss mount
enter_private_host_ns "$@"

svc_start tcp-echo 127.0.0.1
tcp_port=$SVC_PORT

test_variants

# --- A: RootlessKit 2/3 shape
for who in "${VARIANTS[@]}"; do
	as_variant "$who"
	pid=$(ns_start "${UOPT[@]}")
	ns_pretap "$pid" || fail "[A $who] cannot make tap0"
	daemon_start "${UOPT[@]}" --raw --ready-fd 3 -- --mtu 65520 -r 3 \
		"--userns-path=/proc/$pid/ns/user" --netns-type=path "/proc/$pid/ns/net" tap0
	assert_eq "" "$(ns_addrs4 "$pid" tap0)" "[A $who] no address set by the daemon"
	ns_pretap_configure "$pid"
	msg=$(ns_tcp_roundtrip "$pid" 10.0.2.2 "$tcp_port" 100000) || fail "[A $who] TCP: $msg"
	ok "[A $who] TCP through --userns-path + --netns-type=path"
	daemon_stop --signal KILL
	kill_wait "$pid"
done

# --- B root: netns bind-mounted on a file, -c
nsf=$T/netns-root
touch "$nsf"
unshare --net="$nsf" true || fail "[B root] unshare --net=$nsf failed"
daemon_start --raw --ready-fd 3 --exit-fd 4 -- --disable-host-loopback --mtu=65520 \
	-c -r 3 -e 4 --netns-type=path "$nsf" tap0
tgt=file:$nsf
assert_eq 10.0.2.100/24 "$(ns_addrs4 "$tgt" tap0)" "[B root] tap0 address"
assert_eq 65520 "$(ns_link_field "$tgt" tap0 mtu)" "[B root] tap0 MTU"
assert_eq 10.0.2.2 "$(ns_default_gw "$tgt")" "[B root] default gateway"
ns_link_up "$tgt" lo || fail "[B root] lo not UP"
ok "[B root] lo is UP"
msg=$(ns_tcp_fails "$tgt" 10.0.2.2 "$tcp_port") || fail "[B root] $msg"
ok "[B root] --disable-host-loopback honoured"
daemon_stop_ok "[B root]"
umount "$nsf"

# --- B user: the rootless podman layout
if have_test_user; then
	as_variant user
	nsf=$VDIR/netns
	spawn --user --log "$T/holders.log" unshare -rm sh -c \
		"touch '$nsf' && unshare --net='$nsf' true && exec sleep 600"
	holder=$SPAWN_PID
	wait_for -t 10 sh -c "[ \"\$(cat /proc/$holder/comm)\" = sleep ]" ||
		fail "[B user] holder did not come up: $(cat "$T/holders.log")"
	daemon_start --user --wrap "nsenter -t $holder -U -m --preserve-credentials" \
		--raw --ready-fd 3 -- --mtu=65520 --enable-ipv6 -c -r 3 --netns-type=path "$nsf" tap0
	tgt=mnt:$holder:$nsf
	assert_eq 10.0.2.100/24 "$(ns_addrs4 "$tgt" tap0)" "[B user] tap0 address"
	assert_eq 65520 "$(ns_link_field "$tgt" tap0 mtu)" "[B user] tap0 MTU"
	assert_eq 10.0.2.2 "$(ns_default_gw "$tgt")" "[B user] default gateway"
	msg=$(ns_tcp_roundtrip "$tgt" 10.0.2.2 "$tcp_port" 100000) || fail "[B user] TCP: $msg"
	ok "[B user] TCP through a bind-mounted netns file in the user's mount namespace"
	daemon_stop --signal TERM
	info "[B user] status after SIGTERM: $DAEMON_STATUS"
	kill_wait "$holder"
fi

# --- C: explicit --netns-type=pid
pid=$(ns_start)
daemon_start --exit-fd 4 -- -c --netns-type=pid "$pid" tap0
assert_eq 10.0.2.100/24 "$(ns_addrs4 "$pid" tap0)" "[C] --netns-type=pid: tap0 address"
msg=$(ns_tcp_roundtrip "$pid" 10.0.2.2 "$tcp_port" 1000) || fail "[C] TCP: $msg"
ok "[C] --netns-type=pid: TCP"
daemon_stop_ok "[C]"

info "PASS"
