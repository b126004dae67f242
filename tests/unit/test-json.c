/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-json.c - the built-in JSON codec: what it accepts, what it refuses, what it writes */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tapout.h"

static struct json_value *parse(const char *s)
{
    return json_parse(s, strlen(s), 8);
}

static void accepts(const char *s, enum json_type type, const char *name)
{
    struct json_value *v = parse(s);

    if (!tap_ok(v && v->type == type, "accepts %s", name))
        printf("#   input: %s -> %s (type %d)\n", s, v ? "parsed" : "refused",
               v ? (int)v->type : -1);
    json_free(v);
}

static void refuses(const char *s, const char *name)
{
    struct json_value *v = parse(s);

    if (!tap_ok(!v, "refuses %s", name))
        printf("#   input: %s\n", s);
    json_free(v);
}

/* the string value of the one member "a" of @s, or NULL */
static char *str_of(const char *s, char *buf, size_t n)
{
    struct json_value *v = parse(s);
    const struct json_value *a = json_member(v, "a");
    char *r = NULL;

    if (a && a->type == JSON_STRING) {
        snprintf(buf, n, "%s", a->u.s);
        r = buf;
    }
    json_free(v);
    return r;
}

static void test_grammar(void)
{
    char deep[64];
    int i;

    accepts("{}", JSON_OBJECT, "an empty object");
    accepts(" \t\r\n[ ] \n", JSON_ARRAY, "an empty array with whitespace");
    accepts("{\"a\":[1,-2,{\"b\":null}],\"c\":true,\"d\":false}", JSON_OBJECT,
            "nested values");
    accepts("0", JSON_INT, "0");
    accepts("-0", JSON_INT, "-0");
    accepts("9223372036854775807", JSON_INT, "INT64_MAX");
    accepts("-9223372036854775808", JSON_INT, "INT64_MIN");
    accepts("9223372036854775808", JSON_DOUBLE, "INT64_MAX + 1 (a double)");
    accepts("123456789012345678901234567890", JSON_DOUBLE, "a huge integer");
    accepts("1.5", JSON_DOUBLE, "a fraction");
    accepts("1e3", JSON_DOUBLE, "an exponent");
    accepts("-1.25E-2", JSON_DOUBLE, "a signed exponent");
    accepts("\"\"", JSON_STRING, "an empty string");
    accepts("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", JSON_STRING, "UTF-8");
    accepts("null", JSON_NULL, "null");

    refuses("", "nothing");
    refuses("  \n", "whitespace only");
    refuses("{", "an unterminated object");
    refuses("[1,2", "an unterminated array");
    refuses("{\"a\":1,}", "a trailing comma in an object");
    refuses("[1,]", "a trailing comma in an array");
    refuses("[,1]", "a leading comma");
    refuses("{\"a\" 1}", "a missing colon");
    refuses("{a:1}", "an unquoted key");
    refuses("{1:1}", "a number as key");
    refuses("{'a':1}", "single quotes");
    refuses("{\"a\":1}x", "bytes after the value");
    refuses("{\"a\":1} {}", "two values");
    refuses("{\"a\":1}//c", "a comment");
    refuses("/* c */{}", "a leading comment");
    refuses("01", "a leading zero");
    refuses("+1", "a plus sign");
    refuses("1.", "a fraction without digits");
    refuses(".5", "a fraction without an integer part");
    refuses("1e", "an exponent without digits");
    refuses("-", "a lone minus");
    refuses("0x10", "hex");
    refuses("NaN", "NaN");
    refuses("Infinity", "Infinity");
    refuses("tru", "a cut literal");
    refuses("truex", "a literal with more letters");
    refuses("nul", "a cut null");
    refuses("True", "a capital literal");
    refuses("\"abc", "an unterminated string");
    refuses("\"abc\\\"", "an escaped closing quote");
    refuses("\"a\\", "a backslash at the end");
    refuses("\"a\tb\"", "a raw tab in a string");
    refuses("\"a\nb\"", "a raw newline in a string");
    refuses("\"\\x41\"", "an unknown escape");
    refuses("\"\\u12\"", "a short \\u escape");
    refuses("\"\\u12g4\"", "a bad hex digit");
    refuses("\"\\u0000\"", "\\u0000");
    refuses("\"\\ud800\"", "a lone high surrogate");
    refuses("\"\\ud800\\u0041\"", "a high surrogate with a non-surrogate");
    refuses("\"\\udc00\"", "a lone low surrogate");
    refuses("\"\xff\"", "a byte that is never UTF-8");
    refuses("\"\xc3\"", "a cut UTF-8 sequence");
    refuses("\"\xc0\xaf\"", "an overlong UTF-8 form");
    refuses("\"\xed\xa0\x80\"", "a UTF-8 surrogate");
    refuses("\"\xf4\x90\x80\x80\"", "UTF-8 above U+10FFFF");
    refuses("\xef\xbb\xbf{}", "a byte order mark");

    /* nesting: 8 levels accepted, 9 refused */
    for (i = 0; i < 8; i++)
        deep[i] = '[';
    for (i = 8; i < 16; i++)
        deep[i] = ']';
    deep[16] = '\0';
    accepts(deep, JSON_ARRAY, "nesting at the limit");
    memmove(deep + 1, deep, 17);
    deep[0] = '[';
    deep[17] = ']';
    deep[18] = '\0';
    refuses(deep, "nesting beyond the limit");
    {
        /* a NUL inside the given length is not whitespace */
        struct json_value *v = json_parse("{}\0", 3, 8);

        TAP_OK(!v, "refuses a NUL after the value");
        json_free(v);
    }
}

