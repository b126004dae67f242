/* SPDX-License-Identifier: GPL-2.0-or-later */
/* seccomp_rules.h - the seccomp rules as data: the --enable-seccomp allow-list, the chroot-fallback escape list, the namespace helper's filter */
/*
 * This file is an X-macro table, included (more than once, no include guard)
 * by src/isolation.c and src/nshelper.c, which define the eight macros
 * before each inclusion (this file undefines them at its end):
 *
 *   SECCOMP_ALLOW(name)                  allowed, any arguments
 *   SECCOMP_ALLOW_ARG(name, n, mask, v)  allowed only when (argument n & mask)
 *                                        == v; several lines for one name are
 *                                        OR'ed (32-bit values: mask 0xffffffff)
 *   SECCOMP_ALLOW_SELF(name, n)          allowed only when argument n is our
 *                                        own PID (tgkill from abort())
 *   SECCOMP_ENOSYS(name)                 allow-list: fails with ENOSYS instead
 *                                        of trapping, for a call whose
 *                                        arguments the filter cannot check
 *                                        and whose caller falls back
 *   SECCOMP_ESCAPE(name, err)            chroot fallback only: fails with err
 *   SECCOMP_ESCAPE_ARG(name, n, mask, v, err)
 *   SECCOMP_HELPER(name)                 the namespace helper's filter
 *   SECCOMP_HELPER_ARG(name, n, mask, v) (nshelper.c): allowed, as above;
 *                                        everything else kills the helper
 *
 * Adding a system call to the allow-list is one line in the right group.
 * Everything not allowed traps: the SIGSYS handler writes the call's name and
 * number to stderr and the daemon exits with status 159 (128 + SIGSYS), so a
 * missing entry shows up in the log podman prints, never as a silent death.
 *
 * Names, not numbers: isolation.c resolves each name for the architecture it
 * runs on with seccomp_syscall_resolve_name(). A name the running libseccomp
 * does not know at all is skipped (and counted); a name that exists on other
 * architectures only (poll, open, ... on aarch64) resolves to a libseccomp
 * pseudo-number, and the rule is a no-op there. So one list serves every
 * architecture, and lists both the old and the *at/p* variants where libc
 * uses one or the other depending on the architecture. Argument constants
 * come from the headers isolation.c includes (fcntl.h, sched.h, sys/ioctl.h,
 * sys/mman.h, sys/socket.h; SIOCGIFNAME via sys/ioctl.h).
 *
 * How the list was found (x86_64, Debian 12: glibc 2.36, glib 2.74,
 * libslirp 4.7.0, json-glib 1.6):
 *   1. tests/seccomp-trace.sh runs every integration script (the podman
 *      4.3.1 and RootlessKit 1.1.0 ones included) with SLIRPD pointing to a
 *      wrapper that runs `strace -f -qq -o TRACE slirpd --enable-sandbox ARGS`
 *      (sandbox only: the filter must not hide what it would block) and
 *      counts, per traced process, the calls made after the capset() that
 *      completes the sandbox, with the arguments restricted below (ioctl
 *      requests, socket domains, open flags) -- the numbers strace -c gives;
 *   2. the suite is run again with SLIRPD_TEST_EXTRA_ARGS="--enable-sandbox
 *      --enable-seccomp" and the daemon logs are checked for "is not
 *      allowed": futex and eventfd2 were found that way (API path only);
 *   3. paths the suite does not drive were added by reading the code:
 *      abort() (getpid, gettid, tgkill on ourselves, rt_sigprocmask,
 *      rt_sigaction), libslirp's IPv6 DNS with a scoped link-local server
 *      (if_indextoname: socket + ioctl SIOCGIFNAME), ICMP echo sockets, and
 *      glibc's vDSO fallbacks (clock_gettime, gettimeofday, time).
 * Other architectures have not been traced; the names cover their libc
 * variants (ppoll for poll, newfstatat/fstatat64/statx, ...), and a missing
 * one shows up by name in the log. Re-run the procedure when glibc, glib or
 * libslirp change, or when the daemon's data path does.
 */

/* --- process: exit, signals, abort() ----------------------------------- */
SECCOMP_ALLOW(exit)
SECCOMP_ALLOW(exit_group)
SECCOMP_ALLOW(rt_sigreturn)
SECCOMP_ALLOW(sigreturn)
SECCOMP_ALLOW(restart_syscall)
SECCOMP_ALLOW(rt_sigprocmask)
SECCOMP_ALLOW(rt_sigaction)
SECCOMP_ALLOW(getpid)
SECCOMP_ALLOW(gettid)
SECCOMP_ALLOW_SELF(tgkill, 0)
/* a worker thread's exit (--threads) under AddressSanitizer, which takes
 * back the alternate signal stack it gave the thread; it only ever changes
 * the calling thread's own stack for signals */
