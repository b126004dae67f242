/* SPDX-License-Identifier: GPL-2.0-or-later */
/* log.h - the one logger: levels, stderr sink, bridge for glib/libslirp logs */
#pragma once

#include <stdarg.h>

enum log_level {
    LOG_LVL_ERR,
    LOG_LVL_WARN,
    LOG_LVL_INFO,
    LOG_LVL_DEBUG,
};

void log_init(const char *progname);
const char *log_progname(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void logmsg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define err(...) logmsg(LOG_LVL_ERR, __VA_ARGS__)
#define warn(...) logmsg(LOG_LVL_WARN, __VA_ARGS__)
#define info(...) logmsg(LOG_LVL_INFO, __VA_ARGS__)
#define debug(...) logmsg(LOG_LVL_DEBUG, __VA_ARGS__)

/* Log "msg: strerror(-r)" at error level and return r (a negative errno). */
int log_errno(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
