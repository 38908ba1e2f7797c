/* SPDX-License-Identifier: MIT */
/*
 * Requests and outcomes (exec.h) as bytes between kslab and its workers (wire.h).  Decoding
 * checks every count and length: an outcome from a worker whose memory a driver corrupted is
 * refused, never trusted.  Host code.
 */
#ifndef KSLAB_CAMPAIGN_PROTO_H
#define KSLAB_CAMPAIGN_PROTO_H

#include "exec.h"
#include "wire.h"

#define KSL__MAX_CHOICES (1u << 24)     /* a replay's schedule */
#define KSL__MAX_OUTPUT_FRAMES (192000ull * 3600 * 8) /* an hour at the highest rate and channels */

void ksl__request_encode(ksl__wbuf *b, const ksl__request *rq);
/* 0, or -1 when malformed.  rq->cfg.choices is malloc'd (free it). */
int ksl__request_decode(const void *p, size_t n, ksl__request *rq);
void ksl__outcome_encode(ksl__wbuf *b, const ksl__outcome *o);
/* 0, or -1 when malformed (out is then freed and zeroed). */
int ksl__outcome_decode(const void *p, size_t n, ksl__outcome *out);

#endif
