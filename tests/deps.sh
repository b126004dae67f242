#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# deps.sh - install what building, the demo or the test suite needs on Debian 12 (as root). Idempotent.
#
#   bash tests/deps.sh [build|demo|test]     (default: test)
#
# build  the compiler, meson and the libraries slirpd links
# demo   build + the tools tests/demo.sh uses; creates the unprivileged user
#        slirpd-test (with /etc/subuid and /etc/subgid lines, which podman
#        needs) and makes /dev/net/tun usable by unprivileged users (0666)
# test   demo + the peers the suite runs side by side (slirp4netns, pasta,
#        podman, crun, RootlessKit, iperf3), clang with its fuzzer and
#        sanitizer runtimes (libclang-rt-14-dev, which clang only
#        recommends), and the suite's tools
set -eu
export DEBIAN_FRONTEND=noninteractive
set_name=${1:-test}

build_pkgs="gcc meson ninja-build pkg-config git libslirp-dev libglib2.0-dev
  libseccomp-dev libcap-dev libmnl-dev go-md2man"
demo_pkgs="iproute2 util-linux socat"
test_pkgs="procps uidmap slirp4netns passt podman rootlesskit crun iperf3
  busybox-static ncat jq iptables clang libclang-rt-14-dev strace libcap2-bin python3"

case $set_name in
build) pkgs=$build_pkgs ;;
demo) pkgs="$build_pkgs $demo_pkgs" ;;
test) pkgs="$build_pkgs $demo_pkgs $test_pkgs" ;;
*)
	echo "usage: deps.sh [build|demo|test]" >&2
	exit 2
	;;
esac

want=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || want="$want $p"
done
if [ -n "$want" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps.sh: missing packages:$want (run as root to install them)" >&2
		exit 1
	fi
	echo "deps.sh: installing$want"
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $want >/tmp/slirpd-deps.log 2>&1 ||
		{ tail -30 /tmp/slirpd-deps.log >&2; exit 1; }
fi

if [ "$(id -u)" = 0 ] && [ "$set_name" != build ]; then
	user=${SLIRPD_TEST_USER:-slirpd-test}
	id -u "$user" >/dev/null 2>&1 || useradd -m -s /bin/sh "$user"
	# Debian gives new users subordinate ids; make sure (podman needs them)
	grep -q "^$user:" /etc/subuid || echo "$user:200000:65536" >>/etc/subuid
	grep -q "^$user:" /etc/subgid || echo "$user:200000:65536" >>/etc/subgid
	# a fresh machine may have it 0600: unprivileged users create taps through it
	chmod 666 /dev/net/tun
fi
echo "deps.sh: ready ($set_name)"
