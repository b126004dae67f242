/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz-api-request.c - libFuzzer target: any bytes into the API request handler */
/*
 * The handler runs with a real libslirp instance and forward table, so
 * add/list/remove go all the way to real listeners. That only happens
 * inside a private network namespace (made at start-up; root or an
 * unprivileged user namespace is needed), so nothing ever listens on a
 * real network; without one the table is left out and only parsing and
 * validation are fuzzed. unix: forwards are refused (fwd_restrict_unix()):
 * their paths would be bound in the real file system. The table is emptied
 * after every input.
 *
 * Run: ./fuzz-api-request -max_total_time=60 [corpus-dir]
 */
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api_cmd.h"
#include "config.h"
#include "fwd.h"
#include "log.h"
#include "netns.h"
#include "stack.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config cfg;
static struct api_cmd_ctx ctx;

static bool fuzz_private_netns(void)
{
    if (unshare(CLONE_NEWNET) < 0 &&
        unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
        return false;
    return netns_lo_up() == 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct options o = { .target = "1", .ifname = "tap0", .enable_ipv6 = true };
    struct stack *st = NULL;
    struct fwd_table *fwd = NULL;
    int sv[2];

    log_set_level(LOG_LVL_ERR);
    if (config_from_options(&o, &cfg, NULL) < 0)
        abort();
    ctx.cfg = &cfg;
    if (!fuzz_private_netns()) {
        fprintf(stderr, "fuzz-api-request: no private network namespace: "
                "fuzzing without a forward table\n");
        return 0;
    }
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0 ||
        stack_new(&cfg, sv[0], &st) < 0 || fwd_new(stack_slirp(st), 64, &fwd) < 0)
        abort();
    /* unix: paths would be bound in the real file system: keep them out */
    fwd_restrict_unix(fwd);
    ctx.stack = st;
    ctx.fwd = fwd;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len = 0;
    char *reply = api_cmd_handle(&ctx, (const char *)data, size, &len);

    /* every reply is a JSON object with "return", "error" or "entries" */
    if (!reply || len < 2 || reply[0] != '{' || reply[len - 1] != '}' ||
        strlen(reply) != len)
        abort();
    if (strncmp(reply, "{\"return\":", 10) && strncmp(reply, "{\"error\":{\"desc\":", 17) &&
        strncmp(reply, "{\"entries\":[", 12))
        abort();
    free(reply);

    while (ctx.fwd && fwd_count(ctx.fwd) > 0) {
        if (fwd_remove(ctx.fwd, fwd_get(ctx.fwd, 0)->id) < 0)
            abort();
    }
    return 0;
}
