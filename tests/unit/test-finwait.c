/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-finwait.c - finwait_scan(): which CLOSE_WAIT flows of libslirp's listing end, and when */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "finwait.h"
#include "tapout.h"

#define T 3000      /* the timeout, ms */

static uint64_t progress[8192];     /* per fd: the remote's bytes */
static int ended[16], n_ended;
static int end_fails;

static int n_checked;      /* probes that checked the socket's identity */

static int fake_probe(int fd, uint16_t sport, uint16_t dport, bool known,
                      uint64_t *p)
{
    if (!known)
        n_checked++;
    if (fd >= 8192 || (!known && sport == 1))  /* port 1: another socket */
        return -3;
    *p = progress[fd];
    return 0;
}

static int fake_end(int fd)
{
    if (end_fails)
        return -9;
    if (n_ended < 16)
        ended[n_ended] = fd;
    n_ended++;
    return 0;
}

static const struct finwait_ops ops = { fake_probe, fake_end };

/* one line of slirp_connection_info() */
static const char *line(const char *state, int fd, int sport, long rq, long sq)
{
    static char buf[256];

    snprintf(buf, sizeof(buf),
             "  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ\n"
             "  TCP[%s] %3d       10.0.2.100 %5d       192.0.2.1    80 %5ld %5ld\n",
             state, fd, sport, rq, sq);
    return buf;
}

static unsigned int scan(struct finwait *fw, const char *info, int64_t now)
{
    return finwait_scan(fw, info, now, T, &ops);
}

