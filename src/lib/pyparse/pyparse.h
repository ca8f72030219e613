/*
 * The tree-sitter wall: the only module that includes tree_sitter/api.h.
 *
 * A ca_pyparse is one tree-sitter parser over the bundled tree-sitter-python grammar; it is used
 * by one thread at a time (make one per worker thread). ca_pyparse_parse turns the tree into a
 * flat array of ca_py_node (pre-order, parent/first-child/next-sibling links), owned by the
 * parser and valid until its next parse or free, so callers never see a tree-sitter type.
 *
 * Points: rows are 0-based as tree-sitter reports them (add 1 for CPython's lineno); columns are
 * 0-based UTF-8 byte offsets within the line. Lines break at '\n' only: callers that must honour
 * a lone '\r' (CPython does) parse a copy with '\n' in its place (same byte offsets).
 *
 * The array keeps every named node and the anonymous tokens that have a ca_py_kind (keywords
 * and operators the extractor looks at); other anonymous tokens are dropped.
 */
#ifndef CA_PYPARSE_H
#define CA_PYPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ABI version of the bundled tree-sitter-python grammar (ts_language_version). */
int ca_pyparse_grammar_abi(void);

/* CA_OK when the runtime can load the grammar (ABI within the runtime's supported range),
 * else CA_E_PARSE naming both versions. */
int ca_pyparse_check_abi(void);

/* Node kinds the extractor distinguishes: X(enum suffix, tree-sitter type name). Named and
 * anonymous nodes of the same type name share a kind; CA_PY_OTHER is every other type. */
