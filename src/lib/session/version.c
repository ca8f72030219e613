#include "codeanatomy/version.h"

#include "lib/duck/duck.h"
#include "lib/pyparse/pyparse.h"

const char *ca_version(void) { return CA_VERSION_STRING; }
const char *ca_version_duckdb(void) { return ca_duck_library_version(); }
const char *ca_version_tree_sitter(void) { return CA_TREE_SITTER_VERSION; }
const char *ca_version_tree_sitter_python(void) { return CA_TREE_SITTER_PYTHON_VERSION; }
int ca_version_tree_sitter_python_abi(void) { return ca_pyparse_grammar_abi(); }
