/* SPDX-License-Identifier: GPL-2.0-or-later */
/* api.c - the API socket server: non-blocking transport, one reply per connection */
/*
 * DOC: Theory of Operation
 *
 * slirp4netns accept()s and read()s API clients inside its data loop, so a
 * client that connects and sends nothing stops the whole network. Here the
 * listener and every connection are non-blocking loop entries with their own
 * buffer, size limit and deadline:
 *
 *   READING  -> bytes arrive; the request is complete at EOF (the client's
 *               shutdown(SHUT_WR), as podman and RootlessKit do), or at a
 *               newline that follows a complete JSON value;
 *   WRITING  -> the handler's reply is written, maybe over several POLLOUTs;
 *   closed   -> after the reply, shutdown(SHUT_RDWR) and close: one reply
 *               per connection, as slirp4netns.
 *
 * A client still READING or WRITING at its deadline is dropped. Requests
 * over API_REQUEST_MAX get an error reply. The JSON itself is the handler's
 * business (api_cmd.c); this file only moves bytes. The framing scan
 * (struct api_scan) keeps its place between reads, so a client that sends
 * one byte at a time costs one look at each byte, not a rescan of the whole
 * request at every read.
 *
 * Who may talk: the socket file is made mode 0600 (bind() under umask
 * 0177: the mode is set as the file is created, with no window in which
 * it is wider), and every accepted client's SO_PEERCRED uid must be the
 * daemon's or 0, as seen from the daemon's user namespace (in a rootless
 * sandbox's user namespace host root is unmapped, shown as the overflow
 * uid, and taken as such: api_userns_peers()). Anyone else gets one error
 * reply and the close, before any request is read, and takes no
 * connection slot; a client that writes only after that close sees EPIPE.
 *
 * The path: its directory is held as an fd from the start (sockpath.c). A
 * socket file already there is replaced only when a connect() probe is
 * refused (a killed daemon's); a live daemon's is an error at start. At
 * exit the name is unlinked, through that fd, only while it still is the
 * socket we bound (device and inode).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api.h"
#include "evtype.h"
#include "json.h"
#include "log.h"
#include "loop.h"
#include "sockpath.h"
#include "stack.h"
#include "util.h"

#define API_BACKLOG 128

struct api_conn {
    struct api_conn *next;
    int fd;
    int64_t deadline_ms;
    bool writing;
    struct api_scan scan;   /* the framing scan, where it stopped */
    char *buf;              /* request, then reply */
    size_t len, cap;
    size_t off;             /* reply bytes written */
};

struct api {
    int listen_fd;
    char *path;
    int dirfd;              /* the socket file's directory */
    const char *name;       /* the file's name in it (points into path) */
    dev_t dev;              /* the socket file we bound */
    ino_t ino;
    uid_t uid;              /* ours: peers must have it, or be root */
    uid_t overflow_uid;     /* a peer our user namespace cannot name */
    bool overflow_ok;       /* ... is taken: we are not in the initial one */
    api_handler_fn handler;
    void *handler_data;
    struct api_conn *conns;
    size_t n_conns;
    uint64_t n_requests;
    uint64_t n_scanned;     /* request bytes the framing scan looked at */
    uint64_t n_refused;     /* clients refused for their uid */
    int64_t listen_resume_ms;   /* accept() ran out of fds: rests until */
    int64_t accept_log_ms;      /* the last "out of fds" line */
};

static void api_conn_read(struct api *api, struct loop *l, struct api_conn *c);

/*
 * In a user namespace of our own or of the target (a rootless sandbox,
 * isolation.c), host root is not mapped: SO_PEERCRED shows it, like every
 * other unmapped uid, as the overflow uid. Such a peer is taken there: to
 * connect at all it got through the socket file's mode 0600, owned by our
 * own host uid, which only root (or the owner widening the mode) allows.
 * In the initial user namespace every uid is mapped and none is taken.
 */
