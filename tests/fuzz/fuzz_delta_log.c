/*
 * Fuzz target for the Delta log reader: the input is the table's only commit file
 * (_delta_log/00000000000000000000.json); the reader must open it or refuse it with an error,
 * never crash. Built with libFuzzer under clang (-DCA_FUZZ=ON); under gcc the same entry point is
 * driven by replay_main.c over the checked-in corpus as an ordinary CTest case.
 */
#include "codeanatomy/delta.h"
#include "codeanatomy/memory.h"
#include "lib/duck/duck.h"
#include "util/fs.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static ca_duck_db *db;
static ca_delta_ctx *ctx;
static char root[64];
static char commit_path[128];

static void setup_once(void)
{
    snprintf(root, sizeof root, "/tmp/ca-fuzz-delta-XXXXXX");
    if (!mkdtemp(root))
        abort();
    char log[96];
    snprintf(log, sizeof log, "%s/_delta_log", root);
    if (ca_fs_mkdirs(ca_fs_posix(), log) != 0)
        abort();
    snprintf(commit_path, sizeof commit_path, "%s/00000000000000000000.json", log);
    ca_duck_config cfg = {.threads = 1, .memory_limit = "512MB", .temp_dir = root};
    if (ca_duck_open(&cfg, &db) != 0 || ca_delta_ctx_new(db, NULL, NULL, &ctx) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ctx)
        setup_once();
    FILE *f = fopen(commit_path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    ca_delta_snapshot *snap = NULL;
    if (ca_delta_table_open(ctx, root, NULL, &snap) == 0) {
        char *sql = NULL;
        if (ca_delta_scan_sql(snap, NULL, &sql, NULL) == 0)
            ca_free(sql);
        ca_delta_snapshot_close(snap);
    }
    return 0;
}
