#!/bin/bash
# deps.sh - install what building and testing slirpd needs on Debian 12 (as root),
# create the unprivileged test user and make /dev/net/tun usable by it. Idempotent.
set -eu
export DEBIAN_FRONTEND=noninteractive

build_pkgs="gcc meson ninja-build pkg-config git libslirp-dev libglib2.0-dev
  libseccomp-dev libcap-dev libjson-glib-dev libmnl-dev go-md2man"
test_pkgs="iproute2 util-linux procps uidmap slirp4netns passt podman rootlesskit
  crun iperf3 busybox-static ncat socat jq clang strace libcap2-bin"

want=
for p in $build_pkgs $test_pkgs; do
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

if [ "$(id -u)" = 0 ]; then
	user=${SLIRPD_TEST_USER:-slirpd-test}
	id -u "$user" >/dev/null 2>&1 || useradd -m -s /bin/sh "$user"
	# Debian gives new users subordinate ids; make sure (podman needs them)
	grep -q "^$user:" /etc/subuid || echo "$user:200000:65536" >>/etc/subuid
	grep -q "^$user:" /etc/subgid || echo "$user:200000:65536" >>/etc/subgid
	# a fresh machine may have it 0600: unprivileged users create taps through it
	chmod 666 /dev/net/tun
fi
echo "deps.sh: ready"
