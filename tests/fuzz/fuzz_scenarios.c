/* SPDX-License-Identifier: MIT */
/* Scenario files (--scenario-file): any bytes load or are refused with a message naming the
 * input; what loads passes ksl_job_check scenario by scenario, writes back canonical, and the
 * canonical text loads to the same hash and writes back unchanged. */
#include <string.h>

#include "../../src/campaign/scenario_file.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[700] = "";
    ksl__scenario_set set;
    if (ksl__scenario_text_load((const char *)data, size, "input", &set, err, sizeof err) != 0) {
        FUZZ_CHECK(strncmp(err, "--scenario-file input: ", 23) == 0);
        FUZZ_CHECK(set.list == NULL && set.n == 0);
        return 0;
    }
    for (size_t i = 0; i < set.n; i++)
        FUZZ_CHECK(ksl_job_check(&set.list[i].job, err, sizeof err) == 0 && set.list[i].def_hash != 0);
    char *canon = ksl__scenarios_json(set.list, set.n);
    FUZZ_CHECK(canon != NULL);
    ksl__scenario_set again;
    FUZZ_CHECK(ksl__scenario_text_load(canon, strlen(canon), "canonical", &again, err, sizeof err) == 0);
    FUZZ_CHECK(again.hash == set.hash && again.n == set.n);
    char *twice = ksl__scenarios_json(again.list, again.n);
    FUZZ_CHECK(twice != NULL && strcmp(canon, twice) == 0);
    free(canon);
    free(twice);
    ksl__scenario_set_free(&again);
    ksl__scenario_set_free(&set);
    return 0;
}
