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

# the fuzzers need clang's libFuzzer: a separate build, a bounded run each
fuzz_status=0
if command -v clang >/dev/null 2>&1 && ls tests/fuzz/fuzz-*.c >/dev/null 2>&1; then
	fuzzdir=${builddir}-fuzz
	[ -f "$fuzzdir/build.ninja" ] || CC=clang meson setup "$fuzzdir" -Dfuzz=enabled -Dman=disabled >/dev/null
	ninja -C "$fuzzdir"
	for f in "$fuzzdir"/tests/fuzz/fuzz-*; do
		[ -x "$f" ] || continue
		echo "fuzz: $(basename "$f") for ${SLIRPD_FUZZ_SECONDS:-30} s"
		corpus=$(mktemp -d)
		seeds=tests/fuzz/corpus/$(basename "$f")
		[ -d "$seeds" ] || seeds=
		if ! "$f" -max_total_time="${SLIRPD_FUZZ_SECONDS:-30}" -rss_limit_mb=1024 \
			"$corpus" $seeds 2>"$corpus.log"; then
			tail -40 "$corpus.log"
			fuzz_status=1
		fi
		rm -rf "$corpus" "$corpus.log"
	done
fi

meson test -C "$builddir" --print-errorlogs "$@"
exit $fuzz_status