int main(void)
{
    struct finwait *fw;
    struct finwait_stats st;
    char *big;
    size_t i, off;
    unsigned int k;
    int fd;

    tap_plan(31);
    if (finwait_new(&fw) < 0)
        return 1;
    TAP_IS_INT(finwait_slots(fw), 0, "0: no table before the first line");

    /* 1: idle in CLOSE_WAIT: ended at the timeout, not before */
    TAP_IS_INT(scan(fw, line("CLOSE_WAIT", 9, 41234, 0, 0), 0), 0, "1: first seen: nothing ends");
    TAP_IS_INT(finwait_tracked(fw), 1, "1: the flow is followed");
    TAP_IS_INT(scan(fw, line("CLOSE_WAIT", 9, 41234, 0, 0), T - 1), 0, "1: not before the timeout");
    TAP_IS_INT(scan(fw, line("CLOSE_WAIT", 9, 41234, 0, 0), T), 1, "1: ended at the timeout");
    TAP_OK(n_ended == 1 && ended[0] == 9, "1: its socket, fd 9");
    TAP_IS_INT(finwait_tracked(fw), 0, "1: and no longer followed");
    TAP_IS_INT(n_checked, 1, "1: its socket was checked once, its counter read every round");

    /* 2: other states are not followed */
    scan(fw, line("ESTABLISHED", 10, 41235, 0, 0), 0);
    scan(fw, line("HOST_FORWARD", 11, 8080, 0, 0), 0);
    scan(fw, line("LAST_ACK", 12, 41236, 0, 0), 0);
    scan(fw, line("FIN_WAIT_2", 13, 41237, 0, 0), 0);
    TAP_IS_INT(finwait_tracked(fw), 0, "2: ESTABLISHED, HOST_FORWARD, LAST_ACK, FIN_WAIT_2: not followed");
    TAP_IS_INT(scan(fw, "  UDP[28 sec]  14  10.0.2.100 5353  192.0.2.3  53  0  0\n", 0), 0,
               "2: nor UDP");

    /* 3: bytes from the remote restart the clock */
    n_ended = 0;
    scan(fw, line("CLOSE_WAIT", 20, 40000, 0, 0), 10000);
    progress[20] = 100;
    scan(fw, line("CLOSE_WAIT", 20, 40000, 0, 0), 12000);
    TAP_IS_INT(scan(fw, line("CLOSE_WAIT", 20, 40000, 0, 0), 10000 + T), 0,
               "3: the remote sent: not ended 3 s after the first sight");
    TAP_IS_INT(scan(fw, line("CLOSE_WAIT", 20, 40000, 0, 0), 12000 + T), 1,
               "3: ended 3 s after its last byte");

    /* 4: bytes moving through libslirp's buffer restart it too */
    scan(fw, line("CLOSE_WAIT", 21, 40001, 500, 0), 20000);
    scan(fw, line("CLOSE_WAIT", 21, 40001, 200, 0), 22000);
    TAP_IS_INT(scan(fw, line("CLOSE_WAIT", 21, 40001, 200, 0), 20000 + T), 0,
               "4: Recv-Q moved: not ended");
    TAP_IS_INT(scan(fw, line("CLOSE_WAIT", 21, 40001, 200, 0), 22000 + T), 1,
               "4: ended once it stopped moving");

    /* 5: bytes owed to the namespace: held, then ended once acknowledged */
    scan(fw, line("CLOSE_WAIT", 22, 40002, 0, 77), 30000);
    TAP_IS_INT(scan(fw, line("CLOSE_WAIT", 22, 40002, 0, 77), 30000 + T), 0,
               "5: a due flow with a Send-Q is not ended");
    finwait_get_stats(fw, &st);
    TAP_IS_INT(st.held, 1, "5: ... it is counted held");
    TAP_IS_INT(finwait_tracked(fw), 1, "5: ... and still followed");
    scan(fw, line("CLOSE_WAIT", 22, 40002, 0, 0), 40000);
    TAP_IS_INT(scan(fw, line("CLOSE_WAIT", 22, 40002, 0, 0), 40000 + T), 1,
               "5: the Send-Q emptied: ended 3 s later");

    /* 6: a flow that left the listing is forgotten: a new clock if it shows again */
    scan(fw, line("CLOSE_WAIT", 23, 40003, 0, 0), 50000);
    scan(fw, line("ESTABLISHED", 24, 40004, 0, 0), 51000);
    TAP_IS_INT(finwait_tracked(fw), 0, "6: gone from the listing: forgotten");
    scan(fw, line("CLOSE_WAIT", 23, 40003, 0, 0), 52000);
    TAP_IS_INT(scan(fw, line("CLOSE_WAIT", 23, 40003, 0, 0), 50000 + T), 0,
               "6: back again: its clock starts anew");

    /* 7: a socket that is not the listed flow is left alone */
    scan(fw, "", 60000);
    scan(fw, line("CLOSE_WAIT", 25, 1, 0, 0), 60000);
    TAP_IS_INT(scan(fw, line("CLOSE_WAIT", 25, 1, 0, 0), 60000 + T), 0,
               "7: the probe refused it: never ended");

    /* 8: a number closed and reused (fdgen.c) is another socket */
    fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    scan(fw, line("CLOSE_WAIT", fd, 40005, 0, 0), 70000);
    close(fd);
    TAP_IS_INT(scan(fw, line("CLOSE_WAIT", fd, 40005, 0, 0), 70000 + T), 0,
               "8: the fd number was closed since: a new flow, a new clock");
    TAP_IS_INT(scan(fw, line("CLOSE_WAIT", fd, 40005, 0, 0), 70000 + 2 * T), 1,
               "8: ... ended a timeout after that");

    /* 9: an end that fails is not counted, and the flow starts over */
    end_fails = 1;
    finwait_get_stats(fw, &st);
    scan(fw, line("CLOSE_WAIT", 26, 40006, 0, 0), 80000);
    TAP_IS_INT(scan(fw, line("CLOSE_WAIT", 26, 40006, 0, 0), 80000 + T), 0,
               "9: a failed end is not counted");
    end_fails = 0;
    TAP_IS_INT(scan(fw, line("CLOSE_WAIT", 26, 40006, 0, 0), 80000 + T + 1), 0,
               "9: ... and the flow is followed anew");
    scan(fw, "", 90000);

    /* 10: the table is bounded: more flows than slots */
    big = malloc(6000 * 96);
    if (!big)
        return 1;
    for (i = 0, off = 0; i < 6000; i++)
        off += (size_t)sprintf(big + off, "  TCP[CLOSE_WAIT] %4zu  10.0.2.100 %5zu  192.0.2.1  80  0  0\n",
                               i + 1000, 2000 + i);
    finwait_get_stats(fw, &st);
    TAP_IS_INT(scan(fw, big, 100000), 0, "10: 6000 flows in CLOSE_WAIT: nothing ends at once");
    k = finwait_tracked(fw);
    TAP_OK(k <= FINWAIT_SLOTS && k >= FINWAIT_SLOTS / 2,
           "10: at most FINWAIT_SLOTS are followed (%u)", k);
    {
        struct finwait_stats st2;

        finwait_get_stats(fw, &st2);
        TAP_IS_INT(st2.untracked - st.untracked, 6000 - k,
                   "10: the others are counted untracked");
    }
    TAP_IS_INT(scan(fw, big, 100000 + T), k,
               "10: the followed ones end at the timeout; the others take their slots");
    TAP_IS_INT(finwait_slots(fw), FINWAIT_SLOTS,
               "10: the table grew to FINWAIT_SLOTS");
    free(big);
    finwait_free(fw);

    /* 11: flows in CLOSE_WAIT one after the other keep the first size */
    if (finwait_new(&fw) < 0)
        return 1;
    for (i = 0; i < 3000; i++) {
        scan(fw, line("CLOSE_WAIT", (int)(1000 + i), (int)(2000 + i), 0, 0),
             (int64_t)i);
        scan(fw, "", (int64_t)i);
    }
    TAP_IS_INT(finwait_slots(fw), FINWAIT_SLOTS_MIN,
               "11: 3000 flows one after the other: the first size");
    finwait_free(fw);
    return tap_done();
}