static void test_values(void)
{
    struct json_value *v;
    const struct json_value *e;
    char buf[64];

    v = parse("{\"i\":-42,\"big\":9223372036854775807,\"d\":8080.0,"
              "\"e\":1e300,\"t\":true,\"f\":false,\"n\":null,"
              "\"arr\":[1,2,3],\"dup\":1,\"dup\":2}");
    TAP_OK(v != NULL, "parses an object of every type");
    e = json_member(v, "i");
    TAP_OK(e && e->type == JSON_INT && e->u.i == -42, "an int");
    e = json_member(v, "big");
    TAP_OK(e && e->type == JSON_INT && e->u.i == INT64_MAX, "INT64_MAX");
    e = json_member(v, "d");
    TAP_OK(e && e->type == JSON_DOUBLE && e->u.d == 8080.0, "8080.0 is a double");
    e = json_member(v, "e");
    TAP_OK(e && e->type == JSON_DOUBLE && e->u.d == 1e300, "1e300");
    e = json_member(v, "t");
    TAP_OK(e && e->type == JSON_BOOL && e->u.b, "true");
    e = json_member(v, "f");
    TAP_OK(e && e->type == JSON_BOOL && !e->u.b, "false");
    e = json_member(v, "n");
    TAP_OK(e && e->type == JSON_NULL, "null");
    e = json_member(v, "arr");
    TAP_IS_INT(json_count(e), 3, "an array's length");
    TAP_OK(e && e->u.first->u.i == 1 && e->u.first->next->next->u.i == 3 &&
           !e->u.first->next->next->next, "an array's elements in order");
    e = json_member(v, "dup");
    TAP_OK(e && e->u.i == 2, "a repeated key: the last one counts");
    TAP_IS_INT(json_count(v), 10, "members counted");
    TAP_OK(!json_member(v, "missing"), "a missing member");
    TAP_OK(!json_member(json_member(v, "arr"), "i"), "an array has no members");
    TAP_OK(!json_member(NULL, "i"), "NULL has no members");
    json_free(v);

    TAP_IS_STR(str_of("{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", buf, sizeof(buf)),
               "\"\\/\b\f\n\r\t", "the standard escapes");
    TAP_IS_STR(str_of("{\"a\":\"\\u0041\\u00e9\\u20AC\"}", buf, sizeof(buf)),
               "A\xc3\xa9\xe2\x82\xac", "\\u escapes to UTF-8");
    TAP_IS_STR(str_of("{\"a\":\"\\ud83d\\ude00\"}", buf, sizeof(buf)),
               "\xf0\x9f\x98\x80", "a surrogate pair");
    TAP_IS_STR(str_of("{\"a\":\"tcp\"}", buf, sizeof(buf)), "tcp", "a plain string");
}

