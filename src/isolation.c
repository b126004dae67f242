/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isolation.c - staged self-isolation (prefix isolate_): fds, user and mount namespaces, caps, seccomp */
/*
 * DOC: Theory of Operation
 *
 * The daemon needs the host's filesystem, /proc and its privileges only to
 * start: to open the target's namespaces, create the tap, bind the API
 * socket. Once that is done it gives them up, in stages named for when
 * main() calls them, each exactly once:
 *
 * 1. isolate_initial() -- right after the options are parsed, before we open
 *    anything. Closes every inherited fd that is not ours (stdio, --ready-fd,
 *    --exit-fd, a --netns-type=tapfd tap). Runs with or without
 *    --enable-sandbox.
 *
 * 2. isolate_after_tap() -- once the tap fd is received (--enable-sandbox
 *    only). Building a mount namespace needs CAP_SYS_ADMIN in our user
 *    namespace. root and podman (which runs us inside its rootless user
 *    namespace) have it; an unprivileged caller (RootlessKit, a user's
 *    `slirpd PID tap0`) creates a user namespace of its own mapping only
 *    its own IDs, or, where that is refused, joins the target's with the
 *    fd ns_open() kept. slirp4netns joins the target's; ours is a child of
 *    the host's, where nothing in the container holds a capability.
 *    setns() into a user namespace needs a single-threaded process: if
 *    anything (glib included) started a thread, this stage fails and says
 *    how many there are.
 *
 * 3. isolate_before_threads(), then isolate_before_ready() -- when every
 *    host resource is open (tap, libslirp, API socket), right before the
 *    ready byte, so a caller that sees "ready" sees an isolated daemon; the
 *    worker threads of --threads (stackthread.c) start between a. and b.:
 *    a. --enable-sandbox: new mount (and IPC, UTS) namespace; "/" made
 *       private recursively so nothing propagates back to the host; every
 *       directory fd still open (fwd.c's for UNIX-socket forwards, ours on
 *       the API socket's directory) replaced, under the same number, by a
 *       detached clone of that directory (open_tree(OPEN_TREE_CLONE)), so
 *       ".." cannot lead out of it; an empty tmpfs mounted on /tmp, holding
 *       only a read-only, recursive bind of the directory of the real
 *       resolv.conf (after following
 *       /etc/resolv.conf's symlinks; a directory, not a copy, so that
 *       libslirp's re-reading follows the host's rewrites, including the
 *       rename() most tools use) and, when /etc/resolv.conf was a symlink
 *       elsewhere, a symlink to it at /etc/resolv.conf; /etc and /run
 *       present (empty otherwise: slirp4netns binds both, and checks of a
 *       sandbox look for them); the tmpfs made read-only; pivot_root()
 *       into it and the old root detached (umount2(MNT_DETACH)). Then
 *       PR_SET_NO_NEW_PRIVS, and every capability dropped from the
 *       bounding, ambient, inheritable, permitted and effective sets,
 *       except CAP_NET_BIND_SERVICE where it is held (as slirp4netns:
 *       root's and podman's daemon keep the low ports, a daemon in a user
 *       namespace of its own keeps a capability that grants nothing on
 *       the host). The process stays dumpable, as slirp4netns's (the
 *       user who started it can inspect /proc/PID/root; slirp4netns's own
 *       sandbox test does), unless it had to join the target's user
 *       namespace in stage 2 (see "Dumpability" below).
 *       Where pivot_root() is impossible (EINVAL: the root is the initial
 *       rootfs/initramfs, or its parent mount is shared), the same tmpfs is
 *       entered with chroot() instead: the old root stays mounted underneath
 *       but cannot be reached without CAP_SYS_CHROOT, which is gone; the
 *       kernel refuses a chrooted process a new user namespace (where it
 *       would get it back), and a small seccomp filter refuses that too,
 *       with setns() and the mount calls: see SECCOMP_ESCAPE in
 *       seccomp_rules.h. This is logged as a warning. A root that is not a
 *       mount point at all (a plain chroot directory) cannot be made
 *       private, so our mounts would reach the host: that is an error.
 *    b. --enable-seccomp: the allow-list in seccomp_rules.h, default action
 *       SECCOMP_RET_TRAP, loaded with SECCOMP_FILTER_FLAG_TSYNC so any
 *       thread that exists is covered as well as those started later. The
 *       SIGSYS handler writes the call's name and number with write(2) and
 *       exits with status ISOLATE_EXIT_SECCOMP.
 *
 * With --enable-sandbox, capabilities are per thread, so stage 3a refuses
 * to run in a multi-threaded process as well: the workers start after it,
 * without any capability, and before the filter of 3b, which covers them. Every failure is fatal and
 * reported by main(): there is no half sandbox.
 *
 * Dumpability. A tracer needs CAP_SYS_PTRACE in the user namespace of the
 * tracee's credentials (or to be in that very namespace with the same uid
 * and at least its capabilities) and, unless the tracee is dumpable, also
 * in the user namespace it was exec'd in. The daemon is exec'd outside the
 * container's user namespace, where nothing in the container holds a
 * capability, so nothing there can attach to it as long as its credentials
 * stay where they were, or move to a user namespace of the daemon's own
 * (stage 2's choice). Joining the target's user namespace, stage 2's
 * fallback and slirp4netns's way, moves them into the container's:
 * anything there with CAP_SYS_PTRACE could then attach to a dumpable
 * daemon, which still holds host sockets. So the daemon becomes
 * non-dumpable right before it joins (as the children of ns.c do before
 * they join), and stays dumpable otherwise. The price, only where it had
 * to join: the user who started it can no longer read its /proc/PID/root
 * or ptrace it; root still can. docs/isolation.md,
 * "Dumpability and ptrace".
 *
 * What stays reachable afterwards: the fds we hold (tap, libslirp's sockets,
 * the API socket, the namespace fds from ns_open()), the resolv.conf
 * directory (read-only), the directories of the API socket and of UNIX-socket
 * forwards through their confined fds (api.c and fwd.c unlink those files
 * at exit through them, only while they are still the sockets bound),
 * nothing else.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "err.h"
#include "fdclose.h"
#include "isolation.h"
#include "log.h"
#include "util.h"

/* exit status after a blocked system call: 128 + SIGSYS, as if killed by it */
#define ISOLATE_EXIT_SECCOMP (128 + SIGSYS)
/* where the empty root is built before pivot_root() */
#define ISOLATE_STAGING "/tmp"
#define ISOLATE_TMPFS_OPTS "mode=0755,size=16k,nr_inodes=64"
#define ISOLATE_RESOLV_CONF "/etc/resolv.conf"
/* system call names known to the SIGSYS handler, by number */
#define ISOLATE_SYSNAMES_MAX 1024

