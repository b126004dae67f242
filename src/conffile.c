/* SPDX-License-Identifier: GPL-2.0-or-later */
/* conffile.c - default options from /etc/slirpd.conf and the user's slirpd.conf, put before the command line */
/*
 * DOC: Theory of Operation
 *
 * podman, RootlessKit and Docker build slirpd's command line themselves,
 * so a user who wants an option for every container (an egress policy,
 * --enable-seccomp, --busy-poll) writes it in a file instead:
 * /etc/slirpd.conf for everyone, then $XDG_CONFIG_HOME/slirpd/slirpd.conf
 * (~/.config/slirpd/slirpd.conf when unset) for the user. One option a
 * line, its long name without the dashes, "=VALUE" for one that takes a
 * value; blank lines and lines starting with '#' are skipped.
 *
 * The files' options become arguments placed before the command line's
 * (argv[0], /etc's, the user's, the command line): a value given twice is
 * the last one's, as on any command line, so the command line wins over
 * the user's file, which wins over /etc's; flags add up. --allow/--deny
 * rules keep that order too, and since the first matching rule wins, a
 * file's rules come first: a caller's --allow cannot undo a file's deny.
 *
 * Each line is checked alone first (config_check_option()), so a bad one
 * is an error naming the file and the line. Options that name one
 * instance's fds, paths or ports (--exit-fd, --api-socket, --publish ...)
 * are refused in a file: every daemon reads it. --no-config on the
 * command line or SLIRPD_NO_CONFIG in the environment (any value but
 * empty) turns the files off: the test suite sets it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conffile.h"
#include "config.h"
#include "err.h"
#include "options.h"
#include "util.h"

/* options a file cannot set: they belong to one instance */
static const char *const conffile_refused[] = {
    "exit-fd", "ready-fd", "api-socket", "netns-type", "userns-path",
    "tap-netns", "exit-with-pid", "publish", "help", "version", "no-config",
};

static bool conffile_off(int argc, char **argv)
{
    const char *env = getenv(CONFFILE_ENV_OFF);
    int i;

    if (env && *env)
        return true;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "--no-config"))
            return true;
    }
    return false;
}

static int conffile_add(struct conffile *cf, char *arg, const char *path,
                        unsigned int line)
{
    struct conffile_arg *a = realloc(cf->args, (cf->n + 1) * sizeof(*a));

    if (!a) {
        free(arg);
        return -ENOMEM;
    }
    cf->args = a;
    a[cf->n].arg = arg;
    snprintf(a[cf->n].origin, sizeof(a[cf->n].origin), "%s:%u", path, line);
    cf->n++;
    return 0;
}

/* one line, trimmed, not blank, not a comment */
static int conffile_line(struct conffile *cf, char *s, const char *path,
                         unsigned int line, struct err *e)
{
    char *eq = strchr(s, '='), *name = s, *value = NULL, *arg, *end;
    bool has_arg;
    size_t i;
    int r;

    if (eq) {
        *eq = '\0';
        value = eq + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        for (end = eq; end > name && (end[-1] == ' ' || end[-1] == '\t'); end--)
            ;
        *end = '\0';
    }
    if (!*name || *name == '-' ||
        strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(name))
        return err_make(e, -EINVAL, "%s:%u: '%s' is not an option name "
                        "(NAME or NAME=VALUE, the long name without --)",
                        path, line, name);
    if (opt_lookup(name, &has_arg) < 0)
        return err_make(e, -EINVAL, "%s:%u: unknown option '%s'", path, line,
                        name);
    for (i = 0; i < ARRAY_SIZE(conffile_refused); i++)
        if (!strcmp(name, conffile_refused[i]))
            return err_make(e, -EINVAL, "%s:%u: %s cannot be set in a "
                            "configuration file (it belongs to one instance)",
                            path, line, name);
    if (has_arg && (!value || !*value))
        return err_make(e, -EINVAL, "%s:%u: %s needs a value (%s=VALUE)",
                        path, line, name, name);
    if (!has_arg && value)
        return err_make(e, -EINVAL, "%s:%u: %s takes no value", path, line,
                        name);
    if (value)
        r = asprintf(&arg, "--%s=%s", name, value);
    else
        r = asprintf(&arg, "--%s", name);
    if (r < 0)
        return err_make(e, -ENOMEM, "%s: out of memory", path);
    r = config_check_option(arg, e);
    if (r < 0) {
        free(arg);
        return err_wrap(e, r, "%s:%u", path, line);
    }
    return conffile_add(cf, arg, path, line) < 0 ?
           err_make(e, -ENOMEM, "%s: out of memory", path) : 0;
}

/* one file; a missing one is no error. Return: 1 if read, 0 if missing,
 * 2 if it could not be opened for want of permission (skipped) */
