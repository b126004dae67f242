/* SPDX-License-Identifier: GPL-2.0-or-later */
/* json.c - the API's JSON: a strict, bounded parser into a tree, and a compact writer */
/*
 * DOC: Theory of Operation
 *
 * Why not json-glib: it links gio, gobject, gmodule, libffi, libmount,
 * libselinux, libblkid and zlib into the daemon, and loading them (symbol
 * binding, constructors, page faults) was most of what slirpd's start-up
 * cost on top of slirp4netns's (docs/design.md, "Start-up sequence"). The
 * API needs very little of JSON: small requests in, compact replies out.
 *
 * The parser is strict RFC 8259 (as slirp4netns's parson, stricter than
 * json-glib): one value with optional whitespace around it, no comments,
 * no single quotes, no trailing commas, no leading zeros or '+', no bytes
 * after the value; strings must be valid UTF-8 without raw control
 * characters, escapes are the standard ones, \u surrogates must pair up,
 * and \u0000 is refused (a C string could not hold it). Nesting deeper than
 * @max_depth arrays/objects is refused before the recursion goes deeper,
 * so a hostile request cannot exhaust the stack. Numbers without fraction
 * or exponent that fit in int64 are JSON_INT, all others JSON_DOUBLE
 * (strtod; the daemon never changes its "C" locale). A repeated key is
 * kept, and json_member() finds the last one (json-glib's behaviour).
 *
 * The writer appends to one growing buffer (realloc(), and abort() when
 * memory runs out, as glib's allocator does in the rest of the daemon: a
 * reply is never lost halfway).
 * Strings are escaped as json-glib 1.6 did, so replies stay byte for byte
 * what they were: '"' and '\\' with a backslash, \b \t \n \f \r by name,
 * the other control characters and DEL as \u00xx (lower-case hex; json-glib
 * forgot 0x1f, we don't), everything else - UTF-8 included - as is.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct json_parser {
    const char *p, *end;
    int max_depth;
};

static void json_ws(struct json_parser *jp)
{
    while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' ||
                               *jp->p == '\n' || *jp->p == '\r'))
        jp->p++;
}

static struct json_value *json_new(enum json_type t)
{
    struct json_value *v = calloc(1, sizeof(*v));

    if (v)
        v->type = t;
    return v;
}

static int json_hex4(const char *p, const char *end, unsigned int *ret)
{
    unsigned int v = 0;
    int i;

    if (end - p < 4)
        return -EINVAL;
    for (i = 0; i < 4; i++) {
        char c = p[i];

        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned int)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned int)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned int)(c - 'A' + 10);
        else
            return -EINVAL;
    }
    *ret = v;
    return 0;
}

/* the length of the valid UTF-8 sequence at @p (non-ASCII lead), or 0 */
static size_t json_utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;
    size_t n, i;

    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;          /* no overlong forms */
        else if (c == 0xed)
            hi = 0x9f;          /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;          /* nothing above U+10FFFF */
    } else
        return 0;
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

static size_t json_put_utf8(char *o, unsigned int cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/*
 * A string, jp->p at its opening quote. The decoded text is never longer
 * than the raw one (an escape of 2, 6 or 12 bytes becomes 1 to 4 bytes).
 */
static char *json_string(struct json_parser *jp)
{
    const char *s = jp->p + 1, *q = s;
    char *out, *o;

    while (q < jp->end && *q != '"')
        q += *q == '\\' && q + 1 < jp->end ? 2 : 1;
    if (q >= jp->end)
        return NULL;
    out = o = malloc((size_t)(q - s) + 1);
    if (!out)
        return NULL;
    while (s < q) {
        unsigned char c = (unsigned char)*s;
        unsigned int cp, lo;
        size_t n;

        if (c < 0x20)
            goto bad;
        if (c >= 0x80) {
            n = json_utf8_len((const unsigned char *)s,
                              (const unsigned char *)q);
            if (!n)
                goto bad;
            memcpy(o, s, n);
            o += n;
            s += n;
            continue;
        }
        if (c != '\\') {
            *o++ = (char)c;
            s++;
            continue;
        }
        switch (s[1]) {     /* s + 1 < q: the scan above skipped pairs */
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u':
            if (json_hex4(s + 2, q, &cp) < 0 || cp == 0 ||
                (cp >= 0xdc00 && cp <= 0xdfff))
                goto bad;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (q - (s + 6) < 6 || s[6] != '\\' || s[7] != 'u' ||
                    json_hex4(s + 8, q, &lo) < 0 ||
                    lo < 0xdc00 || lo > 0xdfff)
                    goto bad;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                s += 6;
            }
            o += json_put_utf8(o, cp);
            s += 4;
            break;
        default:
            goto bad;
        }
        s += 2;
    }
    *o = '\0';
    jp->p = q + 1;
    return out;
bad:
    free(out);
    return NULL;
}