SECCOMP_ALLOW(sigaltstack)
/* a shard's libslirp instance starts on demand (stack.c), isolated:
 * slirp_new()'s g_rand_new() seeds from the time, getpid() and getppid()
 * when it cannot open /dev/urandom (not in the sandbox's root) */
SECCOMP_ALLOW(getppid)

/* --- memory: glibc malloc, glib; never executable (nothing is loaded once
 *     isolated: no dlopen, no JIT), so no new code can be mapped --------- */
SECCOMP_ALLOW(brk)
SECCOMP_ALLOW_ARG(mmap, 2, PROT_EXEC, 0)
SECCOMP_ALLOW_ARG(mmap2, 2, PROT_EXEC, 0)
SECCOMP_ALLOW(munmap)
SECCOMP_ALLOW(mremap)
SECCOMP_ALLOW_ARG(mprotect, 2, PROT_EXEC, 0)
SECCOMP_ALLOW(madvise)
/* heap.c: whether a freed mapping is clean enough to keep for reuse */
SECCOMP_ALLOW(mincore)

/* --- glib: g_once_init_leave() and GCond wake with FUTEX_WAKE even when
 *     nobody waits (glib's one-time set-ups; json-glib's GObject types did
 *     so on the API path until json.c replaced it) ----------------------- */
SECCOMP_ALLOW(futex)
SECCOMP_ALLOW(futex_time64)

/* --- time: libslirp's clock, the loop's deadlines (vDSO fallbacks) ------- */
SECCOMP_ALLOW(clock_gettime)
SECCOMP_ALLOW(clock_gettime64)
SECCOMP_ALLOW(gettimeofday)
SECCOMP_ALLOW(time)

/* --- the loop: poll, signalfd, tap, exit fd; busypoll.c yields ----------- */
SECCOMP_ALLOW(poll)
SECCOMP_ALLOW(sched_yield)
SECCOMP_ALLOW(ppoll)
SECCOMP_ALLOW(ppoll_time64)
SECCOMP_ALLOW(read)
SECCOMP_ALLOW(readv)
SECCOMP_ALLOW(write)
SECCOMP_ALLOW(writev)
SECCOMP_ALLOW(close)
SECCOMP_ALLOW(fcntl)
SECCOMP_ALLOW(fcntl64)

/* --- libslirp's host sockets: TCP, UDP, ICMP echo; the API socket -------- */
SECCOMP_ALLOW_ARG(socket, 0, 0xffffffff, AF_INET)
SECCOMP_ALLOW_ARG(socket, 0, 0xffffffff, AF_INET6)
SECCOMP_ALLOW_ARG(socket, 0, 0xffffffff, AF_UNIX)
SECCOMP_ALLOW(connect)
SECCOMP_ALLOW(bind)
SECCOMP_ALLOW(listen)
SECCOMP_ALLOW(accept)
SECCOMP_ALLOW(accept4)
SECCOMP_ALLOW(getsockname)
SECCOMP_ALLOW(getpeername)
SECCOMP_ALLOW(getsockopt)
SECCOMP_ALLOW(setsockopt)
SECCOMP_ALLOW(sendto)
SECCOMP_ALLOW(recvfrom)
SECCOMP_ALLOW(recvmsg)
SECCOMP_ALLOW(shutdown)
/* FIONREAD: libslirp sizes UDP/ICMP reads; SIOCGIFNAME: if_indextoname()
 * for a scoped IPv6 nameserver; FIONBIO: non-blocking accepted sockets */
SECCOMP_ALLOW_ARG(ioctl, 1, 0xffffffff, FIONREAD)
SECCOMP_ALLOW_ARG(ioctl, 1, 0xffffffff, FIONBIO)
SECCOMP_ALLOW_ARG(ioctl, 1, 0xffffffff, SIOCGIFNAME)

/* --- the forward table: fwd.c learns the fd the next socket() gets from a
 *     throw-away eventfd (created and closed at once) ------------------- */
SECCOMP_ALLOW(eventfd2)
SECCOMP_ALLOW(eventfd)

/* --- splice forwards (splice.c): the engine's epoll set, a pipe pair per
 *     connection moved with splice(); the namespace helper is reaped at
 *     exit --------------------------------------------------------------- */
SECCOMP_ALLOW(epoll_wait)
SECCOMP_ALLOW(epoll_pwait)
SECCOMP_ALLOW(epoll_ctl)
/* a shard's epoll set (pollset.c) is created when it first has more
 * sockets than it polls directly, which may be long after isolation */
SECCOMP_ALLOW(epoll_create1)
SECCOMP_ALLOW(splice)
SECCOMP_ALLOW(pipe2)
SECCOMP_ALLOW(pipe)
SECCOMP_ALLOW(wait4)
SECCOMP_ALLOW(waitpid)

/* --- UDP relay forwards (udprelay.c): datagrams in batches; the idle
 *     timer of the flows (the timerfd is made before the filter) -------- */
