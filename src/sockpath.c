/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sockpath.c - UNIX socket files: a held directory, names bound through it, stale files replaced only when dead */
/*
 * DOC: Theory of Operation
 *
 * A UNIX socket file is named by a path, and a path is looked up again at
 * every call that takes one. Between the check of a stale file, its unlink,
 * the bind and the unlink at exit, a directory on the way can be swapped
 * for a symbolic link somewhere else. This file pins the directory once:
 *
 *   sockpath_open_dir()  opens the directory as an O_PATH fd. With
 *                        nofollow (unix: forwards, whose paths may lie in a
 *                        directory the namespace's processes can write) no
 *                        symbolic link is followed anywhere on the way:
 *                        openat2(RESOLVE_NO_SYMLINKS), or, where the kernel
 *                        (or our seccomp filter) answers ENOSYS, a walk
 *                        from "/" one component at a time with O_NOFOLLOW,
 *                        each component checked to be a directory. Either
 *                        way a link is ELOOP;
 *   sockpath_at()        the address "/proc/self/fd/N/NAME": bind() and
 *                        connect() on it reach NAME in that very directory,
 *                        however the path looks now. It names the rule
 *                        uniquely too, since N stays open with the rule;
 *   sockpath_clear()     a file at NAME that is not a socket is refused; a
 *                        socket is connect()ed first: only ECONNREFUSED
 *                        (nobody listens: left by a killed process) lets it
 *                        be unlinked, and only if it still is the file that
 *                        was looked at, through the directory fd;
 *   sockpath_identify(), sockpath_unlink_if()
 *                        remember the device and inode bound, and unlink
 *                        at the end only while NAME still is that file.
 *
 * The names stay short enough for "/proc/self/fd/N/" in front of them:
 * SOCKPATH_NAME_MAX bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sockpath.h"
#include "util.h"

/**
 * sockpath_split() - the directory and the file name of a socket path
 * @path:	an absolute path, not ending in '/'
 * @dir:	receives the directory ("/" for a file in the root)
 * @dirlen:	its size
 * @ret_name:	the file name, pointing into @path
 *
 * Return: 0, -EINVAL if @path is not absolute or has no file name,
 *	   -ENAMETOOLONG if the directory does not fit in @dirlen
 */
int sockpath_split(const char *path, char *dir, size_t dirlen,
                   const char **ret_name)
{
    const char *slash = strrchr(path, '/');
    size_t n;

    if (path[0] != '/' || !slash || !slash[1])
        return -EINVAL;
    n = slash == path ? 1 : (size_t)(slash - path);
    if (n >= dirlen)
        return -ENAMETOOLONG;
    memcpy(dir, path, n);
    dir[n] = '\0';
    *ret_name = slash + 1;
    return 0;
}

/**
 * sockpath_open_dir_walk() - open an absolute directory path without
 *			      following any symbolic link, one component at
 *			      a time
 * @dir:	the path
 * @ret_fd:	an O_PATH fd on it
 *
 * The fallback of sockpath_open_dir() where openat2() is missing.
 *
 * Return: 0, -ELOOP if a component is a symbolic link, -ENOTDIR if one is
 *	   not a directory, -EINVAL if @dir is not absolute, or the errno of
 *	   openat()/fstat()
 */
int sockpath_open_dir_walk(const char *dir, int *ret_fd)
{
    _cleanup_close_ int fd = -1;
    const char *p = dir;

    if (dir[0] != '/')
        return -EINVAL;
    fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    while (*p) {
        char comp[NAME_MAX + 1];
        size_t n;
        struct stat st;
        int next;

        while (*p == '/')
            p++;
        n = strcspn(p, "/");
        if (n == 0)
            break;
        if (n > NAME_MAX)
            return -ENAMETOOLONG;
        memcpy(comp, p, n);
        comp[n] = '\0';
        p += n;
        /* O_PATH | O_NOFOLLOW opens a link itself: fstat tells */
        next = openat(fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0)
            return -errno;
        close(fd);
        fd = next;
        if (fstat(fd, &st) < 0)
            return -errno;
        if (S_ISLNK(st.st_mode))
            return -ELOOP;
        if (!S_ISDIR(st.st_mode))
            return -ENOTDIR;
    }
    *ret_fd = util_take_fd(&fd);
    return 0;
}

/**
 * sockpath_open_dir() - hold a directory as an O_PATH fd
 * @dir:	an absolute path
 * @nofollow:	refuse a symbolic link anywhere on the way (openat2 with
 *		RESOLVE_NO_SYMLINKS, else sockpath_open_dir_walk())
 * @ret_fd:	the fd
 *
 * Return: 0, -ELOOP for a symbolic link with @nofollow, or a negative
 *	   errno of the lookup (-ENOENT, -ENOTDIR, -EACCES, ...)
 */
