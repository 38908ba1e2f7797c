/* SPDX-License-Identifier: MIT */
/*
 * The interface and class identifiers <portcls.h> and <punknown.h> declare with DEFINE_GUID,
 * defined here (INITGUID) with the values the headers give them, and the call-site record the
 * helpers fill in (before a port call, taken by the port method it precedes).  The KS GUIDs of
 * <ks.h>/<ksmedia.h> need no definition: every translation unit has its own copy.
 */
#include <kslab/wdk/initguid.h>

#include "pcl_internal.h"

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
