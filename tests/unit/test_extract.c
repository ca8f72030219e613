/* The extractor: golden snippets (tests/golden/extract), robustness inputs, determinism. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "codeanatomy/error.h"
#include "codeanatomy/extract.h"
#include "codeanatomy/memory.h"
#include "codeanatomy/session.h"
#include "lib/extract/extract_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static void write_file(const char *rel, const void *data, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    assert_int_equal(system(cmd), 0);
    *slash = '/';
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void copy_golden(const char *name, const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/golden/extract/%s", CA_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    write_file(rel, buf, n);
}

static void fresh_dir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ca_test_extract_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
}

static void rm_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    assert_int_equal(system(cmd), 0);
}

/* First cell of a query as text ("NULL" for NULL, "<none>" without rows); static buffer. */
static const char *q1(ca_session *s, const char *sql)
{
    static char out[4096];
    ca_result *r = NULL;
    int rc = ca_session_query(s, sql, &r);
    if (rc != CA_OK) {
        snprintf(out, sizeof out, "ERROR %s", ca_error_last()->message);
        return out;
    }
    if (ca_result_next(r) != 1)
        snprintf(out, sizeof out, "<none>");
    else if (ca_result_is_null(r, 0))
        snprintf(out, sizeof out, "NULL");
    else
        snprintf(out, sizeof out, "%s", ca_result_text(r, 0));
    ca_result_free(r);
    return out;
}

static ca_session *run(ca_extract_summary *sum, bool ast, int threads)
{
    ca_session *s = NULL;
    assert_int_equal(ca_session_open(NULL, &s), CA_OK);
    ca_extract_options o = CA_EXTRACT_OPTIONS_INIT;
    o.repo_root = tmpdir;
    o.ast = ast;
    o.threads = threads;
    int rc = ca_extract_run(s, &o, sum);
    if (rc != CA_OK)
        fail_msg("extract: %s", ca_error_last()->message);
    return s;
}

#define EXPECT(s, sql, want) assert_string_equal(q1(s, sql), want)

