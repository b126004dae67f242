/* SPDX-License-Identifier: GPL-2.0-or-later */
/* slirpinfo.c - one line of libslirp's slirp_connection_info() text, for the API and the TIME_WAIT reaper */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "slirpinfo.h"

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
    return sscanf(close + 1, "%d %63s %15s %63s %15s %ld %ld", &c->fd, c->src,
                  c->sport, c->dst, c->dport, &c->recvq, &c->sendq) == 7;
}