static const struct isolate_rule isolate_allow[] = {
#define SECCOMP_ALLOW(n) { #n, -1, 0, 0, false, 0 },
#define SECCOMP_ALLOW_ARG(n, a, m, v) { #n, a, m, v, false, 0 },
#define SECCOMP_ALLOW_SELF(n, a) { #n, a, 0xffffffff, 0, true, 0 },
#define SECCOMP_ENOSYS(n) { #n, -1, 0, 0, false, ENOSYS },
#define SECCOMP_ESCAPE(n, e)
#define SECCOMP_ESCAPE_ARG(n, a, m, v, e)
#define SECCOMP_HELPER(n)
#define SECCOMP_HELPER_ARG(n, a, m, v)
#include "seccomp_rules.h"
};

static const struct isolate_rule isolate_escape[] = {
#define SECCOMP_ALLOW(n)
#define SECCOMP_ALLOW_ARG(n, a, m, v)
#define SECCOMP_ALLOW_SELF(n, a)
#define SECCOMP_ENOSYS(n)
#define SECCOMP_ESCAPE(n, e) { #n, -1, 0, 0, false, e },
#define SECCOMP_ESCAPE_ARG(n, a, m, v, e) { #n, a, m, v, false, e },
#define SECCOMP_HELPER(n)
#define SECCOMP_HELPER_ARG(n, a, m, v)
#include "seccomp_rules.h"
};

/* for the SIGSYS handler: filled before the filter is loaded, never freed */
static char *isolate_sysnames[ISOLATE_SYSNAMES_MAX];
static uint32_t isolate_native_arch;

const struct isolate_rule *isolate_allow_rules(size_t *ret_n)
{
    *ret_n = ARRAY_SIZE(isolate_allow);
    return isolate_allow;
}

const struct isolate_rule *isolate_escape_rules(size_t *ret_n)
{
    *ret_n = ARRAY_SIZE(isolate_escape);
    return isolate_escape;
}

/* is @cap in our effective set (in the user namespace we are in)? */
static bool isolate_has_cap(cap_value_t cap)
{
    cap_flag_value_t v = CAP_CLEAR;
    cap_t caps = cap_get_proc();

    if (!caps)
        return false;
    if (cap_get_flag(caps, cap, CAP_EFFECTIVE, &v) < 0)
        v = CAP_CLEAR;
    cap_free(caps);
    return v == CAP_SET;
}

/**
 * isolate_thread_count() - how many threads this process has
 *
 * Return: the number of entries in /proc/self/task, or a negative errno
 */
