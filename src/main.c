/* SPDX-License-Identifier: GPL-2.0-or-later */
/* main.c - slirpd's top level: options, tap, stack, loop; the only place that exits */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "api_cmd.h"
#include "conffile.h"
#include "config.h"
#include "daemon.h"
#include "dispatch.h"
#include "err.h"
#include "evtype.h"
#include "fwd.h"
#include "hook.h"
#include "isolation.h"
#include "log.h"
#include "loop.h"
#include "ns.h"
#include "nshelper.h"
#include "options.h"
#include "reactor.h"
#include "splice.h"
#include "udprelay.h"
#include "stack.h"
#include "stackthread.h"
#include "tap.h"

int main(int argc, char **argv)
{
    struct options opts;
    struct conffile cf;
    struct config cfg;
    struct ns ns = { -1, -1, false };
    struct stack *stack = NULL;
    struct stackthread *threads = NULL;
    struct fwd_table *fwd = NULL;
    struct nshelper *helper = NULL;
    struct splice *splice = NULL;
    struct udprelay *relay = NULL;
    enum fwd_path fpath = FWD_PATH_AUTO;
    struct api *api = NULL;
    struct api_cmd_ctx actx;
    struct isolate iso = { 0 };
    struct loop loop;
    struct reactor reactor = { .epfd = -1 };
    struct dispatch disp = { 0 };
    struct err e;
    int r, sigfd = -1, tapfd = -1, pidfd = -1, vnet_len = 0, helper_sock = -1;
    pid_t helper_pid = -1;

    /* "slirpd oci-hook STAGE ...": run as an OCI runtime's hook (hook.c) */
    if (argc > 1 && !strcmp(argv[1], "oci-hook")) {
        argv[1] = argv[0];
        return hook_main(argc - 1, argv + 1);
    }

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
    /* the configuration files' options go before the command line's */
    opt_free(&opts);
    if (conffile_load(argc, argv, &cf, &e) < 0) {
        err("%s: %s", log_progname(), e.msg);
        conffile_free(&cf);
        return EXIT_FAILURE;
    }
    if (opt_parse(cf.argc, cf.argv, &opts) != OPT_RUN) {
        opt_print_usage(stdout, log_progname());
        opt_free(&opts);
        conffile_free(&cf);
        return EXIT_FAILURE;
    }
    conffile_note(&cf, &opts);
    for (size_t i = 0; i < 2; i++)
        if (cf.unreadable[i])
            printf("WARNING: cannot read %s (permission denied), ignoring "
                   "it\n", cf.unreadable[i]);
    if (opts.extra_args)
        printf("WARNING: too many arguments\n");
    if (opts.deprecated_no_host_loopback)
        printf("WARNING: --no-host-loopback is deprecated, use "
               "--disable-host-loopback\n");
    if (opts.deprecated_create_sandbox)
        printf("WARNING: --create-sandbox is deprecated, use "
               "--enable-sandbox\n");

    r = config_from_options(&opts, &cfg, &e);
    if (r == 0 && opts.forward_path &&
        fwd_spec_path_parse(opts.forward_path, &fpath) < 0)
        r = err_make(&e, -EINVAL, "--forward-path must be auto, splice or "
                     "slirp: %s", opts.forward_path);
    if (r == 0)
        r = fwd_spec_publish_check(opts.publish, opts.n_publish, &cfg, &e);
    if (r < 0) {
        err("%s: %s", log_progname(), e.msg);
        if (e.flags & ERR_USAGE)
            opt_print_usage(stdout, log_progname());
        config_free(&cfg);
        opt_free(&opts);
        conffile_free(&cf);
        return EXIT_FAILURE;
    }
    r = isolate_initial(&iso, &cfg, &e);
    if (r < 0) {
        err("%s", e.msg);
        goto out;
    }

    r = daemon_process_init(&sigfd);
    if (r < 0) {
        log_errno(r, "process setup failed");
        goto out;
    }
    r = daemon_watch_pid(&cfg, &pidfd);
    if (r < 0) {
        log_errno(r, "--exit-with-pid=%s: cannot watch the process",
                  opts.exit_with_pid);
        goto out;
    }
    /* the tap's child goes on as the splice helper: one fork, before any
     * isolation, and the ready byte does not wait for the helper */
    r = daemon_get_tap(&cfg, &ns, fpath != FWD_PATH_SLIRP ?
                       nshelper_run : NULL, &tapfd, &vnet_len,
                       &helper_sock, &helper_pid);
    if (r < 0)
        goto out;
    r = tap_set_nonblock(tapfd);
    if (r < 0) {
        log_errno(r, "tap fd %d", tapfd);
        goto out;
    }
    if (helper_sock >= 0) {
        r = reactor_init(&reactor);
        if (r == 0)
            r = nshelper_new(&reactor, helper_sock, helper_pid, &helper);
        else
            close(helper_sock);
        if (r == 0 && fpath == FWD_PATH_SPLICE)
            r = nshelper_wait(helper);
        if (r == 0)
            r = splice_new(&reactor, helper, &splice);
        if (r == 0)
            splice_set_fin_timeout(splice, cfg.fin_timeout_ms);
        if (r < 0) {
            nshelper_free(helper);
            helper = NULL;
        }
        if (r < 0 && fpath == FWD_PATH_SPLICE) {
            log_errno(r, "--forward-path=splice: cannot start the helper in "
                      "the namespace");
            goto out;
        }
        if (r < 0)
            warn("splice forwards are not available (%s): every forward "
                 "goes through libslirp, ignoring", strerror(-r));
        if (splice) {
            r = udprelay_new(&reactor, helper, cfg.udp_timeout_ms,
                             UDPRELAY_MAX_FLOWS, &relay);
            if (r < 0) {
                log_errno(r, "UDP relay");
                goto out;
            }
        }
        r = 0;
    }
    r = isolate_after_tap(&iso, &cfg, &ns, &e);
    if (r < 0) {
        err("%s", e.msg);
        goto out;
    }

    config_print(&cfg, stdout);
    r = stack_new(&cfg, tapfd, &stack);
    if (r < 0) {
        log_errno(r, "cannot start libslirp %s (need >= 4.7)",
                  slirp_version_string());
        goto out;
    }
    config_drop_rules(&cfg);    /* the policy holds its own copy */
    r = stack_set_vnet_hdr(stack, vnet_len);
    if (r < 0) {
        log_errno(r, "tap queue");
        goto out;
    }

    r = fwd_new(stack_slirp(stack), FWD_MAX_DEFAULT, &fwd);
    if (r < 0) {
        log_errno(r, "forward table");
        goto out;
    }
    fwd_set_splice(fwd, splice, fpath);
    fwd_set_udprelay(fwd, relay);
    r = fwd_publish(fwd, opts.publish, opts.n_publish, &cfg, &e);
    if (r < 0) {
        err("%s: %s", log_progname(), e.msg);
        goto out;
    }
    fwd_print(fwd, stdout);

    disp = (struct dispatch){ .stack = stack, .reactor = &reactor,
                              .helper = helper, .splice = splice,
                              .relay = relay };
    loop_init(&loop, &dispatch_loop_ops, &disp, cfg.busy_poll_us);
    if (loop_add(&loop, tapfd, POLLIN, EVT_TAP, NULL) < 0 ||
        loop_add(&loop, sigfd, POLLIN, EVT_SIGNAL, NULL) < 0 ||
        stack_attach(stack, &loop) < 0 ||
        (cfg.exit_fd >= 0 &&
         loop_add(&loop, cfg.exit_fd, POLLHUP, EVT_EXIT_FD, NULL) < 0) ||
        (pidfd >= 0 && loop_add(&loop, pidfd, POLLIN, EVT_EXIT_PID, NULL) < 0)) {
        r = log_errno(-ENOMEM, "loop setup");
        goto out_loop;
    }
    if (splice && loop_add(&loop, reactor_fd(&reactor), POLLIN, EVT_REACTOR,
                           NULL) < 0) {
        r = log_errno(-ENOMEM, "loop setup");
        goto out_loop;
    }
    actx = (struct api_cmd_ctx){ .cfg = &cfg, .stack = stack, .fwd = fwd,
                                 .splice = splice, .relay = relay,
                                 .loop = &loop };
    if (cfg.api_socket) {
        r = api_new(cfg.api_socket, api_cmd_handle, &actx, &api);
        if (r == 0)
            r = api_attach(api, &loop);
        disp.api = api;
        if (r < 0) {
            log_errno(r, "cannot listen on the API socket %s%s", cfg.api_socket,
                      r == -EADDRINUSE ? " (a running process listens on it; "
                      "it is left alone)" : "");
            goto out_loop;
        }
        actx.api = api;
    }

    r = isolate_before_threads(&iso, &cfg, &e);
    if (r < 0) {
        err("%s", e.msg);
        goto out_loop;
    }
    r = stackthread_start(stack, &threads);
    if (r == 0 && stackthread_fd(threads) >= 0)
        r = loop_add(&loop, stackthread_fd(threads), POLLIN,
                     EVT_WORKER_FAILED, NULL);
    if (r < 0) {
        log_errno(r, "cannot start the --threads=%u worker threads",
                  cfg.threads);
        goto out_loop;
    }
    r = isolate_before_ready(&iso, &cfg, &e);
    if (r < 0) {
        err("%s", e.msg);
        goto out_loop;
    }
    if (iso.root != ISOLATE_ROOT_NONE)
        fwd_restrict_unix(fwd);   /* no host path can be bound any more */

    r = daemon_signal_ready(cfg.ready_fd);
    if (r < 0)
        log_errno(r, "writing to ready-fd %d failed, ignoring", cfg.ready_fd);

    r = loop_run(&loop);
    if (r < 0)
        log_errno(r, "poll loop failed");

out_loop:
    stackthread_stop(threads);
    api_free(api);
    loop_free(&loop);
out:
    fwd_free(fwd);
    udprelay_free(relay);
    splice_free(splice);
    nshelper_free(helper);
    reactor_fini(&reactor);
    stack_free(stack);
    if (tapfd >= 0)
        close(tapfd);
    if (pidfd >= 0)
        close(pidfd);
    ns_close(&ns);
    config_free(&cfg);
    opt_free(&opts);
    conffile_free(&cf);
    return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
