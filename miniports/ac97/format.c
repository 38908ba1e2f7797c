/* SPDX-License-Identifier: MIT */
/*
 * The formats the reference miniport and its streams accept: 16-bit PCM, one or two channels,
 * at a rate the codec runs at with VRA.  Shared by the filter (NewStream) and the stream
 * (SetFormat); it calls neither.
 */
#include "ac97_miniport.h"

BOOLEAN ac97_format_ok(const WAVEFORMATEX *w)
{
    return w->wFormatTag == WAVE_FORMAT_PCM && w->wBitsPerSample == 16 && w->nChannels >= 1 && w->nChannels <= 2 &&
           w->nSamplesPerSec >= KSL_AC97_MIN_RATE && w->nSamplesPerSec <= KSL_AC97_MAX_RATE;
}