int isolate_thread_count(void)
{
    struct dirent *de;
    DIR *d;
    int n = 0;

    d = opendir("/proc/self/task");
    if (!d)
        return -errno;
    while ((de = readdir(d)))
        if (de->d_name[0] >= '0' && de->d_name[0] <= '9')
            n++;
    closedir(d);
    return n;
}

/* fail unless single-threaded; @what says why it matters */
static int isolate_single_threaded(struct isolate *iso, const char *what,
                                   struct err *e)
{
    int n = isolate_thread_count();

    if (n < 0)
        return err_make_errno(e, n, "%s: cannot count our threads in "
                              "/proc/self/task", what);
    if (n > 1)
        return err_make_errno(e, -EBUSY, "%s needs a single-threaded "
                              "process, but %d threads are running", what, n);
    return 0;
}

/**
 * isolate_initial() - stage 1, right after option parsing: close inherited
 *		       fds that are not ours, note CAP_NET_BIND_SERVICE
 * @iso:	state for the later stages (initialised here)
 * @cfg:	which fds are ours (--ready-fd, --exit-fd, a tapfd, the pidfd
 *		of --exit-with-pid=fd:N)
 * @e:		on failure, the step and the errno's text
 *
 * Return: 0 or a negative errno
 */
int isolate_initial(struct isolate *iso, const struct config *cfg,
                    struct err *e)
{
    int keep[6], n = 0, r;

    memset(iso, 0, sizeof(*iso));

    if (cfg->ready_fd >= 3)
        keep[n++] = cfg->ready_fd;
    if (cfg->exit_fd >= 3)
        keep[n++] = cfg->exit_fd;
    if (cfg->netns_type == CONFIG_NETNS_TAPFD && cfg->tapfd >= 3)
        keep[n++] = cfg->tapfd;
    if (cfg->tap_netns_fd >= 3)
        keep[n++] = cfg->tap_netns_fd;
    if (cfg->tap_userns_fd >= 3)
        keep[n++] = cfg->tap_userns_fd;
    if (cfg->exit_pidfd >= 3)
        keep[n++] = cfg->exit_pidfd;
    r = fdclose_except(keep, (size_t)n);
    if (r < 0)
        return err_make_errno(e, r, "cannot close inherited file descriptors");
    return 0;
}

/* write @s to /proc/self/@file */
static int isolate_write_proc(const char *file, const char *s)
{
    char path[64];
    ssize_t w;
    int fd;

    snprintf(path, sizeof(path), "/proc/self/%s", file);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    w = write(fd, s, strlen(s));
    if (w < 0) {
        int r = -errno;
        close(fd);
        return r;
    }
    close(fd);
    return w == (ssize_t)strlen(s) ? 0 : -EIO;
}

/* in a user namespace of our own, just made: map only our uid and gid
 * (@uid, @gid: ours from before the unshare()) */
static int isolate_map_own_ids(uid_t uid, gid_t gid)
{
    char map[64];
    int r;

    r = isolate_write_proc("setgroups", "deny");
    if (r < 0 && r != -ENOENT)
        return r;
    snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    r = isolate_write_proc("uid_map", map);
    if (r < 0)
        return r;
    snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    return isolate_write_proc("gid_map", map);
}

/**
 * isolate_after_tap() - stage 2, once the tap is received: be in a user
 *			 namespace where we may build a mount namespace
 * @iso:	state from isolate_initial()
 * @cfg:	--enable-sandbox?
 * @ns:		the target's namespace fds from ns_open() (userns_fd may be -1)
 * @e:		on failure, the step and the errno's text
 *
 * Nothing to do without --enable-sandbox, or with CAP_SYS_ADMIN already
 * (root; podman, which runs us inside its user namespace). Otherwise create
 * a user namespace of our own, or, where that is refused (a limit on user
 * namespaces), join the target's.
 *
 * Return: 0 or a negative errno
 */
