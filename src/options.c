/* SPDX-License-Identifier: GPL-2.0-or-later */
/* options.c - argv to struct options: raw strings and flags, nothing derived */
#include <errno.h>
#include <getopt.h>
#include <libslirp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "build-config.h"
#include "commit.h"
#include "log.h"
#include "options.h"

enum {
    OPT_CIDR = 1000,
    OPT_DISABLE_HOST_LOOPBACK,
    OPT_NO_HOST_LOOPBACK,
    OPT_NETNS_TYPE,
    OPT_USERNS_PATH,
    OPT_ENABLE_SANDBOX,
    OPT_CREATE_SANDBOX,
    OPT_ENABLE_SECCOMP,
    OPT_OUTBOUND_ADDR,
    OPT_OUTBOUND_ADDR6,
    OPT_DISABLE_DNS,
    OPT_DISABLE_OFFLOAD,
    OPT_MACADDRESS,
    OPT_TARGET_TYPE,
    OPT_FORWARD_PATH,
    OPT_EXIT_WITH_PID,
    OPT_UDP_TIMEOUT,
    OPT_FIN_TIMEOUT,
    OPT_BUSY_POLL,
    OPT_SHARDS,
    OPT_THREADS,
    OPT_TAP_NETNS,
    OPT_ALLOW,
    OPT_DENY,
    OPT_LOG_DENIED,
    OPT_NO_CONFIG,
};

static const struct option opt_long[] = {
    { "configure", no_argument, NULL, 'c' },
    { "exit-fd", required_argument, NULL, 'e' },
    { "ready-fd", required_argument, NULL, 'r' },
    { "mtu", required_argument, NULL, 'm' },
    { "enable-ipv6", no_argument, NULL, '6' },
    { "api-socket", required_argument, NULL, 'a' },
    { "cidr", required_argument, NULL, OPT_CIDR },
    { "disable-host-loopback", no_argument, NULL, OPT_DISABLE_HOST_LOOPBACK },
    { "no-host-loopback", no_argument, NULL, OPT_NO_HOST_LOOPBACK },
    { "netns-type", required_argument, NULL, OPT_NETNS_TYPE },
    { "userns-path", required_argument, NULL, OPT_USERNS_PATH },
    { "enable-sandbox", no_argument, NULL, OPT_ENABLE_SANDBOX },
    { "create-sandbox", no_argument, NULL, OPT_CREATE_SANDBOX },
    { "enable-seccomp", no_argument, NULL, OPT_ENABLE_SECCOMP },
    { "outbound-addr", required_argument, NULL, OPT_OUTBOUND_ADDR },
    { "outbound-addr6", required_argument, NULL, OPT_OUTBOUND_ADDR6 },
    { "disable-dns", no_argument, NULL, OPT_DISABLE_DNS },
    { "disable-offload", no_argument, NULL, OPT_DISABLE_OFFLOAD },
    { "macaddress", required_argument, NULL, OPT_MACADDRESS },
    { "target-type", required_argument, NULL, OPT_TARGET_TYPE },
    { "forward-path", required_argument, NULL, OPT_FORWARD_PATH },
    { "exit-with-pid", required_argument, NULL, OPT_EXIT_WITH_PID },
    { "udp-timeout", required_argument, NULL, OPT_UDP_TIMEOUT },
    { "fin-timeout", required_argument, NULL, OPT_FIN_TIMEOUT },
    { "busy-poll", required_argument, NULL, OPT_BUSY_POLL },
    { "shards", required_argument, NULL, OPT_SHARDS },
    { "threads", required_argument, NULL, OPT_THREADS },
    { "tap-netns", required_argument, NULL, OPT_TAP_NETNS },
    { "allow", required_argument, NULL, OPT_ALLOW },
    { "deny", required_argument, NULL, OPT_DENY },
    { "log-denied", no_argument, NULL, OPT_LOG_DENIED },
    { "no-config", no_argument, NULL, OPT_NO_CONFIG },
    { "publish", required_argument, NULL, 'p' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'v' },
    { NULL, 0, NULL, 0 },
};

static int opt_add_publish(struct options *o, const char *spec)
{
    const char **p = realloc(o->publish, (o->n_publish + 1) * sizeof(*p));

    if (!p)
        return -ENOMEM;
    p[o->n_publish++] = spec;
    o->publish = p;
    return 0;
}

static int opt_add_rule(struct options *o, bool deny, const char *text)
{
    struct opt_rule *p = realloc(o->rules, (o->n_rules + 1) * sizeof(*p));

    if (!p)
        return -ENOMEM;
    p[o->n_rules++] = (struct opt_rule){ .deny = deny, .text = text };
    o->rules = p;
    return 0;
}

/**
 * opt_free() - release what opt_parse() allocated (the --publish and
 *		--allow/--deny lists)
 * @o:	the options
 */
void opt_free(struct options *o)
{
    free(o->publish);
    o->publish = NULL;
    o->n_publish = 0;
    free(o->rules);
    o->rules = NULL;
    o->n_rules = 0;
}

