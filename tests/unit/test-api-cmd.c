/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-api-cmd.c - the JSON commands: every reply shape and error text, byte for byte */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "api_cmd.h"
#include "config.h"
#include "fwd.h"
#include "slirp-env.h"
#include "stack.h"
#include "tapout.h"

static struct api_cmd_ctx ctx;
static char last[65536];

/* the reply to @req, also kept in last[] */
static const char *call(const char *req)
{
    size_t len = 0;
    char *r = api_cmd_handle(&ctx, req, strlen(req), &len);

    snprintf(last, sizeof(last), "%s", r ? r : "(null)");
    if (r && strlen(r) != len)
        snprintf(last, sizeof(last), "(length %zu != strlen %zu)", len, strlen(r));
    free(r);
    return last;
}

static void expect(const char *req, const char *want, const char *name)
{
    TAP_IS_STR(call(req), want, name);
}

#define ERR(desc) "{\"error\":{\"desc\":\"" desc "\"}}"
#define ADD(args) "{\"execute\":\"add_hostfwd\",\"arguments\":{" args "}}"

static void test_envelope(void)
{
    char deep[256];
    int i;

    expect("", ERR("bad request: cannot parse JSON"), "empty request");
    expect("   \n", ERR("bad request: cannot parse JSON"), "whitespace only");
    expect("{", ERR("bad request: cannot parse JSON"), "truncated JSON");
    expect("{\"execute\":\"list_hostfwd\"", ERR("bad request: cannot parse JSON"),
           "unterminated object");
    expect("hello", ERR("bad request: cannot parse JSON"), "not JSON");
    expect("{\"execute\":\"list_hostfwd\",}",
           ERR("bad request: cannot parse JSON"), "trailing comma");
    for (i = 0; i < 40; i++)
        deep[i] = '[';
    deep[i] = '\0';
    expect(deep, ERR("bad request: cannot parse JSON"),
           "nesting deeper than API_CMD_DEPTH_MAX");
    expect("{'execute':'list_hostfwd'}", ERR("bad request: cannot parse JSON"),
           "single quotes (strict JSON, as slirp4netns's parson)");
    expect("{\"execute\":\"list_hostfwd\"} /* c */",
           ERR("bad request: cannot parse JSON"), "a comment");
    expect("{\"execute\":\"list_hostfwd\"}{}",
           ERR("bad request: cannot parse JSON"), "bytes after the object");
    expect("{\"execute\":\"reboot\",\"execute\":\"list_hostfwd\"}",
           "{\"entries\":[]}", "a repeated key: the last one counts");
    expect("[1]", ERR("bad request: json_object() failed"), "an array");
    expect("42", ERR("bad request: json_object() failed"), "a number");
    expect("\"add_hostfwd\"", ERR("bad request: json_object() failed"), "a string");
    expect("null", ERR("bad request: json_object() failed"), "null");
    expect("{}", ERR("bad request: no execute found"), "no execute");
    expect("{\"execute\":1}", ERR("bad request: no execute found"),
           "execute is a number");
    expect("{\"execute\":null}", ERR("bad request: no execute found"),
           "execute is null");
    expect("{\"execute\":{}}", ERR("bad request: no execute found"),
           "execute is an object");
    expect("{\"execute\":\"reboot\"}", ERR("bad request: unknown execute"),
           "unknown execute");
    expect("{\"execute\":\"\"}", ERR("bad request: unknown execute"),
           "empty execute");
    expect("{\"execute\":\"LIST_HOSTFWD\"}", ERR("bad request: unknown execute"),
           "execute is case-sensitive");
    expect("{\"execute\":\"list_hostfwd\"}\n", "{\"entries\":[]}",
           "RootlessKit's trailing newline");
    expect("  {\"execute\" : \"list_hostfwd\"}  \r\n\n", "{\"entries\":[]}",
           "whitespace around the object");
    expect("{\"execute\":\"list_hostfwd\",\"arguments\":[1,2]}",
           "{\"entries\":[]}", "arguments of the wrong type are ignored");
    expect("{\"execute\":\"say \\\"hi\\\"\\n\"}", ERR("bad request: unknown execute"),
           "escapes in execute");
}

