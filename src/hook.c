/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hook.c - "slirpd oci-hook STAGE": a rootless network for an OCI container, from its runtime's hooks */
/*
 * DOC: Theory of Operation
 *
 * The OCI runtime spec only creates or joins a network namespace. At
 * createRuntime and prestart time the container's init is not dumpable yet,
 * so an unprivileged hook cannot open /proc/PID/ns/net (slirp4netns's PID
 * route fails there); a createContainer hook runs as root of the
 * container's user namespace, inside its network namespace, and still sees
 * the host's paths and /dev/net/tun. So the work is split:
 *
 *   createRuntime    (runtime's namespaces, state has the init's PID)
 *       validates everything (state, args, annotations, the daemon's
 *       options), opens a pidfd of the init, makes the state directory
 *       DIR = ROOT/<id> (mode 0700; an existing one is an error and is
 *       left alone), binds
 *       DIR/tap.sock and starts a detached waiter (double fork, own
 *       session, stdin /dev/null, stdout/stderr DIR/slirpd.log, every
 *       other fd closed), then exits 0. The runtime goes on.
 *   the waiter       accepts one connection on tap.sock (bounded: the
 *       container's init exiting, or HOOK_WAIT_MS, ends it and removes
 *       DIR), sends the daemon's options, receives the tap fd and the
 *       container's net and user namespaces (SCM_RIGHTS) and execs the
 *       daemon in its place:
 *         slirpd OPTIONS --netns-type=tapfd --api-socket=DIR/api.sock
 *                --ready-fd=CONN --exit-with-pid=fd:PIDFD
 *                --tap-netns=/proc/self/fd/N --userns-path=/proc/self/fd/U
 *                TAPFD
 *       so its readiness byte goes back to the hook over the same
 *       connection, and it ends with the container: PIDFD is
 *       createRuntime's pidfd, never a PID looked up again.
 *   createContainer  (container's namespaces) connects to tap.sock first
 *       (nothing is created when no daemon waits), creates and configures
 *       the tap (as -c does) with the options the waiter sent, hands it
 *       over with fds of its own namespaces (for the splice helper) and
 *       waits for the ready byte. EOF instead means the daemon
 *       failed: its last log line is shown, DIR removed, exit 1.
 *   poststop         asks the daemon to stop through its own API socket
 *       ({"execute":"shutdown"}, then EOF), or wakes a waiter that never
 *       got a tap, and removes DIR. A PID read from a file is never
 *       trusted: the poststop hook is a new process, so a pidfd made from
 *       such a PID would race PID reuse just the same.
 *
 * Every failure prints one line on stderr ("slirpd oci-hook: ...") and
 * exits 1, so the runtime aborts the start and nothing is left running:
 * the stages fill a struct err and hook_main() prints it (the waiter, a
 * process of its own, logs its one line the same way).
 *
 * Every stage checks ROOT and DIR before using them (hook_open_root(),
 * hook_open_dir(): a directory, not a symbolic link, ours, not writable by
 * group or others) and then works from their fds, never their paths.
 * Annotations only add to the args (ocistate.c).
 *
 * ROOT: --state-dir if given; otherwise, with UID our uid as the parent user
 * namespace sees it (/proc/self/uid_map; our own uid in the initial one),
 * /run/slirpd for UID 0, /run/user/UID/slirpd (what XDG_RUNTIME_DIR is on a
 * systemd machine) if /run/user/UID exists, else /tmp/slirpd-UID.
 * Hooks run inside podman's user namespace as uid 0, a createContainer hook
 * inside the container's: mapping the uid up one level makes every hook of
 * one container agree on the directory. The environment is not used:
 * podman runs poststop hooks itself ("podman container cleanup") with an
 * empty one, while crun passes its own to the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "err.h"
#include "fdpass.h"
#include "fwd.h"
#include "fdclose.h"
#include "hook.h"
#include "log.h"
#include "ocistate.h"
#include "options.h"
#include "util.h"

#define HOOK_WAIT_MS (120 * 1000)   /* createRuntime -> createContainer */
#define HOOK_READY_MS (30 * 1000)   /* tap handed over -> daemon ready */
#define HOOK_STOP_MS (5 * 1000)     /* shutdown request -> daemon gone */
#define HOOK_STATE_MAX (1024 * 1024)
#define HOOK_MAGIC "slirpd-oci-hook-1"
#define HOOK_MSG_MAX 16384          /* the options the waiter sends */

enum hook_stage { HOOK_CREATE_RUNTIME, HOOK_CREATE_CONTAINER, HOOK_POSTSTOP };

struct hook {
    enum hook_stage stage;
    const char *prog;               /* our argv[0] */
    const char *state_dir;          /* --state-dir, or NULL */
    const char *ifname;             /* --ifname, default tap0 */
    bool ifname_given;              /* --ifname was in the args */
    struct ocistate_args args;      /* the daemon's options */
    struct ocistate st;
    char root[PATH_MAX];            /* ROOT */
    char dir[PATH_MAX];             /* ROOT/<id> */
    int rootfd;                     /* ROOT, checked: ours (hook_open_dir) */
    int dirfd;                      /* ROOT/<id>, checked the same way */
    char ifname_buf[IFNAMSIZ + 1];
};

