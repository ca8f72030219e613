/*
 * The registry: CA_FUNCTIONS, the single source of truth for every library entry (functions.md
 * §8.1), in catalogue order. Registration, the registry/docs table functions, the snapshot, the
 * CLI and the tests all read this table; macro definitions are §5 byte for byte.
 */
#include "lib/functions/functions_int.h"

#include <string.h>

#define ARGS(a) (a), (sizeof(a) / sizeof((a)[0]))
#define NOARGS NULL, 0

static const char *const NO_ALIASES[] = {NULL};

/* ---- hashing --------------------------------------------------------------------------- */

static const char *const AL_HASH64[] = {"hash64", NULL};
static const char *const AL_HASH128[] = {"hash128", NULL};
static const char *const AL_PREFIXED[] = {"prefixed_hash", NULL};
static const char *const AL_STABLE_ID[] = {"stable_id_parts", NULL};

static const ca_fn_arg A_VALUE_TEXT[] = {{"value", "VARCHAR", "text to hash, UTF-8 bytes as stored"}};
static const ca_fn_arg A_PREFIXED[] = {
    {"prefix", "VARCHAR", "prefix written before ':', not hashed"},
    {"value", "VARCHAR", "text to hash"}};
static const ca_fn_arg A_STABLE_ID[] = {
    {"prefix", "VARCHAR", "ID prefix written before ':', not hashed; NULL gives NULL"},
    {"part", "ANY", "1 to 63 parts: VARCHAR, BOOLEAN, integer, DECIMAL, FLOAT or DOUBLE; NULL hashes as __NULL__"}};
static const ca_fn_arg A_SPAN_ID[] = {
    {"prefix", "VARCHAR", "ID prefix"},
    {"path", "VARCHAR", "file path"},
    {"bstart", "BIGINT", "start byte"},
    {"bend", "BIGINT", "end byte"},
    {"kind", "VARCHAR", "optional kind part"}};

static const char *const E_HASH64[] = {
    "stable_hash64: argument value is not valid UTF-8 (offset <k>)",
    "stable_hash64: internal error: libb2 <detail>", NULL};
static const char *const E_HASH128[] = {
    "stable_hash128: argument value is not valid UTF-8 (offset <k>)",
    "stable_hash128: internal error: libb2 <detail>", NULL};
static const char *const E_PREFIXED[] = {
    "prefixed_hash64: argument <prefix|value> is not valid UTF-8 (offset <k>)",
    "prefixed_hash64: internal error: libb2 <detail>", NULL};
static const char *const E_STABLE_ID[] = {
    "stable_id: argument <arg> is not valid UTF-8 (offset <k>)",
    "stable_id: expected 2 to 64 arguments (prefix and 1 to 63 parts), got <n>",
    "stable_id: argument <i> has unsupported type <T>; use VARCHAR, BOOLEAN, an integer type, DECIMAL, FLOAT or DOUBLE",
    "stable_id: internal error: libb2 <detail>", NULL};
static const char *const E_NONE[] = {NULL};

/* ---- spans ----------------------------------------------------------------------------- */

static const ca_fn_arg A_SPAN_MAKE[] = {
    {"bstart", "BIGINT", "start byte"},
    {"bend", "BIGINT", "end byte"},
    {"line_base", "INTEGER", "line numbering base (default 0)"},
    {"col_unit", "VARCHAR", "column unit, not normalized (default 'byte')"},
    {"end_exclusive", "BOOLEAN", "whether bend is exclusive (default true)"}};
static const ca_fn_arg A_SPAN[] = {{"span", "SPAN", "a span struct"}};
static const ca_fn_arg A_SPAN_LEN[] = {
    {"span", "SPAN", "a span struct (first form)"},
    {"bstart", "BIGINT", "start byte (second form)"},
    {"bend", "BIGINT", "end byte (second form)"}};
static const ca_fn_arg A_SPAN_PAIR[] = {
    {"a", "SPAN", "first span (struct form)"},
    {"b", "SPAN", "second span (struct form)"},
    {"a_start", "BIGINT", "start of a (integer form)"},
    {"a_end", "BIGINT", "end of a (integer form)"},
    {"b_start", "BIGINT", "start of b (integer form)"},
    {"b_end", "BIGINT", "end of b (integer form)"}};
static const ca_fn_arg A_ALIGN[] = {
    {"l_start", "BIGINT", "left start"},
    {"l_end", "BIGINT", "left end"},
    {"r_start", "BIGINT", "right start"},
    {"r_end", "BIGINT", "right end"}};
static const char *const E_ALIGN[] = {
    "interval_align_score: <left|right> interval has end <e> < start <s>", NULL};
static const char *const E_SPAN_MACRO[] = {"Could not find key \"end_exclusive\" in struct (a SPAN form given another struct)", NULL};

/* ---- positions ------------------------------------------------------------------------- */

