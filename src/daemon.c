/* daemon.c - process-level steps of the daemon: signals, limits, tap, readiness */
#include <errno.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
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

/*
 * Runs in the child, inside the target's namespaces: create (or attach to)
 * the tap and, with -c, configure it. This is the child's top level, so it
 * logs its own errors; the parent only learns the errno.
 */
static int daemon_tap_child(void *arg)
{
    const struct config *cfg = arg;
    const char *step = NULL;
    int fd, r;

    r = tap_open(cfg->ifname, IFF_TAP | IFF_NO_PI, &fd);
    if (r < 0) {
        if (r == -EPERM || r == -EACCES)
            return log_errno(r, "cannot create tap %s (is /dev/net/tun "
                             "usable, and are we root in the namespace's "
                             "user namespace?)", cfg->ifname);
        return log_errno(r, "cannot create tap %s", cfg->ifname);
    }
    if (cfg->configure) {
        r = ifcfg_apply(cfg, cfg->ifname, &step);
        if (r < 0) {
            close(fd);
            return log_errno(r, "cannot configure %s: %s", cfg->ifname,
                             step ? step : "netlink");
        }
    }
    info("sent tapfd=%d for %s", fd, cfg->ifname);
    return fd;
}

/**
 * daemon_get_tap() - the tap fd: inherited (--netns-type=tapfd), or created
 *		      by a child inside the target's namespaces
 * @cfg:	the configuration
 * @ns:		opened here (unless tapfd); kept open by the caller
 * @ret_tapfd:	the tap fd
 *
 * Return: 0 or a negative errno (already logged in detail by the child)
 */
int daemon_get_tap(const struct config *cfg, struct ns *ns, int *ret_tapfd)
{
    struct tap_info ti;
    int r, status = 0, fd = -1;

    ns->userns_fd = ns->netns_fd = -1;
    if (cfg->netns_type == CONFIG_NETNS_TAPFD) {
        r = tap_query(cfg->tapfd, &ti);
        if (r < 0)
            return log_errno(r, "fd %d is not a tap device", cfg->tapfd);
        if (ti.flags & IFF_VNET_HDR)
            return log_errno(-ENOTSUP, "tap fd %d (%s) has IFF_VNET_HDR",
                             cfg->tapfd, ti.name);
        info("using tapfd=%d for %s", cfg->tapfd, ti.name);
        *ret_tapfd = cfg->tapfd;
        return 0;
    }

    r = ns_open(ns, cfg);
    if (r < 0)
        return log_errno(r, "cannot open the namespaces of %s",
                         cfg->netns_path);
    r = ns_call(ns, daemon_tap_child, (void *)cfg, &fd, &status);
    if (r < 0) {
        if (WIFSIGNALED(status))
            err("child failed(signal %d)", WTERMSIG(status));
        else
            err("child failed(%d): %s", WIFEXITED(status) ?
                WEXITSTATUS(status) : -1, strerror(-r));
        return r;
    }
    info("received tapfd=%d", fd);
    *ret_tapfd = fd;
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