#define CA_PY_KINDS(X)                                                                          \
    X(MODULE, "module") X(IDENTIFIER, "identifier") X(COMMENT, "comment") X(BLOCK, "block")     \
    X(FUNCTION_DEFINITION, "function_definition") X(CLASS_DEFINITION, "class_definition")       \
    X(DECORATED_DEFINITION, "decorated_definition") X(DECORATOR, "decorator")                   \
    X(PARAMETERS, "parameters") X(LAMBDA_PARAMETERS, "lambda_parameters")                       \
    X(TYPED_PARAMETER, "typed_parameter") X(DEFAULT_PARAMETER, "default_parameter")             \
    X(TYPED_DEFAULT_PARAMETER, "typed_default_parameter")                                       \
    X(LIST_SPLAT_PATTERN, "list_splat_pattern")                                                 \
    X(DICTIONARY_SPLAT_PATTERN, "dictionary_splat_pattern")                                     \
    X(POSITIONAL_SEPARATOR, "positional_separator") X(KEYWORD_SEPARATOR, "keyword_separator")   \
    X(TUPLE_PATTERN, "tuple_pattern") X(LIST_PATTERN, "list_pattern") X(LAMBDA, "lambda")        \
    X(EXPRESSION_STATEMENT, "expression_statement") X(ASSIGNMENT, "assignment")                 \
    X(AUGMENTED_ASSIGNMENT, "augmented_assignment") X(NAMED_EXPRESSION, "named_expression")     \
    X(FOR_STATEMENT, "for_statement") X(WITH_STATEMENT, "with_statement")                       \
    X(WITH_CLAUSE, "with_clause") X(WITH_ITEM, "with_item") X(AS_PATTERN, "as_pattern")          \
    X(AS_PATTERN_TARGET, "as_pattern_target") X(TRY_STATEMENT, "try_statement")                 \
    X(EXCEPT_CLAUSE, "except_clause") X(EXCEPT_GROUP_CLAUSE, "except_group_clause")             \
    X(IF_STATEMENT, "if_statement") X(ELIF_CLAUSE, "elif_clause") X(ELSE_CLAUSE, "else_clause")  \
    X(WHILE_STATEMENT, "while_statement") X(GLOBAL_STATEMENT, "global_statement")               \
    X(NONLOCAL_STATEMENT, "nonlocal_statement") X(IMPORT_STATEMENT, "import_statement")         \
    X(IMPORT_FROM_STATEMENT, "import_from_statement")                                           \
    X(FUTURE_IMPORT_STATEMENT, "future_import_statement") X(ALIASED_IMPORT, "aliased_import")   \
    X(DOTTED_NAME, "dotted_name") X(RELATIVE_IMPORT, "relative_import")                         \
    X(IMPORT_PREFIX, "import_prefix") X(WILDCARD_IMPORT, "wildcard_import") X(CALL, "call")      \
    X(ARGUMENT_LIST, "argument_list") X(KEYWORD_ARGUMENT, "keyword_argument")                   \
    X(LIST_SPLAT, "list_splat") X(DICTIONARY_SPLAT, "dictionary_splat")                         \
    X(PARENTHESIZED_LIST_SPLAT, "parenthesized_list_splat") X(ATTRIBUTE, "attribute")           \
    X(SUBSCRIPT, "subscript") X(LIST_COMPREHENSION, "list_comprehension")                       \
    X(SET_COMPREHENSION, "set_comprehension") X(DICTIONARY_COMPREHENSION, "dictionary_comprehension") \
    X(GENERATOR_EXPRESSION, "generator_expression") X(FOR_IN_CLAUSE, "for_in_clause")           \
    X(IF_CLAUSE, "if_clause") X(PATTERN_LIST, "pattern_list") X(TUPLE, "tuple") X(LIST, "list")   \
    X(PARENTHESIZED_EXPRESSION, "parenthesized_expression") X(DELETE_STATEMENT, "delete_statement") \
    X(MATCH_STATEMENT, "match_statement") X(CASE_CLAUSE, "case_clause")                         \
    X(CASE_PATTERN, "case_pattern") X(CLASS_PATTERN, "class_pattern")                           \
    X(KEYWORD_PATTERN, "keyword_pattern") X(SPLAT_PATTERN, "splat_pattern")                     \
    X(DICT_PATTERN, "dict_pattern") X(UNION_PATTERN, "union_pattern")                           \
    X(COMPLEX_PATTERN, "complex_pattern") X(STRING, "string") X(CONCATENATED_STRING, "concatenated_string") \
    X(STRING_CONTENT, "string_content") X(ESCAPE_SEQUENCE, "escape_sequence")                   \
    X(INTERPOLATION, "interpolation") X(STRING_START, "string_start")                           \
    X(FORMAT_SPECIFIER, "format_specifier")                                                     \
    X(TYPE, "type") X(TYPE_PARAMETER, "type_parameter") X(TYPE_ALIAS_STATEMENT, "type_alias_statement") \
    X(PRINT_STATEMENT, "print_statement") X(EXEC_STATEMENT, "exec_statement")                   \
    X(KEYWORD_ASYNC, "async") X(KEYWORD_AWAIT, "await") X(STAR, "*") X(DOUBLE_STAR, "**")         \
    X(SLASH, "/") X(COMMA, ",") X(DOT, ".") X(PAIR, "pair") X(INTEGER, "integer") X(FLOAT, "float") \
    X(TRUE, "true") X(FALSE, "false") X(NONE, "none") X(ELLIPSIS, "ellipsis")                    \
    X(KEYWORD_IF, "if") X(ERROR, "ERROR") X(YIELD, "yield") X(RETURN_STATEMENT, "return_statement") \
    X(SPLAT_TYPE, "splat_type") X(CONSTRAINED_TYPE, "constrained_type") X(MEMBER_TYPE, "member_type") \
    X(GENERIC_TYPE, "generic_type") X(UNION_TYPE, "union_type")                                \
    X(EXPRESSION_LIST, "expression_list") X(STRING_END, "string_end") X(PASS, "pass_statement") X(KEYWORD_PRINT, "print")

#define CA__PY_KIND_ENUM(e, s) CA_PY_##e,
typedef enum ca_py_kind { CA_PY_OTHER = 0, CA_PY_KINDS(CA__PY_KIND_ENUM) CA_PY_KIND_COUNT } ca_py_kind;
#undef CA__PY_KIND_ENUM