static const ca_fn_arg A_ENCODING[] = {{"encoding", "VARCHAR", "UTF8, UTF16 or UTF32 (case, '-', '_' and spaces ignored; 1/2/3 too)"}};
static const ca_fn_arg A_COL_TO_BYTE[] = {
    {"line_text", "VARCHAR", "the line's text"},
    {"col", "BIGINT", "column in unit; past the end clamps"},
    {"unit", "VARCHAR", "BYTE, UTF8, UTF16 or UTF32"}};
static const ca_fn_arg A_BYTE_TO_COL[] = {
    {"line_text", "VARCHAR", "the line's text"},
    {"byte_col", "BIGINT", "byte offset within the line; past the end clamps"},
    {"unit", "VARCHAR", "BYTE, UTF8, UTF16 or UTF32"}};
static const ca_fn_arg A_CANON[] = {
    {"start_line_start_byte", "BIGINT", "byte offset of the start line"},
    {"start_line_text", "VARCHAR", "text of the start line"},
    {"start_col", "BIGINT", "start column in unit"},
    {"end_line_start_byte", "BIGINT", "byte offset of the end line"},
    {"end_line_text", "VARCHAR", "text of the end line"},
    {"end_col", "BIGINT", "end column in unit"},
    {"unit", "VARCHAR", "BYTE, UTF8, UTF16 or UTF32"}};
static const char *const E_ENCODING[] = {
    "position_encoding_norm: argument encoding is not valid UTF-8 (offset <k>)",
    "position_encoding_norm: encoding '<v>' is not one of UTF8, UTF16, UTF32", NULL};
static const char *const E_COL_TO_BYTE[] = {
    "col_to_byte: argument <line_text|unit> is not valid UTF-8 (offset <k>)",
    "col_to_byte: unit '<v>' is not one of BYTE, UTF8, UTF16, UTF32",
    "col_to_byte: col <v> is negative",
    "col_to_byte: col <v> splits a UTF-8 sequence",
    "col_to_byte: col <v> splits a UTF-16 surrogate pair", NULL};
static const char *const E_BYTE_TO_COL[] = {
    "byte_to_col: argument <line_text|unit> is not valid UTF-8 (offset <k>)",
    "byte_to_col: unit '<v>' is not one of BYTE, UTF8, UTF16, UTF32",
    "byte_to_col: byte_col <v> is negative",
    "byte_to_col: byte_col <v> splits a UTF-8 sequence", NULL};
static const char *const E_CANON[] = {
    "canonicalize_byte_span: argument <arg> is not valid UTF-8 (offset <k>)",
    "canonicalize_byte_span: unit '<v>' is not one of BYTE, UTF8, UTF16, UTF32",
    "canonicalize_byte_span: <start_line_start_byte|end_line_start_byte|start_col|end_col> <v> is negative",
    "canonicalize_byte_span: <start_col|end_col> <v> splits a UTF-8 sequence",
    "canonicalize_byte_span: <start_col|end_col> <v> splits a UTF-16 surrogate pair",
    "canonicalize_byte_span: <bstart|bend> overflows BIGINT", NULL};

/* ---- text ------------------------------------------------------------------------------ */

static const char *const AL_NORMALIZE[] = {"normalize_utf8", NULL};
static const char *const AL_BLANK[] = {"null_if_blank", NULL};
static const char *const AL_QNAME[] = {"qualname_normalize", NULL};

static const ca_fn_arg A_NORMALIZE[] = {
    {"value", "VARCHAR", "text to normalize"},
    {"form", "VARCHAR", "NFC, NFD, NFKC (default) or NFKD; constant"},
    {"casefold", "BOOLEAN", "apply full Unicode case folding (default false); constant"},
    {"collapse_ws", "BOOLEAN", "trim White_Space and collapse runs to one space (default false); constant"}};
static const ca_fn_arg A_TEXT_VALUE[] = {{"value", "VARCHAR", "text"}};
static const ca_fn_arg A_TYPE_NAME[] = {{"type_name", "VARCHAR", "ID prefix or type name"}};
static const char *const E_NORMALIZE[] = {
    "utf8_normalize: argument <value|form> is not valid UTF-8 (offset <k>)",
    "utf8_normalize: form '<v>' is not one of NFC, NFD, NFKC, NFKD",
    "utf8_normalize: argument <arg> must be a constant",
    "utf8_normalize: argument value of <n> bytes exceeds the 16777216-byte limit",
    "utf8_normalize: internal error: utf8proc <detail>", NULL};
static const char *const E_BLANK[] = {
    "utf8_null_if_blank: argument value is not valid UTF-8 (offset <k>)", NULL};
static const char *const E_QNAME[] = {
    "qname_normalize: argument value is not valid UTF-8 (offset <k>)",
    "qname_normalize: argument value of <n> bytes exceeds the 16777216-byte limit",
    "qname_normalize: internal error: utf8proc <detail>", NULL};

/* ---- collections, cdf, aggregates ------------------------------------------------------ */

static const ca_fn_arg A_LIST[] = {{"list", "T[]", "a list"}};
static const ca_fn_arg A_MAP_GET[] = {
    {"map", "MAP(K, V)", "a map"},
    {"key", "K", "the key"},
    {"default_value", "V", "value when the map or key is NULL, the key absent or its value NULL"}};