static bool json_digit(const struct json_parser *jp, const char *p)
{
    return p < jp->end && *p >= '0' && *p <= '9';
}

static struct json_value *json_number(struct json_parser *jp)
{
    const char *p = jp->p, *start = p;
    bool integral = true, neg = false;
    struct json_value *v;
    uint64_t u = 0;
    char small[64], *tok;
    size_t n;

    if (*p == '-') {
        neg = true;
        p++;
    }
    if (!json_digit(jp, p))
        return NULL;
    if (*p == '0')
        p++;
    else
        while (json_digit(jp, p))
            p++;
    if (p < jp->end && *p == '.') {
        integral = false;
        if (!json_digit(jp, ++p))
            return NULL;
        while (json_digit(jp, p))
            p++;
    }
    if (p < jp->end && (*p == 'e' || *p == 'E')) {
        integral = false;
        p++;
        if (p < jp->end && (*p == '+' || *p == '-'))
            p++;
        if (!json_digit(jp, p))
            return NULL;
        while (json_digit(jp, p))
            p++;
    }
    jp->p = p;
    if (integral) {
        const char *d;

        for (d = start + neg; d < p; d++) {
            if (u > (UINT64_MAX - 9) / 10)
                break;
            u = u * 10 + (uint64_t)(*d - '0');
        }
        if (d == p && u <= (uint64_t)INT64_MAX + neg) {
            v = json_new(JSON_INT);
            if (v)
                v->u.i = neg ? (int64_t)(0 - u) : (int64_t)u;
            return v;
        }
    }
    /* a double, or an integer too large for int64 */
    n = (size_t)(p - start);
    tok = n < sizeof(small) ? small : malloc(n + 1);
    if (!tok)
        return NULL;
    memcpy(tok, start, n);
    tok[n] = '\0';
    v = json_new(JSON_DOUBLE);
    if (v)
        v->u.d = strtod(tok, NULL);
    if (tok != small)
        free(tok);
    return v;
}

static bool json_word(struct json_parser *jp, const char *w)
{
    size_t n = strlen(w);

    if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, w, n))
        return false;
    jp->p += n;
    return true;
}

static struct json_value *json_value_at(struct json_parser *jp, int depth);

/* an array or object, jp->p at its opening bracket */
static struct json_value *json_container(struct json_parser *jp, int depth)
{
    bool obj = *jp->p == '{';
    char close = obj ? '}' : ']';
    struct json_value *v, **tail;

    if (depth > jp->max_depth)
        return NULL;
    v = json_new(obj ? JSON_OBJECT : JSON_ARRAY);
    if (!v)
        return NULL;
    tail = &v->u.first;
    jp->p++;
    json_ws(jp);
    if (jp->p < jp->end && *jp->p == close) {
        jp->p++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        struct json_value *e;

        if (obj) {
            if (jp->p >= jp->end || *jp->p != '"' || !(key = json_string(jp)))
                goto bad;
            json_ws(jp);
            if (jp->p >= jp->end || *jp->p != ':') {
                free(key);
                goto bad;
            }
            jp->p++;
            json_ws(jp);
        }
        e = json_value_at(jp, depth);
        if (!e) {
            free(key);
            goto bad;
        }
        e->key = key;
        *tail = e;
        tail = &e->next;
        json_ws(jp);
        if (jp->p < jp->end && *jp->p == ',') {
            jp->p++;
            json_ws(jp);
            continue;
        }
        if (jp->p < jp->end && *jp->p == close) {
            jp->p++;
            return v;
        }
        goto bad;
    }
bad:
    json_free(v);
    return NULL;
}

