/* Umbrella header: the whole public API of libcodeanatomy. */
#ifndef CODEANATOMY_H
#define CODEANATOMY_H

#include "codeanatomy/delta.h"
#include "codeanatomy/error.h"
#include "codeanatomy/functions.h"
#include "codeanatomy/memory.h"
#include "codeanatomy/session.h"
#include "codeanatomy/version.h"

#endif