static const ca_fn_arg A_MAP[] = {{"map", "MAP(K, V)", "a map"}};
static const ca_fn_arg A_CHANGE[] = {{"change_type", "VARCHAR", "Delta CDF _change_type"}};
static const ca_fn_arg A_AGG_VALUE[] = {{"value", "T", "aggregated value"}};
static const ca_fn_arg A_COND[] = {{"condition", "BOOLEAN", "counted when true"}};
static const ca_fn_arg A_VALUE_KEY[] = {
    {"value", "T", "selected value"},
    {"order_key", "K", "ordering key"}};
static const char *const AL_COLLECT[] = {"list_unique_agg", NULL};

/* ---- storage (delta.md §17) ------------------------------------------------------------ */

static const ca_fn_arg A_READ_DELTA[] = {
    {"path", "VARCHAR", "table root"},
    {"version", "BIGINT", "snapshot version (default latest)"},
    {"timestamp", "VARCHAR", "snapshot as of an RFC 3339 timestamp"},
    {"as_of", "VARCHAR", "alias of timestamp"},
    {"filter", "VARCHAR", "SQL predicate used for file pruning"},
    {"lineage", "BOOLEAN", "add __source_file (default false)"}};
static const ca_fn_arg A_READ_CDF[] = {
    {"path", "VARCHAR", "table root"},
    {"start", "ANY", "first version or RFC 3339 timestamp"},
    {"end", "ANY", "last version or timestamp; NULL = latest"}};
static const ca_fn_arg A_DELTA_SNAPSHOT[] = {
    {"path", "VARCHAR", "table root"},
    {"version", "BIGINT", "snapshot version (default latest)"},
    {"timestamp", "VARCHAR", "snapshot as of an RFC 3339 timestamp"}};
static const ca_fn_arg A_DELTA_PATH[] = {{"path", "VARCHAR", "table root"}};
static const ca_fn_arg A_DELTA_HISTORY[] = {
    {"path", "VARCHAR", "table root"},
    {"limit", "BIGINT", "newest commits to list (default all)"}};
static const char *const E_DELTA[] = {"see delta.md §19", NULL};

#define SCALAR CA_FN_SCALAR
#define AGG CA_FN_AGGREGATE
#define TABLE CA_FN_TABLE
#define C_ CA_FN_C
#define M_ CA_FN_SQL_MACRO
#define B_ CA_FN_BUILTIN
#define S_ CA_FN_STORAGE
#define IMM CA_FN_IMMUTABLE
#define STA CA_FN_STABLE
#define VOL CA_FN_VOLATILE

