#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# seccomp-trace.sh - find the system calls the sandboxed daemon makes, to
# (re)build the allow-list in src/seccomp_rules.h.  Runs the integration
# scripts (all, or those named) with SLIRPD pointing to a wrapper that runs
#   strace -f -qq -o TRACE slirpd --enable-sandbox ARGS...
# (sandbox only, no seccomp: the filter must not hide what it would block),
# then counts, per traced process, the calls made after the sandbox was
# complete (after the capset() that drops the capabilities), over all runs.
# Root only (the integration scripts are).  Test failures are expected and
# ignored here (some tests look at /proc/PID of the daemon and find strace).
#
#   tests/seccomp-trace.sh                      # every tests/integration/test-*.sh
#   tests/seccomp-trace.sh test-dns test-tcp-udp
#
# Output: "COUNT NAME" lines, most frequent first, then names used *before*
# the sandbox only (for reference), and the trace directory (kept).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
: "${SLIRPD_BUILD_DIR:=$src/build}"
real=$SLIRPD_BUILD_DIR/src/slirpd
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
command -v strace >/dev/null || { echo "needs strace" >&2; exit 1; }
[ -x "$real" ] || { echo "build first: $real" >&2; exit 1; }

dir=$(mktemp -d /tmp/slirpd-seccomp-trace.XXXXXX)
chmod 1777 "$dir"
cat >"$dir/slirpd" <<EOF
#!/bin/sh
exec strace -f -qq -o "$dir/trace.\$\$" "$real" --enable-sandbox "\$@"
EOF
chmod 755 "$dir/slirpd"

if [ $# -eq 0 ]; then
	set -- tests/integration/test-*.sh
fi
for t in "$@"; do
	case $t in */*) ;; *) t=tests/integration/${t%.sh}.sh ;; esac
	echo "== $t" >&2
	SLIRPD=$dir/slirpd SLIRPD_BUILD_DIR=$SLIRPD_BUILD_DIR \
		DAEMON_READY_TIMEOUT=30 timeout 900 bash "$t" >"$dir/$(basename "$t").log" 2>&1 ||
		echo "   (exit $?: see $dir/$(basename "$t").log)" >&2
done

# "PID name(" / "PID <... name resumed>"; the marker is capset(
awk '
FNR == 1 { anyafter = 0; delete seen; delete after }
{
	pid = $1
	line = substr($0, length(pid) + 2)
	if (line ~ /^<\.\.\. [a-z0-9_]+ resumed>/) {
		name = line; sub(/^<\.\.\. /, "", name); sub(/ resumed>.*/, "", name)
		resumed = 1
	} else if (line ~ /^[a-z0-9_]+\(/) {
		name = line; sub(/\(.*/, "", name)
		resumed = 0
	} else
		next
	if (!(pid in seen)) {
		seen[pid] = 1
		after[pid] = anyafter
	}
	if (resumed)
		next
	if (after[pid]) {
		n[name]++
		# the arguments the rules restrict: ioctl request, socket
		# domain, open flags
		if (name == "ioctl" || name == "socket" || name == "openat" || name == "open") {
			a = line; sub(/^[a-z]+\(/, "", a); split(a, f, ", ")
			k = name == "ioctl" ? f[2] : name == "socket" ? f[1] : name == "openat" ? f[3] : f[2]
			sub(/[,)].*/, "", k)
			args[name " " k]++
		}
	} else
		pre[name] = 1
	if (name == "capset") {
		after[pid] = 1
		anyafter = 1
	}
}
END {
	for (k in n) printf "%8d %s\n", n[k], k | "sort -rn"
	close("sort -rn")
	for (k in args) printf "   args: %s (%d)\n", k, args[k]
	printf "-- before the sandbox only:"
	for (k in pre) if (!(k in n)) printf " %s", k
	printf "\n"
}' "$dir"/trace.*
echo "-- traces: $dir" >&2