static const char *hook_stage_name(enum hook_stage s)
{
    switch (s) {
    case HOOK_CREATE_RUNTIME: return "createRuntime";
    case HOOK_CREATE_CONTAINER: return "createContainer";
    case HOOK_POSTSTOP: return "poststop";
    }
    return "?";
}

/* ------------------------------------------------------------ state dir */

/**
 * hook_parent_uid() - our effective uid as the parent user namespace sees it
 * @uid_map:	the text of /proc/self/uid_map
 * @euid:	our effective uid
 * @ret:	the uid outside
 *
 * Return: 0, or -ENOENT if @euid is not mapped
 */
int hook_parent_uid(const char *uid_map, uid_t euid, uid_t *ret)
{
    const char *p = uid_map;

    while (*p) {
        unsigned long in, out, len;
        int n = 0;

        if (sscanf(p, " %lu %lu %lu%n", &in, &out, &len, &n) != 3)
            break;
        if (euid >= in && euid - in < len) {
            *ret = (uid_t)(out + (euid - in));
            return 0;
        }
        p += n;
    }
    return -ENOENT;
}

/* true if we are in the initial user namespace (its map is the identity) */
static bool hook_initial_userns(const char *uid_map)
{
    unsigned long in, out, len;

    return sscanf(uid_map, " %lu %lu %lu", &in, &out, &len) == 3 &&
           in == 0 && out == 0 && len == 4294967295UL;
}

/**
 * hook_state_root() - the directory holding every container's state dir
 * @state_dir:	--state-dir, or NULL
 * @ret, @len:	the path
 *
 * Return: 0 or a negative errno
 */
static int hook_state_root(const char *state_dir, char *ret, size_t len)
{
    char map[4096] = "";
    uid_t uid = geteuid();
    struct stat sb;
    ssize_t n;
    int fd;

    if (state_dir) {
        if (state_dir[0] != '/')
            return -EINVAL;
        return snprintf(ret, len, "%s", state_dir) >= (int)len ? -ENAMETOOLONG : 0;
    }
    fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, map, sizeof(map) - 1);
        map[n > 0 ? n : 0] = '\0';
        close(fd);
    }
    if (!hook_initial_userns(map) && hook_parent_uid(map, uid, &uid) < 0)
        return -ENOENT;
    if (uid == 0)
        return snprintf(ret, len, "/run/slirpd") >= (int)len ? -ENAMETOOLONG : 0;
    if (snprintf(ret, len, "/run/user/%u", (unsigned)uid) < (int)len &&
             stat(ret, &sb) == 0 && S_ISDIR(sb.st_mode))
        n = snprintf(ret, len, "/run/user/%u/slirpd", (unsigned)uid);
    else
        n = snprintf(ret, len, "/tmp/slirpd-%u", (unsigned)uid);
    return n >= (ssize_t)len ? -ENAMETOOLONG : 0;
}

static int hook_path(const struct hook *h, const char *name, char *ret, size_t len)
{
    return snprintf(ret, len, "%s/%s", h->dir, name) >= (int)len ? -ENAMETOOLONG : 0;
}

/* a directory of ours: owned by our euid, not writable by group or others */
static int hook_check_dir(int fd, const char *path, struct err *e)
{
    struct stat sb;

    if (fstat(fd, &sb) < 0)
        return err_make_errno(e, -errno, "%s", path);
    if (!S_ISDIR(sb.st_mode))
        return err_make(e, -ENOTDIR, "%s is not a directory",
                        path);
    if (sb.st_uid != geteuid())
        return err_make(e, -EPERM, "%s is owned by uid %u, "
                        "not by us (uid %u): refusing it", path,
                        (unsigned)sb.st_uid, (unsigned)geteuid());
    if (sb.st_mode & 0022)
        return err_make(e, -EPERM, "%s has mode %04o, "
                        "writable by group or others: refusing it", path,
                        (unsigned)(sb.st_mode & 07777));
    return 0;
}

enum hook_open { HOOK_OPEN, HOOK_OPEN_OR_CREATE, HOOK_CREATE };

/*
 * open directory @name in @parentfd (@path names it in messages), never
 * through a symbolic link, and check it is ours (hook_check_dir());
 * HOOK_CREATE: it must not exist yet (-EEXIST). One we create is 0700
 * whatever the umask. -ENOENT (no message) when it does not exist.
 */
static int hook_open_dir(int parentfd, const char *name, const char *path,
                         enum hook_open how, int *ret_fd, struct err *e)
{
    _cleanup_close_ int fd = -1;
    bool made = false;
    struct stat sb;
    int r;

    if (how != HOOK_OPEN) {
        if (mkdirat(parentfd, name, 0700) == 0)
            made = true;
        else if (errno != EEXIST || how == HOOK_CREATE)
            return err_make_errno(e, -errno, "cannot create %s", path);
    }
    fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                O_CLOEXEC);
    if (fd < 0) {
        r = -errno;
        if (r == -ENOENT)
            return r;
        if (fstatat(parentfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(sb.st_mode))
            return err_make(e, -ELOOP, "%s is a symbolic "
                            "link: refusing it", path);
        return err_make_errno(e, r, "%s", path);
    }
    if (made && fchmod(fd, 0700) < 0)
        r = err_make_errno(e, -errno, "%s: chmod", path);
    else
        r = hook_check_dir(fd, path, e);
    if (r < 0) {
        if (made)
            unlinkat(parentfd, name, AT_REMOVEDIR);
        return r;
    }
    *ret_fd = util_take_fd(&fd);
    return 0;
}