const ca_fn_entry CA_FUNCTIONS[] = {
    /* 4.1 hashing */
    {"stable_hash64", AL_HASH64, SCALAR, C_, "hashing", "stable_hash64(value VARCHAR) -> BIGINT", "BIGINT",
     IMM, CA_FN_STRICT, "BLAKE2b-8 of the value's bytes, big-endian, top bit cleared: a non-negative BIGINT.",
     ARGS(A_VALUE_TEXT), E_HASH64, NULL, "SELECT stable_hash64('alpha')", "5982700193828047002",
     ca_fn__register_stable_hash64},
    {"stable_hash128", AL_HASH128, SCALAR, C_, "hashing", "stable_hash128(value VARCHAR) -> VARCHAR", "VARCHAR",
     IMM, CA_FN_STRICT, "BLAKE2b-16 of the value's bytes as 32 lowercase hex digits.",
     ARGS(A_VALUE_TEXT), E_HASH128, NULL, "SELECT stable_hash128('alpha')", "b52f7e54cd313e691148cc2c80345831",
     ca_fn__register_stable_hash128},
    {"prefixed_hash64", AL_PREFIXED, SCALAR, C_, "hashing",
     "prefixed_hash64(prefix VARCHAR, value VARCHAR) -> VARCHAR", "VARCHAR", IMM, CA_FN_STRICT,
     "The prefix, ':' and the decimal stable_hash64 of the value.", ARGS(A_PREFIXED), E_PREFIXED, NULL,
     "SELECT prefixed_hash64('ns', 'gamma')", "ns:8666994792918649077", ca_fn__register_prefixed_hash64},
    {"stable_id", AL_STABLE_ID, SCALAR, C_, "hashing", "stable_id(prefix VARCHAR, part ANY, ...) -> VARCHAR",
     "VARCHAR", IMM, CA_FN_SPECIAL,
     "The prefix, ':' and the BLAKE2b-16 hex of the parts' texts joined by U+001F (NULL part = __NULL__).",
     ARGS(A_STABLE_ID), E_STABLE_ID, NULL, "SELECT stable_id('node', 'a', 'b')",
     "node:065ab5741cdfad44687cf119c1eb4ec9", ca_fn__register_stable_id},
    {"span_id", NO_ALIASES, SCALAR, M_, "hashing",
     "span_id(prefix VARCHAR, path VARCHAR, bstart BIGINT, bend BIGINT[, kind VARCHAR]) -> VARCHAR", "VARCHAR",
     IMM, CA_FN_SPECIAL, "stable_id of a span: prefix, path, bstart, bend and optionally kind, cast to their types.",
     ARGS(A_SPAN_ID), E_NONE,
     "(prefix, path, bstart, bend) AS stable_id(prefix, CAST(path AS VARCHAR), CAST(bstart AS BIGINT), "
     "CAST(bend AS BIGINT)), (prefix, path, bstart, bend, kind) AS stable_id(prefix, CAST(path AS VARCHAR), "
     "CAST(bstart AS BIGINT), CAST(bend AS BIGINT), CAST(kind AS VARCHAR))",
     "SELECT span_id('span', 'f.py', 0, 10, 'def')", "span:9a0b2a20a98d67b3ee837ad28d1fa359", NULL},

    /* 4.2 spans */
    {"span_make", NO_ALIASES, SCALAR, M_, "spans",
     "span_make(bstart BIGINT, bend BIGINT[, line_base INTEGER := 0[, col_unit VARCHAR := 'byte'[, "
     "end_exclusive BOOLEAN := true]]]) -> SPAN", "SPAN", IMM, CA_FN_SPECIAL,
     "A SPAN struct with the fields as given; options positional or named.", ARGS(A_SPAN_MAKE), E_NONE,
     "(bstart, bend, line_base := 0, col_unit := 'byte', end_exclusive := true) AS {'bstart': CAST(bstart AS "
     "BIGINT), 'bend': CAST(bend AS BIGINT), 'line_base': CAST(line_base AS INTEGER), 'col_unit': CAST(col_unit "
     "AS VARCHAR), 'end_exclusive': CAST(end_exclusive AS BOOLEAN)}",
     "SELECT span_make(3, 10)", "{'bstart': 3, 'bend': 10, 'line_base': 0, 'col_unit': byte, 'end_exclusive': true}",
     NULL},
    {"span_end", NO_ALIASES, SCALAR, M_, "spans", "span_end(span SPAN) -> BIGINT", "BIGINT", IMM, CA_FN_SQL,
     "The effective end of a span: bend + 1 when end_exclusive is false, else bend.", ARGS(A_SPAN), E_SPAN_MACRO,
     "(span) AS span.bend + CASE WHEN span.end_exclusive = false THEN 1 ELSE 0 END",
     "SELECT span_end(span_make(3, 10, 0, 'byte', false))", "11", NULL},
    {"span_len", NO_ALIASES, SCALAR, M_, "spans",
     "span_len(span SPAN) -> BIGINT | span_len(bstart BIGINT, bend BIGINT) -> BIGINT", "BIGINT", IMM, CA_FN_SQL,
     "Effective end minus bstart of a span; bend - bstart of two integers (negative if reversed).",
     ARGS(A_SPAN_LEN), E_SPAN_MACRO,
     "(span) AS span_end(span) - span.bstart, (bstart, bend) AS CAST(bend AS BIGINT) - CAST(bstart AS BIGINT)",
     "SELECT span_len(span_make(10, 25, 0, 'byte', false))", "16", NULL},
    {"span_overlaps", NO_ALIASES, SCALAR, M_, "spans",
     "span_overlaps(a SPAN, b SPAN) -> BOOLEAN | span_overlaps(a_start BIGINT, a_end BIGINT, b_start BIGINT, "
     "b_end BIGINT) -> BOOLEAN", "BOOLEAN", IMM, CA_FN_SQL,
     "Whether two half-open spans share a byte: a_start < b_end AND b_start < a_end (touching spans do not).",
     ARGS(A_SPAN_PAIR), E_SPAN_MACRO,
     "(a, b) AS a.bstart < span_end(b) AND b.bstart < span_end(a), (a_start, a_end, b_start, b_end) AS "
     "a_start < b_end AND b_start < a_end",
     "SELECT span_overlaps(0, 10, 9, 12)", "true", NULL},
    {"span_contains", NO_ALIASES, SCALAR, M_, "spans",
     "span_contains(a SPAN, b SPAN) -> BOOLEAN | span_contains(a_start BIGINT, a_end BIGINT, b_start BIGINT, "
     "b_end BIGINT) -> BOOLEAN", "BOOLEAN", IMM, CA_FN_SQL,
     "Whether span a contains span b: a_start <= b_start AND b_end <= a_end (every span contains itself).",
     ARGS(A_SPAN_PAIR), E_SPAN_MACRO,
     "(a, b) AS a.bstart <= b.bstart AND span_end(b) <= span_end(a), (a_start, a_end, b_start, b_end) AS "
     "a_start <= b_start AND b_end <= a_end",
     "SELECT span_contains(0, 10, 10, 10)", "true", NULL},
    {"interval_align_score", NO_ALIASES, SCALAR, C_, "spans",
     "interval_align_score(l_start BIGINT, l_end BIGINT, r_start BIGINT, r_end BIGINT) -> DOUBLE", "DOUBLE", IMM,
     CA_FN_STRICT, "Jaccard overlap of two intervals in [0, 1], 1.0 iff identical; two empty intervals score 1.0 "
     "when they start together.", ARGS(A_ALIGN), E_ALIGN, NULL,
     "SELECT interval_align_score(0, 10, 5, 15)", "0.3333333333333333", ca_fn__register_interval_align_score},

    /* 4.3 positions */
    {"position_encoding_norm", NO_ALIASES, SCALAR, C_, "positions",
     "position_encoding_norm(encoding VARCHAR) -> INTEGER", "INTEGER", IMM, CA_FN_STRICT,
     "The position encoding code: 1 for UTF8, 2 for UTF16, 3 for UTF32.", ARGS(A_ENCODING), E_ENCODING, NULL,
     "SELECT position_encoding_norm('Utf_16')", "2", ca_fn__register_position_encoding_norm},
    {"col_to_byte", NO_ALIASES, SCALAR, C_, "positions",
     "col_to_byte(line_text VARCHAR, col BIGINT, unit VARCHAR) -> BIGINT", "BIGINT", IMM, CA_FN_STRICT,
     "The byte offset of column col (in unit) within the line; past the end clamps to the line's length.",
     ARGS(A_COL_TO_BYTE), E_COL_TO_BYTE, NULL, "SELECT col_to_byte('a😀b', 3, 'utf16')", "5",
     ca_fn__register_col_to_byte},
    {"byte_to_col", NO_ALIASES, SCALAR, C_, "positions",
     "byte_to_col(line_text VARCHAR, byte_col BIGINT, unit VARCHAR) -> BIGINT", "BIGINT", IMM, CA_FN_STRICT,
     "The column (in unit) of a byte offset within the line: the units in its first min(byte_col, L) bytes.",
     ARGS(A_BYTE_TO_COL), E_BYTE_TO_COL, NULL, "SELECT byte_to_col('a😀b', 5, 'utf16')", "3",
     ca_fn__register_byte_to_col},
    {"canonicalize_byte_span", NO_ALIASES, SCALAR, C_, "positions",
     "canonicalize_byte_span(start_line_start_byte BIGINT, start_line_text VARCHAR, start_col BIGINT, "
     "end_line_start_byte BIGINT, end_line_text VARCHAR, end_col BIGINT, unit VARCHAR) -> BYTESPAN", "BYTESPAN",
     IMM, CA_FN_STRICT, "Line/column positions as a file byte span: each line start plus col_to_byte of its column.",
     ARGS(A_CANON), E_CANON, NULL,
     "SELECT canonicalize_byte_span(10, 'abcdef', 3, 20, 'ghijkl', 2, 'BYTE')", "{'bstart': 13, 'bend': 22}",
     ca_fn__register_canonicalize_byte_span},

    /* 4.4 text */
    {"utf8_normalize", AL_NORMALIZE, SCALAR, C_, "text",
     "utf8_normalize(value VARCHAR[, form VARCHAR[, casefold BOOLEAN[, collapse_ws BOOLEAN]]]) -> VARCHAR",
     "VARCHAR", IMM, CA_FN_SPECIAL,
     "Unicode normalization (default NFKC), optional full case folding and White_Space collapsing.",
     ARGS(A_NORMALIZE), E_NORMALIZE, NULL, "SELECT utf8_normalize('  Ｆｏｏ   Straße ', 'NFKC', true, true)",
     "foo strasse", ca_fn__register_utf8_normalize},
    {"utf8_null_if_blank", AL_BLANK, SCALAR, C_, "text", "utf8_null_if_blank(value VARCHAR) -> VARCHAR", "VARCHAR",
     IMM, CA_FN_STRICT, "NULL if the value is empty or only White_Space, else the value unchanged.",
     ARGS(A_TEXT_VALUE), E_BLANK, NULL, "SELECT utf8_null_if_blank(' ' || chr(12288) || chr(9))", NULL,
     ca_fn__register_utf8_null_if_blank},
    {"qname_normalize", AL_QNAME, SCALAR, C_, "text", "qname_normalize(value VARCHAR) -> VARCHAR", "VARCHAR", IMM,
     CA_FN_STRICT,
     "A dotted qualified name in NFKC with each segment trimmed and inner White_Space collapsed; empty segments "
     "dropped.", ARGS(A_TEXT_VALUE), E_QNAME, NULL, "SELECT qname_normalize(' pkg . mod ..Foo ')", "pkg.mod.Foo",
     ca_fn__register_qname_normalize},
    {"semantic_tag", NO_ALIASES, SCALAR, M_, "text", "semantic_tag(type_name VARCHAR) -> VARCHAR", "VARCHAR", IMM,
     CA_FN_SQL, "The semantic type of an ID prefix: NodeId, EdgeId or SpanId, else the trimmed input; blank gives NULL.",
     ARGS(A_TYPE_NAME), E_NONE,
     "(type_name) AS CASE replace(replace(lower(trim(type_name)), '_', ''), '-', '') WHEN 'node' THEN 'NodeId' "
     "WHEN 'nodeid' THEN 'NodeId' WHEN 'edge' THEN 'EdgeId' WHEN 'edgeid' THEN 'EdgeId' WHEN 'span' THEN "
     "'SpanId' WHEN 'spanid' THEN 'SpanId' ELSE nullif(trim(type_name), '') END",
     "SELECT semantic_tag(' Node_ID ')", "NodeId", NULL},

    /* 4.5 collections */
    {"list_compact", NO_ALIASES, SCALAR, M_, "collections", "list_compact(list T[]) -> T[]", "T[]", IMM, CA_FN_SQL,
     "The list without its NULL elements, order kept.", ARGS(A_LIST), E_NONE,
     "(list) AS list_filter(list, lambda x: x IS NOT NULL)", "SELECT list_compact(['a', NULL, 'b'])", "[a, b]",
     NULL},
    {"list_unique_sorted", NO_ALIASES, SCALAR, M_, "collections", "list_unique_sorted(list T[]) -> T[]", "T[]",
     IMM, CA_FN_SQL, "The distinct non-NULL elements in ascending order.", ARGS(A_LIST), E_NONE,
     "(list) AS list_sort(list_distinct(list), 'ASC', 'NULLS LAST')",
     "SELECT list_unique_sorted(['b', 'a', NULL, 'b'])", "[a, b]", NULL},
    {"map_get_default", NO_ALIASES, SCALAR, M_, "collections",
     "map_get_default(map MAP(K, V), key K, default_value V) -> V", "V", IMM, CA_FN_SQL,
     "The key's value, or default_value when the map or key is NULL, the key absent or its value NULL.",
     ARGS(A_MAP_GET), E_NONE, "(map, key, default_value) AS coalesce(map_extract_value(map, key), default_value)",
     "SELECT map_get_default(MAP {'a': 'x'}, 'zz', 'fallback')", "fallback", NULL},
    {"map_normalize", NO_ALIASES, SCALAR, M_, "collections", "map_normalize(map MAP(K, V)) -> MAP(K, V)",
     "MAP(K, V)", IMM, CA_FN_SQL, "The map's entries ordered by key.", ARGS(A_MAP), E_NONE,
     "(map) AS map_from_entries(list_sort(map_entries(map), 'ASC', 'NULLS LAST'))",
     "SELECT map_normalize(MAP {'b': '1', 'a': '2', 'C': '3'})", "{C=3, a=2, b=1}", NULL},

    /* 4.5 cdf */
    {"cdf_change_rank", NO_ALIASES, SCALAR, M_, "cdf", "cdf_change_rank(change_type VARCHAR) -> INTEGER", "INTEGER",
     IMM, CA_FN_SQL,
     "Rank of a CDF change type: update_postimage 3, insert 2, delete 1, update_preimage 0, else NULL.",
     ARGS(A_CHANGE), E_NONE,
     "(change_type) AS CASE lower(trim(change_type)) WHEN 'update_postimage' THEN 3 WHEN 'insert' THEN 2 WHEN "
     "'delete' THEN 1 WHEN 'update_preimage' THEN 0 END",
     "SELECT cdf_change_rank('update_postimage')", "3", NULL},
    {"cdf_is_upsert", NO_ALIASES, SCALAR, M_, "cdf", "cdf_is_upsert(change_type VARCHAR) -> BOOLEAN", "BOOLEAN",
     IMM, CA_FN_SQL, "Whether a CDF change type is an insert or an update postimage.", ARGS(A_CHANGE), E_NONE,
     "(change_type) AS cdf_change_rank(change_type) IN (2, 3)", "SELECT cdf_is_upsert(' INSERT ')", "true", NULL},
    {"cdf_is_delete", NO_ALIASES, SCALAR, M_, "cdf", "cdf_is_delete(change_type VARCHAR) -> BOOLEAN", "BOOLEAN",
     IMM, CA_FN_SQL, "Whether a CDF change type is a delete.", ARGS(A_CHANGE), E_NONE,
     "(change_type) AS cdf_change_rank(change_type) = 1", "SELECT cdf_is_delete('update_preimage')", "false",
     NULL},

    /* 4.6 aggregates */
    {"collect_set", AL_COLLECT, AGG, M_, "aggregates", "collect_set(value T) -> T[]", "T[]", IMM, CA_FN_SQL,
     "The distinct non-NULL values in ascending order ([] for no rows); no OVER.", ARGS(A_AGG_VALUE), E_NONE,
     "(value) AS coalesce(list_sort(list(DISTINCT value) FILTER (WHERE value IS NOT NULL), 'ASC', 'NULLS LAST'), [])",
     "SELECT collect_set(x) FROM (VALUES ('b'), ('a'), (NULL), ('b')) t(x)", "[a, b]", NULL},
    {"count_distinct_agg", NO_ALIASES, AGG, M_, "aggregates", "count_distinct_agg(value T) -> BIGINT", "BIGINT",
     IMM, CA_FN_SQL, "The number of distinct non-NULL values (0 for no rows).", ARGS(A_AGG_VALUE), E_NONE,
     "(value) AS count(DISTINCT value)",
     "SELECT count_distinct_agg(x) FROM (VALUES ('a'), (NULL), ('a'), ('b')) t(x)", "2", NULL},
    {"count_if", NO_ALIASES, AGG, B_, "aggregates", "count_if(condition BOOLEAN) -> HUGEINT", "HUGEINT", IMM,
     CA_FN_SQL, "DuckDB's: the rows where the condition is true (NULL for no rows; cast to BIGINT before Parquet).",
     ARGS(A_COND), E_NONE, NULL, "SELECT count_if(x) FROM (VALUES (true), (NULL), (false), (true)) t(x)", "2", NULL},
    {"any_value_det", NO_ALIASES, AGG, M_, "aggregates", "any_value_det(value T, order_key K) -> T", "T", IMM,
     CA_FN_SQL, "Over rows with value and key non-NULL: the value of the smallest (order_key, value).",
     ARGS(A_VALUE_KEY), E_NONE,
     "(value, order_key) AS arg_min(value, CASE WHEN order_key IS NULL OR value IS NULL THEN NULL ELSE {'k': "
     "order_key, 'v': value} END)",
     "SELECT any_value_det(v, k) FROM (VALUES ('z', 1), ('b', 1), ('c', NULL), (NULL, 0)) t(v, k)", "b", NULL},
    {"asof_select", NO_ALIASES, AGG, M_, "aggregates", "asof_select(value T, order_key K) -> T", "T", IMM,
     CA_FN_SQL, "Over rows with value and key non-NULL: the value of the largest (order_key, value).",
     ARGS(A_VALUE_KEY), E_NONE,
     "(value, order_key) AS arg_max(value, CASE WHEN order_key IS NULL OR value IS NULL THEN NULL ELSE {'k': "
     "order_key, 'v': value} END)",
     "SELECT asof_select(v, k) FROM (VALUES ('a', 1), ('b', 3), ('c', 2)) t(v, k)", "b", NULL},
    {"first_value_agg", NO_ALIASES, AGG, M_, "aggregates", "first_value_agg(value T, order_key K) -> T", "T", IMM,
     CA_FN_SQL,
     "NULL-respecting first value by key ascending, NULL keys last, ties by value ascending, NULL values last.",
     ARGS(A_VALUE_KEY), E_NONE,
     "(value, order_key) AS arg_min_null(value, {'kn': order_key IS NULL, 'k': order_key, 'vn': value IS NULL, "
     "'v': value})",
     "SELECT first_value_agg(v, k) FROM (VALUES (NULL, 1), ('x', 2)) t(v, k)", NULL, NULL},
    {"last_value_agg", NO_ALIASES, AGG, M_, "aggregates", "last_value_agg(value T, order_key K) -> T", "T", IMM,
     CA_FN_SQL,
     "NULL-respecting last value: key descending, NULL keys last, ties by value descending, NULL values last.",
     ARGS(A_VALUE_KEY), E_NONE,
     "(value, order_key) AS arg_max_null(value, {'kp': order_key IS NOT NULL, 'k': order_key, 'vp': value IS NOT "
     "NULL, 'v': value})",
     "SELECT last_value_agg(v, k) FROM (VALUES ('a', 2), ('b', 1), ('c', NULL)) t(v, k)", "a", NULL},
    {"arg_min", NO_ALIASES, AGG, B_, "aggregates", "arg_min(value T, order_key K) -> T", "T", IMM, CA_FN_SQL,
     "DuckDB's: the value at the smallest key, NULL key or value skipped; ties non-deterministic (use "
     "any_value_det).", ARGS(A_VALUE_KEY), E_NONE, NULL,
     "SELECT arg_min(v, k) FROM (VALUES ('a', 2), ('b', 1)) t(v, k)", "b", NULL},
    {"arg_max", NO_ALIASES, AGG, B_, "aggregates", "arg_max(value T, order_key K) -> T", "T", IMM, CA_FN_SQL,
     "DuckDB's: the value at the largest key, NULL key or value skipped; ties non-deterministic (use "
     "asof_select).", ARGS(A_VALUE_KEY), E_NONE, NULL,
     "SELECT arg_max(v, k) FROM (VALUES ('a', 2), ('b', 1)) t(v, k)", "a", NULL},

    /* 4.7 table functions */
    {"codeanatomy_functions", NO_ALIASES, TABLE, M_, "registry", "codeanatomy_functions() -> TABLE", "TABLE", STA,
     CA_FN_SQL, "The function registry: one row per callable name, library and user macros.", NOARGS, E_NONE,
     "() AS TABLE SELECT name, alias_of, kind, origin, section, signature, return_type, volatility, null_handling, "
     "description, example, expected, definition FROM __codeanatomy_registry() UNION ALL SELECT f.function_name, "
     "NULL, 'macro', 'user', 'user', string_agg(f.function_name || '(' || "
     "coalesce(array_to_string(f.parameters, ', '), '') || ')' || CASE f.function_type WHEN 'table_macro' THEN "
     "' -> TABLE' ELSE '' END, ' | ' ORDER BY len(f.parameters), coalesce(array_to_string(f.parameters, ', '), "
     "'')), CASE WHEN bool_and(f.function_type = 'table_macro') THEN 'TABLE' END, NULL, NULL, min(f.comment), "
     "NULL, NULL, string_agg(f.macro_definition, ' | ' ORDER BY len(f.parameters), "
     "coalesce(array_to_string(f.parameters, ', '), '')) FROM duckdb_functions() AS f WHERE f.function_type IN "
     "('macro', 'table_macro') AND NOT f.internal AND NOT starts_with(f.function_name, '__') AND NOT "
     "(f.database_name = 'temp' AND f.function_name IN (SELECT name FROM __codeanatomy_registry() WHERE origin IN "
     "('sql_macro', 'storage'))) GROUP BY f.database_name, f.schema_name, f.function_name ORDER BY 1, 4, 6",
     "SELECT count(*) FROM codeanatomy_functions() WHERE origin <> 'user'", "50", NULL},
    {"codeanatomy_function_docs", NO_ALIASES, TABLE, C_, "registry", "codeanatomy_function_docs() -> TABLE",
     "TABLE", STA, CA_FN_STRICT,
     "One row per library entry with its arguments, aliases, errors and example.", NOARGS, E_NONE, NULL,
     "SELECT section FROM codeanatomy_function_docs() WHERE name = 'col_to_byte'", "positions",
     ca_fn__register_function_docs},

    /* Delta SQL functions (delta.md §17), registered by ca_delta_register_sql */
    {"read_delta", NO_ALIASES, TABLE, S_, "storage",
     "read_delta(path VARCHAR, version BIGINT := NULL, \"timestamp\" VARCHAR := NULL, as_of VARCHAR := NULL, "
     "filter VARCHAR := NULL, lineage BOOLEAN := false) -> TABLE", "TABLE", VOL, CA_FN_SPECIAL,
     "The rows of a Delta table snapshot (delta.md §10).", ARGS(A_READ_DELTA), E_DELTA, NULL, NULL, NULL, NULL},
    {"read_delta_cdf", NO_ALIASES, TABLE, S_, "storage", "read_delta_cdf(path VARCHAR, start ANY, end ANY) -> TABLE",
     "TABLE", VOL, CA_FN_SPECIAL, "The change data feed of a Delta table between two versions (delta.md §15).",
     ARGS(A_READ_CDF), E_DELTA, NULL, NULL, NULL, NULL},
    {"delta_snapshot", NO_ALIASES, TABLE, S_, "storage",
     "delta_snapshot(path VARCHAR[, version := BIGINT, \"timestamp\" := VARCHAR]) -> TABLE", "TABLE", VOL,
     CA_FN_SPECIAL, "One row describing a Delta table snapshot (delta.md §17).", ARGS(A_DELTA_SNAPSHOT), E_DELTA,
     NULL, NULL, NULL, NULL},
    {"delta_add_actions", NO_ALIASES, TABLE, S_, "storage", "delta_add_actions(path VARCHAR, ...) -> TABLE", "TABLE",
     VOL, CA_FN_SPECIAL, "The active files of a Delta table snapshot (delta.md §17).", ARGS(A_DELTA_PATH), E_DELTA,
     NULL, NULL, NULL, NULL},
    {"delta_history", NO_ALIASES, TABLE, S_, "storage", "delta_history(path VARCHAR[, limit BIGINT]) -> TABLE",
     "TABLE", VOL, CA_FN_SPECIAL, "The commits of a Delta table, newest first (delta.md §17).",
     ARGS(A_DELTA_HISTORY), E_DELTA, NULL, NULL, NULL, NULL},
};