static void test_golden_constructs(void **state)
{
    (void)state;
    fresh_dir();
    write_file("pkg/__init__.py", "", sizeof("") - 1);
    write_file("pkg/sub/__init__.py", "", sizeof("") - 1);
    copy_golden("constructs.py", "pkg/sub/mod.py");
    ca_extract_summary sum;
    ca_session *s = run(&sum, true, 2);
    assert_int_equal(sum.files, 3);
    EXPECT(s, "SELECT module_name FROM repo_files WHERE path='pkg/sub/mod.py'", "pkg.sub.mod");
    EXPECT(s, "SELECT module_name FROM repo_files WHERE path='pkg/__init__.py'", "pkg");
    EXPECT(s, "SELECT is_package_init FROM repo_files WHERE path='pkg/__init__.py'", "true");
    /* defs: spans and flags follow ast */
    EXPECT(s, "SELECT start_line||':'||start_col||'-'||end_line||':'||end_col||' '||is_async FROM defs WHERE name='outer' AND kind='function'",
           "21:0-32:66 true");
    EXPECT(s, "SELECT docstring FROM defs WHERE name='outer' AND kind='function'", "Outer doc.");
    EXPECT(s, "SELECT docstring FROM defs WHERE kind='module' AND name='pkg.sub.mod'", "Module doc.");
    EXPECT(s, "SELECT symbol FROM defs WHERE name='inner' AND kind='function'", "pkg.sub.mod.outer.<locals>.inner");
    EXPECT(s, "SELECT is_method FROM defs WHERE name='method'", "true");
    EXPECT(s, "SELECT count(*) FROM defs WHERE kind='lambda'", "1");
    EXPECT(s, "SELECT string_agg(p.name||':'||p.kind||':'||has_default, ',' ORDER BY position) FROM params p JOIN defs d ON p.function_def_id=d.def_id WHERE d.name='outer'",
           "a:positional_only:false,b:positional_or_keyword:true,args:var_positional:false,c:keyword_only:false,d:keyword_only:true,kw:var_keyword:false");
    EXPECT(s, "SELECT annotation_text FROM params WHERE name='b'", "int");
    EXPECT(s, "SELECT count(*) FROM defs WHERE kind='global_decl' AND name='CONST'", "1");
    EXPECT(s, "SELECT count(*) FROM defs WHERE kind='nonlocal_decl' AND name='x'", "1");
    /* scopes */
    EXPECT(s, "SELECT string_agg(kind, ',' ORDER BY kind) FROM (SELECT DISTINCT kind FROM scopes)",
           "class,comprehension,function,lambda,module");
    /* refs: symtable semantics */
    EXPECT(s, "SELECT resolution FROM refs WHERE name='x' AND start_line=28 AND ctx='load'", "nonlocal");
    EXPECT(s, "SELECT resolution FROM refs WHERE name='b' AND start_line=32", "free");
    EXPECT(s, "SELECT resolution FROM refs WHERE name='len'", "builtin");
    EXPECT(s, "SELECT resolution FROM refs WHERE name='CONST' AND ctx='store' AND start_line=31", "global");
    EXPECT(s, "SELECT resolution FROM refs WHERE name='undefined_name'", "global");
    EXPECT(s, "SELECT resolution FROM refs WHERE name='y' AND ctx='load' LIMIT 1", "local");
    EXPECT(s, "SELECT resolution FROM refs WHERE name='__class__'", "free");
    EXPECT(s, "SELECT resolution FROM refs WHERE name='n' AND ctx='load'", "global");
    EXPECT(s, "SELECT count(*) FROM refs WHERE name='file'", "2"); /* NFKC: ﬁle → file */
    EXPECT(s, "SELECT count(*) FROM refs r JOIN defs d ON r.binding_def_id=d.def_id WHERE r.name='x' AND d.kind='variable'", "3");
    /* imports */
    EXPECT(s, "SELECT absolute_module FROM imports WHERE name='sibling'", "pkg.sub");
    EXPECT(s, "SELECT absolute_module||' '||bound_name FROM imports WHERE name='thing'", "pkg.pkg th");
    EXPECT(s, "SELECT bound_name||' '||module FROM imports WHERE alias='osp'", "osp os.path");
    EXPECT(s, "SELECT is_type_checking FROM imports WHERE name='OrderedDict'", "true");
    EXPECT(s, "SELECT is_conditional||' '||is_type_checking FROM imports WHERE module='json'", "true false");
    /* calls, args, attributes, decorators, bases */
    EXPECT(s, "SELECT callee_name||' '||arg_count FROM calls WHERE callee_text='sum'", "sum 1");
    EXPECT(s, "SELECT count(*) FROM call_args WHERE keyword IS NOT NULL", "0");
    EXPECT(s, "SELECT root_name||' '||ctx FROM attributes WHERE attr='attr'", "self load");
    EXPECT(s, "SELECT name FROM decorators", "deco");
    EXPECT(s, "SELECT string_agg(coalesce(b.name,'-')||'/'||coalesce(keyword,'-'), ',' ORDER BY position) FROM class_bases b JOIN defs d ON b.class_def_id=d.def_id WHERE d.name='Child'",
           "Base/-,-/metaclass");
    EXPECT(s, "SELECT count(*) FROM parse_errors", "0");
    EXPECT(s, "SELECT count(*) > 100 FROM syntax_nodes", "true");
    EXPECT(s, "SELECT count(*) FROM syntax_nodes WHERE parent_id IS NULL", "3");
    /* IDs */
    EXPECT(s, "SELECT count(*) FROM defs d JOIN repo_files r USING (file_id) WHERE d.def_id <> stable_id('def', r.path, d.bstart, d.bend)", "0");
    EXPECT(s, "SELECT count(*) - count(DISTINCT ref_id) FROM refs", "0");
    ca_session_close(s);
    rm_dir();
}

/* Golden refs: tests/golden/extract/bindings.refs is CPython's verdict (tests/oracle/golden_refs.py)
 * on every name of bindings.py; the extractor must produce exactly those rows. */