/*
 * ROOT's fd (h->rootfd). Its parent may be another user's (/tmp, /run) but,
 * if others may write there, it must be sticky, so that nobody else can
 * rename ROOT away; ROOT itself must be ours (hook_open_dir()).
 */
static int hook_open_root(struct hook *h, bool create, struct err *e)
{
    char parent[PATH_MAX];
    _cleanup_close_ int pfd = -1;
    struct stat sb;
    size_t n = strlen(h->root);
    char *slash;

    while (n > 1 && h->root[n - 1] == '/')
        h->root[--n] = '\0';
    slash = strrchr(h->root, '/');
    if (!slash || !slash[1] || !strcmp(slash + 1, ".") ||
        !strcmp(slash + 1, ".."))
        return err_make(e, -EINVAL, "%s cannot be a state "
                        "directory", h->root);
    snprintf(parent, sizeof(parent), "%.*s", slash == h->root ? 1 :
             (int)(slash - h->root), h->root);
    pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd < 0 || fstat(pfd, &sb) < 0)
        return err_make_errno(e, -errno, "%s", parent);
    if ((sb.st_mode & 0022) && !(sb.st_mode & S_ISVTX))
        return err_make(e, -EPERM, "%s has mode %04o, "
                        "writable by group or others and not sticky: "
                        "refusing a state directory in it", parent,
                        (unsigned)(sb.st_mode & 07777));
    return hook_open_dir(pfd, slash + 1, h->root, create ?
                         HOOK_OPEN_OR_CREATE : HOOK_OPEN, &h->rootfd, e);
}

/* remove DIR and the files we put there; anything else makes rmdir fail */
static int hook_remove_dir(const struct hook *h)
{
    static const char *const files[] = { "tap.sock", "api.sock", "slirpd.log",
                                         "slirpd.pid" };
    size_t i;

    if (h->dirfd < 0 || h->rootfd < 0)
        return 0;
    for (i = 0; i < ARRAY_SIZE(files); i++)
        unlinkat(h->dirfd, files[i], 0);
    return unlinkat(h->rootfd, h->st.id, AT_REMOVEDIR) < 0 && errno != ENOENT ?
           -errno : 0;
}

/*
 * bind (@do_bind) or connect @fd to DIR/@name: from inside DIR (fchdir to
 * its fd), so the one-component path resolves in the directory we checked
 */
static int hook_sock_at(const struct hook *h, int fd, const char *name,
                        bool do_bind)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int r;

    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", name);
    if (fchdir(h->dirfd) < 0)
        return -errno;
    r = do_bind ? bind(fd, (struct sockaddr *)&sun, sizeof(sun)) :
                 connect(fd, (struct sockaddr *)&sun, sizeof(sun));
    r = r < 0 ? -errno : 0;
    if (chdir("/") < 0 && r == 0)
        r = -errno;
    return r;
}

static int hook_connect(const struct hook *h, const char *name, int type,
                        int *ret_fd)
{
    _cleanup_close_ int fd = -1;
    int r;

    fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    r = hook_sock_at(h, fd, name, false);
    if (r < 0)
        return r;
    *ret_fd = util_take_fd(&fd);
    return 0;
}

