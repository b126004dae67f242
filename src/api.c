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
 * business (api_cmd.c); this file only moves bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
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
#include "log.h"
#include "loop.h"
#include "stack.h"
#include "util.h"

#define API_BACKLOG 128

struct api_conn {
    struct api_conn *next;
    int fd;
    int64_t deadline_ms;
    bool writing;
    char *buf;              /* request, then reply */
    size_t len, cap;
    size_t off;             /* reply bytes written */
};

struct api {
    int listen_fd;
    char *path;
    api_handler_fn handler;
    void *handler_data;
    struct api_conn *conns;
    size_t n_conns;
    uint64_t n_requests;
};

static void api_conn_read(struct api *api, struct loop *l, struct api_conn *c);

/**
 * api_new() - bind and listen on a UNIX socket path
 * @path:	socket path (< 108 bytes); a stale socket file is replaced
 * @fn:		request handler
 * @data:	passed to @fn
 * @ret:	the server; free with api_free() (which unlinks @path)
 *
 * Return: 0, -ENAMETOOLONG, -EEXIST if @path exists and is not a socket, or
 *	   a negative errno from socket/bind/listen
 */
int api_new(const char *path, api_handler_fn fn, void *data, struct api **ret)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    _cleanup_close_ int fd = -1;
    struct api *api;
    struct stat st;

    if (strlen(path) >= sizeof(sun.sun_path))
        return -ENAMETOOLONG;
    strcpy(sun.sun_path, path);

    /* a stale socket from a killed daemon (RootlessKit sends SIGKILL) */
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return -EEXIST;
        if (unlink(path) < 0)
            return -errno;
    }

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
        return -errno;
    if (listen(fd, API_BACKLOG) < 0) {
        int r = -errno;
        unlink(path);
        return r;
    }

    api = calloc(1, sizeof(*api));
    if (!api) {
        unlink(path);
        return -ENOMEM;
    }
    api->path = strdup(path);
    if (!api->path) {
        free(api);
        unlink(path);
        return -ENOMEM;
    }
    api->listen_fd = util_take_fd(&fd);
    api->handler = fn;
    api->handler_data = data;
    *ret = api;
    return 0;
}

/**
 * api_attach() - register the listener with the loop
 * @api:	the server
 * @l:		the loop (its api pointer is set, for deadlines)
 *
 * Return: 0 or -ENOMEM
 */
int api_attach(struct api *api, struct loop *l)
{
    l->api = api;
    return loop_add(l, api->listen_fd, POLLIN, LOOP_API_LISTEN, api);
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
 */
void api_free(struct api *api)
{
    if (!api)
        return;
    while (api->conns)
        api_conn_close(api, NULL, api->conns);
    close(api->listen_fd);
    unlink(api->path);
    free(api->path);
    free(api);
}

const char *api_path(const struct api *api)
{
    return api->path;
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
 * api_request_complete() - does @buf hold a complete JSON value followed by
 *			    a newline?
 * @buf:	request bytes so far
 * @len:	their length
 *
 * A scanner for brackets outside strings, not a parser: the handler parses.
 *
 * Return: 1 if complete, 0 if not yet
 */
int api_request_complete(const char *buf, size_t len)
{
    bool in_str = false, esc = false, seen = false;
    int depth = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        char ch = buf[i];

        if (in_str) {
            if (esc)
                esc = false;
            else if (ch == '\\')
                esc = true;
            else if (ch == '"')
                in_str = false;
            continue;
        }
        switch (ch) {
        case '"':
            in_str = true;
            break;
        case '{':
        case '[':
            depth++;
            seen = true;
            break;
        case '}':
        case ']':
            depth--;
            break;
        case '\n':
            if (seen && depth <= 0)
                return 1;
            break;
        default:
            break;
        }
    }
    return 0;
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

static void api_conn_error(struct api *api, struct loop *l,
                           struct api_conn *c, const char *desc)
{
    char *reply = g_strdup_printf("{\"error\":{\"desc\":\"%s\"}}", desc);

    api_conn_reply(api, l, c, reply, strlen(reply));
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
        int fd = accept4(api->listen_fd, NULL, NULL,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                warn("API socket: accept: %s", strerror(errno));
            return;
        }
        if (api->n_conns >= API_CONN_MAX) {
            static const char busy[] =
                "{\"error\":{\"desc\":\"too many API connections\"}}";
            if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                debug("API socket: busy reply: %s", strerror(errno));
            close(fd);
            continue;
        }
        c = calloc(1, sizeof(*c));
        if (!c || loop_add(l, fd, POLLIN, LOOP_API_CONN, api) < 0) {
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
            if (errno != EAGAIN)
                api_conn_close(api, l, c);
            else if (api_request_complete(c->buf, c->len))
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

    for (c = api->conns; c; c = c->next) {
        int64_t left = c->deadline_ms - now;
        if (left < 0)
            left = 0;
        if (*timeout_ms < 0 || left < *timeout_ms)
            *timeout_ms = (int)left;
    }
}

/**
 * api_expire() - drop the clients whose deadline has passed
 * @api:	the server
 * @l:		the loop
 */
void api_expire(struct api *api, struct loop *l)
{
    int64_t now = stack_now_ms();
    struct api_conn *c = api->conns, *next;

    for (; c; c = next) {
        next = c->next;
        if (c->deadline_ms <= now) {
            debug("API client dropped at its deadline");
            api_conn_close(api, l, c);
        }
    }
}