static void test_golden_refs(void **state)
{
    (void)state;
    fresh_dir();
    write_file("pkg/__init__.py", "", 0);
    copy_golden("bindings.py", "pkg/bindings.py");
    ca_extract_summary sum;
    ca_session *s = run(&sum, false, 2);
    char path[512];
    snprintf(path, sizeof path, "%s/tests/golden/extract/bindings.refs", CA_SOURCE_DIR);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char want[1 << 16];
    size_t n = fread(want, 1, sizeof want - 1, f);
    want[n] = '\0';
    fclose(f);
    ca_result *r = NULL;
    assert_int_equal(ca_session_query(s,
                                      "SELECT start_line||':'||start_col||' '||name||' '||ctx||' '||resolution "
                                      "FROM refs ORDER BY start_line, start_col",
                                      &r),
                     CA_OK);
    static char got[1 << 16];
    size_t k = 0;
    while (ca_result_next(r) == 1)
        k += (size_t)snprintf(got + k, sizeof got - k, "%s\n", ca_result_text(r, 0));
    ca_result_free(r);
    assert_string_equal(got, want);
    /* every local/global/free/nonlocal name bound in the file has its binding def */
    EXPECT(s, "SELECT count(*) FROM refs WHERE resolution='local' AND binding_def_id IS NULL AND name NOT IN ('i')", "0");
    EXPECT(s, "SELECT d.kind FROM refs r JOIN defs d ON r.binding_def_id=d.def_id WHERE r.name='fh' LIMIT 1", "variable");
    EXPECT(s, "SELECT d.kind FROM refs r JOIN defs d ON r.binding_def_id=d.def_id WHERE r.name='osp' LIMIT 1", "import");
    EXPECT(s, "SELECT d.kind FROM refs r JOIN defs d ON r.binding_def_id=d.def_id WHERE r.name='p' AND r.resolution='free' LIMIT 1", "parameter");
    EXPECT(s, "SELECT count(*) FROM imports WHERE name='*' AND bound_name IS NULL AND def_id IS NULL", "1");
    EXPECT(s, "SELECT absolute_module FROM imports WHERE alias='alias_a'", "pkg.sibling");
    EXPECT(s, "SELECT string_agg(kind, ',' ORDER BY bstart) FROM scopes WHERE kind='comprehension'", "comprehension,comprehension,comprehension,comprehension,comprehension,comprehension");
    EXPECT(s, "SELECT is_async FROM defs WHERE name='agen'", "true");
    EXPECT(s, "SELECT count(*) FROM defs WHERE kind='variable' AND name IN ('err','v','others','rest','av','whole','capture','g1','g2','n','last')", "11");
    EXPECT(s, "SELECT qualname FROM defs WHERE name='Inner'", "Outer.Inner");
    EXPECT(s, "SELECT qualname FROM defs WHERE name='closure'", "scopes.<locals>.closure");
    ca_session_close(s);
    rm_dir();
}

static void test_pep695(void **state)
{
    (void)state;
    fresh_dir();
    const char *src = "def first[T: int, *Ts, **P](x: T) -> T:\n    return T\n\nclass Box[V]:\n    item: V\n\ntype Alias[K] = dict[K, int]\n";
    write_file("g.py", src, strlen(src));
    ca_extract_summary sum;
    ca_session *s = run(&sum, false, 1);
    EXPECT(s, "SELECT string_agg(name, ',' ORDER BY bstart) FROM defs WHERE kind='type_param'", "T,Ts,P,V,K");
    EXPECT(s, "SELECT count(*) FROM scopes WHERE kind='type_params'", "3");
    EXPECT(s, "SELECT kind FROM defs WHERE name='Alias'", "type_alias");
    EXPECT(s, "SELECT resolution FROM refs WHERE name='K' AND start_col > 20", "local");
    /* 3.12 semantics: annotations live in the type-parameter scope, the body sees T as free */
    EXPECT(s, "SELECT resolution FROM refs WHERE name='T' AND start_line=1 AND start_col>30 LIMIT 1", "local");
    EXPECT(s, "SELECT resolution FROM refs WHERE name='T' AND start_line=2", "free");
    EXPECT(s, "SELECT count(*) FROM parse_errors", "0");
    EXPECT(s, "SELECT ctx FROM refs WHERE name='Alias'", "store");
    ca_session_close(s);
    rm_dir();
}