static void api_userns_peers(struct api *api)
{
    unsigned int in = 1, out = 1, count = 0, v;
    FILE *f = fopen("/proc/self/uid_map", "re");

    api->overflow_uid = 65534;
    api->overflow_ok = false;
    if (!f)
        return;     /* cannot tell: strict */
    if (fscanf(f, "%u %u %u", &in, &out, &count) != 3)
        count = 0;
    fclose(f);
    if (in == 0 && out == 0 && count == UINT32_MAX)
        return;     /* the initial user namespace */
    api->overflow_ok = true;
    f = fopen("/proc/sys/kernel/overflowuid", "re");
    if (f) {
        if (fscanf(f, "%u", &v) == 1)
            api->overflow_uid = v;
        fclose(f);
    }
}

/**
 * api_new() - bind and listen on a UNIX socket path
 * @path:	socket path (< 108 bytes); a stale socket file is replaced
 * @fn:		request handler
 * @data:	passed to @fn
 * @ret:	the server; free with api_free() (which unlinks @path if it
 *		still is our socket)
 *
 * The file is created mode 0600 whatever the caller's umask. A socket file
 * at @path is replaced only if connecting to it is refused (no process
 * listens: a killed daemon's).
 *
 * Return: 0, -ENAMETOOLONG, -EEXIST if @path exists and is not a socket,
 *	   -EADDRINUSE if a process listens on @path, or a negative errno
 *	   from open (of the directory)/socket/bind/listen
 */
int api_new(const char *path, api_handler_fn fn, void *data, struct api **ret)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    _cleanup_close_ int fd = -1, dirfd = -1;
    char dir[sizeof(sun.sun_path)];
    const char *name;
    struct api *api;
    dev_t dev;
    ino_t ino;
    mode_t old;
    int r;

    if (strlen(path) >= sizeof(sun.sun_path))
        return -ENAMETOOLONG;
    strcpy(sun.sun_path, path);

    /* the directory, held from here to the unlink at exit; a relative
     * path is taken from the working directory */
    if (path[0] == '/') {
        r = sockpath_split(path, dir, sizeof(dir), &name);
    } else {
        const char *slash = strrchr(path, '/');
        r = 0;
        if (!slash) {
            strcpy(dir, ".");
            name = path;
        } else {
            snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
            name = slash + 1;
        }
    }
    if (r == 0 && !*name)
        r = -EINVAL;
    if (r < 0)
        return r;
    r = sockpath_open_dir(dir, false, &dirfd);
    if (r < 0)
        return r;

    /* a stale socket from a killed daemon (RootlessKit sends SIGKILL) is
     * replaced; a live daemon's is not ours to take */
    r = sockpath_clear(dirfd, name, &sun);
    if (r == -ENOTSOCK)
        return -EEXIST;
    if (r < 0)
        return r;

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* the file gets 0777 & ~umask at creation: 0600 from the start */
    old = umask(0177);
    r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    if (r < 0)
        r = -errno;
    umask(old);
    if (r < 0)
        return r;
    r = sockpath_identify(dirfd, name, &dev, &ino);
    if (r < 0)
        return r;   /* swapped at once: not ours to unlink either */
    if (listen(fd, API_BACKLOG) < 0) {
        r = -errno;
        sockpath_unlink_if(dirfd, name, dev, ino);
        return r;
    }

    api = calloc(1, sizeof(*api));
    if (api)
        api->path = strdup(path);
    if (!api || !api->path) {
        free(api);
        sockpath_unlink_if(dirfd, name, dev, ino);
        return -ENOMEM;
    }
    api->name = api->path + (name - path);
    api->dirfd = util_take_fd(&dirfd);
    api->dev = dev;
    api->ino = ino;
    api->uid = geteuid();
    api_userns_peers(api);
    api->listen_fd = util_take_fd(&fd);
    api->handler = fn;
    api->handler_data = data;
    *ret = api;
    return 0;
}

/**
 * api_attach() - register the listener with the loop
 * @api:	the server
 * @l:		the loop (its client calls api_timeout() and api_expire())
 *
 * Return: 0 or -ENOMEM
 */
int api_attach(struct api *api, struct loop *l)
{
    return loop_add(l, api->listen_fd, POLLIN, EVT_API_LISTEN, api);
}