static int conffile_read(struct conffile *cf, const char *path, struct err *e)
{
    _cleanup_close_ int fd = -1;
    char *buf, *p, *nl, *s, *end;
    unsigned int line = 0;
    struct stat sb;
    ssize_t n;
    size_t len = 0;
    int r = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
        return 0;
    if (fd < 0 && errno == EACCES)
        return 2;
    if (fd < 0)
        return err_make_errno(e, -errno, "cannot open %s", path);
    if (fstat(fd, &sb) < 0)
        return err_make_errno(e, -errno, "%s", path);
    if (!S_ISREG(sb.st_mode))
        return err_make(e, -EINVAL, "%s: not a regular file", path);
    if (sb.st_size > CONFFILE_MAX_BYTES)
        return err_make(e, -EFBIG, "%s: larger than %d bytes", path,
                        CONFFILE_MAX_BYTES);
    buf = malloc(CONFFILE_MAX_BYTES + 1);
    if (!buf)
        return err_make(e, -ENOMEM, "%s: out of memory", path);
    while (len < CONFFILE_MAX_BYTES &&
           (n = read(fd, buf + len, CONFFILE_MAX_BYTES - len)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = err_make_errno(e, -errno, "cannot read %s", path);
            goto out;
        }
        len += (size_t)n;
    }
    if (memchr(buf, '\0', len)) {
        r = err_make(e, -EINVAL, "%s: a NUL byte: not a text file", path);
        goto out;
    }
    buf[len] = '\0';
    for (p = buf; *p && r == 0; p = nl ? nl + 1 : p + strlen(p)) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        line++;
        for (s = p; *s == ' ' || *s == '\t'; s++)
            ;
        for (end = s + strlen(s); end > s && (end[-1] == ' ' || end[-1] == '\t' ||
                                              end[-1] == '\r'); end--)
            ;
        *end = '\0';
        if (!*s || *s == '#')
            continue;
        r = conffile_line(cf, s, path, line, e);
        if (!nl)
            break;
    }
out:
    free(buf);
    return r < 0 ? r : 1;
}

/**
 * conffile_load() - read the configuration files and put their options
 *		     before the command line
 * @argc, @argv:	the command line
 * @cf:			filled: the command line to parse (cf->argc,
 *			cf->argv), for conffile_free()
 * @e:			a bad file or line, named with its number
 *
 * With --no-config or SLIRPD_NO_CONFIG set, cf->argv is the command line
 * as it came.
 *
 * Return: 0 or a negative errno
 */
int conffile_load(int argc, char **argv, struct conffile *cf, struct err *e)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    char *paths[2] = { NULL, NULL };
    size_t i, k;
    int r = 0;

    memset(cf, 0, sizeof(*cf));
    cf->argc = argc;
    cf->argv = argv;
    if (conffile_off(argc, argv))
        return 0;
    paths[0] = strdup(CONFFILE_SYSTEM);
    if (xdg && xdg[0] == '/')
        r = asprintf(&paths[1], "%s/slirpd/slirpd.conf", xdg);
    else if (home && home[0] == '/')
        r = asprintf(&paths[1], "%s/.config/slirpd/slirpd.conf", home);
    if (r < 0 || !paths[0]) {
        free(paths[0]);
        return err_make(e, -ENOMEM, "out of memory");
    }
    for (i = 0, k = 0; i < 2; i++) {
        if (!paths[i])
            continue;
        r = conffile_read(cf, paths[i], e);
        if (r < 0)
            break;
        if (r == 2) {
            cf->unreadable[i] = paths[i];
            paths[i] = NULL;
            r = 0;
        } else if (r > 0) {
            cf->files[k++] = paths[i];
            paths[i] = NULL;
        }
    }
    free(paths[0]);
    free(paths[1]);
    if (r < 0)
        return r;
    if (!cf->n)
        return 0;
    cf->argv = calloc((size_t)argc + cf->n + 1, sizeof(*cf->argv));
    if (!cf->argv) {
        cf->argv = argv;
        return err_make(e, -ENOMEM, "out of memory");
    }
    cf->own_argv = true;
    cf->argv[0] = argv[0];
    for (i = 0; i < cf->n; i++)
        cf->argv[i + 1] = cf->args[i].arg;
    for (i = 1; i < (size_t)argc; i++)
        cf->argv[cf->n + i] = argv[i];
    cf->argc = argc + (int)cf->n;
    return 0;
}

/**
 * conffile_note() - tell the options which came from a file: each rule's
 *		     origin, and the files read
 * @cf:	from conffile_load()
 * @o:	from opt_parse(cf->argc, cf->argv)
 */
void conffile_note(const struct conffile *cf, struct options *o)
{
    size_t i, k;

    o->conf_files[0] = cf->files[0];
    o->conf_files[1] = cf->files[1];
    for (i = 0; i < o->n_rules; i++) {
        const char *t = o->rules[i].text;

        for (k = 0; k < cf->n; k++) {
            const char *a = cf->args[k].arg;

            if (t >= a && t < a + strlen(a)) {
                o->rules[i].origin = cf->args[k].origin;
                break;
            }
        }
    }
}

/**
 * conffile_free() - release what conffile_load() allocated
 * @cf:	the files' options (the command line itself is not freed)
 */
void conffile_free(struct conffile *cf)
{
    size_t i;

    for (i = 0; i < cf->n; i++)
        free(cf->args[i].arg);
    free(cf->args);
    if (cf->own_argv)
        free(cf->argv);
    free(cf->files[0]);
    free(cf->files[1]);
    free(cf->unreadable[0]);
    free(cf->unreadable[1]);
    memset(cf, 0, sizeof(*cf));
}
