/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns.c - the target's namespaces: open once, keep for life, run code inside */
/*
 * DOC: Theory of Operation
 *
 * ns_open() opens the target's user and network namespace files (by PID or
 * path) once, close-on-exec, and keeps them for the daemon's whole life:
 * whatever later has to act inside the namespace again (creating sockets
 * there for a port forward, an OCI hook re-attaching) can still do so after
 * privileges are dropped and /proc is gone.
 *
 * ns_call() runs a function inside those namespaces in a forked child (the
 * daemon itself must stay in the host namespaces, and setns() into a user
 * namespace is only allowed to a single-threaded process, which a fresh
 * fork() is). The function returns an fd; the child passes it back over a
 * socketpair with SCM_RIGHTS together with a status word, and exits. The
 * parent receives, then reaps the child. ns_call_then() lets the child
 * live on after that, inside the namespaces, as another function (the
 * splice helper: one fork for both).
 *
 * Such a child is reachable from inside the namespace: once it has joined
 * the target's user namespace, its credentials live there, so whatever holds
 * CAP_SYS_PTRACE in that namespace (its root, at least) passes ptrace's
 * checks on credentials, and a child that is still dumpable could then be
 * attached: a process with our host uid (root's, for a root daemon) in the
 * host's mount namespace. ns_enter() therefore makes it non-dumpable first:
 * ptrace then also needs CAP_SYS_PTRACE in the user namespace the process
 * was exec'd in (the host's), which nothing in the container has. Nothing
 * in the child needs its own /proc afterwards, whose files become root's
 * (close_range(), and /proc/self/cmdline which the helper reads, stay
 * allowed to the process itself).
 *
 * The same processes can stop the child (SIGSTOP from inside): ns_await()
 * gives its first answer a deadline, after which the child is killed and
 * reaped, so the daemon's start fails clearly instead of hanging.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdpass.h"
#include "log.h"
#include "ns.h"
#include "util.h"

/* true if @fd refers to the user namespace we are in already */
static bool ns_is_own_userns(int fd)
{
    struct stat a, b;

    if (fstat(fd, &a) < 0 || stat("/proc/self/ns/user", &b) < 0)
        return false;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/**
 * ns_open() - open the target's namespace files
 * @ns:		filled in; release with ns_close()
 * @cfg:	PID or paths of the target
 *
 * Return: 0 or a negative errno (of the open that failed)
 */
int ns_open(struct ns *ns, const struct config *cfg)
{
    ns->userns_fd = -1;
    ns->netns_fd = -1;
    ns->userns_required = cfg->userns_explicit;

    if (cfg->userns_path) {
        ns->userns_fd = open(cfg->userns_path, O_RDONLY | O_CLOEXEC);
        if (ns->userns_fd < 0)
            return -errno;
        if (ns_is_own_userns(ns->userns_fd)) {
            /* already inside it (podman runs us from its user namespace) */
            close(ns->userns_fd);
            ns->userns_fd = -1;
        }
    }
    ns->netns_fd = open(cfg->netns_path, O_RDONLY | O_CLOEXEC);
    if (ns->netns_fd < 0) {
        int r = -errno;
        ns_close(ns);
        return r;
    }
    return 0;
}

/**
 * ns_adopt() - ns_open() for namespace files opened already
 * @ns:		filled in with copies (close-on-exec); release with ns_close()
 * @netns_fd:	the network namespace
 * @userns_fd:	its user namespace, or -1
 * @required:	joining the user namespace must succeed
 *
 * Return: 0 or a negative errno
 */
int ns_adopt(struct ns *ns, int netns_fd, int userns_fd, bool required)
{
    ns->userns_fd = -1;
    ns->userns_required = required;
    ns->netns_fd = fcntl(netns_fd, F_DUPFD_CLOEXEC, 3);
    if (ns->netns_fd < 0)
        return -errno;
    if (userns_fd >= 0 && !ns_is_own_userns(userns_fd)) {
        ns->userns_fd = fcntl(userns_fd, F_DUPFD_CLOEXEC, 3);
        if (ns->userns_fd < 0) {
            int r = -errno;
            ns_close(ns);
            return r;
        }
    }
    return 0;
}

/**
 * ns_close() - close the namespace files
 * @ns:	as filled by ns_open()
 */
void ns_close(struct ns *ns)
{
    util_closep(&ns->userns_fd);
    util_closep(&ns->netns_fd);
    ns->userns_fd = ns->netns_fd = -1;
}

/**
 * ns_enter() - join the user namespace (if any), then the network namespace
 * @ns:	as filled by ns_open()
 *
 * The calling process is made non-dumpable first, for good: from then on
 * nothing in the namespace can ptrace it or read its memory (see the top
 * of this file). Failing to join the user namespace is tolerated unless it
 * was named with --userns-path, as slirp4netns does: a caller that is
 * already inside it cannot join it again.
 *
 * Return: 0 or a negative errno
 */
static int ns_enter(const struct ns *ns)
{
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        return -errno;
    if (ns->userns_fd >= 0 && setns(ns->userns_fd, CLONE_NEWUSER) < 0 &&
        ns->userns_required)
        return -errno;
    if (setns(ns->netns_fd, CLONE_NEWNET) < 0)
        return -errno;
    return 0;
}

static void ns_child(const struct ns *ns, ns_fn fn, void *arg,
                     ns_then_fn then, void *then_arg, int sock)
{
    int r, fd = -1;

    r = ns_enter(ns);
    if (r < 0)
        log_errno(r, "cannot join the target's namespaces");
    else {
        r = fn(arg);
        if (r >= 0) {
            fd = r;
            r = 0;
        }
    }
    if (fdpass_send(sock, fd, r) < 0)
        r = -EPIPE;
    fflush(NULL);
    if (r == 0 && then) {
        close(fd);
        then(sock, then_arg);   /* never returns */
    }
    _exit(r < 0 ? 1 : 0);
}

/**
 * ns_fork() - fork a child connected to this process by a socketpair
 * @ret_sock:	SOCK_SEQPACKET, close-on-exec: this process's end in the
 *		parent, the child's end in the child (the other end is closed)
 *
 * Return: the child's PID in the parent, 0 in the child, or a negative errno
 */
pid_t ns_fork(int *ret_sock)
{
    int sv[2], r;
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        r = -errno;
        close(sv[0]);
        close(sv[1]);
        return r;
    }
    close(sv[pid == 0 ? 0 : 1]);
    *ret_sock = sv[pid == 0 ? 1 : 0];
    return pid;
}