static void test_robustness(void **state)
{
    (void)state;
    fresh_dir();
    write_file("syntax.py", "def f(:\n  x = = 1\nclass\n", sizeof("def f(:\n  x = = 1\nclass\n") - 1);
    write_file("bad_utf8.py", "x = '\xff\xfe'\n", sizeof("x = '\xff\xfe'\n") - 1);
    write_file("latin.py", "# -*- coding: latin-1 -*-\ns = '\xe9t\xe9'\n", sizeof("# -*- coding: latin-1 -*-\ns = '\xe9t\xe9'\n") - 1);
    write_file("nul.py", "x = 1\0\n", sizeof("x = 1\0\n") - 1);
    write_file("empty.py", "", sizeof("") - 1);
    write_file("unknown.py", "# coding: no-such-codec\nx = 1\n", sizeof("# coding: no-such-codec\nx = 1\n") - 1);
    write_file("cr.py", "a = 1\rb = 2\r\nc = 3\n", sizeof("a = 1\rb = 2\r\nc = 3\n") - 1);
    /* 1,000 levels of nesting */
    {
        size_t n = 1000;
        char *b = malloc(4 * n + 16);
        size_t k = 0;
        k += (size_t)sprintf(b, "x = ");
        for (size_t i = 0; i < n; i++)
            b[k++] = '(';
        b[k++] = '1';
        for (size_t i = 0; i < n; i++)
            b[k++] = ')';
        b[k++] = '\n';
        write_file("deep.py", b, k);
        free(b);
    }
    /* 5 MiB generated file */
    {
        size_t cap = 5u << 20, k = 0;
        char *b = malloc(cap + 128);
        for (int i = 0; k < cap; i++)
            k += (size_t)sprintf(b + k, "def f%d(a, b=%d):\n    return a + b * %d\n", i, i, i);
        write_file("big.py", b, k);
        free(b);
    }
    ca_extract_summary sum;
    ca_session *s = run(&sum, true, 2);
    assert_int_equal(sum.files, 9);
    EXPECT(s, "SELECT error FROM repo_files WHERE path='bad_utf8.py'", "not_utf8_decodable");
    EXPECT(s, "SELECT error FROM repo_files WHERE path='nul.py'", "binary");
    EXPECT(s, "SELECT error FROM repo_files WHERE path='unknown.py'", "unknown_encoding");
    EXPECT(s, "SELECT encoding||' '||coalesce(error,'ok') FROM repo_files WHERE path='latin.py'", "iso-8859-1 ok");
    EXPECT(s, "SELECT bend-bstart FROM file_lines l JOIN repo_files r USING (file_id) WHERE path='latin.py' AND line_no=2", "11");
    EXPECT(s, "SELECT line_count FROM repo_files WHERE path='empty.py'", "0");
    EXPECT(s, "SELECT parse_error_count > 0 FROM repo_files WHERE path='syntax.py'", "true");
    EXPECT(s, "SELECT count(*) > 0 FROM parse_errors e JOIN repo_files r USING (file_id) WHERE path='syntax.py'", "true");
    EXPECT(s, "SELECT string_agg(line_no||':'||bstart||'-'||bend, ',' ORDER BY line_no) FROM file_lines l JOIN repo_files r USING (file_id) WHERE path='cr.py'",
           "1:0-5,2:6-11,3:13-18");
    EXPECT(s, "SELECT start_line||':'||start_col FROM refs r JOIN repo_files f USING (file_id) WHERE path='cr.py' AND name='c'", "3:0");
    EXPECT(s, "SELECT count(*) FROM defs d JOIN repo_files r USING (file_id) WHERE path='big.py' AND kind='function' ", q1(s, "SELECT count(*) FROM defs d JOIN repo_files r USING (file_id) WHERE path='big.py' AND kind='function'"));
    assert_true(atoi(q1(s, "SELECT count(*) FROM defs d JOIN repo_files r USING (file_id) WHERE path='big.py' AND kind='function'")) > 100000);
    ca_session_close(s);
    rm_dir();
}

static void test_scan_rules(void **state)
{
    (void)state;
    assert_true(ca_extract__glob("*.py", "a/b/c.py"));
    assert_true(ca_extract__glob("a/**/c.py", "a/c.py"));
    assert_true(ca_extract__glob("a/**/c.py", "a/x/y/c.py"));
    assert_false(ca_extract__glob("a/*.py", "a/x/c.py"));
    assert_true(ca_extract__glob("build", "x/build"));
    fresh_dir();
    write_file(".gitignore", "ignored/\n*.gen.py\n!keep.gen.py\n", sizeof("ignored/\n*.gen.py\n!keep.gen.py\n") - 1);
    write_file("ignored/a.py", "x=1\n", sizeof("x=1\n") - 1);
    write_file("b.gen.py", "x=1\n", sizeof("x=1\n") - 1);
    write_file("keep.gen.py", "x=1\n", sizeof("x=1\n") - 1);
    write_file(".hidden/c.py", "x=1\n", sizeof("x=1\n") - 1);
    write_file("venv/pyvenv.cfg", "home=/usr\n", sizeof("home=/usr\n") - 1);
    write_file("venv/lib/d.py", "x=1\n", sizeof("x=1\n") - 1);
    write_file("src/pkg/__init__.py", "", sizeof("") - 1);
    write_file("src/pkg/m.py", "from .. import z\n", sizeof("from .. import z\n") - 1);
    write_file("tests/test_x.py", "x=1\n", sizeof("x=1\n") - 1);
    char root_link[600];
    snprintf(root_link, sizeof root_link, "%s/outside.py", tmpdir);
    assert_int_equal(symlink("/usr/lib/python3.11/os.py", root_link), 0);
    ca_x_scan sc;
    assert_int_equal(ca_extract__scan(tmpdir, NULL, 0, NULL, 0, &sc), CA_OK);
    char got[1024] = "";
    for (size_t i = 0; i < sc.n; i++) {
        strcat(got, sc.files[i].rel);
        strcat(got, "=");
        strcat(got, sc.files[i].module_name);
        strcat(got, ";");
    }
    assert_string_equal(got, "keep.gen.py=keep.gen;src/pkg/__init__.py=pkg;src/pkg/m.py=pkg.m;tests/test_x.py=test_x;");
    ca_extract__scan_free(&sc);
    const char *exc[] = {"tests/**"};
    assert_int_equal(ca_extract__scan(tmpdir, NULL, 0, exc, 1, &sc), CA_OK);
    assert_int_equal(sc.n, 3);
    ca_extract__scan_free(&sc);
    ca_extract_summary sum;
    ca_session *s = run(&sum, false, 1);
    EXPECT(s, "SELECT coalesce(absolute_module, 'NULL') FROM imports", "NULL"); /* deeper than the chain */
    ca_session_close(s);
    rm_dir();
}

