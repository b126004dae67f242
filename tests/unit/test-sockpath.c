/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-sockpath.c - socket files through a held directory: no symbolic link followed, stale files only when dead */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sockpath.h"
#include "tapout.h"

static char dir[] = "/tmp/test-sockpath.XXXXXX";

static bool same_dir(int fd, const char *path)
{
    struct stat a, b;

    return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* both ways of opening without links: openat2 and the walk */
static void test_open(bool walk)
{
    const char *how = walk ? "walk" : "openat2";
    char p[256], real[200];
    int fd = -1, r;

#define OPEN(path) (walk ? sockpath_open_dir_walk((path), &fd) \
                         : sockpath_open_dir((path), true, &fd))
    snprintf(real, sizeof(real), "%s/a/b", dir);
    r = OPEN(real);
    TAP_IS_INT(r, 0, walk ? "walk: a plain directory" : "openat2: a plain directory");
    TAP_OK(r == 0 && same_dir(fd, real), "%s: the right directory", how);
    if (r == 0)
        close(fd);
    snprintf(p, sizeof(p), "%s//a/./b/", dir);
    r = OPEN(p);
    TAP_OK(r == 0 && same_dir(fd, real), "%s: //, . and a trailing /", how);
    if (r == 0)
        close(fd);
    snprintf(p, sizeof(p), "%s/link/b", dir);
    TAP_IS_INT(OPEN(p), -ELOOP, walk ? "walk: a symlinked component is ELOOP"
                                     : "openat2: a symlinked component is ELOOP");
    snprintf(p, sizeof(p), "%s/a/blink", dir);
    TAP_IS_INT(OPEN(p), -ELOOP, walk ? "walk: a symlink as the last component"
                                     : "openat2: a symlink as the last component");
    snprintf(p, sizeof(p), "%s/a/file/x", dir);
    TAP_IS_INT(OPEN(p), -ENOTDIR, walk ? "walk: a file on the way"
                                       : "openat2: a file on the way");
    snprintf(p, sizeof(p), "%s/a/none", dir);
    TAP_IS_INT(OPEN(p), -ENOENT, walk ? "walk: missing" : "openat2: missing");
#undef OPEN
}

static void test_clear(void)
{
    struct sockaddr_un at, sun = { .sun_family = AF_UNIX };
    char sub[64], p[256];
    dev_t dev;
    ino_t ino;
    int dfd = -1, fd, live;

    snprintf(sub, sizeof(sub), "%s/a/b", dir);
    TAP_IS_INT(sockpath_open_dir(sub, false, &dfd), 0, "open the directory");
    TAP_IS_INT(sockpath_at(dfd, "s.sock", &at), 0, "the address in it");
    snprintf(p, sizeof(p), "/proc/self/fd/%d/s.sock", dfd);
    TAP_IS_STR(at.sun_path, p, "... is /proc/self/fd/N/NAME");
    TAP_IS_INT(sockpath_at(dfd, "../x", &at), -EINVAL, "a name with a /");
    TAP_IS_INT(sockpath_at(dfd, "..", &at), -EINVAL, "..");
    TAP_IS_INT(sockpath_clear(dfd, "s.sock", &at), 0, "nothing there");

    /* bound through the fd: the file is in that directory */
    sockpath_at(dfd, "s.sock", &at);
    live = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    TAP_IS_INT(bind(live, (struct sockaddr *)&at, sizeof(at)), 0,
               "bind through /proc/self/fd");
    listen(live, 1);
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s.sock", sub);
    TAP_IS_INT(sockpath_identify(dfd, "s.sock", &dev, &ino), 0,
               "the file is in the directory");
    TAP_IS_INT(sockpath_clear(dfd, "s.sock", &at), -EADDRINUSE,
               "a live socket is in use");
    close(live);
    TAP_IS_INT(sockpath_clear(dfd, "s.sock", &at), 0,
               "a dead one (connection refused) is cleared");
    TAP_OK(access(sun.sun_path, F_OK) < 0, "... unlinked");

    /* unlink_if: only the very file we bound */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bind(fd, (struct sockaddr *)&at, sizeof(at));
    close(fd);
    sockpath_identify(dfd, "s.sock", &dev, &ino);
    TAP_IS_INT(sockpath_unlink_if(dfd, "s.sock", dev, ino + 1), false,
               "another inode is not unlinked");
    TAP_IS_INT(sockpath_unlink_if(dfd, "s.sock", dev, ino), true,
               "ours is");
    fd = open(sun.sun_path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    close(fd);
    TAP_IS_INT(sockpath_clear(dfd, "s.sock", &at), -ENOTSOCK,
               "a regular file is not a socket");
    unlink(sun.sun_path);
    close(dfd);
}

static void test_split(void)
{
    char d[64];
    const char *name;

    TAP_IS_INT(sockpath_split("/run/x.sock", d, sizeof(d), &name), 0, "split");
    TAP_IS_STR(d, "/run", "split: directory");
    TAP_IS_STR(name, "x.sock", "split: name");
    TAP_IS_INT(sockpath_split("/x.sock", d, sizeof(d), &name), 0, "split: root");
    TAP_IS_STR(d, "/", "split: the root directory");
    TAP_IS_INT(sockpath_split("x.sock", d, sizeof(d), &name), -EINVAL,
               "split: relative");
    TAP_IS_INT(sockpath_split("/run/", d, sizeof(d), &name), -EINVAL,
               "split: no name");
    TAP_IS_INT(sockpath_split("/run/x", d, 4, &name), -ENAMETOOLONG,
               "split: too small a buffer");
    TAP_IS_INT(SOCKPATH_NAME_MAX, 82, "names of 82 bytes fit behind /proc/self/fd/N/");
}

int main(void)
{
    char p[256], q[256];
    int fd;

    if (!mkdtemp(dir)) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }
    snprintf(p, sizeof(p), "%s/a/b", dir);
    snprintf(q, sizeof(q), "%s/a", dir);
    mkdir(q, 0700);
    mkdir(p, 0700);
    snprintf(p, sizeof(p), "%s/link", dir);
    if (symlink("a", p) < 0)
        printf("Bail out! symlink\n");
    snprintf(p, sizeof(p), "%s/a/blink", dir);
    if (symlink("b", p) < 0)
        printf("Bail out! symlink\n");
    snprintf(p, sizeof(p), "%s/a/file", dir);
    fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    close(fd);

    test_split();
    test_open(false);
    test_open(true);
    test_clear();

    unlink(p);
    snprintf(p, sizeof(p), "%s/a/blink", dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/link", dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/a/b", dir);
    rmdir(p);
    rmdir(q);
    rmdir(dir);
    return tap_done();
}
