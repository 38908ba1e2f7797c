/* SPDX-License-Identifier: MIT */
/* Results read back from JSON (`kslab merge`'s input; ksl_result_read_json): any bytes are read
 * or refused with a message naming the input; what is read writes back as JSON that reads back
 * to the same JSON (a round trip), and merges with itself as a shard of one when it is one. */
#include <string.h>

#include <kslab/report.h>
#include <kslab/result.h>

#include "../../src/report/result_own.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[700] = "";
    ksl_result *r = ksl__result_read_text((const char *)data, size, "input", err, sizeof err);
    if (!r) {
        FUZZ_CHECK(strncmp(err, "input: ", 7) == 0);
        return 0;
    }
    char *once = ksl_result_json(r);
    FUZZ_CHECK(once != NULL);
    ksl_result *again = ksl__result_read_text(once, strlen(once), "again", err, sizeof err);
    if (!again)
        fprintf(stderr, "%s\n", err);
    FUZZ_CHECK(again != NULL);
    char *twice = ksl_result_json(again);
    FUZZ_CHECK(twice != NULL && strcmp(once, twice) == 0);
    if (r->shard_count == 1) {
        ksl_result *parts[] = {r};
        ksl_result *m = ksl_result_merge(parts, 1, err, sizeof err);
        FUZZ_CHECK(m != NULL || err[0]);
        ksl_result_free(m);
    }
    free(once);
    free(twice);
    ksl_result_free(again);
    ksl_result_free(r);
    return 0;
}
