/* SPDX-License-Identifier: MIT */
/*
 * The interface and format identifiers portcls.h declares, with the WDK's values, and the
 * call-site record the helper macros fill in (KSL_PCL_SITE_ before a port call, taken by the
 * port method it precedes).
 */
#include "pcl_internal.h"

/* {xxxxxxxx-5791-11D0-86F9-00A0C911B544}: the port and miniport interfaces. */
#define PCL_PORT_IID(d1) {(d1), 0x5791u, 0x11D0u, {0x86u, 0xF9u, 0x00u, 0xA0u, 0xC9u, 0x11u, 0xB5u, 0x44u}}
/* {xxxxxxxx-851B-11D0-9A7F-00AA0038ACFE}: the helper objects (sinks, groups, DMA, resources). */
#define PCL_HELPER_IID(d1) {(d1), 0x851Bu, 0x11D0u, {0x9Au, 0x7Fu, 0x00u, 0xAAu, 0x00u, 0x38u, 0xACu, 0xFEu}}
/* {xxxxxxxx-0000-0010-8000-00AA00389B71}: the KS media-type base. */
#define PCL_KS_MEDIA_GUID(d1) {(d1), 0x0000u, 0x0010u, {0x80u, 0x00u, 0x00u, 0xAAu, 0x00u, 0x38u, 0x9Bu, 0x71u}}

const IID IID_IUnknown = {0x00000000u, 0x0000u, 0x0000u, {0xC0u, 0x00u, 0x00u, 0x00u, 0x00u, 0x00u, 0x00u, 0x46u}};

const IID IID_IMiniport = PCL_PORT_IID(0xB4C90A24u);
const IID IID_IPort = PCL_PORT_IID(0xB4C90A25u);
const IID IID_IPortWavePci = PCL_PORT_IID(0xB4C90A50u);
const IID IID_IPortWavePciStream = PCL_PORT_IID(0xB4C90A51u);
const IID IID_IMiniportWavePci = PCL_PORT_IID(0xB4C90A52u);
const IID IID_IMiniportWavePciStream = PCL_PORT_IID(0xB4C90A53u);

const IID IID_IResourceList = PCL_HELPER_IID(0x22C6AC60u);
const IID IID_IDmaChannel = PCL_HELPER_IID(0x22C6AC61u);
const IID IID_IInterruptSync = PCL_HELPER_IID(0x22C6AC63u);
const IID IID_IServiceSink = PCL_HELPER_IID(0x22C6AC64u);
const IID IID_IServiceGroup = PCL_HELPER_IID(0x22C6AC65u);
const IID IID_IPowerNotify = {0x3DD648B8u, 0x969Fu, 0x11D1u, {0x95u, 0xA9u, 0x00u, 0xC0u, 0x4Fu, 0xB9u, 0x25u, 0xD3u}};

const GUID KSDATAFORMAT_TYPE_AUDIO = PCL_KS_MEDIA_GUID(0x73647561u); /* 'auds' */
const GUID KSDATAFORMAT_SUBTYPE_PCM = PCL_KS_MEDIA_GUID(0x00000001u); /* WAVE_FORMAT_PCM */
const GUID KSDATAFORMAT_SPECIFIER_WAVEFORMATEX = {0x05589F81u, 0xC356u, 0x11CEu,
                                                  {0xBFu, 0x01u, 0x00u, 0xAAu, 0x00u, 0x55u, 0x59u, 0x5Au}};

/* ---- call sites ------------------------------------------------------------------------- */

/* Per host thread: a kernel context runs on one host thread at a time and nothing between the
 * macro's record and the method's take is a scheduling point. */
static _Thread_local const char *site_file;
static _Thread_local int site_line;

/* Any IRQL; not a scheduling point. */
void ksl_pcl_call_site(const char *file, int line)
{
    site_file = file;
    site_line = line;
}

/* Any IRQL; not a scheduling point. */
void ksl__pcl_take_site(const char **file, int *line)
{
    *file = site_file;
    *line = site_file ? site_line : 0;
    site_file = NULL;
    site_line = 0;
}