int isolate_after_tap(struct isolate *iso, const struct config *cfg,
                      const struct ns *ns, struct err *e)
{
    uid_t uid;
    gid_t gid;
    int r;

    iso->userns = ISOLATE_USERNS_KEPT;
    if (!cfg->enable_sandbox || isolate_has_cap(CAP_SYS_ADMIN))
        return 0;

    r = isolate_single_threaded(iso, "joining a user namespace", e);
    if (r < 0)
        return r;

    /* a user namespace of our own first: our credentials then stay out of
     * the container's, where anything holding CAP_SYS_PTRACE could attach
     * to us, and we stay dumpable (see "Dumpability" at the top) */
    uid = geteuid();
    gid = getegid();
    if (unshare(CLONE_NEWUSER) == 0) {
        r = isolate_map_own_ids(uid, gid);
        if (r < 0)
            return err_make_errno(e, r, "sandbox: cannot map our IDs in a "
                                  "new user namespace");
        iso->userns = ISOLATE_USERNS_CREATED;
        goto check;
    }
    r = -errno;
    if (!ns || ns->userns_fd < 0)
        return err_make_errno(e, r, "sandbox: cannot create a user namespace "
                              "(no CAP_SYS_ADMIN here, and no target user "
                              "namespace to join)");
    warn("sandbox: cannot create a user namespace: %s; joining the "
         "target's", strerror(-r));
    /* our credentials are about to live in the container's user namespace:
     * not dumpable first */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        return err_make_errno(e, -errno, "sandbox: PR_SET_DUMPABLE");
    if (setns(ns->userns_fd, CLONE_NEWUSER) < 0)
        return err_make_errno(e, -errno, "sandbox: cannot join the target's "
                              "user namespace either");
    iso->userns = ISOLATE_USERNS_JOINED;
check:
    if (!isolate_has_cap(CAP_SYS_ADMIN))
        return err_make_errno(e, -EPERM, "sandbox: no CAP_SYS_ADMIN in the "
                              "%s user namespace", iso->userns ==
                              ISOLATE_USERNS_JOINED ? "target's" : "new");
    return 0;
}

/**
 * isolate_resolv_target() - where the resolv.conf behind @path really is
 * @path:	absolute path, normally /etc/resolv.conf
 * @ret:	the real path: symlinks followed (also dangling ones: the file
 *		may appear later), the directory canonicalised
 * @len:	size of @ret
 *
 * Return: 0; -ENOENT if the directory that would hold it does not exist;
 *	   -ELOOP, -ENAMETOOLONG or another errno of lstat()/readlink()
 */
int isolate_resolv_target(const char *path, char *ret, size_t len)
{
    char cur[PATH_MAX], link[PATH_MAX], dir[PATH_MAX], real[PATH_MAX];
    const char *base;
    char *slash;
    struct stat st;
    ssize_t n;
    int i;

    if (snprintf(cur, sizeof(cur), "%s", path) >= (int)sizeof(cur))
        return -ENAMETOOLONG;
    for (i = 0;; i++) {
        if (lstat(cur, &st) < 0) {
            if (errno == ENOENT)
                break;
            return -errno;
        }
        if (!S_ISLNK(st.st_mode))
            break;
        if (i == 40)
            return -ELOOP;
        n = readlink(cur, link, sizeof(link) - 1);
        if (n < 0)
            return -errno;
        link[n] = '\0';
        if (link[0] == '/') {
            memcpy(cur, link, (size_t)n + 1);
        } else {
            slash = strrchr(cur, '/');
            slash[1] = '\0';
            if (strlen(cur) + (size_t)n >= sizeof(cur))
                return -ENAMETOOLONG;
            strcat(cur, link);
        }
    }

    slash = strrchr(cur, '/');
    if (!slash || !slash[1])
        return -EINVAL;
    base = slash + 1;
    if (slash == cur)
        strcpy(dir, "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - cur), cur);
    if (!realpath(dir, real))
        return -errno;
    if (snprintf(ret, len, "%s%s%s", real, strcmp(real, "/") ? "/" : "",
                 base) >= (int)len)
        return -ENAMETOOLONG;
    return 0;
}

/* mkdir -p @path (absolute), mode 0755 */
static int isolate_mkdirs(const char *path)
{
    char p[PATH_MAX];
    char *s;

    if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p))
        return -ENAMETOOLONG;
    for (s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;

            *s = '\0';
            if (mkdir(p, 0755) < 0 && errno != EEXIST)
                return -errno;
            *s = c;
            if (!c)
                break;
        }
    }
    return 0;
}

/* make the mount at @path and all below it read-only, nosuid, nodev, noexec */
static int isolate_make_readonly(const char *path)
{
    struct mount_attr attr = {
        .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                    MOUNT_ATTR_NOEXEC,
    };
    unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID |
                          MS_NODEV | MS_NOEXEC;
    struct statvfs sv;

    if (mount_setattr(AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof(attr)) == 0)
        return 0;
    if (errno != ENOSYS)
        return -errno;
    /* before Linux 5.12: the top mount only, keeping its locked flags */
    if (statvfs(path, &sv) < 0)
        return -errno;
    if (sv.f_flag & ST_NOATIME)
        flags |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME)
        flags |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME)
        flags |= MS_RELATIME;
    if (mount(NULL, path, NULL, flags, NULL) < 0)
        return -errno;
    return 0;
}

/*
 * Fill the staging tmpfs: a read-only bind of the directory holding the real
 * resolv.conf (@src_fd, an O_PATH fd on it, opened before the tmpfs could
 * hide it), and /etc/resolv.conf -> @real when it is not in /etc itself.
 */