/* a value at jp->p (no whitespace before it); @depth: containers around it */
static struct json_value *json_value_at(struct json_parser *jp, int depth)
{
    struct json_value *v;
    bool b;
    char *s;

    if (jp->p >= jp->end)
        return NULL;
    switch (*jp->p) {
    case '{':
    case '[':
        return json_container(jp, depth + 1);
    case '"':
        s = json_string(jp);
        if (!s)
            return NULL;
        v = json_new(JSON_STRING);
        if (!v) {
            free(s);
            return NULL;
        }
        v->u.s = s;
        return v;
    case 't':
    case 'f':
        b = json_word(jp, "true");
        if (!b && !json_word(jp, "false"))
            return NULL;
        v = json_new(JSON_BOOL);
        if (v)
            v->u.b = b;
        return v;
    case 'n':
        return json_word(jp, "null") ? json_new(JSON_NULL) : NULL;
    default:
        return json_number(jp);
    }
}

/**
 * json_parse() - parse one JSON text
 * @text:	the bytes (need not be NUL-terminated)
 * @len:	their length
 * @max_depth:	the deepest nesting of arrays/objects accepted (>= 1)
 *
 * Return: the root value, for json_free(); NULL if @text is not one valid
 *	   JSON value (see the theory of operation), is nested deeper than
 *	   @max_depth, or memory ran out
 */
struct json_value *json_parse(const char *text, size_t len, int max_depth)
{
    struct json_parser jp = { .p = text, .end = text + len,
                              .max_depth = max_depth };
    struct json_value *v;

    json_ws(&jp);
    v = json_value_at(&jp, 0);
    if (!v)
        return NULL;
    json_ws(&jp);
    if (jp.p != jp.end) {
        json_free(v);
        return NULL;
    }
    return v;
}

/**
 * json_free() - free a value from json_parse() and everything in it
 * @v:	the value, or NULL
 */
void json_free(struct json_value *v)
{
    while (v) {
        struct json_value *next = v->next;

        if (v->type == JSON_ARRAY || v->type == JSON_OBJECT)
            json_free(v->u.first);      /* depth bounded by json_parse() */
        else if (v->type == JSON_STRING)
            free((char *)v->u.s);
        free((char *)v->key);
        free(v);
        v = next;
    }
}

/**
 * json_member() - an object's member by name
 * @obj:	an object (anything else, or NULL, has no members)
 * @key:	the name
 *
 * Return: the last member called @key, or NULL
 */
const struct json_value *json_member(const struct json_value *obj,
                                     const char *key)
{
    const struct json_value *e, *found = NULL;

    if (!obj || obj->type != JSON_OBJECT)
        return NULL;
    for (e = obj->u.first; e; e = e->next)
        if (!strcmp(e->key, key))
            found = e;
    return found;
}

/**
 * json_count() - the number of elements (array) or members (object)
 * @v:	the value, or NULL
 *
 * Return: the count; 0 for anything else
 */
size_t json_count(const struct json_value *v)
{
    const struct json_value *e;
    size_t n = 0;

    if (!v || (v->type != JSON_ARRAY && v->type != JSON_OBJECT))
        return 0;
    for (e = v->u.first; e; e = e->next)
        n++;
    return n;
}

/* ------------------------------------------------------------ writer */

/**
 * json_writer_init() - start an empty output
 * @w:	the writer; json_writer_finish() hands over (and ends) its buffer
 */
void json_writer_init(struct json_writer *w)
{
    memset(w, 0, sizeof(*w));
}