/**
 * opt_lookup() - is @name a long option, and does it take a value?
 * @name:		the name without the dashes ("enable-seccomp")
 * @ret_has_arg:	true if it takes one
 *
 * Return: 0, or -ENOENT for no such option
 */
int opt_lookup(const char *name, bool *ret_has_arg)
{
    const struct option *p;

    for (p = opt_long; p->name; p++) {
        if (!strcmp(p->name, name)) {
            *ret_has_arg = p->has_arg == required_argument;
            return 0;
        }
    }
    return -ENOENT;
}

/**
 * opt_parse() - parse argv (GNU permutation: options may follow positionals)
 * @argc, @argv:	the command line
 * @ret:		filled with raw option values (pointers into argv)
 *
 * Unknown options are reported by getopt on stderr.
 *
 * Return: what the caller should do next
 */
enum opt_result opt_parse(int argc, char **argv, struct options *ret)
{
    struct options o = { 0 };
    int c, npos;

    optind = 0; /* full re-initialisation: opt_parse may run more than once */
    while ((c = getopt_long(argc, argv, "ce:r:m:a:p:6hv", opt_long, NULL)) != -1) {
        switch (c) {
        case 'c': o.configure = true; break;
        case 'e': o.exit_fd = optarg; break;
        case 'r': o.ready_fd = optarg; break;
        case 'm': o.mtu = optarg; break;
        case '6': o.enable_ipv6 = true; break;
        case 'a': o.api_socket = optarg; break;
        case OPT_CIDR: o.cidr = optarg; break;
        case OPT_DISABLE_HOST_LOOPBACK: o.disable_host_loopback = true; break;
        case OPT_NO_HOST_LOOPBACK:
            o.disable_host_loopback = true;
            o.deprecated_no_host_loopback = true;
            break;
        case OPT_NETNS_TYPE: o.netns_type = optarg; break;
        case OPT_USERNS_PATH: o.userns_path = optarg; break;
        case OPT_TAP_NETNS: o.tap_netns = optarg; break;
        case OPT_ENABLE_SANDBOX: o.enable_sandbox = true; break;
        case OPT_CREATE_SANDBOX:
            o.enable_sandbox = true;
            o.deprecated_create_sandbox = true;
            break;
        case OPT_ENABLE_SECCOMP: o.enable_seccomp = true; break;
        case OPT_OUTBOUND_ADDR: o.outbound_addr = optarg; break;
        case OPT_OUTBOUND_ADDR6: o.outbound_addr6 = optarg; break;
        case OPT_DISABLE_DNS: o.disable_dns = true; break;
        case OPT_DISABLE_OFFLOAD: o.disable_offload = true; break;
        case OPT_MACADDRESS: o.macaddress = optarg; break;
        case OPT_TARGET_TYPE: o.target_type = optarg; break;
        case OPT_FORWARD_PATH: o.forward_path = optarg; break;
        case OPT_EXIT_WITH_PID: o.exit_with_pid = optarg; break;
        case OPT_UDP_TIMEOUT: o.udp_timeout = optarg; break;
        case OPT_FIN_TIMEOUT: o.fin_timeout = optarg; break;
        case OPT_BUSY_POLL: o.busy_poll = optarg; break;
        case OPT_SHARDS: o.shards = optarg; break;
        case OPT_THREADS: o.threads = optarg; break;
        case OPT_ALLOW:
        case OPT_DENY:
            if (opt_add_rule(&o, c == OPT_DENY, optarg) < 0) {
                *ret = o;
                return OPT_USAGE_ERROR;
            }
            break;
        case OPT_LOG_DENIED: o.log_denied = true; break;
        case OPT_NO_CONFIG: o.no_config = true; break;
        case 'p':
            if (opt_add_publish(&o, optarg) < 0) {
                *ret = o;
                return OPT_USAGE_ERROR;
            }
            break;
        case 'h': *ret = o; return OPT_HELP;
        case 'v': *ret = o; return OPT_VERSION;
        default: *ret = o; return OPT_USAGE_ERROR;
        }
    }

    npos = argc - optind;
    if (npos >= 1)
        o.target = argv[optind];
    if (npos >= 2)
        o.ifname = argv[optind + 1];
    if (npos > 2)
        o.extra_args = npos - 2;
    *ret = o;

    if (!o.target)
        return OPT_USAGE_ERROR;
    /* TAPNAME may be left out only when the positional is a tap fd */
    if (!o.ifname && !(o.netns_type && !strcmp(o.netns_type, "tapfd")))
        return OPT_USAGE_ERROR;
    return OPT_RUN;
}

/**
 * opt_print_usage() - the help text; every supported option as a whole word
 * @f:		where to print (stdout for -h and usage errors)
 * @argv0:	the name the program was invoked as
 *
 * Callers probe features by substring (podman, RootlessKit) and by
 * "grep -w -- --netns-type" (dockerd-rootless.sh): keep option names intact.
 */