static void test_add_errors(void)
{
    expect("{\"execute\":\"add_hostfwd\"}",
           ERR("bad request: add_hostfwd: bad arguments.proto"),
           "no arguments: missing proto (slirp4netns segfaults)");
    expect(ADD("\"host_port\":8080,\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.proto"), "missing proto");
    expect(ADD("\"proto\":null,\"host_port\":8080,\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.proto"), "proto null");
    expect(ADD("\"proto\":6,\"host_port\":8080,\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.proto"), "proto number");
    expect(ADD("\"proto\":\"sctp\",\"host_port\":8080,\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.proto"), "proto sctp");
    expect(ADD("\"proto\":\"tcp4\",\"host_port\":8080,\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.proto"), "proto tcp4");
    expect(ADD("\"proto\":\"tcp\",\"host_addr\":\"example.com\",\"host_port\":8080,\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.host_addr"),
           "host_addr a name");
    expect(ADD("\"proto\":\"tcp\",\"host_addr\":\"0.0.0.0 \",\"host_port\":8080,\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.host_addr"),
           "host_addr with a space");
    expect(ADD("\"proto\":\"tcp\",\"host_addr\":127,\"host_port\":8080,\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.host_addr"),
           "host_addr a number");
    expect(ADD("\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.host_port"),
           "missing host_port");
    expect(ADD("\"proto\":\"tcp\",\"host_port\":\"8080\",\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.host_port"),
           "host_port a string (as slirp4netns)");
    expect(ADD("\"proto\":\"tcp\",\"host_port\":\"0\",\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.host_port"),
           "host_port the string \"0\" is not ephemeral");
    expect(ADD("\"proto\":\"tcp\",\"host_port\":-1,\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.host_port"),
           "host_port -1");
    expect(ADD("\"proto\":\"tcp\",\"host_port\":65536,\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.host_port"),
           "host_port 65536 (slirp4netns truncates)");
    expect(ADD("\"proto\":\"tcp\",\"host_port\":8080.5,\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.host_port"),
           "host_port 8080.5");
    expect(ADD("\"proto\":\"tcp\",\"host_port\":1e300,\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.host_port"),
           "host_port 1e300");
    expect(ADD("\"proto\":\"tcp\",\"host_port\":true,\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.host_port"),
           "host_port true");
    expect(ADD("\"proto\":\"tcp\",\"host_port\":null,\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.host_port"),
           "host_port null");
    expect(ADD("\"proto\":\"tcp\",\"host_port\":[8080],\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.host_port"),
           "host_port an array");
    expect(ADD("\"proto\":\"tcp\",\"host_port\":8080,\"guest_addr\":\"10.0.2\",\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.guest_addr"),
           "guest_addr 10.0.2");
    expect(ADD("\"proto\":\"tcp\",\"host_port\":8080,\"guest_addr\":false,\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.guest_addr"),
           "guest_addr false");
    expect(ADD("\"proto\":\"tcp\",\"host_port\":8080"),
           ERR("bad request: add_hostfwd: bad arguments.guest_port"),
           "missing guest_port");
    expect(ADD("\"proto\":\"tcp\",\"host_port\":8080,\"guest_port\":0"),
           ERR("bad request: add_hostfwd: bad arguments.guest_port"),
           "guest_port 0");
    expect(ADD("\"proto\":\"tcp\",\"host_port\":8080,\"guest_port\":70000"),
           ERR("bad request: add_hostfwd: bad arguments.guest_port"),
           "guest_port 70000");
    expect(ADD("\"proto\":\"tcp\",\"host_port\":8080,\"guest_port\":\"80\""),
           ERR("bad request: add_hostfwd: bad arguments.guest_port"),
           "guest_port a string");

    /* what is new, with the reason after slirp4netns's text */
    expect(ADD("\"proto\":\"tcp\",\"host_addr\":\"::\",\"host_port\":8080,\"guest_addr\":\"\",\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.guest_addr (an IPv6 "
               "host_addr needs an IPv6 guest_addr: libslirp 4.7 cannot "
               "forward IPv6 to IPv4)"),
           "podman#13229 without the splice path: IPv6 host_addr, guest_addr \"\" refused");
    expect(ADD("\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":8080,\"guest_addr\":\"fd00::100\",\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.guest_addr (an IPv4 "
               "host_addr needs an IPv4 guest_addr: libslirp 4.7 cannot "
               "forward IPv4 to IPv6)"),
           "IPv4 host_addr, IPv6 guest_addr");
    expect(ADD("\"proto\":\"udp\",\"host_addr\":\"unix:/tmp/x.sock\",\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.host_addr (unix: "
               "forwards are TCP only)"),
           "unix: with udp");
    expect(ADD("\"proto\":\"tcp\",\"host_addr\":\"unix:x.sock\",\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.host_addr (unix: needs "
               "an absolute path to a socket file)"),
           "unix: relative path");
    expect(ADD("\"proto\":\"tcp\",\"host_addr\":\"unix:/tmp/x.sock\",\"host_port\":22,\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.host_port (must be 0 "
               "or left out with a unix: host_addr)"),
           "unix: with a host_port");
}

