/* SPDX-License-Identifier: MIT */
/* WAV files (ksl_wav_parse: the RIFF check, then libsndfile): any bytes are read or refused with
 * a message, in bounded time; what is read is 16-bit PCM of 1 to 8 channels with frames. */
#include <string.h>

#include <kslab/audio.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ksl_pcm p;
    char err[512] = "";
    if (ksl_wav_parse(data, size, "fuzz.wav", &p, err, sizeof err) != 0) {
        FUZZ_CHECK(err[0] != 0 && strstr(err, "fuzz.wav") != NULL);
        FUZZ_CHECK(p.samples == NULL);
        return 0;
    }
    FUZZ_CHECK(p.channels >= 1 && p.channels <= 8 && p.frames > 0 && p.rate > 0 && p.samples != NULL);
    FUZZ_CHECK(ksl_pcm_bytes(&p) <= size);
    volatile int16_t sink = p.samples[p.frames * p.channels - 1]; /* every sample is there */
    (void)sink;
    ksl_pcm_free(&p);
    return 0;
}
