/* api.h - the API socket server: non-blocking transport, one reply per connection */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct loop;

/* Request size limit (slirp4netns: 4096) and client deadline */
#define API_REQUEST_MAX (64 * 1024)
#define API_CONN_MAX 64
#define API_DEADLINE_MS 5000

/*
 * Handles one complete request; returns the reply (malloc'd, no trailing
 * newline) and its length. Must not return NULL.
 */
typedef char *(*api_handler_fn)(void *data, const char *req, size_t len,
                                size_t *ret_len);

struct api;

int api_new(const char *path, api_handler_fn fn, void *data, struct api **ret);
int api_attach(struct api *api, struct loop *l);
void api_free(struct api *api);
const char *api_path(const struct api *api);
size_t api_conn_count(const struct api *api);
uint64_t api_request_count(const struct api *api);

void api_on_listen(struct api *api, struct loop *l);
void api_on_conn(struct api *api, struct loop *l, int fd, short revents);
void api_timeout(struct api *api, int *timeout_ms);
void api_expire(struct api *api, struct loop *l);

int api_request_complete(const char *buf, size_t len);