static void test_writer(void)
{
    struct json_writer w;
    char s[130], *out;
    size_t len = 0;
    int i, n = 0;

    json_writer_init(&w);
    out = json_writer_finish(&w, &len);
    TAP_IS_STR(out, "", "an empty writer gives an empty string");
    free(out);

    json_writer_init(&w);
    json_begin_object(&w);
    json_key(&w, "return");
    json_begin_object(&w);
    json_key(&w, "id");
    json_int(&w, 1);
    json_key(&w, "min");
    json_int(&w, INT64_MIN);
    json_key(&w, "s");
    json_str(&w, NULL);
    json_key(&w, "list");
    json_begin_array(&w);
    json_bool(&w, true);
    json_bool(&w, false);
    json_null(&w);
    json_begin_object(&w);
    json_end_object(&w);
    json_begin_array(&w);
    json_end_array(&w);
    json_str(&w, "x");
    json_end_array(&w);
    json_end_object(&w);
    json_key(&w, "after");
    json_int(&w, 0);
    json_end_object(&w);
    out = json_writer_finish(&w, &len);
    TAP_IS_STR(out, "{\"return\":{\"id\":1,\"min\":-9223372036854775808,"
                    "\"s\":null,\"list\":[true,false,null,{},[],\"x\"]},"
                    "\"after\":0}", "commas, nesting, every type");
    TAP_IS_INT(len, strlen(out), "the length returned");
    free(out);

    /* every ASCII byte, then UTF-8: escaped as json-glib 1.6 did (but 0x1f) */
    for (i = 1; i < 0x80; i++)
        s[n++] = (char)i;
    s[n++] = (char)0xc3;
    s[n++] = (char)0xa9;
    s[n] = '\0';
    json_writer_init(&w);
    json_begin_object(&w);
    json_key(&w, "k\"\\");
    json_str(&w, s);
    json_end_object(&w);
    out = json_writer_finish(&w, NULL);
    TAP_IS_STR(out, "{\"k\\\"\\\\\":\""
               "\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n"
               "\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014"
               "\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d"
               "\\u001e\\u001f !\\\"#$%&'()*+,-./0123456789:;<=>?@"
               "ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz"
               "{|}~\\u007f\xc3\xa9\"}", "string escapes");
    free(out);

    /* what the writer escapes, the parser reads back */
    out = NULL;
    {
        struct json_value *v;
        const struct json_value *e;
        size_t l = 0;

        json_writer_init(&w);
        json_begin_object(&w);
        json_key(&w, "a");
        json_str(&w, s);
        json_end_object(&w);
        out = json_writer_finish(&w, &l);
        v = json_parse(out, l, 2);
        e = json_member(v, "a");
        TAP_OK(e && e->type == JSON_STRING && !strcmp(e->u.s, s),
               "a written string parses back to itself");
        json_free(v);
        free(out);
    }
}

/* json_tree(): a parsed document written back (slirpctl prints arrays so) */
static void test_tree(void)
{
    static const char doc[] =
        "{\"a\":[1,-2,0.5,1e400,\"x\\u0001\",true,false,null],"
        "\"b\":{\"c\":{}},\"d\":[],\"e\":1E2}";
    struct json_value *v = json_parse(doc, sizeof(doc) - 1, 8);
    struct json_writer w;
    char *out;

    json_writer_init(&w);
    json_tree(&w, v);
    out = json_writer_finish(&w, NULL);
    TAP_IS_STR(out, "{\"a\":[1,-2,0.5,null,\"x\\u0001\",true,false,null],"
               "\"b\":{\"c\":{}},\"d\":[],\"e\":100}",
               "json_tree() writes a parsed document back (infinity as null)");
    free(out);
    json_free(v);
}

int main(void)
{
    tap_plan(89);
    test_grammar();
    test_values();
    test_writer();
    test_tree();
    return tap_done();
}