static void api_conn_close(struct api *api, struct loop *l,
                           struct api_conn *c)
{
    struct api_conn **p;

    for (p = &api->conns; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    if (l)
        loop_remove(l, c->fd);
    shutdown(c->fd, SHUT_RDWR);
    close(c->fd);
    free(c->buf);
    free(c);
    api->n_conns--;
}

/**
 * api_free() - close the listener and all connections, unlink the path
 * @api:	the server, or NULL
 *
 * The file is unlinked through the directory fd kept since api_new(), and
 * only while it still is the socket we bound: a file someone else put at
 * the path since is left alone.
 */
void api_free(struct api *api)
{
    if (!api)
        return;
    while (api->conns)
        api_conn_close(api, NULL, api->conns);
    close(api->listen_fd);
    sockpath_unlink_if(api->dirfd, api->name, api->dev, api->ino);
    close(api->dirfd);
    free(api->path);
    free(api);
}


size_t api_conn_count(const struct api *api)
{
    return api->n_conns;
}

uint64_t api_request_count(const struct api *api)
{
    return api->n_requests;
}

/**
 * api_scanned_bytes() - request bytes the framing scan has looked at
 * @api:	the server
 *
 * Each byte once, however it arrived: the measure that the scan is linear.
 *
 * Return: the count, over every connection so far
 */
uint64_t api_scanned_bytes(const struct api *api)
{
    return api->n_scanned;
}

/**
 * api_refused_count() - clients refused for their uid
 * @api:	the server
 *
 * Return: the count so far
 */
uint64_t api_refused_count(const struct api *api)
{
    return api->n_refused;
}

/**
 * api_scan_feed() - go on scanning a request for its end: a complete JSON
 *		     value followed by a newline
 * @s:		the scan state, zeroed before the first call
 * @buf:	the request bytes so far (the same buffer, grown, each call)
 * @len:	their length
 *
 * Looks at @buf[@s->pos .. @len) only and remembers where it stopped, so
 * a request that arrives in many pieces is scanned once in all. A scanner
 * for brackets outside strings, not a parser: the handler parses.
 *
 * Return: 1 if complete, 0 if not yet
 */
int api_scan_feed(struct api_scan *s, const char *buf, size_t len)
{
    for (; s->pos < len; s->pos++) {
        char ch = buf[s->pos];

        if (s->in_str) {
            if (s->esc)
                s->esc = false;
            else if (ch == '\\')
                s->esc = true;
            else if (ch == '"')
                s->in_str = false;
            continue;
        }
        switch (ch) {
        case '"':
            s->in_str = true;
            break;
        case '{':
        case '[':
            s->depth++;
            s->seen = true;
            break;
        case '}':
        case ']':
            s->depth--;
            break;
        case '\n':
            if (s->seen && s->depth <= 0) {
                s->pos++;
                s->done = true;
                return 1;
            }
            break;
        default:
            break;
        }
    }
    return s->done ? 1 : 0;
}

/**
 * api_request_complete() - does @buf hold a complete JSON value followed by
 *			    a newline?
 * @buf:	request bytes
 * @len:	their length
 *
 * api_scan_feed() from the start, in one go.
 *
 * Return: 1 if complete, 0 if not yet
 */
int api_request_complete(const char *buf, size_t len)
{
    struct api_scan s = { 0 };

    return api_scan_feed(&s, buf, len);
}

static void api_conn_reply(struct api *api, struct loop *l,
                           struct api_conn *c, char *reply, size_t len)
{
    free(c->buf);
    c->buf = reply;
    c->len = len;
    c->cap = len;
    c->off = 0;
    c->writing = true;
    loop_set_events(l, c->fd, POLLOUT);
    /* try at once: almost every reply fits in the socket buffer */
    api_on_conn(api, l, c->fd, POLLOUT);
}

static void api_conn_handle(struct api *api, struct loop *l,
                            struct api_conn *c)
{
    size_t rlen = 0;
    char *reply;