const size_t CA_FUNCTIONS_COUNT = sizeof CA_FUNCTIONS / sizeof CA_FUNCTIONS[0];

const ca_fn_entry *ca_functions_find(const char *name)
{
    for (size_t i = 0; i < CA_FUNCTIONS_COUNT; i++) {
        const ca_fn_entry *e = &CA_FUNCTIONS[i];
        if (!strcmp(e->name, name))
            return e;
        for (const char *const *a = e->aliases; a && *a; a++)
            if (!strcmp(*a, name))
                return e;
    }
    return NULL;
}

const char *ca_fn_kind_name(ca_fn_kind k)
{
    return k == CA_FN_SCALAR ? "scalar" : k == CA_FN_AGGREGATE ? "aggregate" : "table";
}

const char *ca_fn_origin_name(ca_fn_origin o)
{
    switch (o) {
    case CA_FN_C: return "c";
    case CA_FN_SQL_MACRO: return "sql_macro";
    case CA_FN_BUILTIN: return "builtin";
    default: return "storage";
    }
}

const char *ca_fn_volatility_name(ca_fn_volatility v)
{
    return v == CA_FN_IMMUTABLE ? "immutable" : v == CA_FN_STABLE ? "stable" : "volatile";
}

const char *ca_fn_nulls_name(ca_fn_nulls n)
{
    return n == CA_FN_STRICT ? "strict" : n == CA_FN_SPECIAL ? "special" : "sql";
}
