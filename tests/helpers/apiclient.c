/* SPDX-License-Identifier: GPL-2.0-or-later */
/* apiclient.c - test helper: talk to an API socket exactly as podman, RootlessKit and bad clients do */
/*
 * apiclient MODE SOCKET [ARGS]
 *   podman SOCK JSON       JSON + "\n", shutdown(SHUT_WR), ONE read() of at
 *                          most 2048 bytes (podman's openSlirp4netnsPort);
 *                          exit 3 if that read filled the buffer
 *   rootlesskit SOCK JSON  JSON + "\n" (json.Encoder), shutdown(SHUT_WR),
 *                          read to EOF (io.ReadAll)
 *   newline SOCK JSON      JSON + "\n", no shutdown, read to EOF
 *   stdin SOCK             the request from stdin as is, shutdown, read to EOF
 *   idle SOCK SECS         connect, send nothing, wait for the server to close
 *                          (prints "closed after N ms") or SECS to pass
 *                          ("still open", exit 4)
 *   fill SOCK N JSON       hold N idle connections (made at once), then send
 *                          JSON the podman way on one more and print that
 *                          reply and a newline; then wait (bounded) until
 *                          the server has closed all N: prints "N closed"
 *   slow SOCK JSON MS      send JSON one byte every MS ms, then shutdown and
 *                          read to EOF; prints the reply, or "dropped" (the
 *                          server closed first)
 *   podman-range SOCK FIRST LAST
 *                          what podman does for -p FIRST-LAST:FIRST-LAST:
 *                          one add_hostfwd per port (host_addr "0.0.0.0",
 *                          guest_addr ""), each the podman way; prints
 *                          "N ok" or the first reply that is not
 *                          {"return":{"id":...}} (exit 5)
 * The reply goes to stdout (no newline added). Every wait is bounded
 * (APICLIENT_TIMEOUT seconds, default 10): exit 2 on timeout.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int timeout_ms = 10000;

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_to(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    if (fd < 0 || strlen(path) >= sizeof(sun.sun_path)) {
        perror("socket");
        exit(1);
    }
    strcpy(sun.sun_path, path);
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        fprintf(stderr, "apiclient: connect %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return fd;
}

/* a server that refuses (all slots taken) replies and closes at once: a
 * failed write is reported, and the reply is still read */
static void write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "apiclient: write: %s\n", strerror(errno));
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

