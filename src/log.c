/* SPDX-License-Identifier: GPL-2.0-or-later */
/* log.c - the one logger: levels, stderr sink, bridge for glib/libslirp logs */
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static const char *log_name = "slirpd";
static enum log_level log_level = LOG_LVL_INFO;

__attribute__((format(printf, 2, 0))) static void
log_vprint(enum log_level level, const char *fmt, va_list ap)
{
    int saved = errno;

    if (level > log_level)
        return;
    if (level == LOG_LVL_WARN)
        fputs("WARNING: ", stderr);
    else if (level == LOG_LVL_DEBUG)
        fputs("debug: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    errno = saved;
}

void logmsg(enum log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vprint(level, fmt, ap);
    va_end(ap);
}

int log_errno(int r, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    logmsg(LOG_LVL_ERR, "%s: %s", buf, strerror(r < 0 ? -r : r));
    return r;
}

/* glib and libslirp (log domain "Slirp") go through the same sink */
static void log_glib_handler(const gchar *domain, GLogLevelFlags flags,
                             const gchar *message, gpointer data)
{
    enum log_level level;

    if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        level = LOG_LVL_ERR;
    else if (flags & G_LOG_LEVEL_WARNING)
        level = LOG_LVL_WARN;
    else if (flags & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
        level = LOG_LVL_INFO;
    else
        level = LOG_LVL_DEBUG;
    logmsg(level, "%s%s%s", domain ? domain : "", domain ? ": " : "",
           message);
}

/**
 * log_init() - set the program name and route glib's logging through us
 * @progname:	name the program was invoked as (basename of argv[0])
 */
void log_init(const char *progname)
{
    const char *slash;

    if (progname) {
        slash = strrchr(progname, '/');
        log_name = slash ? slash + 1 : progname;
    }
    if (getenv("SLIRPD_DEBUG"))
        log_level = LOG_LVL_DEBUG;
    g_log_set_default_handler(log_glib_handler, NULL);
    g_log_set_handler("Slirp", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL |
                      G_LOG_FLAG_RECURSION, log_glib_handler, NULL);
}

const char *log_progname(void)
{
    return log_name;
}

void log_set_level(enum log_level level)
{
    log_level = level;
}

enum log_level log_get_level(void)
{
    return log_level;
}