int sockpath_open_dir(const char *dir, bool nofollow, int *ret_fd)
{
    struct open_how how = {
        .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
        .resolve = RESOLVE_NO_SYMLINKS,
    };
    int fd;

    if (!nofollow) {
        fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return -errno;
        *ret_fd = fd;
        return 0;
    }
    if (dir[0] != '/')
        return -EINVAL;
    fd = (int)syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof(how));
    if (fd >= 0) {
        *ret_fd = fd;
        return 0;
    }
    /* older kernels, and our seccomp filter (seccomp_rules.h), say ENOSYS */
    if (errno != ENOSYS)
        return -errno;
    return sockpath_open_dir_walk(dir, ret_fd);
}

/**
 * sockpath_at() - the address of @name in the directory @dirfd holds
 * @dirfd:	the directory
 * @name:	a file name (no '/')
 * @ret:	"/proc/self/fd/DIRFD/NAME"
 *
 * Return: 0, -EINVAL for a name with '/' or "."/"..", -ENAMETOOLONG if
 *	   it does not fit in sun_path
 */
int sockpath_at(int dirfd, const char *name, struct sockaddr_un *ret)
{
    int n;

    if (!name[0] || strchr(name, '/') || !strcmp(name, ".") ||
        !strcmp(name, ".."))
        return -EINVAL;
    memset(ret, 0, sizeof(*ret));
    ret->sun_family = AF_UNIX;
    n = snprintf(ret->sun_path, sizeof(ret->sun_path), "/proc/self/fd/%d/%s",
                 dirfd, name);
    if (n < 0 || (size_t)n >= sizeof(ret->sun_path))
        return -ENAMETOOLONG;
    return 0;
}

/**
 * sockpath_clear() - make room for a new socket file at @name
 * @dirfd:	the directory
 * @name:	the file name in it
 * @probe:	the address to connect() to, to see whether a socket there
 *		is alive (the same file as @dirfd/@name)
 *
 * Nothing there: done. A socket that refuses connections (ECONNREFUSED:
 * nobody listens) is unlinked, through @dirfd, if it still is the file
 * first looked at.
 *
 * Return: 0 when @name is free, -ENOTSOCK if something else is there,
 *	   -EADDRINUSE if a process listens on it (or it changed under us),
 *	   or the errno of the probe (e.g. -EACCES: not ours to judge) or of
 *	   fstatat()/unlinkat()
 */
int sockpath_clear(int dirfd, const char *name,
                   const struct sockaddr_un *probe)
{
    _cleanup_close_ int fd = -1;
    struct stat st, again;

    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode))
        return -ENOTSOCK;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (const struct sockaddr *)probe, sizeof(*probe)) == 0)
        return -EADDRINUSE;
    switch (errno) {
    case ECONNREFUSED:
        break;
    case ENOENT:
        return 0;               /* gone meanwhile */
    case EAGAIN:                /* a listener with its backlog full */
    case EINPROGRESS:
        return -EADDRINUSE;
    default:
        return -errno;
    }
    if (fstatat(dirfd, name, &again, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (again.st_dev != st.st_dev || again.st_ino != st.st_ino)
        return -EADDRINUSE;
    if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}

/**
 * sockpath_identify() - the device and inode of the socket file @name
 * @dirfd:	the directory
 * @name:	the file name in it
 * @ret_dev:	its device
 * @ret_ino:	its inode
 *
 * Return: 0, -ENOTSOCK if @name is not a socket, or fstatat()'s errno
 */
int sockpath_identify(int dirfd, const char *name, dev_t *ret_dev,
                      ino_t *ret_ino)
{
    struct stat st;

    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    if (!S_ISSOCK(st.st_mode))
        return -ENOTSOCK;
    *ret_dev = st.st_dev;
    *ret_ino = st.st_ino;
    return 0;
}

/**
 * sockpath_unlink_if() - unlink @name if it still is the socket we bound
 * @dirfd:	the directory
 * @name:	the file name in it
 * @dev:	the device from sockpath_identify()
 * @ino:	the inode
 *
 * Return: true if it was unlinked
 */
bool sockpath_unlink_if(int dirfd, const char *name, dev_t dev, ino_t ino)
{
    struct stat st;

    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
        !S_ISSOCK(st.st_mode) || st.st_dev != dev || st.st_ino != ino)
        return false;
    return unlinkat(dirfd, name, 0) == 0;
}
