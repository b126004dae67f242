/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-isolation.c - unit tests for isolation.c: resolv.conf resolution, the rule tables, stage 1 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "isolation.h"
#include "tapout.h"

/* architectures a rule name must exist on at least one of (typo check) */
static const uint32_t test_arches[] = {
    SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_AARCH64, SCMP_ARCH_ARM,
    SCMP_ARCH_PPC64LE, SCMP_ARCH_S390X, SCMP_ARCH_RISCV64,
};

static char test_dir[256];

static void test_path(char *buf, size_t len, const char *rel)
{
    if (snprintf(buf, len, "%s/%s", test_dir, rel) >= (int)len)
        abort();
}

static void test_resolv(void)
{
    char p[PATH_MAX], link[PATH_MAX], want[PATH_MAX + 64], got[PATH_MAX + 64];
    char real_dir[PATH_MAX];
    int fd;

    /* a regular file: itself */
    test_path(p, sizeof(p), "etc/resolv.conf");
    mkdir(test_dir, 0755);
    test_path(want, sizeof(want), "etc");
    mkdir(want, 0755);
    fd = open(p, O_CREAT | O_WRONLY, 0644);
    close(fd);
    realpath(want, real_dir);
    snprintf(want, sizeof(want), "%s/resolv.conf", real_dir);
    TAP_IS_INT(isolate_resolv_target(p, got, sizeof(got)), 0, "regular file");
    TAP_IS_STR(got, want, "regular file: its own path");

    /* absolute symlink into another directory (outside /etc and /run) */
    test_path(want, sizeof(want), "nix");
    mkdir(want, 0755);
    test_path(want, sizeof(want), "nix/store");
    mkdir(want, 0755);
    test_path(want, sizeof(want), "nix/store/resolv.conf");
    fd = open(want, O_CREAT | O_WRONLY, 0644);
    close(fd);
    test_path(link, sizeof(link), "etc/abs.conf");
    symlink(want, link);
    TAP_IS_INT(isolate_resolv_target(link, got, sizeof(got)), 0, "absolute symlink");
    test_path(want, sizeof(want), "nix/store");
    realpath(want, real_dir);
    snprintf(want, sizeof(want), "%s/resolv.conf", real_dir);
    TAP_IS_STR(got, want, "absolute symlink: the target");

    /* relative symlink to a relative symlink (../run/x -> ../nix/store/...) */
    test_path(p, sizeof(p), "run");
    mkdir(p, 0755);
    test_path(p, sizeof(p), "run/resolved-link.conf");
    symlink("../nix/store/resolv.conf", p);
    test_path(link, sizeof(link), "etc/rel.conf");
    symlink("../run/resolved-link.conf", link);
    TAP_IS_INT(isolate_resolv_target(link, got, sizeof(got)), 0, "relative chain");
    TAP_IS_STR(got, want, "relative chain: the final file");

    /* dangling: the file may appear later; its directory must exist */
    test_path(link, sizeof(link), "etc/dangling.conf");
    symlink("../run/not-yet.conf", link);
    test_path(p, sizeof(p), "run");
    realpath(p, real_dir);
    snprintf(want, sizeof(want), "%s/not-yet.conf", real_dir);
    TAP_IS_INT(isolate_resolv_target(link, got, sizeof(got)), 0, "dangling symlink");
    TAP_IS_STR(got, want, "dangling symlink: where the file would be");

    /* a symlinked directory on the way is canonicalised */
    test_path(p, sizeof(p), "run-link");
    symlink("run", p);
    test_path(link, sizeof(link), "etc/via-dirlink.conf");
    snprintf(p, sizeof(p), "%s/run-link/not-yet.conf", test_dir);
    symlink(p, link);
    TAP_IS_INT(isolate_resolv_target(link, got, sizeof(got)), 0, "via a directory symlink");
    TAP_IS_STR(got, want, "via a directory symlink: canonical directory");

    /* missing directory, loops */
    test_path(link, sizeof(link), "etc/nodir.conf");
    symlink("/nonexistent-slirpd-dir/resolv.conf", link);
    TAP_IS_INT(isolate_resolv_target(link, got, sizeof(got)), -ENOENT,
               "target directory missing: -ENOENT");
    test_path(link, sizeof(link), "etc/loop-a");
    symlink("loop-b", link);
    test_path(link, sizeof(link), "etc/loop-b");
    symlink("loop-a", link);
    TAP_IS_INT(isolate_resolv_target(link, got, sizeof(got)), -ELOOP,
               "symlink loop: -ELOOP");
    TAP_IS_INT(isolate_resolv_target(p, got, 4), -ENAMETOOLONG,
               "result longer than the buffer: -ENAMETOOLONG");
}

