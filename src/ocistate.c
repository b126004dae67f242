/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ocistate.c - the OCI hook's inputs: state JSON, container ids, io.slirpd.* annotations */
/*
 * An OCI runtime runs a hook with the container's state on stdin:
 *
 *   {"ociVersion":"1.0","id":"c1","pid":20253,"root":"rootfs",
 *    "bundle":"/path","status":"created","annotations":{"k":"v"}}
 *
 * (crun 1.8.1 says "created" at createRuntime and createContainer, and
 * gives pid 0 to a createContainer hook, which runs in the container's PID
 * namespace; "stopped" at poststop.) Nothing here touches the system: the
 * stages live in hook.c; this file is pure and unit-tested and fuzzed.
 *
 * Annotations io.slirpd.NAME may only add to the hook's own args, never take
 * from them: the args are the hook's definition (a hooks.d file, a
 * config.json) and the annotations may come from a container image (podman
 * copies an image's annotations into the container's). The allow-list is
 * the ocistate_ann[] table below; any other io.slirpd.* key is an error, so
 * a typo is not silently ignored. An annotation is refused when:
 *   - it would change an option the args set ("--NAME=VALUE" for
 *     io.slirpd.NAME=VALUE, whatever form the args use: short, abbreviated,
 *     deprecated alias), or take out a flag they set (NAME=false);
 *   - a publish in it is a unix: path, or its host port is below 1024
 *     (or 0): those come only from the args.
 * io.slirpd.deny (comma-separated --deny rules) is the one annotation of
 * the egress policy: its rules go in front of the args' own (the first
 * matching rule wins), where a deny can only refuse more; an annotation
 * cannot allow anything.
 */
#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fwd.h"
#include "json.h"
#include "ocistate.h"
#include "options.h"
#include "policy_rule.h"
#include "util.h"

/* the state is small; anything bigger is not a runtime's state */
#define OCISTATE_MAX_LEN (1024 * 1024)
#define OCISTATE_DEPTH_MAX 16

/* the lowest host port an annotation may publish: lower ones need the args */
#define OCISTATE_PUBLISH_PORT_MIN 1024

enum ocistate_kind {
    OCISTATE_FLAG,      /* "true" adds --NAME, "false" adds nothing */
    OCISTATE_VALUE,     /* --NAME=VALUE */
    OCISTATE_LIST,      /* comma-separated: -p for each item */
    OCISTATE_HOOK,      /* a hook option (--NAME=VALUE), not the daemon's */
    OCISTATE_SELECT,    /* only selects the hook (hooks.d "when"): a flag */
    OCISTATE_DENY,      /* comma-separated rules: --deny=RULE each, in front */
};

#define OCISTATE_NO_FIELD ((size_t)-1)

/* the allow-list: what an annotation may add to the hook's args */
static const struct {
    const char *name;
    enum ocistate_kind kind;
    size_t field;               /* FLAG: its bool in struct options, VALUE:
                                 * its string; OCISTATE_NO_FIELD: none */
    const char *opt;            /* the option it becomes, if not --NAME */
} ocistate_ann[] = {
    { "enable", OCISTATE_SELECT, OCISTATE_NO_FIELD, NULL },
    { "publish", OCISTATE_LIST, OCISTATE_NO_FIELD, "-p" },
    { "mtu", OCISTATE_VALUE, offsetof(struct options, mtu), NULL },
    { "cidr", OCISTATE_VALUE, offsetof(struct options, cidr), NULL },
    { "macaddress", OCISTATE_VALUE, offsetof(struct options, macaddress), NULL },
    { "outbound-addr", OCISTATE_VALUE,
      offsetof(struct options, outbound_addr), NULL },
    { "outbound-addr6", OCISTATE_VALUE,
      offsetof(struct options, outbound_addr6), NULL },
    { "enable-ipv6", OCISTATE_FLAG, offsetof(struct options, enable_ipv6), NULL },
    { "disable-host-loopback", OCISTATE_FLAG,
      offsetof(struct options, disable_host_loopback), NULL },
    { "disable-dns", OCISTATE_FLAG, offsetof(struct options, disable_dns), NULL },
    { "disable-offload", OCISTATE_FLAG,
      offsetof(struct options, disable_offload), NULL },
    { "busy-poll", OCISTATE_VALUE, offsetof(struct options, busy_poll), NULL },
    { "enable-sandbox", OCISTATE_FLAG,
      offsetof(struct options, enable_sandbox), NULL },
    { "enable-seccomp", OCISTATE_FLAG,
      offsetof(struct options, enable_seccomp), NULL },
    { "ifname", OCISTATE_HOOK, OCISTATE_NO_FIELD, NULL },
    { "deny", OCISTATE_DENY, OCISTATE_NO_FIELD, NULL },
    { "log-denied", OCISTATE_FLAG, offsetof(struct options, log_denied), NULL },
};