static void json_put(struct json_writer *w, const char *s, size_t n)
{
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 256;

        while (cap < w->len + n + 1)
            cap *= 2;
        char *p = realloc(w->buf, cap);

        if (!p)
            abort();
        w->buf = p;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

/* a separator before an item where the container needs one */
static void json_item(struct json_writer *w)
{
    if (w->sep)
        json_put(w, ",", 1);
}

static void json_put_escaped(struct json_writer *w, const char *s)
{
    const char *run = s;
    char esc[8];

    json_put(w, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *e = NULL;

        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            continue;
        switch (c) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        default:
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            e = esc;
        }
        json_put(w, run, (size_t)(s - run));
        json_put(w, e, strlen(e));
        run = s + 1;
    }
    json_put(w, run, (size_t)(s - run));
    json_put(w, "\"", 1);
}

void json_begin_object(struct json_writer *w)
{
    json_item(w);
    json_put(w, "{", 1);
    w->sep = false;
}

void json_end_object(struct json_writer *w)
{
    json_put(w, "}", 1);
    w->sep = true;
}

void json_begin_array(struct json_writer *w)
{
    json_item(w);
    json_put(w, "[", 1);
    w->sep = false;
}

void json_end_array(struct json_writer *w)
{
    json_put(w, "]", 1);
    w->sep = true;
}

/* a member's name: the next item written is its value */
void json_key(struct json_writer *w, const char *key)
{
    json_item(w);
    json_put_escaped(w, key);
    json_put(w, ":", 1);
    w->sep = false;
}

void json_str(struct json_writer *w, const char *s)
{
    if (!s) {
        json_null(w);
        return;
    }
    json_item(w);
    json_put_escaped(w, s);
    w->sep = true;
}

void json_int(struct json_writer *w, int64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%" PRId64, v);

    json_item(w);
    json_put(w, buf, (size_t)n);
    w->sep = true;
}

void json_bool(struct json_writer *w, bool v)
{
    json_item(w);
    json_put(w, v ? "true" : "false", v ? 4 : 5);
    w->sep = true;
}

void json_null(struct json_writer *w)
{
    json_item(w);
    json_put(w, "null", 4);
    w->sep = true;
}

/**
 * json_tree() - write a parsed value (json_parse()) and everything in it
 * @w:	the writer
 * @v:	the value; its key, if any, is not written (json_key() does that)
 */
void json_tree(struct json_writer *w, const struct json_value *v)
{
    const struct json_value *e;
    char buf[32];
    int n;

    switch (v->type) {
    case JSON_NULL:
        json_null(w);
        break;
    case JSON_BOOL:
        json_bool(w, v->u.b);
        break;
    case JSON_INT:
        json_int(w, v->u.i);
        break;
    case JSON_DOUBLE:
        if (!isfinite(v->u.d)) {        /* 1e999 parses as infinity */
            json_null(w);
            break;
        }
        n = snprintf(buf, sizeof(buf), "%.17g", v->u.d);
        json_item(w);
        json_put(w, buf, (size_t)n);
        w->sep = true;
        break;
    case JSON_STRING:
        json_str(w, v->u.s);
        break;
    case JSON_ARRAY:
        json_begin_array(w);
        for (e = v->u.first; e; e = e->next)
            json_tree(w, e);     /* depth bounded by json_parse() */
        json_end_array(w);
        break;
    case JSON_OBJECT:
        json_begin_object(w);
        for (e = v->u.first; e; e = e->next) {
            json_key(w, e->key);
            json_tree(w, e);
        }
        json_end_object(w);
        break;
    }
}

/**
 * json_writer_finish() - the text written
 * @w:		the writer (empty again afterwards)
 * @ret_len:	its length (without the terminating NUL), or NULL
 *
 * Return: the NUL-terminated text, for free()
 */
char *json_writer_finish(struct json_writer *w, size_t *ret_len)
{
    char *s;

    if (!w->buf)
        json_put(w, "", 0);
    s = w->buf;
    if (ret_len)
        *ret_len = w->len;
    json_writer_init(w);
    return s;
}
