/* The tree-sitter wall: the only module that includes tree_sitter/api.h. */
#ifndef CA_PYPARSE_H
#define CA_PYPARSE_H

/* ABI version of the bundled tree-sitter-python grammar (ts_language_version). */
int ca_pyparse_grammar_abi(void);

/* CA_OK when the runtime can load the grammar (ABI within the runtime's supported range),
 * else CA_E_PARSE naming both versions. */
int ca_pyparse_check_abi(void);

#endif
