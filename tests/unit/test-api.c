/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-api.c - the API socket's transport: file mode, a live daemon's path, stale files, peers, the framing scan */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api.h"
#include "evtype.h"
#include "loop.h"
#include "tapout.h"

static char dir[] = "/tmp/test-api.XXXXXX";
static int n_handled;

/* the handler: the request's length, as a reply */
static char *handler(void *data, const char *req, size_t len, size_t *ret_len)
{
    char *r = malloc(32);

    (void)data;
    (void)req;
    n_handled++;
    *ret_len = (size_t)snprintf(r, 32, "{\"len\":%zu}", len);
    return r;
}

static int client(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    strcpy(sun.sun_path, path);
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* the server side of the newest API connection, from the loop's entries */
static int server_fd(const struct loop *l)
{
    size_t i;
    int fd = -1;

    for (i = 0; i < l->n_ent; i++)
        if (l->ent[i].type == EVT_API_CONN)
            fd = l->ent[i].fd;
    return fd;
}

/* read the reply (bounded) */
static void read_reply(int fd, char *buf, size_t len)
{
    size_t got = 0;
    struct pollfd p = { .fd = fd, .events = POLLIN };

    buf[0] = '\0';
    while (got + 1 < len && poll(&p, 1, 2000) > 0) {
        ssize_t n = read(fd, buf + got, len - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
}

static void test_scan(void)
{
    static const char req[] = "{\"execute\":\"x\",\"a\":\"}\\\"{\\n\"}\n";
    struct api_scan s = { 0 };
    size_t i, n = strlen(req);
    int complete = 0;

    for (i = 1; i <= n; i++) {
        complete = api_scan_feed(&s, req, i);
        if (complete && i < n)
            break;
    }
    TAP_IS_INT(i, n + 1, "fed a byte at a time: complete only at the last "
               "newline (brackets and escapes inside a string ignored)");
    TAP_IS_INT(complete, 1, "... and complete there");
    TAP_IS_INT(s.pos, n, "the scan looked at each byte once in all");
    TAP_IS_INT(api_request_complete(req, n), 1, "api_request_complete: whole");
    TAP_IS_INT(api_request_complete(req, n - 1), 0,
               "api_request_complete: no newline yet");
    TAP_IS_INT(api_request_complete("\n\n", 2), 0, "newlines alone");
}

static void test_mode_and_paths(void)
{
    char path[128], other[128];
    struct api *a = NULL, *b = NULL;
    struct loop l;
    struct stat st;
    mode_t old;
    int fd, r, s;

    snprintf(path, sizeof(path), "%s/api.sock", dir);
    old = umask(0);
    r = api_new(path, handler, NULL, &a);
    umask(old);
    TAP_IS_INT(r, 0, "api_new under umask 000");
    TAP_OK(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode), "the socket file");
    TAP_IS_INT(st.st_mode & 07777, 0600, "mode 0600 under umask 000");
    old = umask(0022);
    TAP_IS_INT(umask(old), 0022, "api_new gave the caller's umask back");
    umask(old);

    /* a second daemon on a live daemon's path: refused, the first goes on */
    TAP_IS_INT(api_new(path, handler, NULL, &b), -EADDRINUSE,
               "a live daemon's path is refused");
    loop_init(&l, NULL, NULL, 0);
    api_attach(a, &l);
    fd = client(path);
    TAP_OK(fd >= 0, "the first daemon still accepts");
    api_on_listen(a, &l);
    s = server_fd(&l);
    if (write(fd, "{}\n", 3) != 3)
        TAP_OK(false, "write");
    api_on_conn(a, &l, s, POLLIN);
    {
        char buf[64];
        read_reply(fd, buf, sizeof(buf));
        TAP_IS_STR(buf, "{\"len\":3}", "... and answers");
    }
    close(fd);

    /* at exit, a path someone else has taken over is left alone */
    snprintf(other, sizeof(other), "%s/other.sock", dir);
    {
        struct sockaddr_un sun = { .sun_family = AF_UNIX };
        int o = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        strcpy(sun.sun_path, other);
        bind(o, (struct sockaddr *)&sun, sizeof(sun));
        close(o);
    }
    TAP_IS_INT(rename(other, path), 0, "someone replaces our socket file");
    api_free(a);
    loop_free(&l);
    TAP_OK(lstat(path, &st) == 0, "api_free left the other file alone");

    /* that file is stale (nobody listens): the next start replaces it */
    a = NULL;
    TAP_IS_INT(api_new(path, handler, NULL, &a), 0,
               "a stale socket file is replaced");
    api_free(a);
    TAP_OK(lstat(path, &st) < 0 && errno == ENOENT,
           "api_free unlinked our own file");

    /* not a socket: refused, left alone */
    fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    close(fd);
    TAP_IS_INT(api_new(path, handler, NULL, &a), -EEXIST,
               "a file that is not a socket is refused");
    TAP_OK(lstat(path, &st) == 0 && S_ISREG(st.st_mode), "... and left alone");
    unlink(path);
}

/* a client that sends its request one byte per read */
static void test_one_byte_at_a_time(void)
{
    char path[128], req[4096], buf[64], want[64];
    struct api *a = NULL;
    struct loop l;
    size_t i, n;
    int fd, s;

    snprintf(path, sizeof(path), "%s/slow.sock", dir);
    TAP_IS_INT(api_new(path, handler, NULL, &a), 0, "api_new");
    loop_init(&l, NULL, NULL, 0);
    api_attach(a, &l);
    n = (size_t)snprintf(req, sizeof(req), "{\"execute\":\"list_hostfwd\","
                         "\"pad\":\"");
    while (n < sizeof(req) - 4)
        req[n++] = 'x';
    req[n++] = '"';
    req[n++] = '}';
    req[n++] = '\n';
    fd = client(path);
    api_on_listen(a, &l);
    s = server_fd(&l);
    n_handled = 0;
    for (i = 0; i < n; i++) {
        if (write(fd, req + i, 1) != 1)
            break;
        api_on_conn(a, &l, s, POLLIN);
    }
    TAP_IS_INT(n_handled, 1, "the request was handled once, at its newline");
    read_reply(fd, buf, sizeof(buf));
    snprintf(want, sizeof(want), "{\"len\":%zu}", n);
    TAP_IS_STR(buf, want, "the one-byte-at-a-time client got its reply");
    /* a rescan of the whole request at every read would be n(n+1)/2 */
    TAP_IS_INT(api_scanned_bytes(a), n,
               "the framing scan looked at each of its bytes once");
    close(fd);
    api_free(a);
    loop_free(&l);
}

/* a client of another uid is answered with an error and closed */
static void test_peer(void)
{
    char path[128], buf[256];
    struct api *a = NULL;
    struct loop l;
    int sv[2], status;
    pid_t pid;

    if (geteuid() != 0) {
        TAP_OK(true, "# SKIP not root: cannot be another uid");
        return;
    }
    snprintf(path, sizeof(path), "%s/peer.sock", dir);
    TAP_IS_INT(api_new(path, handler, NULL, &a), 0, "api_new");
    loop_init(&l, NULL, NULL, 0);
    api_attach(a, &l);
    /* let anyone reach the file: the uid check alone must refuse */
    chmod(dir, 0755);
    chmod(path, 0666);
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
    pid = fork();
    if (pid == 0) {
        int fd;
        char c = 0;

        close(sv[0]);
        if (setgid(65534) < 0 || setuid(65534) < 0)
            _exit(2);
        fd = client(path);
        if (fd < 0)
            _exit(3);
        if (write(fd, "{\"execute\":\"list_hostfwd\"}\n", 27) < 0)
            _exit(4);
        shutdown(fd, SHUT_WR);
        if (write(sv[1], &c, 1) != 1)
            _exit(5);
        read_reply(fd, buf, sizeof(buf));
        if (write(sv[1], buf, strlen(buf)) < 0)
            _exit(6);
        _exit(0);
    }
    close(sv[1]);
    {
        char c;
        struct pollfd p = { .fd = sv[0], .events = POLLIN };
        if (poll(&p, 1, 5000) <= 0 || read(sv[0], &c, 1) != 1)
            TAP_OK(false, "the child connected");
    }
    n_handled = 0;
    api_on_listen(a, &l);
    read_reply(sv[0], buf, sizeof(buf));
    waitpid(pid, &status, 0);
    TAP_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "the uid 65534 client connected (mode 0666 for the test)");
    TAP_IS_STR(buf, "{\"error\":{\"desc\":\"permission denied: uid 65534 may "
               "not use this API socket\"}}", "uid 65534 got an error reply");
    TAP_IS_INT(n_handled, 0, "its request was never handled");
    TAP_IS_INT(api_conn_count(a), 0, "it took no connection slot");
    TAP_IS_INT(api_refused_count(a), 1, "counted as refused");
    close(sv[0]);
    api_free(a);
    loop_free(&l);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (!mkdtemp(dir)) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }
    test_scan();
    test_mode_and_paths();
    test_one_byte_at_a_time();
    test_peer();
    rmdir(dir);
    return tap_done();
}
