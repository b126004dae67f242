#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run-tests.sh - install what is needed (Debian 12, as root), build, and run the
# whole test suite: unit tests, integration tests, and a bounded fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/deps.sh test

# no daemon of the suite reads the user's or the system's slirpd.conf
# (test-conffile sets up its own files); meson's integration env says so too
export SLIRPD_NO_CONFIG=1

builddir=${SLIRPD_BUILD:-build}
if [ -f "$builddir/build.ninja" ]; then
	meson setup --reconfigure "$builddir" >/dev/null
else
	meson setup "$builddir" --werror >/dev/null
fi
ninja -C "$builddir"

meson test -C "$builddir" --print-errorlogs "$@" && status=0 || status=1

# the integration suite again with every daemon isolated, as podman and
# RootlessKit run it once --help advertises the flags (lib.sh daemon_start)
if [ $# = 0 ]; then
	SLIRPD_TEST_EXTRA_ARGS="--enable-sandbox --enable-seccomp" \
		meson test -C "$builddir" --suite integration --logbase testlog-sandbox \
		--print-errorlogs || status=1
fi

# the fuzzers need clang's libFuzzer (deps.sh installs clang and its
# runtimes): a separate build whose 'fuzz' suite runs each target for a
# bounded time from the seeds in tests/fuzz/corpus
fuzzdir=
if [ $# = 0 ]; then
	fuzzdir=${builddir}-fuzz
	if [ -f "$fuzzdir/build.ninja" ]; then
		meson setup --reconfigure "$fuzzdir" >/dev/null
	else
		CC=clang meson setup "$fuzzdir" -Dfuzz=enabled -Dman=disabled >/dev/null
	fi
	if ninja -C "$fuzzdir"; then
		meson test -C "$fuzzdir" --suite fuzz --print-errorlogs || status=1
	else
		echo "run-tests.sh: the fuzz build failed" >&2
		status=1
	fi
fi

# the unit and integration tests once more in a build with AddressSanitizer
# and UndefinedBehaviorSanitizer (heap.c is left out of it: the runtime owns
# malloc). Every report goes to a file in $reports, which the daemons of the
# unprivileged user can write too; any report fails the run
sandir=
if [ $# = 0 ]; then
	sandir=${builddir}-sanitize
	if [ -f "$sandir/build.ninja" ]; then
		meson setup --reconfigure "$sandir" >/dev/null
	else
		meson setup "$sandir" -Db_sanitize=address,undefined -Dman=disabled \
			-Dfuzz=disabled --werror >/dev/null
	fi
	ninja -C "$sandir"
	reports=$(mktemp -d /tmp/slirpd-sanitizer.XXXXXX)
	chmod 1777 "$reports"
	ASAN_OPTIONS="log_path=$reports/asan:verify_asan_link_order=0:detect_leaks=1" \
		UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1" \
		meson test -C "$sandir" --suite unit --suite integration \
		--print-errorlogs || status=1
	if [ -n "$(ls -A "$reports")" ]; then
		echo "run-tests.sh: sanitizer reports:" >&2
		head -n 80 "$reports"/* >&2
		status=1
	fi
	rm -rf "$reports"
fi

logs=("$builddir/meson-logs/testlog.json")
[ $# != 0 ] || logs+=("$builddir/meson-logs/testlog-sandbox.json" "$fuzzdir/meson-logs/testlog.json"
	"$sandir/meson-logs/testlog.json")
results() {
	local f
	for f in "${logs[@]}"; do if [ -f "$f" ]; then cat "$f"; fi; done | jq -rs "$1"
}

# every skipped test and its reason. Only a skip for what the kernel cannot
# do is accepted (lib.sh skip_kernel, peers.sh peers_skip: "SKIP (kernel):");
# any other one (a missing package, test user or reachable binary) is the
# suite's own set-up failing, and counts as a failure
skips=$(results '.[] | select(.result == "SKIP") |
	(.name | sub("^slirpd:"; "")) + "\t" +
	(((.stdout // "") | split("\n") | map(select(test("SKIP"))) | last) // "no reason given")')
avoidable=0
if [ -n "$skips" ]; then
	echo "skipped tests:"
	while IFS=$'\t' read -r name why; do
		case $why in
		*"SKIP (kernel):"*) echo "  $name: $why" ;;
		*)
			echo "  $name: $why  <- avoidable: counted as a failure"
			avoidable=$((avoidable + 1))
			;;
		esac
	done <<<"$skips"
	[ "$avoidable" = 0 ] || status=1
fi

# one closing line for CI: "N passed, N failed, N skipped" over every build
count() { results "[.[] | select($1)] | length"; }
echo "$(count '.result == "OK" or .result == "EXPECTEDFAIL"') passed," \
	"$(($(count '.result == "FAIL" or .result == "TIMEOUT" or .result == "ERROR" or .result == "UNEXPECTEDPASS"') + avoidable)) failed," \
	"$(($(count '.result == "SKIP"') - avoidable)) skipped"
exit $status