/* wait for @fd to become readable: 1, 0 on timeout, or a negative errno */
static int hook_wait_readable(int fd, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int r;

    do
        r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

/* ------------------------------------------------------------ arguments */

/* the daemon options a hook decides itself, never taken from its args */
static int hook_check_options(const struct options *o)
{
    if (o->exit_fd || o->ready_fd || o->api_socket || o->netns_type ||
        o->userns_path || o->target_type || o->exit_with_pid || o->tap_netns)
        return -EINVAL;
    return 0;
}

/**
 * hook_daemon_config() - validate the daemon's options as the tap will see
 *			  them (-c, the tap name) and derive its configuration
 * @args:	the option words
 * @ifname:	the tap's name
 * @cfg:	the configuration (config_free() it, also on failure)
 * @e:		one line on failure
 *
 * Return: 0 or a negative errno
 */
static int hook_daemon_config(const struct ocistate_args *args, const char *ifname,
                              struct config *cfg, struct err *e)
{
    struct options o;
    char **argv;
    size_t i, n = 0;
    int r;

    memset(cfg, 0, sizeof(*cfg));
    argv = calloc(args->n + 5, sizeof(*argv));
    if (!argv)
        return err_make_errno(e, -ENOMEM, NULL);
    argv[n++] = (char *)"slirpd";
    argv[n++] = (char *)"-c";
    for (i = 0; i < args->n; i++)
        argv[n++] = args->v[i];
    argv[n++] = (char *)"1";
    argv[n++] = (char *)ifname;
    opterr = 0;     /* one line of ours, not getopt's */
    r = opt_parse((int)n, argv, &o);
    opterr = 1;
    if (r != OPT_RUN || o.extra_args || strcmp(o.target, "1")) {
        r = err_make(e, -EINVAL, "bad daemon options in the hook's args "
                     "or annotations (slirpd --help lists them; no "
                     "positional arguments)");
    } else if ((r = hook_check_options(&o)) < 0) {
        err_make(e, r, "--exit-fd, --ready-fd, --api-socket, --netns-type, "
                 "--userns-path, --tap-netns, --target-type and "
                 "--exit-with-pid are set by the hook itself");
    } else {
        r = config_from_options(&o, cfg, e);
        if (r == 0)
            r = fwd_spec_publish_check(o.publish, o.n_publish, cfg, e);
    }
    opt_free(&o);
    free(argv);
    return r;
}

/* "oci-hook STAGE [--state-dir=DIR] [--ifname=NAME] [daemon options]" */
static int hook_parse_args(struct hook *h, int argc, char **argv,
                           struct err *e)
{
    int i;

    if (argc < 2)
        return err_make(e, -EINVAL, "usage: %s oci-hook createRuntime|"
                        "createContainer|poststop [--state-dir=DIR] "
                        "[--ifname=NAME] [OPTION]... (the OCI state on "
                        "stdin)", h->prog);
    if (!strcmp(argv[1], "createRuntime"))
        h->stage = HOOK_CREATE_RUNTIME;
    else if (!strcmp(argv[1], "createContainer"))
        h->stage = HOOK_CREATE_CONTAINER;
    else if (!strcmp(argv[1], "poststop"))
        h->stage = HOOK_POSTSTOP;
    else
        return err_make(e, -EINVAL, "unknown stage \"%s\": createRuntime, "
                        "createContainer or poststop (prestart cannot work "
                        "rootless: the container's namespaces cannot be "
                        "opened yet)", argv[1]);
    for (i = 2; i < argc; i++) {
        const char **dst = NULL, *name = NULL, *a = argv[i];

        if (!strncmp(a, "--state-dir", 11) && (a[11] == '=' || !a[11])) {
            dst = &h->state_dir;
            name = "--state-dir";
        } else if (!strncmp(a, "--ifname", 8) && (a[8] == '=' || !a[8])) {
            dst = &h->ifname;
            name = "--ifname";
            h->ifname_given = true;
        }
        if (dst) {
            const char *v = strchr(a, '=') ? strchr(a, '=') + 1 : argv[++i];

            if (!v || !*v)
                return err_make(e, -EINVAL, "%s needs a value", name);
            *dst = v;
            continue;
        }
        if (ocistate_args_add(&h->args, a) < 0)
            return err_make(e, -ENOMEM, "out of memory");
    }
    if (h->state_dir && h->state_dir[0] != '/')
        return err_make(e, -EINVAL, "--state-dir must be an absolute path: %s",
                        h->state_dir);
    return 0;
}

/* ------------------------------------------------------------ the waiter */

/* the waiter's message: magic, tap name, the daemon's options, NUL-separated */
static const char *hook_msg_word(const struct hook *h, size_t i)
{
    return i == 0 ? HOOK_MAGIC : i == 1 ? h->ifname : h->args.v[i - 2];
}

static size_t hook_options_size(const struct hook *h)
{
    size_t i, n = 0;

    for (i = 0; i < h->args.n + 2; i++)
        n += strlen(hook_msg_word(h, i)) + 1;
    return n;
}

static int hook_send_options(const struct hook *h, int conn)
{
    char buf[HOOK_MSG_MAX];
    size_t pos = 0, i;

    for (i = 0; i < h->args.n + 2; i++) {
        const char *s = hook_msg_word(h, i);
        size_t l = strlen(s) + 1;

        if (pos + l > sizeof(buf))
            return -E2BIG;
        memcpy(buf + pos, s, l);
        pos += l;
    }
    return send(conn, buf, pos, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static int hook_clear_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);

    return fl < 0 || fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC) < 0 ? -errno : 0;
}

/*
 * exec the daemon with the tap (and, when the createContainer hook sent
 * them, its network and user namespaces, for the splice helper: nsfd[0],
 * nsfd[1], or -1) and the container's pidfd, opened by createRuntime while
 * the container's init was certainly alive (--exit-with-pid=fd:N: the PID
 * is never looked up again, so it cannot have been reused meanwhile);
 * returns only on failure
 */
