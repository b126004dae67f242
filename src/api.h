/* SPDX-License-Identifier: GPL-2.0-or-later */
/* api.h - the API socket server: non-blocking transport, one reply per connection */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;

/* Request size limit (slirp4netns: 4096) and client deadline */
#define API_REQUEST_MAX (64 * 1024)
#define API_CONN_MAX 64
#define API_DEADLINE_MS 5000
/* the listener rests this long when accept() runs out of fds */
#define API_ACCEPT_PAUSE_MS 100

/*
 * Handles one complete request; returns the reply (malloc'd, no trailing
 * newline) and its length. Must not return NULL.
 */
typedef char *(*api_handler_fn)(void *data, const char *req, size_t len,
                                size_t *ret_len);

struct api;

int api_new(const char *path, api_handler_fn fn, void *data, struct api **ret);
int api_attach(struct api *api, struct loop *l);
char *api_error_reply(const char *desc, size_t *ret_len);
void api_free(struct api *api);
size_t api_conn_count(const struct api *api);
uint64_t api_request_count(const struct api *api);

void api_on_listen(struct api *api, struct loop *l);
void api_on_conn(struct api *api, struct loop *l, int fd, short revents);
void api_timeout(struct api *api, int *timeout_ms);
void api_expire(struct api *api, struct loop *l);

/*
 * Where the scan for the end of a request stopped: the next call goes on
 * from @pos with the bracket depth and string state it had there.
 */
struct api_scan {
    size_t pos;         /* bytes looked at */
    int depth;          /* brackets open outside strings */
    bool in_str, esc;   /* inside a string; after its backslash */
    bool seen;          /* a bracket was opened */
    bool done;          /* the newline after a complete value was seen */
};

int api_scan_feed(struct api_scan *s, const char *buf, size_t len);
int api_request_complete(const char *buf, size_t len);
uint64_t api_scanned_bytes(const struct api *api);
uint64_t api_refused_count(const struct api *api);
