/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon.c - process-level steps of the daemon: signals, limits, tap, readiness */
/*
 * DOC: Theory of Operation
 *
 * The steps main() takes around the network itself, each a function:
 *
 *   daemon_process_init()   SIGPIPE ignored (libslirp send()s without
 *                           MSG_NOSIGNAL), RLIMIT_NOFILE raised, the mmap
 *                           threshold fixed, SIGTERM/SIGINT through a
 *                           signalfd (no thread: setns() into a user
 *                           namespace needs a single-threaded process)
 *   daemon_watch_pid()      --exit-with-pid: a pidfd for the loop, either
 *                           inherited (fd:N, from the OCI hook) or opened
 *   daemon_get_tap()        the tap: inherited (--netns-type=tapfd), or
 *                           made by a child inside the target's namespaces
 *                           (ns.c), which daemon_make_tap() configures (-c)
 *                           and which goes on as the splice helper
 *   daemon_signal_ready()   the ready byte, after the last isolation stage
 *
 * The child that makes the tap runs daemon_tap_child() as its own top
 * level: it logs its detailed reason itself (podman shows it to the user)
 * and the parent only learns the errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <malloc.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "err.h"
#include "ifcfg.h"
#include "log.h"
#include "tap.h"
#include "util.h"

/**
 * daemon_process_init() - signals and limits for a long-lived daemon
 * @ret_signal_fd:	signalfd reporting SIGTERM and SIGINT (blocked)
 *
 * SIGPIPE is ignored: libslirp send()s without MSG_NOSIGNAL, and a peer that
 * closes with data still buffered would otherwise kill us silently. The soft
 * RLIMIT_NOFILE is raised to the hard limit: libslirp holds an fd per
 * connection (TIME_WAIT included) and podman publishes one listener per port.
 * Signals come through a signalfd, not g_unix_signal_add(): that starts a
 * thread, and a multi-threaded process can no longer setns() into a user
 * namespace.
 *
 * Return: 0 or a negative errno
 */
int daemon_process_init(int *ret_signal_fd)
{
    struct rlimit rl;
    sigset_t set;
    int fd;

    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        return -errno;

    /*
     * libslirp allocates two 128 KiB socket buffers per connection and grows
     * them with realloc(). The daemon's malloc (heap.c) maps every block of
     * 64 KiB or more itself, so glibc sees none of them; the same fixed
     * threshold here covers what still reaches glibc (memalign() and the
     * like), so that no freed large block stays resident heap (slirp4netns
     * grows to ~650 MB under a connection burst). docs/design.md, "Memory".
     */
    mallopt(M_MMAP_THRESHOLD, 64 * 1024);

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            warn("cannot raise RLIMIT_NOFILE to %llu: %s, ignoring",
                 (unsigned long long)rl.rlim_max, strerror(errno));
    }

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -errno;
    fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    *ret_signal_fd = fd;
    return 0;
}

/**
 * daemon_make_tap() - create (or attach to) the tap in the namespaces we are
 *		       in and, with cfg->configure, configure it
 * @cfg:	the configuration (ifname, offloads, -c settings)
 * @ret_fd:	the tap fd
 * @e:		on failure, one line with the cause
 *
 * Runs in the tap child (ns_call) and in the OCI hook's createContainer
 * stage, which runs inside the container's namespaces.
 *
 * Return: 0 or a negative errno
 */
int daemon_make_tap(const struct config *cfg, int *ret_fd, struct err *e)
{
    unsigned int flags = IFF_TAP | IFF_NO_PI, offload = 0;
    int fd, r;

    if (!cfg->disable_offload)
        flags |= IFF_VNET_HDR;
    r = tap_open(cfg->ifname, flags, &fd);
    if (r < 0) {
        if (r == -EPERM || r == -EACCES)
            return err_make_errno(e, r, "cannot create tap %s (is "
                                  "/dev/net/tun usable, and are we root in "
                                  "the namespace's user namespace?)",
                                  cfg->ifname);
        return err_make_errno(e, r, "cannot create tap %s", cfg->ifname);
    }
    if (flags & IFF_VNET_HDR) {
        /* before the link comes up, so it starts with its offloads */
        r = tap_enable_offload(fd, &offload);
        if (r < 0) {
            close(fd);
            return err_make_errno(e, r, "cannot set up offloads on %s",
                                  cfg->ifname);
        }
        debug("%s offloads:%s%s", cfg->ifname,
              offload & TUN_F_CSUM ? " csum" : " none",
              offload & TUN_F_TSO4 ? " tso4" : "");
    }
    if (cfg->configure) {
        r = ifcfg_apply(cfg, cfg->ifname, e);
        if (r < 0) {
            close(fd);
            return err_wrap(e, r, "cannot configure %s", cfg->ifname);
        }
    }
    *ret_fd = fd;
    return 0;
}

/*
 * Runs in the child, inside the target's namespaces. This is the child's
 * top level, so it logs its own errors; the parent only learns the errno.
 */
static int daemon_tap_child(void *arg)
{
    const struct config *cfg = arg;
    struct err e;
    int fd, r;

    r = daemon_make_tap(cfg, &fd, &e);
    if (r < 0) {
        err("%s", e.msg);
        return r;
    }
    info("sent tapfd=%d for %s", fd, cfg->ifname);
    return fd;
}

