/* Library and engine versions. All functions are thread-safe and return static strings. */
#ifndef CODEANATOMY_VERSION_H
#define CODEANATOMY_VERSION_H

#include "codeanatomy/export.h"

CA_BEGIN_DECLS

#define CA_VERSION_MAJOR 0
#define CA_VERSION_MINOR 1
#define CA_VERSION_PATCH 0
#define CA_VERSION_STRING "0.1.0"

/* The library's version, "MAJOR.MINOR.PATCH" (may differ from CA_VERSION_STRING when a program
 * runs against a newer shared library). */
CA_EXTERN const char *ca_version(void);

/* Version of the linked DuckDB library, e.g. "v1.4.4". */
CA_EXTERN const char *ca_version_duckdb(void);

/* Version of the tree-sitter runtime the library was built against (Debian package version,
 * captured at configure time, e.g. "0.20.7-1"). */
CA_EXTERN const char *ca_version_tree_sitter(void);

/* Version of the bundled tree-sitter-python grammar (npm version, e.g. "0.23.6"). */
CA_EXTERN const char *ca_version_tree_sitter_python(void);

/* ABI version of the tree-sitter-python grammar (ts_language_version), e.g. 14. */
CA_EXTERN int ca_version_tree_sitter_python_abi(void);

CA_END_DECLS

#endif
