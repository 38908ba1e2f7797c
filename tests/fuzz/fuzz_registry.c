/* SPDX-License-Identifier: MIT */
/* Registry files (--registry): any bytes load or are refused with a message naming the input;
 * what loads has every entry within its limits and a hash, and loading it again gives the same
 * hash (the hash a replay token is checked against). */
#include <string.h>

#include "../../src/campaign/registry_file.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[700] = "";
    ksl__reg_seed seed;
    if (ksl__registry_text_load((const char *)data, size, "input", &seed, err, sizeof err) != 0) {
        FUZZ_CHECK(strncmp(err, "--registry input: ", 18) == 0);
        FUZZ_CHECK(seed.entries == NULL && seed.n == 0);
        return 0;
    }
    FUZZ_CHECK(seed.hash != 0);
    for (size_t i = 0; i < seed.n; i++) {
        const ksl__reg_entry *e = &seed.entries[i];
        FUZZ_CHECK(e->root <= 4 && e->depth <= KSL__REG_PATH_MAX);
        FUZZ_CHECK(!e->has_value || e->data != NULL);
        FUZZ_CHECK(e->has_value || e->len == 0);
    }
    ksl__reg_seed again;
    FUZZ_CHECK(ksl__registry_text_load((const char *)data, size, "again", &again, err, sizeof err) == 0);
    FUZZ_CHECK(again.hash == seed.hash && again.n == seed.n);
    ksl__reg_seed_free(&again);
    ksl__reg_seed_free(&seed);
    return 0;
}