static void test_add_list_remove(bool private_ns)
{
    char req[512], want[1024];
    int busy, port, p;
    struct sockaddr_in sin = { .sin_family = AF_INET };
    socklen_t len = sizeof(sin);

    expect("{\"execute\":\"list_hostfwd\"}", "{\"entries\":[]}",
           "list_hostfwd, empty: unwrapped, as slirp4netns");

    if (private_ns) {
        expect("{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\","
               "\"host_addr\":\"0.0.0.0\",\"host_port\":8080,\"guest_addr\":\"\","
               "\"guest_port\":80}}",
               "{\"return\":{\"id\":1}}", "podman's exact request");
    } else {
        call(ADD("\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":0,"
                 "\"guest_addr\":\"\",\"guest_port\":80"));
        TAP_OK(!strncmp(last, "{\"return\":{\"id\":1,", 17),
               "# SKIP podman's request binds 0.0.0.0: no private netns");
    }
    TAP_IS_INT(fwd_count(ctx.fwd), 1, "one forward");

    call("{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"udp\","
           "\"host_addr\":\"127.0.0.1\",\"host_port\":0,\"guest_addr\":\"10.0.2.100\","
           "\"guest_port\":53}}\n");
    p = 0;
    TAP_OK(sscanf(last, "{\"return\":{\"id\":2,\"host_port\":%d}}", &p) == 1 &&
               p > 0,
           "ephemeral: {\"return\":{\"id\":2,\"host_port\":P}}, P=%d (%s)", p, last);

    if (private_ns) {
        snprintf(want, sizeof(want),
                 "{\"entries\":[{\"id\":1,\"proto\":\"tcp\",\"host_addr\":\"0.0.0.0\","
                 "\"host_port\":8080,\"guest_addr\":\"10.0.2.100\",\"guest_port\":80},"
                 "{\"id\":2,\"proto\":\"udp\",\"host_addr\":\"127.0.0.1\",\"host_port\":%d,"
                 "\"guest_addr\":\"10.0.2.100\",\"guest_port\":53,\"ephemeral\":true}]}",
                 p);
        expect("{\"execute\":\"list_hostfwd\"}", want,
               "list_hostfwd: IPv4 entry byte for byte, new keys after guest_port");
        snprintf(req, sizeof(req), ADD("\"proto\":\"tcp\",\"host_addr\":\"::\","
                                       "\"host_port\":8080,\"guest_addr\":\"fd00::100\","
                                       "\"guest_port\":80"));
        expect(req, "{\"return\":{\"id\":3}}",
               "IPv6 [::]:8080 next to 0.0.0.0:8080 (V6ONLY)");
        call("{\"execute\":\"list_hostfwd\"}");
        TAP_OK(strstr(last, "{\"id\":3,\"proto\":\"tcp\",\"host_addr\":\"::\","
                            "\"host_port\":8080,\"guest_addr\":\"fd00::100\","
                            "\"guest_port\":80,\"family\":\"ipv6\"}") != NULL,
               "list_hostfwd: IPv6 entry (%s)", last);
        expect("{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":3}}",
               "{\"return\":{}}", "remove the IPv6 forward");
    } else {
        call(ADD("\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":0,\"guest_port\":83"));
        call("{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":3}}");
        TAP_OK(true, "# SKIP needs a private netns");
        TAP_OK(true, "# SKIP needs a private netns");
        TAP_OK(true, "# SKIP needs a private netns");
        TAP_OK(true, "# SKIP needs a private netns");
    }

    /* a port someone else holds: libslirp's bind fails */
    busy = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    bind(busy, (struct sockaddr *)&sin, sizeof(sin));
    listen(busy, 1);
    getsockname(busy, (struct sockaddr *)&sin, &len);
    port = ntohs(sin.sin_port);
    snprintf(req, sizeof(req), ADD("\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\","
                                   "\"host_port\":%d,\"guest_port\":80"), port);
    expect(req, ERR("bad request: add_hostfwd: slirp_add_hostfwd failed: "
                    "Address already in use"),
           "port in use: slirp4netns's text, then the reason");
    close(busy);

    /* libslirp cannot tell two UDP forwards to one guest port apart */
    expect(ADD("\"proto\":\"udp\",\"host_addr\":\"127.0.0.1\",\"host_port\":0,\"guest_port\":53"),
           ERR("bad request: add_hostfwd: bad arguments.guest_port (a UDP "
               "forward to the same guest address and port exists (libslirp "
               "4.7 would send the replies of both through one))"),
           "a second UDP forward to 10.0.2.100:53");

    /* the limit (the table here holds 4) */
    call(ADD("\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":0,\"guest_port\":81"));
    call(ADD("\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":0,\"guest_port\":82"));
    TAP_IS_INT(fwd_count(ctx.fwd), 4, "table filled");
    expect(ADD("\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":0,\"guest_port\":84"),
           ERR("bad request: add_hostfwd: too many forwards (the limit is 4)"),
           "over the limit");

    /* remove */
    expect("{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":2}}",
           "{\"return\":{}}", "remove_hostfwd");
    expect("{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":2}}",
           ERR("bad request: remove_hostfwd: bad arguments.id"),
           "remove the same id again");
    expect("{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":9999}}",
           ERR("bad request: remove_hostfwd: bad arguments.id"), "unknown id");
    expect("{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":0}}",
           ERR("bad request: remove_hostfwd: bad arguments.id"), "id 0");
    expect("{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":-4}}",
           ERR("bad request: remove_hostfwd: bad arguments.id"), "id -4");
    expect("{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":\"4\"}}",
           ERR("bad request: remove_hostfwd: bad arguments.id"), "id a string");
    expect("{\"execute\":\"remove_hostfwd\",\"arguments\":{}}",
           ERR("bad request: remove_hostfwd: bad arguments.id"), "id missing");
    expect("{\"execute\":\"remove_hostfwd\"}",
           ERR("bad request: remove_hostfwd: bad arguments.id"), "no arguments");
    expect("{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":4.0}}",
           "{\"return\":{}}", "id 4.0 (parson reads numbers as doubles)");
    call(ADD("\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":0,\"guest_port\":85"));
    TAP_OK(!strncmp(last, "{\"return\":{\"id\":6,", 18),
           "ids are never reused (%s)", last);

    /* the sandbox case */
    fwd_restrict_unix(ctx.fwd);
    call("{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":6}}");
    expect(ADD("\"proto\":\"tcp\",\"host_addr\":\"unix:/tmp/test-api-cmd.sock\",\"guest_port\":80"),
           ERR("bad request: add_hostfwd: bad arguments.host_addr (with the "
               "sandbox on, unix: forwards can only be given with --publish)"),
           "unix: at run time with the sandbox on");
}