    api->n_requests++;
    reply = api->handler(api->handler_data, c->buf, c->len, &rlen);
    api_conn_reply(api, l, c, reply, rlen);
}

/**
 * api_error_reply() - the reply {"error":{"desc":@desc}}, as slirp4netns's
 * @desc:	the description (escaped here)
 * @ret_len:	the reply's length, or NULL
 *
 * Return: the reply, for free()
 */
char *api_error_reply(const char *desc, size_t *ret_len)
{
    struct json_writer w;

    json_writer_init(&w);
    json_begin_object(&w);
    json_key(&w, "error");
    json_begin_object(&w);
    json_key(&w, "desc");
    json_str(&w, desc);
    json_end_object(&w);
    json_end_object(&w);
    return json_writer_finish(&w, ret_len);
}

static void api_conn_error(struct api *api, struct loop *l,
                           struct api_conn *c, const char *desc)
{
    size_t len;
    char *reply = api_error_reply(desc, &len);

    api_conn_reply(api, l, c, reply, len);
}

/*
 * Answer @fd with the error @desc at once and close it, without taking a
 * slot: what the client sent so far is read and dropped first, so that it sees the
 * reply and EOF, not a reset.
 */
static void api_refuse(int fd, const char *desc)
{
    size_t len;
    g_autofree char *reply = api_error_reply(desc, &len);
    char sink[4096];
    int i;

    if (send(fd, reply, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        debug("API socket: refusal: %s", strerror(errno));
    for (i = 0; i < 16; i++) {
        if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
            break;
    }
    close(fd);
}

/* may this client use the API? its uid must be ours, or root (or the
 * overflow uid: see api_userns_peers()) */
static bool api_peer_ok(const struct api *api, int fd, uid_t *ret_uid)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
        len != sizeof(cred)) {
        *ret_uid = (uid_t)-1;
        return false;
    }
    *ret_uid = cred.uid;
    return cred.uid == api->uid || cred.uid == 0 ||
           (api->overflow_ok && cred.uid == api->overflow_uid);
}

/*
 * accept() ran out of fds or memory: the client stays queued and the
 * listener, level-triggered, would be reported again at once, for ever. It
 * is polled for nothing until API_ACCEPT_PAUSE_MS have passed (api_expire()
 * brings it back); one line per 10 s says so.
 */
static void api_listen_rest(struct api *api, struct loop *l, int err)
{
    int64_t now = stack_now_ms();

    if (!api->accept_log_ms || now - api->accept_log_ms >= 10000) {
        api->accept_log_ms = now;
        warn("API socket: accept: %s: the listener rests for %d ms",
             strerror(err), API_ACCEPT_PAUSE_MS);
    }
    if (loop_set_events(l, api->listen_fd, 0) == 0)
        api->listen_resume_ms = now + API_ACCEPT_PAUSE_MS;
}

/**
 * api_on_listen() - accept the pending clients (non-blocking)
 * @api:	the server
 * @l:		the loop
 */
void api_on_listen(struct api *api, struct loop *l)
{
    int i;

    for (i = 0; i < API_BACKLOG; i++) {
        struct api_conn *c;
        uid_t uid;
        int fd = accept4(api->listen_fd, NULL, NULL,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM)
                api_listen_rest(api, l, errno);
            else if (errno != EAGAIN && errno != EINTR &&
                     errno != ECONNABORTED)
                warn("API socket: accept: %s", strerror(errno));
            return;
        }
        if (!api_peer_ok(api, fd, &uid)) {
            char desc[80];

            snprintf(desc, sizeof(desc), "permission denied: uid %d may not "
                     "use this API socket", (int)uid);
            api->n_refused++;
            debug("API client of uid %d refused", (int)uid);
            api_refuse(fd, desc);
            continue;
        }
        if (api->n_conns >= API_CONN_MAX) {
            api_refuse(fd, "too many API connections");
            continue;
        }
        c = calloc(1, sizeof(*c));
        if (!c || loop_add(l, fd, POLLIN, EVT_API_CONN, api) < 0) {
            free(c);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->deadline_ms = stack_now_ms() + API_DEADLINE_MS;
        c->next = api->conns;
        api->conns = c;
        api->n_conns++;
        /* clients usually send at once (podman writes, then shuts down):
         * answer now instead of after another poll round */
        api_conn_read(api, l, c);
    }
}

static struct api_conn *api_conn_find(struct api *api, int fd)
{
    struct api_conn *c;

