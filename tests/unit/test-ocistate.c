/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-ocistate.c - unit tests for the OCI hook's inputs: state JSON, ids, annotations, uid maps */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "hook.h"
#include "ocistate.h"
#include "tapout.h"

/* ocistate_parse(), its message copied to @err */
static int parse(const char *json, struct ocistate *st, char *err, size_t len)
{
    struct err e = { 0 };
    int r = ocistate_parse(json, strlen(json), st, &e);

    if (r < 0 && e.code != r)
        snprintf(err, len, "code %d, but the error says %d", r, e.code);
    else
        snprintf(err, len, "%s", e.msg);
    return r;
}

/* the args after applying @json's annotations to @in, joined by spaces */
static int merged(const char *json, const char *const *in, char *out,
                  size_t len, bool *enabled, char *err, size_t errlen)
{
    struct ocistate st;
    struct ocistate_args a = { 0 };
    size_t i, pos = 0;
    int r = parse(json, &st, err, errlen);

    for (i = 0; r == 0 && in && in[i]; i++)
        r = ocistate_args_add(&a, in[i]);
    if (r == 0) {
        struct err e = { 0 };

        r = ocistate_apply_annotations(&st, &a, enabled, &e);
        snprintf(err, errlen, "%s", e.msg);
    }
    out[0] = '\0';
    for (i = 0; r == 0 && i < a.n; i++)
        pos += (size_t)snprintf(out + pos, len - pos, "%s%s", i ? " " : "",
                                a.v[i]);
    ocistate_args_free(&a);
    ocistate_free(&st);
    return r;
}

