/* The tree-sitter wall: the bundled grammar loads on the runtime; the flat tree, points, error
 * and missing nodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "codeanatomy/version.h"
#include "lib/pyparse/pyparse.h"
#include "util/alloc.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

static void test_grammar_abi_is_compatible(void **state)
{
    (void)state;
    assert_int_equal(ca_pyparse_grammar_abi(), 14);
    assert_int_equal(ca_pyparse_check_abi(), CA_OK);
    assert_int_equal(ca_version_tree_sitter_python_abi(), 14);
    assert_string_equal(ca_version_tree_sitter_python(), "0.23.6");
}

static int32_t find(const ca_py_tree *t, ca_py_kind k, int nth)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->nodes[i].kind == k && (t->nodes[i].flags & CA_PY_NAMED) && nth-- == 0)
            return (int32_t)i;
    return -1;
}

static void test_flat_tree_and_points(void **state)
{
    (void)state;
    ca_pyparse *p = NULL;
    assert_int_equal(ca_pyparse_new(&p), CA_OK);
    const char *src = "é = 1\ndef f(a):\n    return a  # c\n";
    ca_py_tree t;
    assert_int_equal(ca_pyparse_parse(p, src, strlen(src), &t), CA_OK);
    assert_true(t.n > 5);
    assert_int_equal(t.nodes[0].kind, CA_PY_MODULE);
    assert_int_equal(t.nodes[0].parent, CA_PY_NONE);
    /* the identifier é: 2 bytes, columns are byte offsets */
    int32_t id = find(&t, CA_PY_IDENTIFIER, 0);
    assert_true(id > 0);
    assert_int_equal(t.nodes[id].bstart, 0);
    assert_int_equal(t.nodes[id].bend, 2);
    assert_int_equal(t.nodes[id].ecol, 2);
    int32_t fn = find(&t, CA_PY_FUNCTION_DEFINITION, 0);
    assert_true(fn > 0);
    assert_int_equal(t.nodes[fn].srow, 1);
    assert_int_equal(t.nodes[fn].scol, 0);
    /* fields and links */
    int32_t name = t.nodes[fn].first_child;
    while (name != CA_PY_NONE && t.nodes[name].field != CA_PYF_NAME)
        name = t.nodes[name].next_sibling;
    assert_true(name != CA_PY_NONE);
    assert_int_equal(t.nodes[name].parent, fn);
    assert_string_equal(ca_pyparse_symbol_name(t.nodes[name].symbol), "identifier");
    assert_string_equal(ca_pyparse_field_name(CA_PYF_NAME), "name");
    assert_string_equal(ca_pyparse_kind_name(CA_PY_CALL), "call");
    int32_t cm = find(&t, CA_PY_COMMENT, 0);
    assert_true(cm > 0);
    assert_true(t.nodes[cm].flags & CA_PY_EXTRA);
    char *sx = ca_pyparse_sexp(p);
    assert_non_null(sx);
    assert_non_null(strstr(sx, "function_definition"));
    ca__free(sx);
    ca_pyparse_free(p);
}

static void test_errors_and_missing(void **state)
{
    (void)state;
    ca_pyparse *p = NULL;
    assert_int_equal(ca_pyparse_new(&p), CA_OK);
    ca_py_tree t;
    const char *bad = "def f(:\n    x = = 1\n";
    assert_int_equal(ca_pyparse_parse(p, bad, strlen(bad), &t), CA_OK);
    size_t errors = 0;
    for (size_t i = 0; i < t.n; i++)
        errors += (t.nodes[i].flags & CA_PY_IS_ERROR) != 0;
    assert_true(errors > 0);
    const char *missing = "f(1\n";
    assert_int_equal(ca_pyparse_parse(p, missing, strlen(missing), &t), CA_OK);
    size_t miss = 0, err = 0;
    for (size_t i = 0; i < t.n; i++) {
        miss += (t.nodes[i].flags & CA_PY_IS_MISSING) != 0;
        err += (t.nodes[i].flags & CA_PY_IS_ERROR) != 0;
    }
    assert_true(miss + err > 0);
    /* NUL bytes, empty input and deep nesting do not crash */
    assert_int_equal(ca_pyparse_parse(p, "x = 1\0\n", 7, &t), CA_OK);
    assert_int_equal(ca_pyparse_parse(p, "", 0, &t), CA_OK);
    assert_int_equal(t.n, 1);
    size_t n = 1000;
    char *deep = malloc(2 * n + 8);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = '\n';
    assert_int_equal(ca_pyparse_parse(p, deep, 2 * n + 1, &t), CA_OK);
    assert_true(t.max_depth >= n);
    free(deep);
    ca_pyparse_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grammar_abi_is_compatible),
        cmocka_unit_test(test_flat_tree_and_points),
        cmocka_unit_test(test_errors_and_missing),
    };
    return cmocka_run_group_tests_name("pyparse", tests, NULL, NULL);
}
