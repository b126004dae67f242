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
 * Annotations io.slirpd.NAME set daemon options as if "--NAME=VALUE" (or
 * "--NAME" for a flag) followed the hook's own args, so they win over them;
 * a flag set to "false" takes the flag out of the args. The set is the
 * ocistate_ann[] table below; any other io.slirpd.* key is an error, so a
 * typo is not silently ignored.
 */
#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "ocistate.h"
#include "util.h"

/* the state is small; anything bigger is not a runtime's state */
#define OCISTATE_MAX_LEN (1024 * 1024)
#define OCISTATE_DEPTH_MAX 16

enum ocistate_kind {
    OCISTATE_FLAG,      /* "true" adds --NAME, "false" removes it */
    OCISTATE_VALUE,     /* --NAME=VALUE */
    OCISTATE_LIST,      /* comma-separated: -p for each item */
    OCISTATE_HOOK,      /* a hook option (--NAME=VALUE), not the daemon's */
    OCISTATE_SELECT,    /* only selects the hook (hooks.d "when"): a flag */
};

static const struct {
    const char *name;
    enum ocistate_kind kind;
    const char *short_flag;     /* the flag's short form in args, or NULL */
    const char *opt;            /* the option it becomes, if not --NAME */
} ocistate_ann[] = {
    { "enable", OCISTATE_SELECT, NULL, NULL },
    { "publish", OCISTATE_LIST, NULL, "-p" },
    { "mtu", OCISTATE_VALUE, NULL, NULL },
    { "cidr", OCISTATE_VALUE, NULL, NULL },
    { "macaddress", OCISTATE_VALUE, NULL, NULL },
    { "outbound-addr", OCISTATE_VALUE, NULL, NULL },
    { "outbound-addr6", OCISTATE_VALUE, NULL, NULL },
    { "enable-ipv6", OCISTATE_FLAG, "-6", NULL },
    { "disable-host-loopback", OCISTATE_FLAG, NULL, NULL },
    { "disable-dns", OCISTATE_FLAG, NULL, NULL },
    { "disable-offload", OCISTATE_FLAG, NULL, NULL },
    { "busy-poll", OCISTATE_VALUE, NULL, NULL },
    { "enable-sandbox", OCISTATE_FLAG, NULL, NULL },
    { "enable-seccomp", OCISTATE_FLAG, NULL, NULL },
    { "ifname", OCISTATE_HOOK, NULL, NULL },
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
                            bool required, char **ret, char *errbuf,
                            size_t errlen)
{
    const struct json_value *n = json_member(o, name);

    if (!n || n->type == JSON_NULL) {
        if (required)
            return util_fail(errbuf, errlen, -EINVAL,
                             "the state has no \"%s\"", name);
        return 0;
    }
    if (n->type != JSON_STRING)
        return util_fail(errbuf, errlen, -EINVAL,
                         "the state's \"%s\" is not a string", name);
    *ret = strdup(n->u.s);
    return *ret ? 0 : -ENOMEM;
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
 * @errbuf:	one line naming what is wrong, on failure
 * @errlen:	its size
 *
 * "id" (validated with ocistate_valid_id()) and "status" are required;
 * "pid" must be a non-negative integer when present; io.slirpd.*
 * annotations are kept (their values must be strings), others ignored.
 *
 * Return: 0 or a negative errno
 */
int ocistate_parse(const char *json, size_t len, struct ocistate *ret,
                   char *errbuf, size_t errlen)
{
    const struct json_value *n;
    struct json_value *root;
    int r;

    memset(ret, 0, sizeof(*ret));
    if (len == 0)
        return util_fail(errbuf, errlen, -EINVAL,
                         "no OCI state on stdin (run me as an OCI hook)");
    if (len > OCISTATE_MAX_LEN)
        return util_fail(errbuf, errlen, -E2BIG,
                         "the OCI state on stdin is over %d bytes",
                         OCISTATE_MAX_LEN);
    if (memchr(json, '\0', len))
        return util_fail(errbuf, errlen, -EINVAL,
                         "the OCI state on stdin is not JSON (a NUL byte)");
    root = json_parse(json, len, OCISTATE_DEPTH_MAX);
    if (!root || root->type != JSON_OBJECT) {
        json_free(root);
        return util_fail(errbuf, errlen, -EINVAL,
                         "the OCI state on stdin is not a JSON object");
    }

    r = ocistate_get_str(root, "id", true, &ret->id, errbuf, errlen);
    if (r < 0)
        goto out;
    if (!ocistate_valid_id(ret->id)) {
        r = util_fail(errbuf, errlen, -EINVAL,
                      "invalid container id \"%.*s\" (1 to %d of "
                      "[A-Za-z0-9_.+-], not starting with '.')",
                      OCISTATE_ID_MAX + 1, ret->id, OCISTATE_ID_MAX);
        goto out;
    }
    r = ocistate_get_str(root, "status", true, &ret->status, errbuf, errlen);
    if (r == 0)
        r = ocistate_get_str(root, "bundle", false, &ret->bundle, errbuf,
                             errlen);
    if (r < 0)
        goto out;

    n = json_member(root, "pid");
    if (n && n->type != JSON_NULL) {
        if (n->type != JSON_INT) {
            r = util_fail(errbuf, errlen, -EINVAL,
                          "the state's \"pid\" is not an integer");
            goto out;
        }
        if (n->u.i < 0 || n->u.i > INT_MAX) {
            r = util_fail(errbuf, errlen, -EINVAL,
                          "the state's \"pid\" is out of range: %lld",
                          (long long)n->u.i);
            goto out;
        }
        ret->pid = (pid_t)n->u.i;
    }

    n = json_member(root, "annotations");
    if (n && n->type != JSON_NULL) {
        const struct json_value *m;

        if (n->type != JSON_OBJECT) {
            r = util_fail(errbuf, errlen, -EINVAL,
                          "the state's \"annotations\" is not an object");
            goto out;
        }
        for (m = n->u.first; m; m = m->next) {
            if (strncmp(m->key, OCISTATE_ANN_PREFIX,
                        strlen(OCISTATE_ANN_PREFIX)))
                continue;
            if (m->type != JSON_STRING) {
                r = util_fail(errbuf, errlen, -EINVAL,
                              "annotation %s is not a string", m->key);
                goto out;
            }
            if (ret->n_ann >= OCISTATE_ANN_MAX) {
                r = util_fail(errbuf, errlen, -E2BIG,
                              "more than %d %s* annotations",
                              OCISTATE_ANN_MAX, OCISTATE_ANN_PREFIX);
                goto out;
            }
            r = ocistate_add_ann(ret, m->key, m->u.s);
            if (r < 0)
                goto out;
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

static void ocistate_args_remove(struct ocistate_args *a, const char *s)
{
    size_t i, j;

    for (i = j = 0; i < a->n; i++) {
        if (!strcmp(a->v[i], s))
            free(a->v[i]);
        else
            a->v[j++] = a->v[i];
    }
    a->n = j;
    if (a->v)
        a->v[j] = NULL;
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

/**
 * ocistate_apply_annotations() - io.slirpd.* annotations onto the hook's args
 * @st:		the state
 * @args:	the hook's option words; annotations are appended (so they win:
 *		the daemon takes the last value of an option), a flag set to
 *		false is removed (its long and short form as whole words)
 * @ret_enabled: io.slirpd.enable's value (true when absent)
 * @errbuf, @errlen: one line on failure
 *
 * Return: 0 or a negative errno (an unknown io.slirpd.* key, a bad boolean)
 */
int ocistate_apply_annotations(const struct ocistate *st,
                               struct ocistate_args *args, bool *ret_enabled,
                               char *errbuf, size_t errlen)
{
    size_t i, k;
    int r;

    *ret_enabled = true;
    for (i = 0; i < st->n_ann; i++) {
        const char *name = st->ann_key[i] + strlen(OCISTATE_ANN_PREFIX);
        const char *val = st->ann_val[i];
        bool b;

        for (k = 0; k < G_N_ELEMENTS(ocistate_ann); k++)
            if (!strcmp(name, ocistate_ann[k].name))
                break;
        if (k == G_N_ELEMENTS(ocistate_ann))
            return util_fail(errbuf, errlen, -EINVAL,
                             "unknown annotation %s (see slirpd(1), "
                             "OCI HOOK)", st->ann_key[i]);
        switch (ocistate_ann[k].kind) {
        case OCISTATE_SELECT:
        case OCISTATE_FLAG:
            if (ocistate_parse_bool(val, &b) < 0)
                return util_fail(errbuf, errlen, -EINVAL,
                                 "annotation %s must be true or false: "
                                 "\"%s\"", st->ann_key[i], val);
            if (ocistate_ann[k].kind == OCISTATE_SELECT) {
                *ret_enabled = b;
                break;
            }
            if (b) {
                r = ocistate_add_opt(args, name, NULL);
                if (r < 0)
                    return r;
            } else {
                g_autofree char *l = g_strdup_printf("--%s", name);

                ocistate_args_remove(args, l);
                if (ocistate_ann[k].short_flag)
                    ocistate_args_remove(args, ocistate_ann[k].short_flag);
            }
            break;
        case OCISTATE_VALUE:
        case OCISTATE_HOOK:
            if (!*val)
                return util_fail(errbuf, errlen, -EINVAL,
                                 "annotation %s is empty", st->ann_key[i]);
            r = ocistate_add_opt(args, name, val);
            if (r < 0)
                return r;
            break;
        case OCISTATE_LIST: {
            g_auto(GStrv) items = g_strsplit(val, ",", -1);
            char **it;

            for (it = items; *it; it++) {
                g_strstrip(*it);
                if (!**it)
                    continue;
                r = ocistate_args_add(args, ocistate_ann[k].opt);
                if (r == 0)
                    r = ocistate_args_add(args, *it);
                if (r < 0)
                    return r;
            }
            break;
        }
        }
    }
    return 0;
}