static void test_rules(const char *what, const struct isolate_rule *r,
                       size_t n, bool allow)
{
    size_t i, j, unknown = 0, native_missing = 0;
    char names[1024] = "";

    TAP_OK(n > 0, "%s: has rules", what);
    for (i = 0; i < n; i++) {
        bool known = false;

        for (j = 0; j < sizeof(test_arches) / sizeof(test_arches[0]); j++)
            if (seccomp_syscall_resolve_name_arch(test_arches[j], r[i].name) >= 0)
                known = true;
        if (!known) {
            unknown++;
            strncat(names, " ", sizeof(names) - strlen(names) - 1);
            strncat(names, r[i].name, sizeof(names) - strlen(names) - 1);
        }
        if (seccomp_syscall_resolve_name(r[i].name) == __NR_SCMP_ERROR)
            native_missing++;
        if (allow && r[i].err != 0 && r[i].err != ENOSYS)
            unknown++;
        if (!allow && r[i].err <= 0)
            unknown++;
    }
    if (!TAP_OK(unknown == 0, "%s: every name is a system call somewhere, "
                "errnos only on escape rules (and ENOSYS)", what))
        printf("#   unknown:%s\n", names);
    TAP_IS_INT(native_missing, 0, "every name is known to this libseccomp");
}

static void test_tables(void)
{
    const struct isolate_rule *r;
    size_t n, i;
    bool has_write = false, has_exit = false, has_execve = false;
    bool has_sigreturn = false;

    r = isolate_allow_rules(&n);
    test_rules("allow-list", r, n, true);
    for (i = 0; i < n; i++) {
        has_write |= !strcmp(r[i].name, "write");
        has_exit |= !strcmp(r[i].name, "exit_group");
        has_sigreturn |= !strcmp(r[i].name, "rt_sigreturn");
        has_execve |= !strcmp(r[i].name, "execve") ||
                      !strcmp(r[i].name, "ptrace") ||
                      !strcmp(r[i].name, "mount") ||
                      !strcmp(r[i].name, "unshare") ||
                      !strcmp(r[i].name, "setns") ||
                      !strcmp(r[i].name, "clone") ||
                      !strcmp(r[i].name, "clone3");
    }
    TAP_OK(has_write && has_exit && has_sigreturn,
           "the SIGSYS handler's own calls are allowed (write, exit_group)");
    TAP_OK(!has_execve, "no execve, ptrace, mount, unshare, setns, clone");

    r = isolate_escape_rules(&n);
    test_rules("escape list", r, n, false);
}

static void test_initial(void)
{
    struct config cfg = { 0 };
    struct isolate iso;
    int a, b, c;

    a = open("/dev/null", O_RDONLY);
    b = open("/dev/null", O_RDONLY);
    c = open("/dev/null", O_RDONLY);
    cfg.ready_fd = b;
    cfg.exit_fd = -1;
    cfg.netns_type = CONFIG_NETNS_PID;
    TAP_IS_INT(isolate_initial(&iso, &cfg, NULL), 0, "isolate_initial");
    TAP_OK(fcntl(a, F_GETFD) < 0 && errno == EBADF, "a stray fd is closed");
    TAP_OK(fcntl(c, F_GETFD) < 0 && errno == EBADF, "another stray fd is closed");
    TAP_OK(fcntl(b, F_GETFD) >= 0, "the ready fd is kept");
    TAP_OK(fcntl(STDOUT_FILENO, F_GETFD) >= 0, "stdout is kept");
    TAP_IS_INT(iso.root, ISOLATE_ROOT_NONE, "no root change yet");
    close(b);
}

int main(void)
{
    char cmd[PATH_MAX + 16];
    int r;

    snprintf(test_dir, sizeof(test_dir), "%s/slirpd-test-isolation.%d",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());

    test_resolv();
    test_tables();
    TAP_IS_INT(isolate_thread_count(), 1, "a unit test is single-threaded");
    test_initial();

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_dir);
    r = system(cmd);
    (void)r;
    return tap_done();
}