static int isolate_populate(struct isolate *iso, int src_fd, const char *real,
                            struct err *e)
{
    char dir[PATH_MAX], dst[PATH_MAX + sizeof(ISOLATE_STAGING)];
    char src[64], link[sizeof(ISOLATE_STAGING) + sizeof(ISOLATE_RESOLV_CONF)];
    const char *slash = strrchr(real, '/');
    struct stat st, want;
    int r;

    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - real), real);
    snprintf(dst, sizeof(dst), ISOLATE_STAGING "%s", dir);
    r = isolate_mkdirs(dst);
    if (r < 0)
        return err_make_errno(e, r, "sandbox: mkdir %s", dst);
    snprintf(src, sizeof(src), "/proc/self/fd/%d", src_fd);
    if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0 &&
        mount(dir, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
        return err_make_errno(e, -errno, "sandbox: cannot bind %s", dir);
    /* the directory we opened, not whatever the staging tmpfs hides */
    if (fstat(src_fd, &want) < 0 || stat(dst, &st) < 0 ||
        want.st_dev != st.st_dev || want.st_ino != st.st_ino)
        return err_make_errno(e, -EXDEV, "sandbox: the bind of %s is not "
                              "that directory (is /proc mounted?)", dir);
    r = isolate_make_readonly(dst);
    if (r < 0)
        return err_make_errno(e, r, "sandbox: cannot make %s read-only", dir);

    /* resolv.conf is in /etc itself: the bound directory is all it takes */
    if (!strcmp(dir, "/etc"))
        return 0;
    snprintf(link, sizeof(link), ISOLATE_STAGING ISOLATE_RESOLV_CONF);
    if (lstat(link, &st) == 0 || errno != ENOENT)
        return 0;   /* in a bound directory already (or hidden by it) */
    r = isolate_mkdirs(ISOLATE_STAGING "/etc");
    if (r < 0)
        return err_make_errno(e, r, "sandbox: mkdir /etc");
    if (symlink(real, link) < 0)
        return err_make_errno(e, -errno, "sandbox: symlink %s -> %s", link,
                              real);
    return 0;
}

/*
 * Every directory fd still open (fwd.c keeps one per UNIX-socket forward to
 * unlink its file later; ours for the API socket) would be a way around the
 * new root: openat(fd, "../..") walks the host's tree. Replace each, under
 * the same number, by a detached clone of that directory's mount
 * (open_tree(OPEN_TREE_CLONE)), from whose root ".." leads nowhere. Runs in
 * the new mount namespace, before anything hides the paths.
 */
static int isolate_confine_dirfds(struct isolate *iso, struct err *e)
{
    char link[64], path[PATH_MAX];
    int fds[256], n = 0, i, dfd;
    struct stat a, b;
    struct dirent *de;
    ssize_t len;
    DIR *d;

    d = opendir("/proc/self/fd");
    if (!d)
        return err_make_errno(e, -errno, "sandbox: cannot list our fds");
    dfd = dirfd(d);
    while ((de = readdir(d)) && n < (int)ARRAY_SIZE(fds)) {
        int fd = atoi(de->d_name);

        if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && fd > 2 &&
            fd != dfd && fstat(fd, &a) == 0 && S_ISDIR(a.st_mode))
            fds[n++] = fd;
    }
    closedir(d);

    for (i = 0; i < n; i++) {
        int clone;

        snprintf(link, sizeof(link), "/proc/self/fd/%d", fds[i]);
        len = readlink(link, path, sizeof(path) - 1);
        if (len <= 0 || path[0] != '/')
            return err_make_errno(e, len < 0 ? -errno : -ENOENT, "sandbox: "
                                  "cannot name the directory of fd %d", fds[i]);
        path[len] = '\0';
        clone = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
                          AT_RECURSIVE);
        if (clone < 0)
            return err_make_errno(e, -errno, "sandbox: cannot confine the "
                                  "directory fd %d (%s)", fds[i], path);
        if (fstat(fds[i], &a) < 0 || fstat(clone, &b) < 0 ||
            a.st_dev != b.st_dev || a.st_ino != b.st_ino ||
            dup3(clone, fds[i], O_CLOEXEC) < 0) {
            close(clone);
            return err_make_errno(e, -EXDEV, "sandbox: cannot confine the "
                                  "directory fd %d (%s)", fds[i], path);
        }
        close(clone);
    }
    return 0;
}

/* stage 3a: the mount namespace with an empty, read-only root */
static int isolate_root(struct isolate *iso, const struct config *cfg,
                        struct err *e)
{
    char real[PATH_MAX];
    _cleanup_close_ int src_fd = -1;
    int r;

