/* SPDX-License-Identifier: GPL-2.0-or-later */
/* conffile.h - default options from /etc/slirpd.conf and the user's slirpd.conf, put before the command line */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct err;
struct options;

/* the environment variable that turns the files off (tests) */
#define CONFFILE_ENV_OFF "SLIRPD_NO_CONFIG"
#define CONFFILE_SYSTEM "/etc/slirpd.conf"
/* a file larger than this is refused */
#define CONFFILE_MAX_BYTES 65536

struct conffile_arg {
    char *arg;                  /* "--NAME=VALUE" or "--NAME" */
    char origin[320];           /* "FILE:LINE" */
};

/**
 * struct conffile - the files' options and the command line they precede
 * @argc, @argv:	argv[0], the files' options, then the command line's
 *			arguments (for opt_parse())
 * @args:		the files' options, in order
 * @n:			how many
 * @files:		the files read, in order (NULL: none)
 * @unreadable:		files that may exist but could not be opened for
 *			want of permission (NULL: none), to warn about: a
 *			user's HOME that is not theirs (root's, after
 *			su without -), an /etc/slirpd.conf only root reads
 * @own_argv:		@argv was allocated here
 */
struct conffile {
    int argc;
    char **argv;
    struct conffile_arg *args;
    size_t n;
    char *files[2];
    char *unreadable[2];
    bool own_argv;
};

int conffile_load(int argc, char **argv, struct conffile *cf, struct err *e);
void conffile_note(const struct conffile *cf, struct options *o);
void conffile_free(struct conffile *cf);