void opt_print_usage(FILE *f, const char *argv0)
{
    fprintf(f, "Usage: %s [OPTION]... PID|PATH|FD [TAPNAME]\n", argv0);
    fputs(
"User-mode networking for unprivileged network namespaces.\n"
"\n"
"-c, --configure          bring up the interface\n"
"-e, --exit-fd=FD         specify the FD for terminating slirpd\n"
"-r, --ready-fd=FD        specify the FD to write to when the network is configured\n"
"-m, --mtu=MTU            specify MTU (default=1500, max=65521)\n"
"-6, --enable-ipv6        enable IPv6 (fd00::/64, gateway fd00::2, DNS fd00::3)\n"
"-a, --api-socket=PATH    specify API socket path\n"
"--cidr=CIDR              specify network address CIDR (default=10.0.2.0/24)\n"
"--disable-host-loopback  prohibit connecting to 127.0.0.1:* on the host namespace\n"
"--netns-type=TYPE        specify network namespace type ([path|pid|tapfd], default=pid)\n"
"--userns-path=PATH       specify user namespace path\n"
"--tap-netns=PATH         with --netns-type=tapfd: the tap's network namespace, where\n"
"                         the splice path makes its sockets (with --userns-path)\n"
"--enable-sandbox         create a new mount namespace (and drop all caps except CAP_NET_BIND_SERVICE if running as the root)\n"
"--enable-seccomp         enable seccomp to limit syscalls (an allow-list)\n"
"--outbound-addr=IPv4     sets outbound ipv4 address (or interface name) to bind to\n"
"--outbound-addr6=IPv6    sets outbound ipv6 address (or interface name) to bind to\n"
"--disable-dns            disables 10.0.2.3 (or configured internal ip) to host dns redirect\n"
"--disable-offload        no checksum/TSO offloads on the tap (plain frames, as slirp4netns)\n"
"--macaddress=MAC         specify the MAC address of the TAP (only valid with -c)\n"
"--target-type=TYPE       specify the target type ([netns], default=netns)\n"
"-p, --publish=SPEC       forward a host port: [HOSTADDR:]HOSTPORT:GUESTPORT[/tcp|/udp],\n"
"                         [::1]:8080:80 for IPv6, unix:/PATH:GUESTPORT (repeatable)\n"
"--forward-path=PATH      port forwards: auto (default: loopback host addresses spliced\n"
"                         (TCP) or relayed (UDP) by slirpd, others through libslirp),\n"
"                         splice, slirp\n"
"--udp-timeout=SECONDS    idle time after which a relayed UDP flow closes (default=120)\n"
"--fin-timeout=SECONDS    idle time after which a TCP connection that one side closed\n"
"                         and the other never did is reset (default=60, 0=never)\n"
"--busy-poll=USEC         longest adaptive busy-poll window before sleeping, for lower\n"
"                         latency (default=50, 0=off)\n"
"--shards=N               libslirp instances the flows are spread over, so a wake-up\n"
"                         walks only the sockets of one (1 to 64, default=8)\n"
"--threads=N              threads that run the shards, each a group of them, so\n"
"                         parallel flows use parallel cores (1 to 64, at most\n"
"                         --shards, default=1)\n"
"--allow=RULE             egress policy: allow flows that RULE matches,\n"
"                         [tcp|udp|icmp:]ADDR[/LEN][:PORT[-PORT]] or a name\n"
"                         (any, host-loopback, dns, metadata); the first match wins\n"
"--deny=RULE              ... deny them (TCP: RST; UDP: ICMP admin-prohibited);\n"
"                         --deny=all makes the default deny (repeatable, both)\n"
"--log-denied             log denied flows (one line per destination per 10 s)\n"
"--no-config              read no configuration file (also: SLIRPD_NO_CONFIG=1);\n"
"                         else /etc/slirpd.conf, then $XDG_CONFIG_HOME/slirpd/slirpd.conf\n"
"                         (~/.config), one option a line, before the command line\n"
"--exit-with-pid=PID      exit when process PID exits (e.g. the namespace's holder);\n"
"                         fd:N: when the process of inherited pidfd N exits\n"
"-h, --help               show this help and exit\n"
"-v, --version            show version and exit\n",
        f);
}

/**
 * opt_print_version() - runc-style, machine-parsable version text
 * @f:	where to print
 */
void opt_print_version(FILE *f)
{
    const struct scmp_version *sv = seccomp_version();

    fprintf(f, "slirpd version %s\n", SLIRPD_VERSION);
    fprintf(f, "commit: %s\n", SLIRPD_COMMIT);
    fprintf(f, "libslirp: %s\n", slirp_version_string());
    fprintf(f, "SLIRP_CONFIG_VERSION_MAX: %d\n", SLIRP_CONFIG_VERSION_MAX);
    if (sv)
        fprintf(f, "libseccomp: %u.%u.%u\n", sv->major, sv->minor, sv->micro);
    else
        fprintf(f, "libseccomp: unknown\n");
}