    if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
        return err_make_errno(e, -errno, "sandbox: cannot create a mount "
                              "namespace");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return err_make_errno(e, -errno, "sandbox: cannot make / private%s",
                              errno == EINVAL ? " (is the root a chroot "
                              "directory that is not a mount point?)" : "");
    r = isolate_confine_dirfds(iso, e);
    if (r < 0)
        return r;

    r = isolate_resolv_target(ISOLATE_RESOLV_CONF, real, sizeof(real));
    if (r == 0 && strrchr(real, '/') != real) {
        char dir[PATH_MAX];

        snprintf(dir, sizeof(dir), "%.*s",
                 (int)(strrchr(real, '/') - real), real);
        src_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (src_fd < 0)
            return err_make_errno(e, -errno, "sandbox: cannot open %s", dir);
    } else {
        warn("sandbox: no directory for %s (%s), DNS at the virtual "
             "nameserver falls back to 127.0.0.1, ignoring",
             ISOLATE_RESOLV_CONF, r < 0 ? strerror(-r) : "it is in /");
    }

    if (mount("tmpfs", ISOLATE_STAGING, "tmpfs", MS_NOSUID | MS_NODEV |
              MS_NOEXEC, ISOLATE_TMPFS_OPTS) < 0)
        return err_make_errno(e, -errno, "sandbox: cannot mount a tmpfs on "
                              ISOLATE_STAGING);
    if (src_fd >= 0) {
        r = isolate_populate(iso, src_fd, real, e);
        if (r < 0)
            return r;
    }
    /*
     * /etc and /run are there, empty but for what resolv.conf needs:
     * slirp4netns binds both whole, and checks of a sandbox (its own test
     * suite's) look for them
     */
    r = isolate_mkdirs(ISOLATE_STAGING "/etc");
    if (r == 0)
        r = isolate_mkdirs(ISOLATE_STAGING "/run");
    if (r < 0)
        return err_make_errno(e, r, "sandbox: mkdir /etc, /run");
    if (mount(NULL, ISOLATE_STAGING, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY |
              MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        return err_make_errno(e, -errno, "sandbox: cannot make the new root "
                              "read-only");
    if (chdir(ISOLATE_STAGING) < 0)
        return err_make_errno(e, -errno, "sandbox: chdir " ISOLATE_STAGING);

    if (syscall(SYS_pivot_root, ".", ".") == 0) {
        /* the old root is stacked on top of "."; detach it */
        if (umount2(".", MNT_DETACH) < 0)
            return err_make_errno(e, -errno, "sandbox: cannot detach the "
                                  "old root");
        iso->root = ISOLATE_ROOT_PIVOT;
    } else {
        int pivot_errno = errno;

        if (chroot(".") < 0)
            return err_make_errno(e, -errno, "sandbox: pivot_root() failed "
                                  "(%s) and so did chroot()",
                                  strerror(pivot_errno));
        warn("sandbox: pivot_root() is not possible here (%s: the root is "
             "rootfs/initramfs or not a mount point); using chroot() with "
             "the namespace-escape filter instead", strerror(pivot_errno));
        iso->root = ISOLATE_ROOT_CHROOT;
    }
    if (chdir("/") < 0)
        return err_make_errno(e, -errno, "sandbox: chdir /");
    return 0;
}

/*
 * stage 3a: every capability dropped but CAP_NET_BIND_SERVICE if held, as
 * slirp4netns's sandbox does (its own tests check for it). Held in the
 * user namespace that owns the host's network namespace (root; podman's),
 * it lets add_hostfwd bind ports below 1024; held in the target's or a new
 * user namespace (an unprivileged caller), it grants nothing on the host.
 */
static int isolate_caps(struct isolate *iso, struct err *e)
{
    const cap_value_t nbs = CAP_NET_BIND_SERVICE;
    bool keep = isolate_has_cap(nbs);
    int max = (int)cap_max_bits(), v, kept = 0;
    cap_flag_value_t eff = CAP_CLEAR, perm = CAP_CLEAR;
    cap_t caps;

    for (v = 0; v < max; v++) {
        if ((keep && v == nbs) || cap_get_bound(v) <= 0)
            continue;
        if (cap_drop_bound(v) < 0) {
            if (errno != EPERM)
                return err_make_errno(e, -errno, "sandbox: cannot drop "
                                      "capability %d from the bounding set", v);
            kept++;
        }
    }
    if (kept)
        warn("sandbox: %d capabilities stay in the bounding set (no "
             "CAP_SETPCAP); no_new_privs keeps us from gaining them, ignoring",
             kept);
    if (cap_reset_ambient() < 0 && errno != EINVAL)
        return err_make_errno(e, -errno, "sandbox: cannot clear the ambient "
                              "capabilities");

    caps = cap_init();
    if (!caps)
        return err_make_errno(e, -ENOMEM, "sandbox: cap_init");
    if (keep && (cap_set_flag(caps, CAP_PERMITTED, 1, &nbs, CAP_SET) < 0 ||
                 cap_set_flag(caps, CAP_EFFECTIVE, 1, &nbs, CAP_SET) < 0)) {
        cap_free(caps);
        return err_make_errno(e, -EINVAL, "sandbox: cap_set_flag");
    }
    if (cap_set_proc(caps) < 0) {
        int r = -errno;
        cap_free(caps);
        return err_make_errno(e, r, "sandbox: cannot drop capabilities");
    }
    cap_free(caps);
    iso->net_bind_service = keep;

    /* read back: exactly what we asked for */
    caps = cap_get_proc();
    if (!caps)
        return err_make_errno(e, -errno, "sandbox: cap_get_proc");
    for (v = 0; v < max; v++) {
        cap_value_t c = v;

        cap_get_flag(caps, c, CAP_EFFECTIVE, &eff);
        cap_get_flag(caps, c, CAP_PERMITTED, &perm);
        if ((eff == CAP_SET || perm == CAP_SET) && !(keep && c == nbs)) {
            cap_free(caps);
            return err_make_errno(e, -EPERM, "sandbox: capability %d is "
                                  "still held", v);
        }
    }
    cap_free(caps);
    return 0;
}

/* add @rules to @ctx: allow each (an allow rule with an errno: fail with
 * it), or, for escape rules, fail with each rule's errno */
static int isolate_add_rules(scmp_filter_ctx ctx, const struct isolate_rule *rules,
                             size_t n, bool allow, unsigned int *ret_added,
                             unsigned int *ret_skipped, const char **ret_name)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const struct isolate_rule *rl = &rules[i];
        uint32_t action = allow && !rl->err ? SCMP_ACT_ALLOW
                                            : SCMP_ACT_ERRNO(rl->err);
        int nr = seccomp_syscall_resolve_name(rl->name), r;

        if (nr == __NR_SCMP_ERROR) {
            (*ret_skipped)++;
            continue;
        }
        if (rl->arg < 0) {
            r = seccomp_rule_add(ctx, action, nr, 0);
        } else {
            struct scmp_arg_cmp cmp = {
                .arg = (unsigned int)rl->arg,
                .op = SCMP_CMP_MASKED_EQ,
                .datum_a = rl->mask,
                .datum_b = rl->self ? (uint64_t)getpid() : rl->value,
            };
            r = seccomp_rule_add_array(ctx, action, nr, 1, &cmp);
        }
        if (r < 0) {
            *ret_name = rl->name;
            return r;
        }
        (*ret_added)++;
    }
    return 0;
}

