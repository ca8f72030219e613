#include "lib/pyparse/pyparse.h"

#include "util/err.h"

#include <tree_sitter/api.h>

const TSLanguage *tree_sitter_python(void);

int ca_pyparse_grammar_abi(void) { return (int)ts_language_version(tree_sitter_python()); }

int ca_pyparse_check_abi(void)
{
    int abi = ca_pyparse_grammar_abi();
    if (abi < TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION || abi > TREE_SITTER_LANGUAGE_VERSION)
        return ca_err_set(CA_E_PARSE, "pyparse",
                          "pyparse: grammar ABI %d is outside the runtime's range %d..%d", abi,
                          TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION, TREE_SITTER_LANGUAGE_VERSION);
    return CA_OK;
}
