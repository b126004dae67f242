/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-options.c - unit tests for argv parsing: both forms, permutation, errors */
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "tapout.h"

#define ARGV(...) ((char *[]){ "slirpd", __VA_ARGS__, NULL })
#define ARGC(v) ((int)(sizeof(v) / sizeof(char *)) - 1)

static enum opt_result parse(int argc, char **argv, struct options *o)
{
    return opt_parse(argc, argv, o);
}

#define PARSE(o, ...)                                                          \
    parse(ARGC(ARGV(__VA_ARGS__)), ARGV(__VA_ARGS__), (o))

int main(void)
{
    struct options o;
    enum opt_result r;

    /* podman >= 4.7: --opt=v forms, then -c -r 3 -e 4 --netns-type=path */
    r = PARSE(&o, "--disable-host-loopback", "--mtu=65520", "--cidr=10.0.2.0/24",
              "--enable-ipv6", "-c", "-r", "3", "-e", "4", "--api-socket",
              "/run/x.net", "--netns-type=path", "/run/netns/x", "tap0");
    TAP_IS_INT(r, OPT_RUN, "podman argv parses");
    TAP_OK(o.disable_host_loopback && o.configure && o.enable_ipv6,
           "podman flags set");
    TAP_IS_STR(o.mtu, "65520", "--mtu=65520");
    TAP_IS_STR(o.cidr, "10.0.2.0/24", "--cidr=");
    TAP_IS_STR(o.ready_fd, "3", "-r 3");
    TAP_IS_STR(o.exit_fd, "4", "-e 4");
    TAP_IS_STR(o.api_socket, "/run/x.net", "--api-socket PATH (separate)");
    TAP_IS_STR(o.netns_type, "path", "--netns-type=path");
    TAP_IS_STR(o.target, "/run/netns/x", "target path");
    TAP_IS_STR(o.ifname, "tap0", "tap name");
    TAP_IS_INT(o.extra_args, 0, "no extra args");

    /* RootlessKit: separate-argument forms, PID positional */
    r = PARSE(&o, "--mtu", "65520", "-r", "3", "--cidr", "10.5.0.0/24",
              "--enable-sandbox", "--enable-seccomp", "2724", "tap0");
    TAP_IS_INT(r, OPT_RUN, "rootlesskit argv parses");
    TAP_IS_STR(o.mtu, "65520", "--mtu 65520");
    TAP_IS_STR(o.cidr, "10.5.0.0/24", "--cidr 10.5.0.0/24");
    TAP_OK(o.enable_sandbox && o.enable_seccomp, "sandbox/seccomp parsed");
    TAP_IS_STR(o.target, "2724", "PID positional");

    /* RootlessKit 2/3 --detach-netns shape */
    r = PARSE(&o, "--mtu", "65520", "-r", "3", "--userns-path=/proc/1/ns/user",
              "--netns-type=path", "/tmp/netns", "tap0");
    TAP_IS_INT(r, OPT_RUN, "userns-path argv parses");
    TAP_IS_STR(o.userns_path, "/proc/1/ns/user", "--userns-path=");

    /* GNU permutation: options after positionals (usernetes#337) */
    r = PARSE(&o, "1234", "--enable-sandbox", "tap0", "-c", "--mtu", "9000");
    TAP_IS_INT(r, OPT_RUN, "options after positionals");
    TAP_IS_STR(o.target, "1234", "permuted target");
    TAP_IS_STR(o.ifname, "tap0", "permuted tap name");
    TAP_IS_STR(o.mtu, "9000", "permuted --mtu");
    TAP_OK(o.configure && o.enable_sandbox, "permuted flags");

    /* short options, -m / -a / -6 */
    r = PARSE(&o, "-c6", "-m1400", "-a", "/tmp/s", "1", "tap1");
    TAP_IS_INT(r, OPT_RUN, "grouped short options");
    TAP_OK(o.configure && o.enable_ipv6, "-c6");
    TAP_IS_STR(o.mtu, "1400", "-m1400");
    TAP_IS_STR(o.api_socket, "/tmp/s", "-a PATH");

    /* deprecated aliases */
    r = PARSE(&o, "--no-host-loopback", "--create-sandbox", "1", "tap0");
    TAP_IS_INT(r, OPT_RUN, "deprecated aliases parse");
    TAP_OK(o.disable_host_loopback && o.deprecated_no_host_loopback,
           "--no-host-loopback = --disable-host-loopback");
    TAP_OK(o.enable_sandbox && o.deprecated_create_sandbox,
           "--create-sandbox = --enable-sandbox");

    /* the rest of the table */
    r = PARSE(&o, "--outbound-addr=10.0.0.1", "--outbound-addr6", "lo",
              "--disable-dns", "--macaddress=02:00:00:00:00:01",
              "--target-type=netns", "1", "tap0", "extra1", "extra2");
    TAP_IS_INT(r, OPT_RUN, "remaining options parse");
    TAP_IS_STR(o.outbound_addr, "10.0.0.1", "--outbound-addr");
    TAP_IS_STR(o.outbound_addr6, "lo", "--outbound-addr6");
    TAP_OK(o.disable_dns, "--disable-dns");
    TAP_IS_STR(o.macaddress, "02:00:00:00:00:01", "--macaddress");
    TAP_IS_STR(o.target_type, "netns", "--target-type");
    TAP_IS_INT(o.extra_args, 2, "too many positionals counted (a warning)");

    /* tapfd: TAPNAME optional */
    r = PARSE(&o, "--netns-type=tapfd", "5");
    TAP_IS_INT(r, OPT_RUN, "tapfd without TAPNAME");
    TAP_IS_STR(o.ifname, NULL, "no tap name for tapfd");

    /* help, version, usage errors */
    TAP_IS_INT(PARSE(&o, "-h"), OPT_HELP, "-h");
    TAP_IS_INT(PARSE(&o, "--help"), OPT_HELP, "--help");
    TAP_IS_INT(PARSE(&o, "-v"), OPT_VERSION, "-v");
    TAP_IS_INT(PARSE(&o, "--version"), OPT_VERSION, "--version");
    TAP_IS_INT(PARSE(&o, "1"), OPT_USAGE_ERROR, "missing TAPNAME");
    TAP_IS_INT(parse(1, ARGV(NULL), &o), OPT_USAGE_ERROR, "no positional");
    TAP_IS_INT(PARSE(&o, "--bogus", "1", "tap0"), OPT_USAGE_ERROR,
               "unknown long option");
    TAP_IS_INT(PARSE(&o, "-x", "1", "tap0"), OPT_USAGE_ERROR,
               "unknown short option");
    TAP_IS_INT(PARSE(&o, "1", "tap0", "--mtu"), OPT_USAGE_ERROR,
               "missing option argument");
    TAP_IS_INT(PARSE(&o, "--configure=yes", "1", "tap0"), OPT_USAGE_ERROR,
               "argument to a flag");

    /* parsing twice works (optind is reset) */
    PARSE(&o, "-c", "1", "tap0");
    r = PARSE(&o, "2", "tap9");
    TAP_IS_INT(r, OPT_RUN, "second parse");
    TAP_OK(!o.configure, "second parse starts clean");
    TAP_IS_STR(o.target, "2", "second parse target");

    /* usage text: every supported option as a whole word */
    {
        static const char *const words[] = {
            "--configure", "--exit-fd", "--ready-fd", "--mtu", "--enable-ipv6",
            "--api-socket", "--cidr", "--disable-host-loopback", "--netns-type",
            "--userns-path", "--outbound-addr", "--outbound-addr6",
            "--disable-dns", "--macaddress", "--target-type", "--help",
            "--version", "--tap-netns",
        };
        char buf[8192] = { 0 };
        FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
        size_t i;

        opt_print_usage(f, "slirpd");
        fclose(f);
        for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
            size_t n = strlen(words[i]);
            const char *p = buf;
            bool found = false;
            while ((p = strstr(p, words[i]))) {
                char after = p[n];
                if (!(after == '-' || (after >= 'a' && after <= 'z') ||
                      (after >= '0' && after <= '9')))
                    found = true;
                p += n;
            }
            TAP_OK(found, "help has whole word %s", words[i]);
        }
        /* podman and RootlessKit (auto) turn both on when advertised */
        TAP_OK(strstr(buf, "\n--enable-sandbox ") && strstr(buf, "\n--enable-seccomp "),
               "help advertises --enable-sandbox and --enable-seccomp");
        TAP_OK(!strncmp(buf, "Usage: slirpd [OPTION]...", 25),
               "usage uses the invoked name");
    }

    return tap_done();
}