/* async-signal-safe: append @s to @buf at *@pos */
static void isolate_put(char *buf, size_t len, size_t *pos, const char *s)
{
    while (*s && *pos < len)
        buf[(*pos)++] = *s++;
}

static void isolate_put_num(char *buf, size_t len, size_t *pos,
                            unsigned long v, unsigned int base)
{
    char tmp[24];
    size_t n = 0;

    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v && n < sizeof(tmp));
    while (n && *pos < len)
        buf[(*pos)++] = tmp[--n];
}

/* SIGSYS from SECCOMP_RET_TRAP: say which call, then exit (async-signal-safe) */
static void isolate_sigsys(int sig, siginfo_t *si, void *uc)
{
    char buf[256];
    size_t pos = 0;
    int nr = si->si_syscall;
    const char *name = NULL;
    ssize_t w;

    if (si->si_arch == isolate_native_arch && nr >= 0 &&
        nr < ISOLATE_SYSNAMES_MAX)
        name = isolate_sysnames[nr];
    isolate_put(buf, sizeof(buf), &pos, log_progname());
    isolate_put(buf, sizeof(buf), &pos, ": seccomp: system call ");
    isolate_put(buf, sizeof(buf), &pos, name ? name : "?");
    isolate_put(buf, sizeof(buf), &pos, " (");
    isolate_put_num(buf, sizeof(buf), &pos, (unsigned long)(unsigned int)nr, 10);
    if (si->si_arch != isolate_native_arch) {
        isolate_put(buf, sizeof(buf), &pos, ", arch 0x");
        isolate_put_num(buf, sizeof(buf), &pos, si->si_arch, 16);
    }
    isolate_put(buf, sizeof(buf), &pos, ") is not allowed; exiting\n");
    w = write(STDERR_FILENO, buf, pos);
    (void)w;
    _exit(ISOLATE_EXIT_SECCOMP);
}

