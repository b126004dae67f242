/* SPDX-License-Identifier: GPL-2.0-or-later */
/* api_cmd.h - the API's JSON commands: slirp4netns's three and our own */
#pragma once

#include <stddef.h>

struct api;
struct config;
struct fwd_table;
struct loop;
struct splice;
struct udprelay;
struct stack;

/* requests nested deeper than this are refused (json_parse()) */
#define API_CMD_DEPTH_MAX 32

/* what the commands act on; the api_handler_fn data */
struct api_cmd_ctx {
    const struct config *cfg;
    struct stack *stack;        /* NULL: get_connections is refused */
    struct fwd_table *fwd;      /* NULL: forwarding commands are refused */
    struct api *api;            /* NULL: get_info has no API counters */
    struct splice *splice;      /* NULL: no splice path (no namespace) */
    struct loop *loop;          /* NULL: shutdown is refused */
    struct udprelay *relay;     /* NULL: no UDP relay */
};

char *api_cmd_handle(void *data, const char *req, size_t len, size_t *ret_len);
