/* The tree-sitter wall: the bundled grammar loads on the runtime. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "codeanatomy/version.h"
#include "lib/pyparse/pyparse.h"
#include "util/err.h"

static void test_grammar_abi_is_compatible(void **state)
{
    (void)state;
    assert_int_equal(ca_pyparse_grammar_abi(), 14);
    assert_int_equal(ca_pyparse_check_abi(), CA_OK);
    assert_int_equal(ca_version_tree_sitter_python_abi(), 14);
    assert_string_equal(ca_version_tree_sitter_python(), "0.23.6");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grammar_abi_is_compatible),
    };
    return cmocka_run_group_tests_name("pyparse", tests, NULL, NULL);
}
