/* Decoding source bytes to UTF-8 text: BOM, PEP 263 coding cookies (via iconv), validation. */
#include "lib/extract/extract_int.h"

#include "util/alloc.h"
#include "util/text.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>

/* The cookie of one line: "^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)". Returns its length. */
static size_t line_cookie(const char *s, size_t n, const char **name)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\f'))
        i++;
    if (i >= n || s[i] != '#')
        return 0;
    for (; i + 7 <= n; i++) {
        if (!memcmp(s + i, "coding", 6) && (s[i + 6] == ':' || s[i + 6] == '=')) {
            size_t j = i + 7;
            while (j < n && (s[j] == ' ' || s[j] == '\t'))
                j++;
            size_t k = j;
            while (k < n && (isalnum((unsigned char)s[k]) || s[k] == '-' || s[k] == '_' || s[k] == '.'))
                k++;
            if (k > j) {
                *name = s + j;
                return k - j;
            }
        }
    }
    return 0;
}

/* Whether a line is blank or a comment only (the cookie may be on line 2 only then). */
static bool blank_or_comment(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\f' || s[i] == '\r'))
        i++;
    return i >= n || s[i] == '#';
}

/* Python codec name → normalized name ("latin-1" → "iso-8859-1") and iconv name. */
static bool map_codec(const char *name, size_t n, char *norm, size_t norm_cap, char *iconv_name,
                      size_t icap)
{
    if (n >= norm_cap || n >= icap)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = (char)tolower((unsigned char)name[i]);
        norm[i] = c == '_' ? '-' : c;
    }
    norm[n] = '\0';
    static const struct {
        const char *py, *canon, *iconv;
    } aliases[] = {
        {"utf-8", "utf-8", "UTF-8"}, {"utf8", "utf-8", "UTF-8"}, {"utf-8-sig", "utf-8", "UTF-8"},
        {"latin-1", "iso-8859-1", "ISO-8859-1"}, {"latin1", "iso-8859-1", "ISO-8859-1"},
        {"iso-8859-1", "iso-8859-1", "ISO-8859-1"}, {"iso8859-1", "iso-8859-1", "ISO-8859-1"},
        {"l1", "iso-8859-1", "ISO-8859-1"}, {"iso-latin-1", "iso-8859-1", "ISO-8859-1"},
        {"8859", "iso-8859-1", "ISO-8859-1"}, {"cp819", "iso-8859-1", "ISO-8859-1"},
        {"ascii", "ascii", "ASCII"}, {"us-ascii", "ascii", "ASCII"},
        {"euc-jp", "euc-jp", "EUC-JP"}, {"shift-jis", "shift-jis", "SHIFT_JIS"},
        {"sjis", "shift-jis", "SHIFT_JIS"}, {"cp932", "cp932", "CP932"},
        {"latin-9", "iso-8859-15", "ISO-8859-15"}, {"iso-8859-15", "iso-8859-15", "ISO-8859-15"},
        {"koi8-r", "koi8-r", "KOI8-R"}, {"gbk", "gbk", "GBK"}, {"gb2312", "gb2312", "GB2312"},
        {"big5", "big5", "BIG5"}, {"euc-kr", "euc-kr", "EUC-KR"},
    };
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        if (!strcmp(norm, aliases[i].py)) {
            snprintf(norm, norm_cap, "%s", aliases[i].canon);
            snprintf(iconv_name, icap, "%s", aliases[i].iconv);
            return true;
        }
    }
    /* cpNNNN, iso-8859-N, windows-NNNN, mac-roman …: iconv knows them under their upper-case
     * names; unknown names fail at iconv_open. */
    for (size_t i = 0; i <= n; i++)
        iconv_name[i] = (char)toupper((unsigned char)norm[i]);
    if (!strncmp(norm, "iso8859-", 8)) {
        snprintf(iconv_name, icap, "ISO-8859-%s", norm + 8);
    }
    return true;
}

static int transcode(const char *in, size_t n, const char *from, char **out, size_t *out_len)
{
    iconv_t cd = iconv_open("UTF-8", from);
    if (cd == (iconv_t)-1)
        return SKIP_UNKNOWN_ENCODING;
    size_t cap = n * 4 + 16;
    char *buf = ca__malloc(cap);
    if (!buf) {
        iconv_close(cd);
        return SKIP_UNREADABLE;
    }
    char *ip = (char *)in, *op = buf;
    size_t il = n, ol = cap - 1;
    size_t r = iconv(cd, &ip, &il, &op, &ol);
    int res = -1;
    if (r == (size_t)-1 || il != 0)
        res = SKIP_NOT_UTF8;
    else if (iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1)
        res = SKIP_NOT_UTF8;
    iconv_close(cd);
    if (res >= 0) {
        ca__free(buf);
        return res;
    }
    *op = '\0';
    *out = buf;
    *out_len = (size_t)(op - buf);
    return -1;
}

void ca_extract__decode(const char *raw, size_t n, ca_x_decoded *out)
{
    memset(out, 0, sizeof *out);
    out->skip = -1;
    snprintf(out->encoding, sizeof out->encoding, "utf-8");
    if (memchr(raw, '\0', n)) {
        out->skip = SKIP_BINARY;
        return;
    }
    bool bom = n >= 3 && !memcmp(raw, "\xEF\xBB\xBF", 3);
    const char *s = bom ? raw + 3 : raw;
    size_t len = bom ? n - 3 : n;
    /* the cookie: line 1, or line 2 when line 1 is blank or a comment */
    const char *cookie = NULL;
    size_t clen = 0;
    const char *l1e = memchr(s, '\n', len);
    size_t l1 = l1e ? (size_t)(l1e - s) : len;
    clen = line_cookie(s, l1, &cookie);
    if (!clen && l1e && blank_or_comment(s, l1)) {
        const char *l2 = l1e + 1;
        size_t rest = len - l1 - 1;
        const char *l2e = memchr(l2, '\n', rest);
        clen = line_cookie(l2, l2e ? (size_t)(l2e - l2) : rest, &cookie);
    }
    if (clen) {
        char norm[40], icv[48];
        if (!map_codec(cookie, clen, norm, sizeof norm, icv, sizeof icv)) {
            out->skip = SKIP_UNKNOWN_ENCODING;
            return;
        }
        snprintf(out->encoding, sizeof out->encoding, "%s", norm);
        if (strcmp(norm, "utf-8") != 0) {
            if (bom) { /* a BOM with a non-UTF-8 cookie is an error in CPython */
                out->skip = SKIP_NOT_UTF8;
                return;
            }
            int r = transcode(s, len, icv, &out->owned, &out->len);
            if (r >= 0) {
                out->skip = r;
                return;
            }
            out->text = out->owned;
            if (!ca_text_utf8_valid(out->text, out->len, NULL))
                out->skip = SKIP_NOT_UTF8;
            return;
        }
    }
    if (!ca_text_utf8_valid(s, len, NULL)) {
        out->skip = SKIP_NOT_UTF8;
        return;
    }
    out->text = s;
    out->len = len;
}