static void test_info(void)
{
    struct api_cmd_ctx bare = { ctx.cfg, NULL, NULL, NULL };
    struct api_cmd_ctx saved = ctx;

    call("{\"execute\":\"get_info\"}");
    TAP_OK(!strncmp(last, "{\"return\":{\"version\":\"", 22), "get_info: version first");
    TAP_OK(strstr(last, "\"libslirp\":\"4.") != NULL, "get_info: libslirp version");
    TAP_OK(strstr(last, "\"config\":{\"mtu\":1500,\"cidr\":\"10.0.2.0/24\","
                        "\"netmask\":\"255.255.255.0\",\"gateway\":\"10.0.2.2\","
                        "\"dns\":\"10.0.2.3\",\"dhcp_begin\":\"10.0.2.15\","
                        "\"dhcp_end\":\"10.0.2.30\",\"recommended_ip\":\"10.0.2.100\","
                        "\"ipv6\":true,\"ipv6_prefix\":\"fd00::/64\","
                        "\"ipv6_gateway\":\"fd00::2\",\"ipv6_dns\":\"fd00::3\"") != NULL,
           "get_info: the addresses");
    TAP_OK(strstr(last, "\"disable_host_loopback\":false,\"disable_dns\":false,"
                        "\"enable_sandbox\":false,\"enable_seccomp\":false,"
                        "\"outbound_addr\":null,\"outbound_addr6\":null,"
                        "\"ifname\":\"tap0\",\"api_socket\":null}") != NULL,
           "get_info: the flags");
    TAP_OK(strstr(last, "\"api\":{\"connections\":0,\"requests\":0,"
                        "\"max_connections\":64,\"max_request_bytes\":65536,"
                        "\"deadline_ms\":5000}") != NULL, "get_info: the API");
    TAP_OK(strstr(last, "\"forwards\":{\"count\":2,\"max\":4,\"next_id\":7}") != NULL,
           "get_info: the forwards (%s)", strstr(last, "\"forwards\""));
    TAP_OK(strstr(last, "\"stats\":{\"rx_frames\":0,") != NULL, "get_info: stats");
    call("{\"execute\":\"get_info\",\"arguments\":{\"x\":1}}");
    TAP_OK(!strncmp(last, "{\"return\":{", 11), "get_info ignores arguments");

    ctx = bare;
    call("{\"execute\":\"get_info\"}");
    TAP_OK(strstr(last, "\"forwards\":{\"count\":0,\"max\":0,\"next_id\":1}}}") != NULL,
           "get_info without a table or stack (%s)", strstr(last, "\"forwards\""));
    expect("{\"execute\":\"get_connections\"}",
           ERR("bad request: get_connections: not available"),
           "get_connections without a stack");
    expect(ADD("\"proto\":\"tcp\",\"host_port\":8080,\"guest_port\":80"),
           ERR("bad request: add_hostfwd: port forwarding is not available"),
           "add_hostfwd without a table (validated first)");
    expect("{\"execute\":\"list_hostfwd\"}", "{\"entries\":[]}",
           "list_hostfwd without a table");
    expect("{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":1}}",
           ERR("bad request: remove_hostfwd: bad arguments.id"),
           "remove_hostfwd without a table");
    ctx = saved;
}