/**
 * ocistate_valid_id() - may this container id become a path component?
 * @id:	the id from the state
 *
 * 1 to OCISTATE_ID_MAX characters of [A-Za-z0-9_.+-], not starting with a
 * dot (so never "." or ".."): podman's 64 hex digits and runc's rule both fit.
 *
 * Return: true if it may
 */
bool ocistate_valid_id(const char *id)
{
    size_t i, n = strlen(id);

    if (n == 0 || n > OCISTATE_ID_MAX || id[0] == '.')
        return false;
    for (i = 0; i < n; i++) {
        char c = id[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '+' ||
              c == '-'))
            return false;
    }
    return true;
}

/**
 * ocistate_free() - release what ocistate_parse() allocated
 * @st:	the state (may be partly filled)
 */
void ocistate_free(struct ocistate *st)
{
    size_t i;

    free(st->id);
    free(st->status);
    free(st->bundle);
    for (i = 0; i < st->n_ann; i++) {
        free(st->ann_key[i]);
        free(st->ann_val[i]);
    }
    free(st->ann_key);
    free(st->ann_val);
    memset(st, 0, sizeof(*st));
}

static int ocistate_get_str(const struct json_value *o, const char *name,
                            bool required, char **ret, struct err *e)
{
    const struct json_value *n = json_member(o, name);

    if (!n || n->type == JSON_NULL) {
        if (required)
            return err_make(e, -EINVAL, "the state has no \"%s\"", name);
        return 0;
    }
    if (n->type != JSON_STRING)
        return err_make(e, -EINVAL, "the state's \"%s\" is not a string",
                        name);
    *ret = strdup(n->u.s);
    return *ret ? 0 : err_make_errno(e, -ENOMEM, NULL);
}

static int ocistate_add_ann(struct ocistate *st, const char *k, const char *v)
{
    char **keys = realloc(st->ann_key, (st->n_ann + 1) * sizeof(*keys));
    char **vals;

    if (!keys)
        return -ENOMEM;
    st->ann_key = keys;
    vals = realloc(st->ann_val, (st->n_ann + 1) * sizeof(*vals));
    if (!vals)
        return -ENOMEM;
    st->ann_val = vals;
    keys[st->n_ann] = strdup(k);
    vals[st->n_ann] = strdup(v);
    if (!keys[st->n_ann] || !vals[st->n_ann]) {
        free(keys[st->n_ann]);
        free(vals[st->n_ann]);
        return -ENOMEM;
    }
    st->n_ann++;
    return 0;
}

/**
 * ocistate_parse() - read the OCI state a runtime gives a hook
 * @json, @len:	the bytes (need not be NUL-terminated)
 * @ret:	the state; free with ocistate_free(), also on failure
 * @e:		one line naming what is wrong, on failure
 *
 * "id" (validated with ocistate_valid_id()) and "status" are required;
 * "pid" must be a non-negative integer when present; io.slirpd.*
 * annotations are kept (their values must be strings), others ignored.
 *
 * Return: 0 or a negative errno
 */
