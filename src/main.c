/* main.c - slirpd's top level: options, tap, stack, loop; the only place that exits */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "loop.h"
#include "ns.h"
#include "options.h"
#include "stack.h"
#include "tap.h"

int main(int argc, char **argv)
{
    struct options opts;
    struct config cfg;
    struct ns ns = { -1, -1, false };
    struct stack *stack = NULL;
    struct loop loop;
    char errbuf[512];
    int r, sigfd = -1, tapfd = -1, vnet_len = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    log_init(argv[0]);

    switch (opt_parse(argc, argv, &opts)) {
    case OPT_HELP:
        opt_print_usage(stdout, log_progname());
        return EXIT_SUCCESS;
    case OPT_VERSION:
        opt_print_version(stdout);
        return EXIT_SUCCESS;
    case OPT_USAGE_ERROR:
        opt_print_usage(stdout, log_progname());
        return EXIT_FAILURE;
    case OPT_RUN:
        break;
    }
    if (opts.extra_args)
        printf("WARNING: too many arguments\n");
    if (opts.deprecated_no_host_loopback)
        printf("WARNING: --no-host-loopback is deprecated, use "
               "--disable-host-loopback\n");
    if (opts.deprecated_create_sandbox)
        printf("WARNING: --create-sandbox is deprecated, use "
               "--enable-sandbox\n");

    r = config_from_options(&opts, &cfg, errbuf, sizeof(errbuf));
    if (r < 0) {
        err("%s: %s", log_progname(), errbuf);
        config_free(&cfg);
        return EXIT_FAILURE;
    }
    if (cfg.enable_sandbox)
        warn("--enable-sandbox is not available in this version, "
             "running without a sandbox");
    if (cfg.enable_seccomp)
        warn("--enable-seccomp is not available in this version, "
             "running without seccomp");

    r = daemon_process_init(&sigfd);
    if (r < 0) {
        log_errno(r, "process setup failed");
        goto out;
    }
    r = daemon_get_tap(&cfg, &ns, &tapfd, &vnet_len);
    if (r < 0)
        goto out;
    r = tap_set_nonblock(tapfd);
    if (r < 0) {
        log_errno(r, "tap fd %d", tapfd);
        goto out;
    }

    config_print(&cfg, stdout);
    r = stack_new(&cfg, tapfd, &stack);
    if (r < 0) {
        log_errno(r, "cannot start libslirp %s (need >= 4.7)",
                  slirp_version_string());
        goto out;
    }
    stack_set_vnet_hdr(stack, vnet_len);

    loop_init(&loop, stack);
    if (loop_add(&loop, tapfd, POLLIN, LOOP_TAP, NULL) < 0 ||
        loop_add(&loop, sigfd, POLLIN, LOOP_SIGNAL, NULL) < 0 ||
        (cfg.exit_fd >= 0 &&
         loop_add(&loop, cfg.exit_fd, POLLHUP, LOOP_EXIT_FD, NULL) < 0)) {
        r = log_errno(-ENOMEM, "loop setup");
        goto out_loop;
    }

    r = daemon_signal_ready(cfg.ready_fd);
    if (r < 0)
        log_errno(r, "writing to ready-fd %d failed, ignoring", cfg.ready_fd);

    r = loop_run(&loop);
    if (r < 0)
        log_errno(r, "poll loop failed");

out_loop:
    loop_free(&loop);
out:
    stack_free(stack);
    if (tapfd >= 0)
        close(tapfd);
    ns_close(&ns);
    config_free(&cfg);
    return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