/**
 * ns_await() - a child's first answer, within a deadline
 * @sock:	this process's end of the socketpair to the child (blocking)
 * @pid:	the child
 * @timeout_ms:	the most to wait, in milliseconds
 * @ret_fd:	the fd the child sent (close-on-exec), or -1 if none came
 * @ret_status:	the status word the child sent
 *
 * A child that neither answers nor exits in time (stopped from inside the
 * namespace, or stuck there) is killed with SIGKILL; the caller reaps it.
 *
 * Return: 0, -ETIMEDOUT (the child was killed), -EPIPE if it closed its end
 *	   without a word, or another negative errno
 */
int ns_await(int sock, pid_t pid, int timeout_ms, int *ret_fd,
             int32_t *ret_status)
{
    struct timeval tv = { .tv_sec = timeout_ms / 1000,
                          .tv_usec = (timeout_ms % 1000) * 1000 };
    struct timeval none = { 0, 0 };
    int r;

    /* a receive timeout on the socket, not a poll(): the isolation tests'
     * LD_PRELOAD probes take the first poll() for the loop's */
    if (setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
        return -errno;
    r = fdpass_recv(sock, ret_fd, ret_status);
    /* a socket that goes on to a helper blocks as before */
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
    if (r == -EAGAIN || r == -EWOULDBLOCK) {
        kill(pid, SIGKILL);
        return -ETIMEDOUT;
    }
    return r;
}

/**
 * ns_call() - run @fn inside the target's namespaces and get its fd back
 * @ns:			as filled by ns_open()
 * @fn:			returns an fd, or a negative errno
 * @arg:		passed to @fn
 * @ret_fd:		the fd @fn returned, valid in this process
 * @ret_child_status:	exit status of the child (wait status), for messages
 *
 * Return: 0, the negative errno @fn (or joining) failed with, -ECHILD if
 *	   the child died without a word, or -ETIMEDOUT if it gave none within
 *	   NS_ANSWER_TIMEOUT_MS (it was killed and reaped)
 */
int ns_call(const struct ns *ns, ns_fn fn, void *arg, int *ret_fd,
            int *ret_child_status)
{
    return ns_call_then(ns, fn, arg, NULL, NULL, ret_fd, ret_child_status,
                        NULL, NULL);
}

/**
 * ns_call_then() - ns_call(), and the child lives on inside the namespaces
 * @ns:			as filled by ns_open()
 * @fn:			returns an fd, or a negative errno
 * @arg:		passed to @fn
 * @then:		once @fn succeeded and its fd was sent (and closed), the
 *			child calls @then with its end of the socketpair; @then
 *			never returns. NULL: the child exits (ns_call())
 * @then_arg:		passed to @then
 * @ret_fd:		the fd @fn returned, valid in this process
 * @ret_child_status:	exit status of the child (wait status), for messages;
 *			only set where the child was reaped (it failed)
 * @ret_sock:		with @then: this process's end of the socketpair to the
 *			child that lives on (SOCK_SEQPACKET, close-on-exec)
 * @ret_pid:		with @then: that child
 *
 * One fork serves two ends: the child that made the tap inside the
 * namespace goes on as the splice helper, so the daemon forks once, and
 * its start waits for one child instead of two.
 *
 * The child's answer has NS_ANSWER_TIMEOUT_MS (ns_await()).
 *
 * Return: as ns_call(), or -ETIMEDOUT if the child did not answer in time
 *	   (it was killed and reaped)
 */
int ns_call_then(const struct ns *ns, ns_fn fn, void *arg, ns_then_fn then,
                 void *then_arg, int *ret_fd, int *ret_child_status,
                 int *ret_sock, pid_t *ret_pid)
{
    int sock, r, fd = -1, status = 0;
    int32_t child_r = 0;
    pid_t pid;

    pid = ns_fork(&sock);
    if (pid < 0)
        return (int)pid;
    if (pid == 0)
        ns_child(ns, fn, arg, then, then_arg, sock);
    r = ns_await(sock, pid, NS_ANSWER_TIMEOUT_MS, &fd, &child_r);
    if (then && r == 0 && child_r == 0 && fd >= 0) {
        /* the child goes on: keep its socket, do not wait for it */
        *ret_fd = fd;
        *ret_sock = sock;
        *ret_pid = pid;
        return 0;
    }
    close(sock);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (ret_child_status)
        *ret_child_status = status;
    if (r == -ETIMEDOUT)
        return r;
    if (r < 0)
        return -ECHILD;
    if (child_r < 0 || fd < 0) {
        if (fd >= 0)
            close(fd);
        return child_r < 0 ? child_r : -ECHILD;
    }
    *ret_fd = fd;
    return 0;
}

/**
 * ns_spawn() - fork a child that joins the namespaces and becomes @then
 * @ns:		as filled by ns_open()
 * @then:	what the child runs inside them with its end of the
 *		socketpair; never returns
 * @then_arg:	passed to @then
 * @ret_sock:	this process's end of the socketpair (SOCK_SEQPACKET,
 *		close-on-exec)
 * @ret_pid:	the child
 *
 * ns_call_then() without a first answer, for a tap that came from
 * elsewhere (--netns-type=tapfd --tap-netns): a child that cannot join
 * says so on stderr and exits 1, which its peer sees as EOF.
 *
 * Return: 0 or the negative errno of the socketpair or fork
 */
int ns_spawn(const struct ns *ns, ns_then_fn then, void *then_arg,
             int *ret_sock, pid_t *ret_pid)
{
    int sock, r;
    pid_t pid;

    pid = ns_fork(&sock);
    if (pid < 0)
        return (int)pid;
    if (pid == 0) {
        r = ns_enter(ns);
        if (r < 0) {
            log_errno(r, "cannot join the tap's namespaces");
            fflush(NULL);
            _exit(1);
        }
        then(sock, then_arg);   /* never returns */
    }
    *ret_sock = sock;
    *ret_pid = pid;
    return 0;
}