static void test_deterministic(void **state)
{
    (void)state;
    fresh_dir();
    copy_golden("constructs.py", "a.py");
    copy_golden("constructs.py", "b/c.py");
    char out1[300], out2[300];
    snprintf(out1, sizeof out1, "%s/out1", tmpdir);
    snprintf(out2, sizeof out2, "%s/out2", tmpdir);
    const char *outs[2] = {out1, out2};
    for (int k = 0; k < 2; k++) {
        ca_session *s = NULL;
        assert_int_equal(ca_session_open(NULL, &s), CA_OK);
        ca_extract_options o = CA_EXTRACT_OPTIONS_INIT;
        o.repo_root = tmpdir;
        o.out_dir = outs[k];
        o.threads = k ? 1 : 3;
        const char *exc[] = {"out*"};
        o.exclude = exc;
        o.n_exclude = 1;
        assert_int_equal(ca_extract_run(s, &o, NULL), CA_OK);
        ca_session_close(s);
    }
    ca_session *s = NULL;
    assert_int_equal(ca_session_open(NULL, &s), CA_OK);
    for (size_t t = 0; t + 1 < CA_EXTRACT_TABLE_COUNT; t++) {
        char sql[2400];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM ((SELECT * FROM read_delta('%s/evidence/%s') EXCEPT ALL "
                 "SELECT * FROM read_delta('%s/evidence/%s')) UNION ALL (SELECT * FROM "
                 "read_delta('%s/evidence/%s') EXCEPT ALL SELECT * FROM read_delta('%s/evidence/%s')))",
                 out1, ca_extract_table_name(t), out2, ca_extract_table_name(t),
                 out2, ca_extract_table_name(t), out1, ca_extract_table_name(t));
        EXPECT(s, sql, "0");
    }
    ca_session_close(s);
    rm_dir();
}

static void test_trace(void **state)
{
    (void)state;
    fresh_dir();
    write_file("a.py", "x = 1\n", sizeof("x = 1\n") - 1);
    char trace[400];
    snprintf(trace, sizeof trace, "%s/trace.json", tmpdir);
    ca_session *s = NULL;
    assert_int_equal(ca_session_open(NULL, &s), CA_OK);
    ca_extract_options o = CA_EXTRACT_OPTIONS_INIT;
    char out[400];
    snprintf(out, sizeof out, "%s/out", tmpdir);
    o.repo_root = tmpdir;
    o.out_dir = out;
    o.exclude = (const char *[]){"out/**"};
    o.n_exclude = 1;
    o.trace_path = trace;
    assert_int_equal(ca_extract_run(s, &o, NULL), CA_OK);
    ca_session_close(s);
    FILE *f = fopen(trace, "rb");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_non_null(strstr(buf, "extract_file"));
    assert_non_null(strstr(buf, "a.py"));
    assert_non_null(strstr(buf, "emit_part"));
    assert_non_null(strstr(buf, "delta.commit")); /* the Delta commits land in the same trace */
    rm_dir();
}

static void test_summary_json(void **state)
{
    (void)state;
    ca_extract_summary sum;
    memset(&sum, 0, sizeof sum);
    sum.files = 2;
    char *j = NULL;
    assert_int_equal(ca_extract_summary_json(&sum, &j), CA_OK);
    assert_non_null(strstr(j, "\"files\":2"));
    assert_non_null(strstr(j, "\"syntax_nodes\":0"));
    ca_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_constructs),
        cmocka_unit_test(test_golden_refs),
        cmocka_unit_test(test_pep695),
        cmocka_unit_test(test_robustness),
        cmocka_unit_test(test_scan_rules),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_trace),
        cmocka_unit_test(test_summary_json),
    };
    return cmocka_run_group_tests_name("extract", tests, NULL, NULL);
}