/* names for the SIGSYS handler: it may neither allocate nor ask libseccomp */
static void isolate_sysnames_init(void)
{
    int nr;

    isolate_native_arch = seccomp_arch_native();
    for (nr = 0; nr < ISOLATE_SYSNAMES_MAX; nr++)
        if (!isolate_sysnames[nr])
            isolate_sysnames[nr] =
                seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
}

/* load a filter: @allow: the allow-list (trap the rest); else the escape list */
static int isolate_load_filter(struct isolate *iso, bool allow, struct err *e)
{
    const char *what = allow ? "seccomp" : "sandbox: namespace-escape filter";
    unsigned int added = 0, skipped = 0;
    const char *bad = NULL;
    scmp_filter_ctx ctx;
    int r;

    ctx = seccomp_init(allow ? SCMP_ACT_TRAP : SCMP_ACT_ALLOW);
    if (!ctx)
        return err_make_errno(e, -ENOMEM, "%s: seccomp_init", what);
    r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (r == 0 && allow)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
    if (r < 0) {
        seccomp_release(ctx);
        return err_make_errno(e, r, "%s: seccomp_attr_set", what);
    }
    if (allow)
        r = isolate_add_rules(ctx, isolate_allow, ARRAY_SIZE(isolate_allow),
                              true, &added, &skipped, &bad);
    else
        r = isolate_add_rules(ctx, isolate_escape, ARRAY_SIZE(isolate_escape),
                              false, &added, &skipped, &bad);
    if (r < 0) {
        seccomp_release(ctx);
        return err_make_errno(e, r, "%s: cannot add the rule for %s", what,
                              bad);
    }
    if (allow) {
        struct sigaction sa = { .sa_sigaction = isolate_sigsys,
                                .sa_flags = SA_SIGINFO };

        isolate_sysnames_init();
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGSYS, &sa, NULL) < 0) {
            r = -errno;
            seccomp_release(ctx);
            return err_make_errno(e, r, "%s: cannot handle SIGSYS", what);
        }
        iso->seccomp_rules = added;
        iso->seccomp_skipped = skipped;
    }
    r = seccomp_load(ctx);
    seccomp_release(ctx);
    if (r < 0)
        return err_make_errno(e, r, "%s: cannot load the filter", what);
    return 0;
}

static const char *isolate_userns_name(enum isolate_userns u)
{
    switch (u) {
    case ISOLATE_USERNS_KEPT: return "ours";
    case ISOLATE_USERNS_JOINED: return "the target's";
    case ISOLATE_USERNS_CREATED: return "a new one";
    }
    return "?";
}

/**
 * isolate_before_threads() - stage 3, after every host resource is open and
 *			      before the worker threads start: the sandbox
 *			      (capabilities are per thread: it needs the
 *			      process single-threaded)
 * @iso:	state from the earlier stages
 * @cfg:	--enable-sandbox
 * @e:		on failure, the step and the errno's text
 *
 * Return: 0 or a negative errno
 */
int isolate_before_threads(struct isolate *iso, const struct config *cfg,
                           struct err *e)
{
    int r;

    if (cfg->enable_sandbox) {
        r = isolate_single_threaded(iso, "dropping capabilities", e);
        if (r < 0)
            return r;
        r = isolate_root(iso, cfg, e);
        if (r < 0)
            return r;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            return err_make_errno(e, -errno, "sandbox: PR_SET_NO_NEW_PRIVS");
        r = isolate_caps(iso, e);
        if (r < 0)
            return r;
        if (iso->root == ISOLATE_ROOT_CHROOT) {
            r = isolate_load_filter(iso, false, e);
            if (r < 0)
                return r;
        }
        info("sandbox: %s root, user namespace: %s, capabilities: %s",
             iso->root == ISOLATE_ROOT_PIVOT ? "pivot_root" : "chroot",
             isolate_userns_name(iso->userns),
             iso->net_bind_service ? "cap_net_bind_service" : "none");
    }
    return 0;
}

/**
 * isolate_before_ready() - stage 4, after the worker threads started and
 *			    before the ready byte: seccomp, for every thread
 * @iso:	state from the earlier stages
 * @cfg:	--enable-seccomp
 * @e:		on failure, the step and the errno's text
 *
 * Return: 0 or a negative errno
 */
int isolate_before_ready(struct isolate *iso, const struct config *cfg,
                         struct err *e)
{
    int r;

    if (cfg->enable_seccomp) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            return err_make_errno(e, -errno, "seccomp: PR_SET_NO_NEW_PRIVS");
        r = isolate_load_filter(iso, true, e);
        if (r < 0)
            return r;
        iso->seccomp = true;
        info("seccomp: allow-list of %u rules loaded%s", iso->seccomp_rules,
             iso->seccomp_skipped ? " (some names unknown here, skipped)" : "");
    }
    return 0;
}
