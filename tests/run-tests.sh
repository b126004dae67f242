#!/bin/bash
# run-tests.sh - install what is needed (Debian 12, as root), build, and run the
# whole test suite: unit tests, integration tests, and a bounded fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/deps.sh

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

# the fuzzers need clang's libFuzzer: a separate build whose 'fuzz' suite
# runs each target for a bounded time from the seeds in tests/fuzz/corpus
if command -v clang >/dev/null 2>&1 && ls tests/fuzz/fuzz-*.c >/dev/null 2>&1; then
	fuzzdir=${builddir}-fuzz
	if [ -f "$fuzzdir/build.ninja" ]; then
		meson setup --reconfigure "$fuzzdir" >/dev/null
	else
		CC=clang meson setup "$fuzzdir" -Dfuzz=enabled -Dman=disabled >/dev/null
	fi
	ninja -C "$fuzzdir"
	meson test -C "$fuzzdir" --suite fuzz --print-errorlogs || status=1
fi

# one closing line for CI: "N passed, N failed, N skipped" over both builds
count() {
	cat "$builddir/meson-logs/testlog.json" "${fuzzdir:-/nonexistent}/meson-logs/testlog.json" \
		"$builddir/meson-logs/testlog-sandbox.json" \
		2>/dev/null | jq -s "[.[] | select($1)] | length"
}
echo "$(count '.result == "OK" or .result == "EXPECTEDFAIL"') passed," \
	"$(count '.result == "FAIL" or .result == "TIMEOUT" or .result == "ERROR" or .result == "UNEXPECTEDPASS"') failed," \
	"$(count '.result == "SKIP"') skipped"
exit $status