SECCOMP_ALLOW(recvmmsg)
SECCOMP_ALLOW(recvmmsg_time64)
SECCOMP_ALLOW(sendmmsg)
SECCOMP_ALLOW(timerfd_settime)
SECCOMP_ALLOW(timerfd_settime64)

/* --- files: libslirp re-reads /etc/resolv.conf (read-only opens only); the
 *     API socket path is unlinked at exit -------------------------------- */
SECCOMP_ALLOW_ARG(openat, 2, O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND, O_RDONLY)
SECCOMP_ALLOW_ARG(open, 1, O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND, O_RDONLY)
SECCOMP_ALLOW(newfstatat)
SECCOMP_ALLOW(fstatat64)
SECCOMP_ALLOW(fstat)
SECCOMP_ALLOW(fstat64)
SECCOMP_ALLOW(stat)
SECCOMP_ALLOW(stat64)
SECCOMP_ALLOW(statx)
SECCOMP_ALLOW(lseek)
SECCOMP_ALLOW(_llseek)
SECCOMP_ALLOW(unlink)
SECCOMP_ALLOW(unlinkat)
/* a unix: forward added through the API opens its directory without
 * following links (sockpath.c): openat2()'s flags are in memory the filter
 * cannot read, so it would allow opens for writing; ENOSYS sends the
 * caller to its walk of openat(O_PATH | O_NOFOLLOW) calls, allowed above */
SECCOMP_ENOSYS(openat2)

/* --- randomness (glib, libslirp) ---------------------------------------- */
SECCOMP_ALLOW(getrandom)

/*
 * The chroot fallback (no pivot_root(): rootfs/initramfs hosts) leaves the
 * old root mounted underneath ours. Without capabilities chroot() cannot be
 * undone -- unless the process makes a new user namespace, where it would
 * get CAP_SYS_CHROOT back. These calls are refused in that mode whether or
 * not --enable-seccomp was given (with it, the allow-list refuses them too).
 * clone3() passes its flags in memory, which seccomp cannot read: ENOSYS
 * makes glibc fall back to clone(), whose flags it can.
 */
SECCOMP_ESCAPE(unshare, EPERM)
SECCOMP_ESCAPE(setns, EPERM)
SECCOMP_ESCAPE(chroot, EPERM)
SECCOMP_ESCAPE(pivot_root, EPERM)
SECCOMP_ESCAPE(mount, EPERM)
SECCOMP_ESCAPE(umount2, EPERM)
SECCOMP_ESCAPE(open_tree, EPERM)
SECCOMP_ESCAPE(move_mount, EPERM)
SECCOMP_ESCAPE(fsopen, EPERM)
SECCOMP_ESCAPE(fsmount, EPERM)
SECCOMP_ESCAPE(fspick, EPERM)
SECCOMP_ESCAPE(mount_setattr, EPERM)
SECCOMP_ESCAPE(clone3, ENOSYS)
/* clone()'s flags are argument 0 everywhere but on s390/s390x (argument 1;
 * there the kernel's refusal of user namespaces to a chrooted process is
 * what remains) */
SECCOMP_ESCAPE_ARG(clone, 0, CLONE_NEWUSER, CLONE_NEWUSER, EPERM)

/* --- the namespace helper's own filter (nshelper.c) ----------------------
 * Loaded by the helper before its first word, default action: kill the
 * process. It makes sockets, sets their options, passes them on and exits;
 * heap.c's free() may give memory back. mmap without PROT_EXEC only: free()
 * after the filter is not worth a rule for more.
 */
SECCOMP_HELPER_ARG(socket, 0, 0xffffffff, AF_INET)
SECCOMP_HELPER_ARG(socket, 0, 0xffffffff, AF_INET6)
SECCOMP_HELPER(setsockopt)
SECCOMP_HELPER(close)
SECCOMP_HELPER(recvmsg)
SECCOMP_HELPER(recvfrom)
SECCOMP_HELPER(sendmsg)
SECCOMP_HELPER(sendto)
SECCOMP_HELPER(exit)
SECCOMP_HELPER(exit_group)
SECCOMP_HELPER(rt_sigreturn)
SECCOMP_HELPER(sigreturn)
SECCOMP_HELPER(restart_syscall)
SECCOMP_HELPER(brk)
SECCOMP_HELPER(munmap)
SECCOMP_HELPER(madvise)
SECCOMP_HELPER(mincore)
SECCOMP_HELPER_ARG(mmap, 2, PROT_EXEC, 0)

/* ready for the next inclusion */
#undef SECCOMP_ALLOW
#undef SECCOMP_ALLOW_ARG
#undef SECCOMP_ALLOW_SELF
#undef SECCOMP_ENOSYS
#undef SECCOMP_ESCAPE
#undef SECCOMP_ESCAPE_ARG
#undef SECCOMP_HELPER
#undef SECCOMP_HELPER_ARG