    for (c = api->conns; c; c = c->next) {
        if (c->fd == fd)
            return c;
    }
    return NULL;
}

static void api_conn_read(struct api *api, struct loop *l, struct api_conn *c)
{
    for (;;) {
        size_t before;
        int complete;
        ssize_t n;

        if (c->cap - c->len < 4096) {
            /* room for one byte past the limit, so "too large" is seen */
            size_t cap = c->cap ? c->cap * 2 : 8192;
            char *b;
            if (cap > API_REQUEST_MAX + 2)
                cap = API_REQUEST_MAX + 2;
            if (cap <= c->len + 1) {
                api_conn_error(api, l, c, "bad request: too large message");
                return;
            }
            b = realloc(c->buf, cap);
            if (!b) {
                api_conn_close(api, l, c);
                return;
            }
            c->buf = b;
            c->cap = cap;
        }
        n = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN) {
                api_conn_close(api, l, c);
                return;
            }
            before = c->scan.pos;
            complete = api_scan_feed(&c->scan, c->buf, c->len);
            api->n_scanned += c->scan.pos - before;
            if (complete)
                api_conn_handle(api, l, c);
            return;
        }
        if (n == 0) {
            /* EOF: the client's shutdown(SHUT_WR) ends the request */
            c->buf[c->len] = '\0';
            api_conn_handle(api, l, c);
            return;
        }
        c->len += (size_t)n;
        c->buf[c->len] = '\0';
        if (c->len > API_REQUEST_MAX) {
            api_conn_error(api, l, c, "bad request: too large message");
            return;
        }
    }
}

static void api_conn_write(struct api *api, struct loop *l, struct api_conn *c)
{
    while (c->off < c->len) {
        ssize_t n = send(c->fd, c->buf + c->off, c->len - c->off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                api_conn_close(api, l, c);
            return;
        }
        c->off += (size_t)n;
    }
    api_conn_close(api, l, c);
}

/**
 * api_on_conn() - a client connection is readable or writable
 * @api:	the server
 * @l:		the loop
 * @fd:		the connection
 * @revents:	poll result
 */
void api_on_conn(struct api *api, struct loop *l, int fd, short revents)
{
    struct api_conn *c = api_conn_find(api, fd);

    if (!c)
        return;
    if (c->writing)
        api_conn_write(api, l, c);
    else if (revents & (POLLIN | POLLHUP | POLLERR))
        api_conn_read(api, l, c);
}

/**
 * api_timeout() - lower *@timeout_ms to the nearest client deadline
 * @api:	the server
 * @timeout_ms:	poll timeout, -1 for none
 */
void api_timeout(struct api *api, int *timeout_ms)
{
    int64_t now = stack_now_ms();
    struct api_conn *c;

    if (api->listen_resume_ms) {
        int64_t left = api->listen_resume_ms - now;

        if (left < 0)
            left = 0;
        if (*timeout_ms < 0 || left < *timeout_ms)
            *timeout_ms = (int)left;
    }
    for (c = api->conns; c; c = c->next) {
        int64_t left = c->deadline_ms - now;
        if (left < 0)
            left = 0;
        if (*timeout_ms < 0 || left < *timeout_ms)
            *timeout_ms = (int)left;
    }
}

/**
 * api_expire() - drop the clients whose deadline has passed; a listener
 *		  whose rest (out of fds) is over is polled again
 * @api:	the server
 * @l:		the loop
 */
void api_expire(struct api *api, struct loop *l)
{
    int64_t now = stack_now_ms();
    struct api_conn *c = api->conns, *next;

    if (api->listen_resume_ms && now >= api->listen_resume_ms &&
        loop_set_events(l, api->listen_fd, POLLIN) == 0)
        api->listen_resume_ms = 0;

    for (; c; c = next) {
        next = c->next;
        if (c->deadline_ms <= now) {
            debug("API client dropped at its deadline");
            api_conn_close(api, l, c);
        }
    }
}