static int hook_exec_daemon(const struct hook *h, int conn, int tapfd,
                            const int *nsfd, int pidfd)
{
    struct ocistate_args a = { 0 };
    char api[PATH_MAX + 16], ready[32], pid[48], tap[32], net[48], user[48];
    size_t i;
    int r;

    r = hook_path(h, "api.sock", api + 13, sizeof(api) - 13);
    if (r < 0)
        return r;
    memcpy(api, "--api-socket=", 13);
    snprintf(ready, sizeof(ready), "--ready-fd=%d", conn);
    snprintf(pid, sizeof(pid), "--exit-with-pid=fd:%d", pidfd);
    snprintf(tap, sizeof(tap), "%d", tapfd);
    r = ocistate_args_add(&a, h->prog);
    for (i = 0; r == 0 && i < h->args.n; i++)
        if (strcmp(h->args.v[i], "-c") && strcmp(h->args.v[i], "--configure"))
            r = ocistate_args_add(&a, h->args.v[i]);
    if (r == 0)
        r = ocistate_args_add(&a, "--netns-type=tapfd");
    if (r == 0)
        r = ocistate_args_add(&a, api);
    if (r == 0)
        r = ocistate_args_add(&a, ready);
    if (r == 0)
        r = ocistate_args_add(&a, pid);
    /* paths to fds: the daemon opens them before it closes stray fds */
    snprintf(net, sizeof(net), "--tap-netns=/proc/self/fd/%d", nsfd[0]);
    snprintf(user, sizeof(user), "--userns-path=/proc/self/fd/%d", nsfd[1]);
    if (r == 0 && nsfd[0] >= 0 && (r = hook_clear_cloexec(nsfd[0])) == 0)
        r = ocistate_args_add(&a, net);
    if (r == 0 && nsfd[0] >= 0 && nsfd[1] >= 0 &&
        (r = hook_clear_cloexec(nsfd[1])) == 0)
        r = ocistate_args_add(&a, user);
    if (r == 0)
        r = ocistate_args_add(&a, tap);
    if (r == 0 && (r = hook_clear_cloexec(conn)) == 0 &&
        (r = hook_clear_cloexec(tapfd)) == 0 &&
        (r = hook_clear_cloexec(pidfd)) == 0) {
        signal(SIGHUP, SIG_DFL);    /* the daemon starts as any other */
        fflush(NULL);
        execv("/proc/self/exe", a.v);
        r = -errno;
    }
    ocistate_args_free(&a);
    return r;
}

/*
 * The waiter's work once its stdio is the log: wait for the
 * createContainer hook, send it the options, take the tap (and its
 * namespaces) and exec the daemon. Returns only on failure.
 */
static int hook_waiter_serve(const struct hook *h, int lsn, int pidfd,
                             struct err *e)
{
    struct pollfd p[2] = { { .fd = lsn, .events = POLLIN },
                           { .fd = pidfd, .events = POLLIN } };
    int fds[3] = { -1, -1, -1 }, nsfd[2] = { -1, -1 }, conn, tapfd = -1, r;
    int32_t status = 0;
    size_t nfds = 0;

    do
        r = poll(p, 2, HOOK_WAIT_MS);
    while (r < 0 && errno == EINTR);
    if (r <= 0 || !(p[0].revents & POLLIN)) {
        int code = r == 0 ? -ETIMEDOUT : r < 0 ? -errno : -ESRCH;

        return err_make(e, code, "container %s: %s before its "
                        "createContainer hook handed over a tap", h->st.id,
                        r == 0 ? "timed out" : r < 0 ? strerror(-code) :
                        "its process exited");
    }
    conn = accept4(lsn, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0)
        return err_make_errno(e, -errno, "accept");
    /* one tap per container: a second createContainer finds no socket */
    unlinkat(h->dirfd, "tap.sock", 0);
    close(lsn);

    r = hook_send_options(h, conn);
    if (r == 0)
        r = hook_wait_readable(conn, HOOK_READY_MS) > 0 ? 0 : -ETIMEDOUT;
    /* the tap, then its network and user namespaces (older hooks: none) */
    if (r == 0)
        r = fdpass_recv_fds(conn, fds, 3, &nfds, &status);
    if (r == 0 && nfds > 0)
        tapfd = fds[0];
    if (r == 0 && nfds > 1)
        nsfd[0] = fds[1];
    if (r == 0 && nfds > 2)
        nsfd[1] = fds[2];
    if (r < 0 || status < 0 || tapfd < 0)
        return err_make_errno(e, r < 0 ? r : status < 0 ? status : -EBADF,
                              "container %s: no tap from the createContainer "
                              "hook", h->st.id);
    info("slirpd oci-hook: container %s: received the tap, starting the "
         "daemon", h->st.id);
    r = hook_exec_daemon(h, conn, tapfd, nsfd, pidfd);
    return err_make_errno(e, r, "cannot start the daemon");
}

/*
 * The detached waiter: own session, log file as stdout/stderr. Never
 * returns: the top level of its process. On any failure before the exec
 * it logs the line, removes DIR and exits 1: the createContainer hook then
 * finds no daemon (or sees EOF) and says so.
 */
static void __attribute__((noreturn)) hook_waiter(struct hook *h, int lsn,
                                                  int pidfd, int logfd)
{
    int keep[5] = { lsn, pidfd, logfd, h->rootfd, h->dirfd }, devnull, fd;
    struct err e;

    devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        if (devnull > STDERR_FILENO)
            close(devnull);
    }
    dup2(logfd, STDOUT_FILENO);
    dup2(logfd, STDERR_FILENO);
    fdclose_except(keep, ARRAY_SIZE(keep));
    close(logfd);
    setvbuf(stdout, NULL, _IOLBF, 0);

    fd = openat(h->dirfd, "slirpd.pid", O_WRONLY | O_CREAT | O_EXCL |
                O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
        dprintf(fd, "%d\n", (int)getpid());
        close(fd);
    }
    info("slirpd oci-hook: container %s: waiting for its tap (createContainer "
         "hook)", h->st.id);
    hook_waiter_serve(h, lsn, pidfd, &e);
    err("slirpd oci-hook: %s", e.msg);
    hook_remove_dir(h);
    _exit(1);
}

