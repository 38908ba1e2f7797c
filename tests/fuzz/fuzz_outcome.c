/* SPDX-License-Identifier: MIT */
/* What a worker process sends back (src/campaign/proto.c): a worker whose memory a driver
 * corrupted may send any bytes; the parent decodes them or refuses them, never reads out of
 * bounds; what decodes encodes back to the same bytes.  Requests the same way. */
#include <string.h>

#include "fuzz.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ksl__outcome o;
    if (ksl__outcome_decode(data, size, &o) == 0) {
        ksl__wbuf b = {0};
        ksl__outcome_encode(&b, &o);
        FUZZ_CHECK(!b.oom && b.n == size && memcmp(b.p, data, size) == 0);
        ksl__wbuf_free(&b);
        ksl__outcome_free(&o);
    } else {
        FUZZ_CHECK(o.choices == NULL && o.counters == NULL && o.events == NULL && o.output == NULL);
    }
    ksl__request rq;
    if (ksl__request_decode(data, size, &rq) == 0) {
        ksl__wbuf b = {0};
        ksl__request_encode(&b, &rq);
        FUZZ_CHECK(!b.oom && b.n == size && memcmp(b.p, data, size) == 0);
        ksl__wbuf_free(&b);
        free((void *)rq.cfg.choices);
    }
    return 0;
}