/* wait until @fd is readable; 0, or -1 on timeout */
static int wait_readable(int fd, long long deadline)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    for (;;) {
        long long left = deadline - now_ms();
        int n;

        if (left <= 0)
            return -1;
        n = poll(&p, 1, (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

static int read_to_eof(int fd)
{
    long long deadline = now_ms() + timeout_ms;
    char buf[65536];

    for (;;) {
        ssize_t n;

        if (wait_readable(fd, deadline) < 0) {
            fprintf(stderr, "apiclient: no EOF within %d ms\n", timeout_ms);
            return 2;
        }
        n = read(fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ECONNRESET)
                return 0;
            fprintf(stderr, "apiclient: read: %s\n", strerror(errno));
            return 1;
        }
        if (n == 0)
            return 0;
        fwrite(buf, 1, (size_t)n, stdout);
    }
}

static int run(const char *mode, int argc, char **argv, const char *req);

int main(int argc, char **argv)
{
    const char *mode, *e = getenv("APICLIENT_TIMEOUT");
    char *req;
    int fd, rc;

    signal(SIGPIPE, SIG_IGN);
    if (e && atoi(e) > 0)
        timeout_ms = atoi(e) * 1000;
    if (argc < 3) {
        fprintf(stderr, "usage: apiclient podman|rootlesskit|newline|stdin|idle|slow SOCK [ARGS]\n");
        return 1;
    }
    mode = argv[1];

    if (!strcmp(mode, "idle") && argc == 4) {
        long long start = now_ms(), secs = atoll(argv[3]);
        char c;

        fd = connect_to(argv[2]);
        if (wait_readable(fd, start + secs * 1000) < 0) {
            printf("still open");
            return 4;
        }
        if (read(fd, &c, 1) > 0)
            printf("got data ");
        printf("closed after %lld ms", now_ms() - start);
        return 0;
    }
    if (!strcmp(mode, "fill") && argc == 5) {
        int i, n = atoi(argv[3]), closed = 0, *fds = calloc((size_t)(n > 0 ? n : 1), sizeof(int));
        long long deadline;
        char buf[2048], c;
        ssize_t len;

        for (i = 0; i < n; i++)
            fds[i] = connect_to(argv[2]);
        fd = connect_to(argv[2]);
        write_all(fd, argv[4], strlen(argv[4]));
        write_all(fd, "\n", 1);
        shutdown(fd, SHUT_WR);
        if (wait_readable(fd, now_ms() + timeout_ms) < 0)
            return 2;
        len = read(fd, buf, sizeof(buf) - 1);
        buf[len > 0 ? len : 0] = '\0';
        printf("%s\n", buf);
        fflush(stdout);
        deadline = now_ms() + timeout_ms + 10000;
        for (i = 0; i < n; i++) {
            if (wait_readable(fds[i], deadline) < 0)
                break;
            if (read(fds[i], &c, 1) <= 0)
                closed++;
        }
        printf("%d closed", closed);
        for (i = 0; i < n; i++)
            close(fds[i]);
        free(fds);
        return closed == n ? 0 : 4;
    }
    if (!strcmp(mode, "stdin")) {
        size_t cap = 1 << 16, len = 0;
        ssize_t n;

        req = malloc(cap);
        while ((n = read(0, req + len, cap - len)) > 0) {
            len += (size_t)n;
            if (len == cap)
                req = realloc(req, cap *= 2);
        }
        fd = connect_to(argv[2]);
        write_all(fd, req, len);
        free(req);
        shutdown(fd, SHUT_WR);
        return read_to_eof(fd);
    }
    if (!strcmp(mode, "podman-range") && argc == 5) {
        int first = atoi(argv[3]), last = atoi(argv[4]), port, n = 0;

        for (port = first; port <= last; port++) {
            char msg[512], buf[2048];
            ssize_t len;

            snprintf(msg, sizeof(msg), "{\"execute\":\"add_hostfwd\",\"arguments\":"
                     "{\"proto\":\"tcp\",\"host_addr\":\"0.0.0.0\",\"host_port\":%d,"
                     "\"guest_addr\":\"\",\"guest_port\":%d}}\n", port, port);
            fd = connect_to(argv[2]);
            write_all(fd, msg, strlen(msg));
            shutdown(fd, SHUT_WR);
            if (wait_readable(fd, now_ms() + timeout_ms) < 0)
                return 2;
            len = read(fd, buf, sizeof(buf) - 1);
            close(fd);
            buf[len > 0 ? len : 0] = '\0';
            if (strncmp(buf, "{\"return\":{\"id\":", 16)) {
                printf("port %d: %s", port, buf);
                return 5;
            }
            n++;
        }
        printf("%d ok", n);
        return 0;
    }
    if (argc < 4)
        return 1;
    req = malloc(strlen(argv[3]) + 2);
    sprintf(req, "%s\n", argv[3]);
    rc = run(mode, argc, argv, req);
    free(req);
    fflush(stdout);
    return rc;
}

static int run(const char *mode, int argc, char **argv, const char *req)
{
    int fd;

    if (!strcmp(mode, "podman")) {
        char buf[2048];
        ssize_t n;

        fd = connect_to(argv[2]);
        write_all(fd, req, strlen(req));
        shutdown(fd, SHUT_WR);
        if (wait_readable(fd, now_ms() + timeout_ms) < 0)
            return 2;
        n = read(fd, buf, sizeof(buf));
        if (n < 0)
            return 1;
        fwrite(buf, 1, (size_t)n, stdout);
        return n == (ssize_t)sizeof(buf) ? 3 : 0;
    }
    if (!strcmp(mode, "rootlesskit")) {
        fd = connect_to(argv[2]);
        write_all(fd, req, strlen(req));
        shutdown(fd, SHUT_WR);
        return read_to_eof(fd);
    }
    if (!strcmp(mode, "newline")) {
        fd = connect_to(argv[2]);
        write_all(fd, req, strlen(req));
        return read_to_eof(fd);
    }
    if (!strcmp(mode, "slow") && argc == 5) {
        int ms = atoi(argv[4]);
        size_t i;

        fd = connect_to(argv[2]);
        for (i = 0; req[i]; i++) {
            struct pollfd p = { .fd = fd, .events = POLLIN };

            if (write(fd, req + i, 1) < 0 || (poll(&p, 1, ms) > 0 && (p.revents & (POLLIN | POLLHUP)))) {
                char c;
                if (read(fd, &c, 1) <= 0) {
                    printf("dropped after %zu bytes", i + 1);
                    return 0;
                }
                printf("%c", c);
                return read_to_eof(fd);
            }
        }
        shutdown(fd, SHUT_WR);
        return read_to_eof(fd);
    }
    fprintf(stderr, "apiclient: bad mode or arguments\n");
    return 1;
}