/* Field names the extractor reads (same X-macro scheme). */
#define CA_PY_FIELDS(X)                                                                         \
    X(ALIAS, "alias") X(ALTERNATIVE, "alternative") X(ARGUMENT, "argument")                     \
    X(ARGUMENTS, "arguments") X(ATTRIBUTE, "attribute") X(BODY, "body") X(CONDITION, "condition") \
    X(CONSEQUENCE, "consequence") X(DEFINITION, "definition") X(FUNCTION, "function")           \
    X(GUARD, "guard") X(KEY, "key") X(LEFT, "left") X(MODULE_NAME, "module_name") X(NAME, "name") \
    X(OBJECT, "object") X(OPERATOR, "operator") X(PARAMETERS, "parameters")                     \
    X(RETURN_TYPE, "return_type") X(RIGHT, "right") X(SUBJECT, "subject")                       \
    X(SUBSCRIPT, "subscript") X(SUPERCLASSES, "superclasses") X(TYPE, "type")                   \
    X(TYPE_PARAMETERS, "type_parameters") X(VALUE, "value") X(CAUSE, "cause")                   \
    X(EXPRESSION, "expression") X(CODE, "code")

#define CA__PY_FIELD_ENUM(e, s) CA_PYF_##e,
typedef enum ca_py_field { CA_PYF_NONE = 0, CA_PY_FIELDS(CA__PY_FIELD_ENUM) CA_PYF_COUNT } ca_py_field;
#undef CA__PY_FIELD_ENUM

enum {
    CA_PY_NAMED = 1u,   /* a named node (else an anonymous token) */
    CA_PY_IS_ERROR = 2u,  /* an ERROR node */
    CA_PY_IS_MISSING = 4u, /* a MISSING node inserted by error recovery (zero width) */
    CA_PY_EXTRA = 8u,   /* an extra (comment, line continuation) */
};

#define CA_PY_NONE (-1)

typedef struct ca_py_node {
    uint32_t bstart, bend;   /* half-open byte span */
    uint32_t srow, scol;     /* start point (0-based row, byte column) */
    uint32_t erow, ecol;     /* end point */
    int32_t parent;          /* index, CA_PY_NONE for the root */
    int32_t first_child;     /* kept children only; CA_PY_NONE if none */
    int32_t next_sibling;
    int32_t last_child;
    uint16_t kind;           /* ca_py_kind */
    uint16_t field;          /* ca_py_field of this node within its parent */
    uint16_t symbol;         /* tree-sitter symbol (ca_pyparse_symbol_name) */
    uint16_t flags;          /* CA_PY_* bits */
} ca_py_node;

typedef struct ca_py_tree {
    const ca_py_node *nodes; /* nodes[0] is the root (module) */
    size_t n;
    size_t max_depth;        /* deepest kept node (root = 0) */
} ca_py_tree;

typedef struct ca_pyparse ca_pyparse;

/* A parser (owned: ca_pyparse_free). CA_E_PARSE when the grammar does not load, CA_E_NOMEM. */
int ca_pyparse_new(ca_pyparse **out);
void ca_pyparse_free(ca_pyparse *p); /* accepts NULL */

/* Parses text[0..len) (may contain NUL bytes). *out is borrowed from p, valid until the next
 * parse or ca_pyparse_free. CA_E_PARSE (tree-sitter gave up), CA_E_NOMEM, CA_E_OVERFLOW (over
 * 4 GiB). Never fails on bad syntax: that yields ERROR / MISSING nodes. */
int ca_pyparse_parse(ca_pyparse *p, const char *text, size_t len, ca_py_tree *out);

/* The tree-sitter type name of a symbol ("identifier", "ERROR"); static, thread-safe. */
const char *ca_pyparse_symbol_name(uint16_t symbol);
/* Type name of a kind ("" for CA_PY_OTHER) and of a field (NULL for CA_PYF_NONE). */
const char *ca_pyparse_kind_name(ca_py_kind kind);
const char *ca_pyparse_field_name(ca_py_field field);

/* The S-expression of the last parse's tree (debugging and tests); ca__free. NULL on failure. */
char *ca_pyparse_sexp(ca_pyparse *p);

#endif