static void test_connections(void)
{
    int p = 0;

    call(ADD("\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":0,\"guest_port\":8088"));
    sscanf(last, "{\"return\":{\"id\":%*d,\"host_port\":%d}}", &p);
    call("{\"execute\":\"get_connections\"}");
    TAP_OK(!strncmp(last, "{\"return\":{\"connections\":[", 26),
           "get_connections: shape");
    {
        char want[512];

        snprintf(want, sizeof(want),
                 "{\"proto\":\"tcp\",\"state\":\"HOST_FORWARD\",\"fd\":%d,"
                 "\"src_addr\":\"127.0.0.1\",\"src_port\":%d,"
                 "\"dst_addr\":\"10.0.2.100\",\"dst_port\":8088,\"recv_q\":0,"
                 "\"send_q\":0,\"family\":\"ipv4\",\"local_addr\":\"127.0.0.1\","
                 "\"local_port\":%d}",
                 fwd_get(ctx.fwd, fwd_count(ctx.fwd) - 1)->fd, p, p);
        TAP_OK(strstr(last, want) != NULL, "get_connections: the listener (%s)", last);
    }
    TAP_OK(strstr(last, "\"neighbors\":[]}}") != NULL,
           "get_connections: no neighbours yet");
}

int main(void)
{
    bool private_ns = env_private_netns();
    struct config cfg;
    struct stack *st;
    struct fwd_table *fwd = NULL;

    printf("# %s\n", private_ns ? "in a private network namespace"
                                : "no private network namespace: 127.0.0.1 only");
    env_config(&cfg, true);
    st = env_stack(&cfg);
    fwd_new(stack_slirp(st), 4, &fwd);
    ctx = (struct api_cmd_ctx){ .cfg = &cfg, .stack = st, .fwd = fwd };

    test_envelope();
    test_add_errors();
    test_add_list_remove(private_ns);
    test_info();
    test_connections();
    {
        size_t len;
        char *e = api_error_reply("quote \" and \\ and \n", &len);
        TAP_IS_STR(e, "{\"error\":{\"desc\":\"quote \\\" and \\\\ and \\n\"}}",
                   "api_error_reply escapes the text");
        free(e);
    }
    fwd_free(fwd);
    stack_free(st);
    config_free(&cfg);
    return tap_done();
}