int ocistate_parse(const char *json, size_t len, struct ocistate *ret,
                   struct err *e)
{
    const struct json_value *n;
    struct json_value *root;
    int r;

    memset(ret, 0, sizeof(*ret));
    if (len == 0)
        return err_make(e, -EINVAL,
                        "no OCI state on stdin (run me as an OCI hook)");
    if (len > OCISTATE_MAX_LEN)
        return err_make(e, -E2BIG, "the OCI state on stdin is over %d bytes",
                        OCISTATE_MAX_LEN);
    if (memchr(json, '\0', len))
        return err_make(e, -EINVAL,
                        "the OCI state on stdin is not JSON (a NUL byte)");
    root = json_parse(json, len, OCISTATE_DEPTH_MAX);
    if (!root || root->type != JSON_OBJECT) {
        json_free(root);
        return err_make(e, -EINVAL,
                        "the OCI state on stdin is not a JSON object");
    }

    r = ocistate_get_str(root, "id", true, &ret->id, e);
    if (r < 0)
        goto out;
    if (!ocistate_valid_id(ret->id)) {
        r = err_make(e, -EINVAL, "invalid container id \"%.*s\" (1 to %d of "
                     "[A-Za-z0-9_.+-], not starting with '.')",
                     OCISTATE_ID_MAX + 1, ret->id, OCISTATE_ID_MAX);
        goto out;
    }
    r = ocistate_get_str(root, "status", true, &ret->status, e);
    if (r == 0)
        r = ocistate_get_str(root, "bundle", false, &ret->bundle, e);
    if (r < 0)
        goto out;

    n = json_member(root, "pid");
    if (n && n->type != JSON_NULL) {
        if (n->type != JSON_INT) {
            r = err_make(e, -EINVAL, "the state's \"pid\" is not an integer");
            goto out;
        }
        if (n->u.i < 0 || n->u.i > INT_MAX) {
            r = err_make(e, -EINVAL, "the state's \"pid\" is out of range: "
                         "%lld", (long long)n->u.i);
            goto out;
        }
        ret->pid = (pid_t)n->u.i;
    }

    n = json_member(root, "annotations");
    if (n && n->type != JSON_NULL) {
        const struct json_value *m;

        if (n->type != JSON_OBJECT) {
            r = err_make(e, -EINVAL,
                         "the state's \"annotations\" is not an object");
            goto out;
        }
        for (m = n->u.first; m; m = m->next) {
            if (strncmp(m->key, OCISTATE_ANN_PREFIX,
                        strlen(OCISTATE_ANN_PREFIX)))
                continue;
            if (m->type != JSON_STRING) {
                r = err_make(e, -EINVAL, "annotation %s is not a string",
                             m->key);
                goto out;
            }
            if (ret->n_ann >= OCISTATE_ANN_MAX) {
                r = err_make(e, -E2BIG, "more than %d %s* annotations",
                             OCISTATE_ANN_MAX, OCISTATE_ANN_PREFIX);
                goto out;
            }
            r = ocistate_add_ann(ret, m->key, m->u.s);
            if (r < 0) {
                err_make_errno(e, r, NULL);
                goto out;
            }
        }
    }
out:
    json_free(root);
    return r;
}

/**
 * ocistate_args_add() - append a copy of @s to an argument list
 * @a:	the list
 * @s:	the argument
 *
 * Return: 0 or -ENOMEM
 */