static void test_parse(void)
{
    struct ocistate st;
    char err[512];
    int r;

    r = parse("{\"ociVersion\":\"1.0\",\"id\":\"c1\",\"pid\":20253,\"root\":"
              "\"rootfs\",\"bundle\":\"/b\",\"status\":\"created\","
              "\"annotations\":{\"io.slirpd.mtu\":\"9000\",\"other\":\"x\"}}",
              &st, err, sizeof(err));
    TAP_IS_INT(r, 0, "crun's createRuntime state parses");
    TAP_IS_STR(st.id, "c1", "id");
    TAP_IS_STR(st.status, "created", "status");
    TAP_IS_STR(st.bundle, "/b", "bundle");
    TAP_IS_INT(st.pid, 20253, "pid");
    TAP_IS_INT(st.n_ann, 1, "only io.slirpd.* annotations are kept");
    TAP_IS_STR(st.n_ann ? st.ann_key[0] : NULL, "io.slirpd.mtu", "annotation key");
    TAP_IS_STR(st.n_ann ? st.ann_val[0] : NULL, "9000", "annotation value");
    ocistate_free(&st);

    r = parse("{\"ociVersion\":\"1.0.2-dev\",\"id\":\"a7db28b8\",\"status\":"
              "\"stopped\",\"bundle\":\"/x\"}", &st, err, sizeof(err));
    TAP_IS_INT(r, 0, "podman's poststop state (no pid, no annotations)");
    TAP_IS_INT(st.pid, 0, "absent pid is 0");
    ocistate_free(&st);

    r = parse("{\"id\":\"c1\",\"status\":\"created\",\"pid\":0}", &st, err,
              sizeof(err));
    TAP_IS_INT(r, 0, "pid 0 (crun's createContainer) is accepted");
    ocistate_free(&st);

    static const struct {
        const char *json, *want;
    } bad[] = {
        { "", "no OCI state" },
        { "not json", "not a JSON object" },
        { "[1,2]", "not a JSON object" },
        { "{\"status\":\"created\"}", "no \"id\"" },
        { "{\"id\":1,\"status\":\"created\"}", "\"id\" is not a string" },
        { "{\"id\":\"c1\"}", "no \"status\"" },
        { "{\"id\":\"../x\",\"status\":\"created\"}", "invalid container id" },
        { "{\"id\":\"a/b\",\"status\":\"created\"}", "invalid container id" },
        { "{\"id\":\"..\",\"status\":\"created\"}", "invalid container id" },
        { "{\"id\":\"\",\"status\":\"created\"}", "invalid container id" },
        { "{\"id\":\"c1\",\"status\":\"created\",\"pid\":\"12\"}", "not an integer" },
        { "{\"id\":\"c1\",\"status\":\"created\",\"pid\":-5}", "out of range" },
        { "{\"id\":\"c1\",\"status\":\"created\",\"pid\":1.5}", "not an integer" },
        { "{\"id\":\"c1\",\"status\":\"created\",\"pid\":99999999999}", "out of range" },
        { "{\"id\":\"c1\",\"status\":\"created\",\"annotations\":[]}", "not an object" },
        { "{\"id\":\"c1\",\"status\":\"created\",\"annotations\":"
          "{\"io.slirpd.mtu\":1500}}", "is not a string" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        r = parse(bad[i].json, &st, err, sizeof(err));
        TAP_OK(r < 0 && strstr(err, bad[i].want), "refused: %s -> %s",
               bad[i].json, err);
        ocistate_free(&st);
    }
    {
        struct err e;

        r = ocistate_parse("{\"id\":\"c1\"\0}", 13, &st, &e);
        TAP_OK(r < 0 && strstr(e.msg, "NUL"), "a NUL byte is refused: %s",
               e.msg);
    }
    ocistate_free(&st);
}

static void test_ids(void)
{
    char id[OCISTATE_ID_MAX + 2];

    TAP_OK(ocistate_valid_id("6a9f5fe1e7af50be64e78abaaf901f149ee52490cde226ad616005f551f0ac34"),
           "podman's 64 hex digits");
    TAP_OK(ocistate_valid_id("my_ctr-1.2+x"), "runc-style name");
    TAP_OK(!ocistate_valid_id(".hidden"), "leading dot");
    TAP_OK(!ocistate_valid_id("a b"), "space");
    TAP_OK(!ocistate_valid_id("a\nb"), "newline");
    memset(id, 'a', sizeof(id));
    id[OCISTATE_ID_MAX] = '\0';
    TAP_OK(ocistate_valid_id(id), "%d characters", OCISTATE_ID_MAX);
    id[OCISTATE_ID_MAX] = 'a';
    id[OCISTATE_ID_MAX + 1] = '\0';
    TAP_OK(!ocistate_valid_id(id), "%d characters", OCISTATE_ID_MAX + 1);
}

static void test_annotations(void)
{
    static const char *const args[] = { "-6", "--enable-sandbox", NULL };
    /* the hook's flags and values, in every form getopt takes */
    static const char *const fixed[] = { "-m", "1500", "-6", "--enable-sandbox",
                                         "--no-host-loopback",
                                         "--enable-seccomp", "--disable-d",
                                         "--cidr", "10.9.0.0/24", NULL };
    char out[1024], err[512];
    bool en = false;
    int r;

    r = merged("{\"id\":\"c\",\"status\":\"created\"}", args, out,
               sizeof(out), &en, err, sizeof(err));
    TAP_IS_INT(r, 0, "no annotations");
    TAP_IS_STR(out, "-6 --enable-sandbox", "args unchanged");
    TAP_OK(en, "enabled when io.slirpd.enable is absent");

    r = merged("{\"id\":\"c\",\"status\":\"created\",\"annotations\":{"
               "\"io.slirpd.enable\":\"true\",\"io.slirpd.mtu\":\"65520\","
               "\"io.slirpd.enable-ipv6\":\"true\",\"io.slirpd.publish\":"
               "\"127.0.0.1:8080:80, 9090:90/udp,,1024:80,[::1]:65535:81\","
               "\"io.slirpd.disable-dns\":\"true\",\"io.slirpd.enable-sandbox\":"
               "\"yes\",\"io.slirpd.disable-offload\":\"false\","
               "\"io.slirpd.cidr\":\"10.5.0.0/24\"}}", args, out,
               sizeof(out), &en, err, sizeof(err));
    TAP_OK(r == 0, "annotations apply (%s)", r ? err : "ok");
    TAP_IS_STR(out, "-6 --enable-sandbox --mtu=65520 -p 127.0.0.1:8080:80 "
               "-p 9090:90/udp -p 1024:80 -p [::1]:65535:81 --disable-dns "
               "--cidr=10.5.0.0/24",
               "values and flags the args do not set are added, those they "
               "set are not repeated, false adds nothing, publish list split");
    TAP_OK(en, "io.slirpd.enable=true");

    r = merged("{\"id\":\"c\",\"status\":\"created\",\"annotations\":{"
               "\"io.slirpd.enable\":\"false\"}}", args, out, sizeof(out),
               &en, err, sizeof(err));
    TAP_OK(r == 0 && !en, "io.slirpd.enable=false opts out");

    r = merged("{\"id\":\"c\",\"status\":\"created\",\"annotations\":{"
               "\"io.slirpd.ifname\":\"eth0\"}}", NULL, out, sizeof(out),
               &en, err, sizeof(err));
    TAP_IS_STR(out, "--ifname=eth0", "io.slirpd.ifname becomes the hook option");

    /* the egress policy: deny rules go in front of the args' own rules */
    static const char *const pol[] = { "--allow=tcp:host-loopback:5432",
                                       "-6", NULL };
    r = merged("{\"id\":\"c\",\"status\":\"created\",\"annotations\":{"
               "\"io.slirpd.deny\":\"host-loopback, tcp:[fd00::1]:80,all\","
               "\"io.slirpd.log-denied\":\"true\"}}", pol, out, sizeof(out),
               &en, err, sizeof(err));
    TAP_OK(r == 0, "io.slirpd.deny applies (%s)", r ? err : "ok");
    TAP_IS_STR(out, "--deny=host-loopback --deny=tcp:[fd00::1]:80 --deny=all "
               "--allow=tcp:host-loopback:5432 -6 --log-denied",
               "io.slirpd.deny: rules in front of the args' (first match wins: "
               "they can only refuse more), log-denied added");

    static const struct {
        const char *ann, *want;
    } bad[] = {
        { "\"io.slirpd.deny\":\"tcp:1.2.3.4:99999\"",
          "annotation io.slirpd.deny: tcp:1.2.3.4:99999" },
        { "\"io.slirpd.allow\":\"any\"", "unknown annotation io.slirpd.allow" },
        { "\"io.slirpd.mtuu\":\"1\"", "unknown annotation io.slirpd.mtuu" },
        { "\"io.slirpd.api-socket\":\"/x\"", "unknown annotation" },
        { "\"io.slirpd.enable-ipv6\":\"maybe\"", "must be true or false" },
        { "\"io.slirpd.enable\":\"on\"", "must be true or false" },
        { "\"io.slirpd.macaddress\":\"\"", "is empty" },
        /* the args win: no flag taken out, no value changed */
        { "\"io.slirpd.enable-ipv6\":\"false\"",
          "io.slirpd.enable-ipv6=false cannot take out --enable-ipv6" },
        { "\"io.slirpd.enable-sandbox\":\"false\"",
          "io.slirpd.enable-sandbox=false cannot take out --enable-sandbox" },
        { "\"io.slirpd.enable-seccomp\":\"no\"",
          "io.slirpd.enable-seccomp=no cannot take out --enable-seccomp" },
        { "\"io.slirpd.disable-host-loopback\":\"0\"",
          "cannot take out --disable-host-loopback" },
        { "\"io.slirpd.disable-dns\":\"false\"", "cannot take out --disable-dns" },
        { "\"io.slirpd.mtu\":\"9000\"", "io.slirpd.mtu cannot change --mtu" },
        { "\"io.slirpd.cidr\":\"10.0.0.0/8\"", "cannot change --cidr" },
        /* publish: no unix: path, no host port below 1024 */
        { "\"io.slirpd.publish\":\"unix:/tmp/x.sock:80\"", "unix: forwards come only" },
        { "\"io.slirpd.publish\":\"8080:80, unix:/x:80/tcp\"", "unix: forwards come only" },
        { "\"io.slirpd.publish\":\"127.0.0.1:80:80\"", "host port must be from 1024" },
        { "\"io.slirpd.publish\":\"1023:53/udp\"", "host port must be from 1024" },
        { "\"io.slirpd.publish\":\"0:80\"", "host port must be from 1024" },
        { "\"io.slirpd.publish\":\"[::1]:443:443\"", "host port must be from 1024" },
        { "\"io.slirpd.publish\":\"127.0.0.1::80\"", "host port must be from 1024" },
        { "\"io.slirpd.publish\":\"8080:80/sctp\"", "io.slirpd.publish" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char json[256];

        snprintf(json, sizeof(json), "{\"id\":\"c\",\"status\":\"created\","
                 "\"annotations\":{%s}}", bad[i].ann);
        err[0] = '\0';
        r = merged(json, fixed, out, sizeof(out), &en, err, sizeof(err));
        TAP_OK(r < 0 && strstr(err, bad[i].want), "refused: %s -> %s",
               bad[i].ann, err);
    }

    static const char *const bad_args[] = { "--mtu", NULL };
    r = merged("{\"id\":\"c\",\"status\":\"created\"}", bad_args, out,
               sizeof(out), &en, err, sizeof(err));
    TAP_OK(r < 0 && strstr(err, "hook's args"), "bad args: %s", err);
}

static void test_uid_map(void)
{
    uid_t u = 12345;

    TAP_IS_INT(hook_parent_uid("         0       1001          1\n"
                               "         1     100000      65536\n", 0, &u), 0,
               "root of a rootless userns is mapped");
    TAP_IS_INT(u, 1001, "to the user's uid");
    TAP_IS_INT(hook_parent_uid("0 1001 1\n1 100000 65536\n", 1000, &u), 0,
               "a subordinate uid is mapped");
    TAP_IS_INT(u, 100999, "into the subuid range");
    TAP_IS_INT(hook_parent_uid("0 1001 1\n", 5, &u), -ENOENT, "unmapped uid");
    TAP_IS_INT(hook_parent_uid("", 0, &u), -ENOENT, "empty map");
    TAP_IS_INT(hook_parent_uid("0 0 4294967295\n", 1001, &u), 0, "identity map");
    TAP_IS_INT(u, 1001, "identity");
}

int main(void)
{
    test_parse();
    test_ids();
    test_annotations();
    test_uid_map();
    return tap_done();
}