/* ------------------------------------------------------------ stages */

static int hook_create_runtime(struct hook *h, struct err *e)
{
    char path[PATH_MAX];
    struct config cfg;
    _cleanup_close_ int lsn = -1, pidfd = -1, logfd = -1;
    pid_t a;
    int r, status;

    r = hook_daemon_config(&h->args, h->ifname, &cfg, e);
    config_free(&cfg);
    if (r < 0)
        return err_wrap(e, r, "container %s", h->st.id);
    if (hook_options_size(h) > HOOK_MSG_MAX)
        return err_make(e, -E2BIG, "container %s: the daemon's options are "
                        "over %d bytes", h->st.id, HOOK_MSG_MAX);
    if (h->st.pid <= 0)
        return err_make(e, -EINVAL, "container %s: the state has no pid (the "
                        "createRuntime hook needs the container's process)",
                        h->st.id);
    pidfd = (int)syscall(SYS_pidfd_open, h->st.pid, 0);
    if (pidfd < 0) {
        r = -errno;
        return err_make(e, r, "container %s: process %d: %s", h->st.id,
                        (int)h->st.pid, r == -ESRCH ?
                        "no such process (did it exit?)" : strerror(-r));
    }

    /* the daemon binds DIR/api.sock by its path */
    if (hook_path(h, "api.sock", path, sizeof(path)) < 0 ||
        strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return err_make(e, -ENAMETOOLONG, "%s: the path is too long for a "
                        "UNIX socket (use a shorter --state-dir)", h->dir);
    r = hook_open_dir(h->rootfd, h->st.id, h->dir, HOOK_CREATE, &h->dirfd, e);
    if (r == -EEXIST)
        return err_make(e, r, "container %s: %s exists already (a second "
                        "createRuntime hook for this id?): leaving it "
                        "alone", h->st.id, h->dir);
    if (r < 0)
        return err_wrap(e, r, "container %s", h->st.id);
    lsn = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    r = lsn < 0 ? -errno : hook_sock_at(h, lsn, "tap.sock", true);
    if (r == 0 && listen(lsn, 1) < 0)
        r = -errno;
    if (r < 0) {
        hook_remove_dir(h);
        return err_make_errno(e, r, "cannot listen on %s/tap.sock", h->dir);
    }
    logfd = openat(h->dirfd, "slirpd.log", O_WRONLY | O_CREAT | O_EXCL |
                   O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (logfd < 0) {
        r = -errno;
        hook_remove_dir(h);
        return err_make_errno(e, r, "cannot create %s/slirpd.log", h->dir);
    }

    a = fork();
    if (a < 0) {
        r = -errno;
        hook_remove_dir(h);
        return err_make_errno(e, r, "fork");
    }
    if (a == 0) {
        pid_t b;

        setsid();
        b = fork();
        if (b < 0)
            _exit(1);
        if (b > 0)
            _exit(0);
        signal(SIGHUP, SIG_IGN);
        hook_waiter(h, lsn, pidfd, logfd);
    }
    while (waitpid(a, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        hook_remove_dir(h);
        /* the first child's one failure: its fork() */
        return err_make(e, -EAGAIN, "cannot start the daemon for container "
                        "%s", h->st.id);
    }
    return 0;
}

/* the last non-empty line of the daemon's log: why it failed */
static void hook_last_log_line(const struct hook *h, char *ret, size_t len)
{
    char buf[4096];
    _cleanup_close_ int fd = -1;
    off_t size;
    ssize_t n;
    char *end, *start;

    snprintf(ret, len, "see its log");
    fd = openat(h->dirfd, "slirpd.log", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    size = lseek(fd, 0, SEEK_END);
    if (size < 0)
        return;
    n = pread(fd, buf, sizeof(buf) - 1, size > (off_t)sizeof(buf) - 1 ?
              size - (off_t)sizeof(buf) + 1 : 0);
    if (n <= 0)
        return;
    buf[n] = '\0';
    end = buf + n;
    while (end > buf && (end[-1] == '\n' || end[-1] == ' '))
        *--end = '\0';
    start = strrchr(buf, '\n');
    start = start ? start + 1 : buf;
    n = (ssize_t)strlen(start);
    if ((size_t)n >= len)
        n = (ssize_t)len - 1;
    memcpy(ret, start, (size_t)n);
    ret[n] = '\0';
}

static int hook_create_container(struct hook *h, struct err *e)
{
    char msg[HOOK_MSG_MAX + 1], line[512], c;
    struct ocistate_args args = { 0 };
    _cleanup_close_ int conn = -1, tapfd = -1;
    const char *ifname;
    struct config cfg = { 0 };
    ssize_t n = 0;
    size_t pos;
    int r;

    r = h->dirfd < 0 ? -ENOENT : hook_connect(h, "tap.sock", SOCK_SEQPACKET,
                                               &conn);
    if (r < 0)
        return err_make(e, r, "container %s: no slirpd waits for a tap at "
                        "%s/tap.sock (%s): did its createRuntime hook run, "
                        "with the same --state-dir, and is this the first "
                        "createContainer hook?", h->st.id, h->dir,
                        strerror(-r));
    r = hook_wait_readable(conn, HOOK_READY_MS);
    if (r > 0) {
        n = recv(conn, msg, sizeof(msg) - 1, 0);
        r = n > 0 ? 0 : n < 0 ? -errno : -ECONNRESET;
    } else if (r == 0) {
        r = -ETIMEDOUT;
    }
    if (r < 0)
        return err_make(e, r, "container %s: the waiting daemon did not "
                        "send its options", h->st.id);
    msg[n] = '\0';
    if (strcmp(msg, HOOK_MAGIC) || msg[n - 1] != '\0')
        return err_make(e, -EPROTO, "container %s: %s/tap.sock is not "
                        "slirpd's", h->st.id, h->dir);
    pos = strlen(msg) + 1;
    ifname = msg + pos;
    pos += strlen(ifname) + 1;
    for (r = 0; r == 0 && pos < (size_t)n; pos += strlen(msg + pos) + 1)
        r = ocistate_args_add(&args, msg + pos);
    if (r == 0)
        r = hook_daemon_config(&args, ifname, &cfg, e);
    else
        err_make_errno(e, r, NULL);
    ocistate_args_free(&args);
    if (r == 0)
        r = daemon_make_tap(&cfg, &tapfd, e);
    config_free(&cfg);
    if (r < 0) {
        fdpass_send(conn, -1, r);
        return err_wrap(e, r, "container %s", h->st.id);
    }
    /* with the tap, this (the container's) network and user namespace:
     * the daemon's splice helper joins them (no /proc/PID/ns of the
     * container's init can be opened at createRuntime time) */
    {
        int fds[3] = { tapfd, -1, -1 };
        size_t nfds = 1;

        fds[1] = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (fds[1] >= 0) {
            nfds = 2;
            fds[2] = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
            if (fds[2] >= 0)
                nfds = 3;
        }
        r = fdpass_send_fds(conn, fds, nfds, 0);
        if (fds[1] >= 0)
            close(fds[1]);
        if (fds[2] >= 0)
            close(fds[2]);
    }
    if (r < 0)
        return err_make_errno(e, r, "container %s: cannot hand the tap over",
                              h->st.id);
    close(util_take_fd(&tapfd));

    r = hook_wait_readable(conn, HOOK_READY_MS);
    if (r > 0) {
        n = recv(conn, &c, 1, 0);
        if (n == 1)
            return 0;
        r = n < 0 ? -errno : -ECONNRESET;   /* EOF: the daemon exited */
    }
    if (r == 0)
        return err_make(e, -ETIMEDOUT, "container %s: the daemon was not "
                        "ready within %d s (its log: %s/slirpd.log)",
                        h->st.id, HOOK_READY_MS / 1000, h->dir);
    hook_last_log_line(h, line, sizeof(line));
    hook_remove_dir(h);
    return err_make(e, r, "container %s: the daemon failed: %s", h->st.id,
                    line);
}

static int hook_poststop(struct hook *h, struct err *e)
{
    static const char req[] = "{\"execute\":\"shutdown\"}";
    char buf[512];
    _cleanup_close_ int fd = -1;
    struct timespec t0, t;
    bool gone = true;
    int r;

    if (h->dirfd < 0)
        return 0;   /* nothing of ours: never started, or cleaned already */
    if (hook_connect(h, "api.sock", SOCK_STREAM, &fd) == 0) {
        /* the daemon: ask it to stop, then wait until it closes */
        gone = false;
        if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == sizeof(req) - 1) {
            shutdown(fd, SHUT_WR);
            clock_gettime(CLOCK_MONOTONIC, &t0);
            for (;;) {
                int left;

                clock_gettime(CLOCK_MONOTONIC, &t);
                left = HOOK_STOP_MS - (int)((t.tv_sec - t0.tv_sec) * 1000 +
                                            (t.tv_nsec - t0.tv_nsec) / 1000000);
                if (left <= 0 || hook_wait_readable(fd, left) <= 0)
                    break;
                r = (int)recv(fd, buf, sizeof(buf), 0);
                if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
                    gone = true;
                    break;
                }
            }
        }
    } else if (hook_connect(h, "tap.sock", SOCK_SEQPACKET, &fd) == 0) {
        /* a waiter that never got its tap: EOF makes it clean up and exit */
        hook_wait_readable(fd, HOOK_STOP_MS);
    }
    r = hook_remove_dir(h);
    if (!gone)
        return err_make(e, -ETIMEDOUT, "container %s: the daemon did not "
                        "stop within %d s", h->st.id, HOOK_STOP_MS / 1000);
    if (r < 0)
        return err_make_errno(e, r, "cannot remove %s", h->dir);
    return 0;
}

/* ------------------------------------------------------------ top level */

/*
 * --ifname=NAME words (from io.slirpd.ifname) out of the daemon's options;
 * like any annotation, it cannot change what the hook's args set
 */
static int hook_take_ifname(struct hook *h, struct err *e)
{
    struct ocistate_args rest = { 0 };
    size_t i;
    int r = 0;

    for (i = 0; r == 0 && i < h->args.n; i++) {
        if (!strncmp(h->args.v[i], "--ifname=", 9) && h->ifname_given) {
            ocistate_args_free(&rest);
            return err_make(e, -EPERM, "container %s: annotation %sifname "
                            "cannot change --ifname: the hook's args set it",
                            h->st.id, OCISTATE_ANN_PREFIX);
        }
        if (!strncmp(h->args.v[i], "--ifname=", 9)) {
            snprintf(h->ifname_buf, sizeof(h->ifname_buf), "%s",
                     h->args.v[i] + 9);
            h->ifname = h->ifname_buf;
        } else {
            r = ocistate_args_add(&rest, h->args.v[i]);
        }
    }
    if (r < 0) {
        ocistate_args_free(&rest);
        return err_make(e, r, "out of memory");
    }
    ocistate_args_free(&h->args);
    h->args = rest;
    return 0;
}

static int hook_read_state(struct hook *h, struct err *e)
{
    char *buf = malloc(HOOK_STATE_MAX + 1);
    size_t len = 0;
    ssize_t n;
    int r;

    if (!buf)
        return err_make(e, -ENOMEM, "out of memory");
    while (len <= HOOK_STATE_MAX &&
           (n = read(STDIN_FILENO, buf + len, HOOK_STATE_MAX + 1 - len)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = -errno;
            free(buf);
            return err_make_errno(e, r, "cannot read the OCI state on stdin");
        }
        len += (size_t)n;
    }
    r = ocistate_parse(buf, len, &h->st, e);
    free(buf);
    if (r < 0)
        return err_wrap(e, r, "%s", hook_stage_name(h->stage));
    return 0;
}

/**
 * hook_main() - "slirpd oci-hook ...": the hook's top level
 * @argc, @argv:	argv[0] is our program, argv[1] "oci-hook" was dropped:
 *			argv[1] is the stage
 *
 * The one place that prints a stage's failure: each step fills @e and
 * returns its errno; this prints the line once, at the end.
 *
 * Return: the exit status (0, or 1 after one line on stderr)
 */
int hook_main(int argc, char **argv)
{
    struct hook h = { .prog = argv[0], .ifname = "tap0", .rootfd = -1,
                      .dirfd = -1 };
    struct err e;
    bool enabled;
    int r;

    err_clear(&e);
    setvbuf(stdout, NULL, _IOLBF, 0);
    log_init(argv[0]);
    r = hook_parse_args(&h, argc, argv, &e);
    if (r < 0)
        goto out;
    r = hook_read_state(&h, &e);
    if (r < 0)
        goto out;
    r = ocistate_apply_annotations(&h.st, &h.args, &enabled, &e);
    if (r < 0) {
        err_wrap(&e, r, "container %s", h.st.id);
        goto out;
    }
    /* io.slirpd.ifname arrives as --ifname=NAME: a hook option */
    r = hook_take_ifname(&h, &e);
    if (r < 0)
        goto out;
    if (!enabled) {
        r = 0;      /* io.slirpd.enable=false: this container opted out */
        goto out;
    }
    r = hook_state_root(h.state_dir, h.root, sizeof(h.root));
    if (r < 0) {
        err_make(&e, r, "cannot find a state directory (%s): pass "
                 "--state-dir=DIR", strerror(-r));
        goto out;
    }
    if (snprintf(h.dir, sizeof(h.dir), "%s/%s", h.root, h.st.id) >=
        (int)sizeof(h.dir)) {
        r = err_make(&e, -ENAMETOOLONG, "%s/%s: path too long", h.root,
                     h.st.id);
        goto out;
    }
    /*
     * Every stage checks ROOT and DIR (ours, not writable by others, no
     * symbolic link) and works from their fds. ROOT is made by the first
     * container's createRuntime hook, DIR by each one's.
     */
    r = hook_open_root(&h, h.stage == HOOK_CREATE_RUNTIME, &e);
    if (r == 0 && h.stage != HOOK_CREATE_RUNTIME) {
        r = hook_open_dir(h.rootfd, h.st.id, h.dir, HOOK_OPEN, &h.dirfd, &e);
        if (r == -ENOENT)
            r = 0;  /* poststop: nothing to do; createContainer: says so */
    }
    if (r == -ENOENT && h.stage == HOOK_POSTSTOP) {
        r = 0;      /* no ROOT: nothing of ours */
        goto out;
    }
    if (r == -ENOENT)
        err_make(&e, r, "%s does not exist", h.root);
    if (r < 0) {
        err_wrap(&e, r, "state directory");
        goto out;
    }
    switch (h.stage) {
    case HOOK_CREATE_RUNTIME:
        r = hook_create_runtime(&h, &e);
        break;
    case HOOK_CREATE_CONTAINER:
        r = hook_create_container(&h, &e);
        break;
    case HOOK_POSTSTOP:
        r = hook_poststop(&h, &e);
        break;
    }
out:
    if (r < 0)
        err("slirpd oci-hook: %s", e.msg);
    if (h.dirfd >= 0)
        close(h.dirfd);
    if (h.rootfd >= 0)
        close(h.rootfd);
    ocistate_args_free(&h.args);
    ocistate_free(&h.st);
    return r < 0 ? 1 : 0;
}