int ocistate_args_add(struct ocistate_args *a, const char *s)
{
    char **v;

    if (a->n + 2 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;

        v = realloc(a->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n] = strdup(s);
    if (!a->v[a->n])
        return -ENOMEM;
    a->v[++a->n] = NULL;
    return 0;
}

/**
 * ocistate_args_free() - release an argument list
 * @a:	the list
 */
void ocistate_args_free(struct ocistate_args *a)
{
    size_t i;

    for (i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

static int ocistate_parse_bool(const char *v, bool *ret)
{
    if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes"))
        *ret = true;
    else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no") ||
             !*v)
        *ret = false;
    else
        return -EINVAL;
    return 0;
}

static int ocistate_add_opt(struct ocistate_args *a, const char *name,
                            const char *val)
{
    g_autofree char *s = val ? g_strdup_printf("--%s=%s", name, val)
                             : g_strdup_printf("--%s", name);

    return ocistate_args_add(a, s);
}

/* the options the hook's args set: getopt's view, so every form counts */
static int ocistate_args_options(const struct ocistate_args *args,
                                 struct options *ret, struct err *e)
{
    g_autofree char **argv = g_new0(char *, args->n + 4);
    size_t i, n = 0;
    int saved = opterr;
    enum opt_result r;

    argv[n++] = (char *)"slirpd";
    for (i = 0; i < args->n; i++)
        argv[n++] = args->v[i];
    argv[n++] = (char *)"1";
    argv[n++] = (char *)"tap0";
    opterr = 0;     /* one line of ours, not getopt's */
    r = opt_parse((int)n, argv, ret);
    opterr = saved;
    if (r != OPT_RUN) {
        opt_free(ret);
        return err_make(e, -EINVAL, "bad daemon options in "
                        "the hook's args (slirpd --help lists them)");
    }
    return 0;
}

/* does @o (the hook's args) set what annotation ocistate_ann[@k] sets? */
static bool ocistate_args_set(const struct options *o, size_t k)
{
    const char *f = (const char *)o + ocistate_ann[k].field;

    if (ocistate_ann[k].field == OCISTATE_NO_FIELD)
        return false;
    if (ocistate_ann[k].kind == OCISTATE_FLAG)
        return *(const bool *)f;
    return *(const char *const *)f != NULL;
}

/*
 * one io.slirpd.publish item: a TCP or UDP port from 1024 up, never a unix:
 * path (fwd_spec_split_publish() is the daemon's own reading of a spec)
 */
static int ocistate_check_publish(const char *key, const char *item,
                                  struct err *e)
{
    g_autofree char *buf = g_strdup(item);
    struct fwd_req req;
    struct err split;
    int r;

    r = fwd_spec_split_publish(item, buf, strlen(item) + 1, &req, &split);
    if (!strncmp(item, "unix:", 5) ||
        (r == 0 && req.host_addr && !strncmp(req.host_addr, "unix:", 5)))
        return err_make(e, -EPERM, "annotation %s: \"%s\": "
                        "unix: forwards come only from the hook's args",
                        key, item);
    if (r < 0)
        return err_make(e, -EINVAL, "annotation %s: \"%s\": "
                        "%s", key, item, split.msg);
    if (req.host_port < OCISTATE_PUBLISH_PORT_MIN || req.host_port > 65535)
        return err_make(e, -EPERM, "annotation %s: \"%s\": "
                        "the host port must be from %d to 65535 (lower "
                        "ports come only from the hook's args)", key, item,
                        OCISTATE_PUBLISH_PORT_MIN);
    return 0;
}

/* "--deny=RULE" at @at of the list (in front of the args' own rules) */
static int ocistate_args_insert_deny(struct ocistate_args *a, size_t at,
                                     const char *rule)
{
    g_autofree char *w = g_strdup_printf("--deny=%s", rule);
    char *last;
    int r = ocistate_args_add(a, w);

    if (r < 0)
        return r;
    last = a->v[a->n - 1];
    memmove(a->v + at + 1, a->v + at, (a->n - 1 - at) * sizeof(*a->v));
    a->v[at] = last;
    return 0;
}

/**
 * ocistate_apply_annotations() - io.slirpd.* annotations onto the hook's args
 * @st:		the state
 * @args:	the hook's option words (without the hook's own --state-dir
 *		and --ifname); what the annotations add is appended
 * @ret_enabled: io.slirpd.enable's value (true when absent)
 * @e:		one line on failure, naming the annotation
 *
 * Annotations only add: one that would change an option of the args, or
 * take out a flag they set, is refused, as is a publish of a unix: path or
 * of a host port below 1024 (the header comment has the rules).
 *
 * Return: 0 or a negative errno (an unknown io.slirpd.* key, a bad boolean,
 *	   a refused annotation, bad args)
 */
int ocistate_apply_annotations(const struct ocistate *st,
                               struct ocistate_args *args, bool *ret_enabled,
                               struct err *e)
{
    struct options fixed;
    size_t i, k, denies = 0;
    int r;

    *ret_enabled = true;
    err_clear(e);
    r = ocistate_args_options(args, &fixed, e);
    if (r < 0)
        return r;
    for (i = 0; r == 0 && i < st->n_ann; i++) {
        const char *key = st->ann_key[i];
        const char *name = key + strlen(OCISTATE_ANN_PREFIX);
        const char *val = st->ann_val[i];
        bool b;

        for (k = 0; k < G_N_ELEMENTS(ocistate_ann); k++)
            if (!strcmp(name, ocistate_ann[k].name))
                break;
        if (k == G_N_ELEMENTS(ocistate_ann)) {
            r = err_make(e, -EINVAL, "unknown annotation %s "
                         "(see slirpd(1), OCI HOOK)", key);
            break;
        }
        switch (ocistate_ann[k].kind) {
        case OCISTATE_SELECT:
        case OCISTATE_FLAG:
            if (ocistate_parse_bool(val, &b) < 0) {
                r = err_make(e, -EINVAL, "annotation %s must "
                             "be true or false: \"%s\"", key, val);
                break;
            }
            if (ocistate_ann[k].kind == OCISTATE_SELECT)
                *ret_enabled = b;
            else if (!b && ocistate_args_set(&fixed, k))
                r = err_make(e, -EPERM, "annotation %s=%s "
                             "cannot take out --%s: the hook's args set it",
                             key, val, name);
            else if (b && !ocistate_args_set(&fixed, k))
                r = ocistate_add_opt(args, name, NULL);
            break;
        case OCISTATE_VALUE:
        case OCISTATE_HOOK:
            if (!*val)
                r = err_make(e, -EINVAL, "annotation %s is "
                             "empty", key);
            else if (ocistate_args_set(&fixed, k))
                r = err_make(e, -EPERM, "annotation %s cannot "
                             "change --%s: the hook's args set it", key,
                             name);
            else
                r = ocistate_add_opt(args, name, val);
            break;
        case OCISTATE_LIST: {
            g_auto(GStrv) items = g_strsplit(val, ",", -1);
            char **it;

            for (it = items; r == 0 && *it; it++) {
                g_strstrip(*it);
                if (!**it)
                    continue;
                r = ocistate_check_publish(key, *it, e);
                if (r == 0)
                    r = ocistate_args_add(args, ocistate_ann[k].opt);
                if (r == 0)
                    r = ocistate_args_add(args, *it);
            }
            break;
        }
        case OCISTATE_DENY: {
            g_auto(GStrv) items = g_strsplit(val, ",", -1);
            struct policy_rule pr;
            char **it;

            for (it = items; r == 0 && *it; it++) {
                g_strstrip(*it);
                if (!**it)
                    continue;
                r = policy_rule_parse(*it, POLICY_DENY, &pr, e);
                if (r < 0)
                    r = err_wrap(e, r, "annotation %s", key);
                else
                    r = ocistate_args_insert_deny(args, denies++, *it);
            }
            break;
        }
        }
    }
    opt_free(&fixed);
    if (r < 0 && e && !e->code)
        err_make_errno(e, r, NULL);     /* out of memory adding a word */
    return r;
}
