/*
 * The Delta module's interface to other modules (the public API is codeanatomy/delta.h).
 */
#ifndef CA_LIB_DELTA_H
#define CA_LIB_DELTA_H

#include "codeanatomy/delta.h"
#include "util/trace.h"

/* Records the module's trace spans (delta.snapshot_load, delta.scan_build) into t (borrowed; it
 * must outlive the context or be reset to NULL first). NULL disables tracing. Set it before the
 * context is shared by threads. */
void ca_delta__set_trace(ca_delta_ctx *ctx, ca_trace *t);

#endif
