/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-slirpinfo.c - slirpinfo_parse(): the lines of slirp_connection_info() as libslirp 4.7 writes them */
#include <string.h>

#include "slirpinfo.h"
#include "tapout.h"

static bool parse(const char *line, struct slirpinfo_conn *c)
{
    return slirpinfo_parse(line, strlen(line), c);
}

int main(void)
{
    static const char two[] =
        "  TCP[ESTABLISHED]     9       10.0.2.100 41234       192.0.2.1    80     0     0\n"
        "  UDP[28 sec]         11       10.0.2.100 5353        192.0.2.3    53";
    struct slirpinfo_conn c;

    tap_plan(12);
    TAP_OK(!parse("  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ", &c),
           "the header is not a connection");
    TAP_OK(parse("  TCP[ESTABLISHED]     9       10.0.2.100 41234       192.0.2.1    80     7     5", &c),
           "a TCP line");
    TAP_IS_STR(c.proto, "tcp", "its protocol, lower case");
    TAP_IS_STR(c.state, "ESTABLISHED", "its state");
    TAP_OK(c.fd == 9 && !strcmp(c.src, "10.0.2.100") && !strcmp(c.sport, "41234") &&
           !strcmp(c.dst, "192.0.2.1") && !strcmp(c.dport, "80") &&
           c.recvq == 7 && c.sendq == 5, "its fd, addresses, ports and queues");
    TAP_OK(parse("  TCP[HOST_FORWARD]   12                * 8080       10.0.2.100  80     0     0", &c) &&
           !strcmp(c.state, "HOST_FORWARD") && !strcmp(c.src, "*"),
           "a forward's listener");
    TAP_OK(parse("  ICMP[3 sec]         -1       10.0.2.100 -       192.0.2.1    -     0     0", &c) &&
           !strcmp(c.proto, "icmp") && !strcmp(c.state, "3 sec") && c.fd == -1 &&
           !strcmp(c.sport, "-"), "an ICMP line: a state with a space, no ports");
    /* a line short of fields never takes them from the next one */
    {
        static const char cut[] =
            "  TCP[ESTABLISHED] 9 10.0.2.100 41234 192.0.2.1 80\n    7     5";

        TAP_OK(!slirpinfo_parse(cut, (size_t)(strchr(cut, '\n') - cut), &c),
               "a line short of its queues is refused, the next line unread");
    }
    TAP_OK(parse(strchr(two, '\n') + 1, &c) == false,
           "a line with fields missing is refused");
    TAP_OK(slirpinfo_parse(two, (size_t)(strchr(two, '\n') - two), &c) &&
           c.recvq == 0 && c.sendq == 0, "a line read up to its newline only");
    TAP_OK(!parse("  TCP[A_STATE_NAME_LONGER_THAN_31_BYTES]  9 a 1 b 2 0 0", &c),
           "an overlong state is refused, not cut");
    TAP_OK(!parse("garbage", &c) && !parse("", &c), "garbage and empty lines");
    return tap_done();
}