/**
 * daemon_get_tap() - the tap fd: inherited (--netns-type=tapfd), or created
 *		      by a child inside the target's namespaces
 * @cfg:	the configuration
 * @ns:		opened here (unless tapfd); kept open by the caller
 * @then:	NULL, or what the child goes on as once the tap is sent
 *		(ns_call_then(): the splice helper), in the namespaces
 * @ret_tapfd:	the tap fd
 * @ret_vnet_len: the size of the tap's virtio-net header (0: none)
 * @ret_sock:	with @then: the socket to that child, or -1 (tapfd: no
 *		child)
 * @ret_pid:	with @then: that child
 *
 * The child must hand the tap over within NS_ANSWER_TIMEOUT_MS: one that
 * is stopped or stuck inside the namespace is killed, and start-up fails.
 *
 * Return: 0 or a negative errno (already logged in detail by the child),
 *	   -ETIMEDOUT for a child that did not answer in time
 */
int daemon_get_tap(const struct config *cfg, struct ns *ns, ns_then_fn then,
                   int *ret_tapfd, int *ret_vnet_len, int *ret_sock,
                   pid_t *ret_pid)
{
    unsigned int offload = 0;
    struct tap_info ti;
    int r, status = 0, fd = -1;

    ns->userns_fd = ns->netns_fd = -1;
    *ret_sock = -1;
    if (cfg->netns_type == CONFIG_NETNS_TAPFD) {
        r = tap_query(cfg->tapfd, &ti);
        if (r < 0)
            return log_errno(r, "fd %d is not a tap device", cfg->tapfd);
        if (ti.flags & IFF_VNET_HDR) {
            /* we speak the header: choose the offloads we can take */
            if (cfg->disable_offload)
                r = ioctl(cfg->tapfd, TUNSETOFFLOAD, 0UL) < 0 ? -errno : 0;
            else
                r = tap_enable_offload(cfg->tapfd, &offload);
            if (r < 0)
                return log_errno(r, "cannot set offloads on tap fd %d",
                                 cfg->tapfd);
        }
        r = tap_vnet_hdr_len(cfg->tapfd, ti.flags);
        if (r < 0)
            return log_errno(r, "tap fd %d: virtio-net header size",
                             cfg->tapfd);
        info("using tapfd=%d for %s", cfg->tapfd, ti.name);
        *ret_tapfd = cfg->tapfd;
        *ret_vnet_len = r;
        if (!cfg->netns_path || !then)
            return 0;
        /* --tap-netns: the helper joins the tap's namespaces */
        r = ns_adopt(ns, cfg->tap_netns_fd, cfg->tap_userns_fd,
                     cfg->userns_explicit);
        if (r < 0)
            return log_errno(r, "--tap-netns: the namespaces of the tap");
        r = ns_spawn(ns, then, NULL, ret_sock, ret_pid);
        if (r < 0)
            return log_errno(r, "--tap-netns: cannot start the helper");
        return 0;
    }

    r = ns_open(ns, cfg);
    if (r < 0)
        return log_errno(r, "cannot open the namespaces of %s",
                         cfg->netns_path);
    r = ns_call_then(ns, daemon_tap_child, (void *)cfg, then, NULL, &fd,
                     &status, ret_sock, ret_pid);
    if (r == -ETIMEDOUT) {
        err("child failed: no tap from inside the namespace within %d s "
            "(the child was stopped or is stuck there); killed it",
            NS_ANSWER_TIMEOUT_MS / 1000);
        return r;
    }
    if (r < 0) {
        if (WIFSIGNALED(status))
            err("child failed(signal %d)", WTERMSIG(status));
        else
            err("child failed(%d): %s", WIFEXITED(status) ?
                WEXITSTATUS(status) : -1, strerror(-r));
        return r;
    }
    info("received tapfd=%d", fd);
    r = tap_query(fd, &ti);
    if (r >= 0)
        r = tap_vnet_hdr_len(fd, ti.flags);
    if (r < 0) {
        close(fd);
        util_closep(ret_sock);      /* the child then exits */
        return log_errno(r, "received fd %d is not a usable tap", fd);
    }
    *ret_tapfd = fd;
    *ret_vnet_len = r;
    return 0;
}

/**
 * daemon_signal_ready() - write one byte to --ready-fd and close it
 * @ready_fd:	the fd, or -1
 *
 * Return: 0 or a negative errno
 */
int daemon_signal_ready(int ready_fd)
{
    ssize_t n;

    if (ready_fd < 0)
        return 0;
    do
        n = write(ready_fd, "1", 1);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        int r = -errno;
        close(ready_fd);
        return r;
    }
    close(ready_fd);
    return 0;
}

/**
 * daemon_watch_pid() - a pidfd that becomes readable when the process of
 *			--exit-with-pid exits
 * @cfg:	the configuration: exit_pidfd (--exit-with-pid=fd:N, a pidfd
 *		we inherited) or exit_with_pid (a PID); neither: no watch
 * @ret_fd:	the pidfd (close-on-exec), or -1
 *
 * --exit-with-pid: a daemon started by hand or by the OCI hook never
 * outlives the sandbox it serves. The namespace fds we keep (ns.c) and the
 * splice helper would otherwise keep the namespace, and so the tap, alive.
 * An inherited pidfd is used as it is: whoever opened it knew the process
 * was the right one then, while a PID looked up here may have been reused
 * by another process since (the OCI hook passes fd:N for that reason).
 *
 * Return: 0, -ESRCH if the PID does not exist, or another negative errno
 */
int daemon_watch_pid(const struct config *cfg, int *ret_fd)
{
    int fd;

    *ret_fd = -1;
    if (cfg->exit_pidfd >= 0) {
        if (fcntl(cfg->exit_pidfd, F_SETFD, FD_CLOEXEC) < 0)
            return util_neg_errno();
        *ret_fd = cfg->exit_pidfd;
        return 0;
    }
    if (cfg->exit_with_pid <= 0)
        return 0;
    fd = (int)syscall(SYS_pidfd_open, cfg->exit_with_pid, 0);
    if (fd < 0)
        return util_neg_errno();
    *ret_fd = fd;
    return 0;
}
