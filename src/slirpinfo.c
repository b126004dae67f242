/* SPDX-License-Identifier: GPL-2.0-or-later */
/* slirpinfo.c - one line of libslirp's slirp_connection_info() text, for the API and the TIME_WAIT reaper */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "slirpinfo.h"

/* the next blank-separated token of *@p into @dst (refused if longer) */
static bool slirpinfo_token(const char **p, char *dst, size_t size)
{
    const char *s = *p + strspn(*p, " \t");
    size_t n = strcspn(s, " \t");

    if (n == 0 || n >= size)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    *p = s + n;
    return true;
}

/* the next token of *@p as a decimal number */
static bool slirpinfo_long(const char **p, long *v)
{
    char tok[24], *end;

    if (!slirpinfo_token(p, tok, sizeof(tok)))
        return false;
    errno = 0;
    *v = strtol(tok, &end, 10);
    return *end == '\0' && errno == 0;
}

/**
 * slirpinfo_parse() - read one connection line of slirp_connection_info()
 * @line:	the line (no newline needed; it ends at @len or a NUL)
 * @len:	its length
 * @c:		the fields
 *
 * The header line ("Protocol[State] FD ...") and anything else that is not
 * "PROTO[STATE] FD SRC SPORT DST DPORT RECVQ SENDQ" is refused. The line is
 * read from a copy, so no field can be taken from the next line.
 *
 * Return: true if @line is a connection
 */
bool slirpinfo_parse(const char *line, size_t len, struct slirpinfo_conn *c)
{
    char buf[256];
    const char *open, *close, *p;
    size_t plen, slen, i;
    long fd;

    if (len >= sizeof(buf))
        return false;
    memcpy(buf, line, len);
    buf[len] = '\0';
    p = buf + strspn(buf, " ");
    open = strchr(p, '[');
    close = open ? strchr(open, ']') : NULL;
    if (!close)
        return false;
    plen = (size_t)(open - p);
    slen = (size_t)(close - open - 1);
    if (plen == 0 || plen >= sizeof(c->proto) || slen >= sizeof(c->state))
        return false;
    for (i = 0; i < plen; i++)
        c->proto[i] = (char)tolower((unsigned char)p[i]);
    c->proto[plen] = '\0';
    memcpy(c->state, open + 1, slen);
    c->state[slen] = '\0';
    /* by hand, not sscanf(): with thousands of sockets a reaper's listing
     * spent more time in vfscanf() than in parsing anything else */
    p = close + 1;
    if (!slirpinfo_long(&p, &fd) || fd < INT_MIN || fd > INT_MAX)
        return false;
    c->fd = (int)fd;
    return slirpinfo_token(&p, c->src, sizeof(c->src)) &&
           slirpinfo_token(&p, c->sport, sizeof(c->sport)) &&
           slirpinfo_token(&p, c->dst, sizeof(c->dst)) &&
           slirpinfo_token(&p, c->dport, sizeof(c->dport)) &&
           slirpinfo_long(&p, &c->recvq) && slirpinfo_long(&p, &c->sendq);
}
