/* SPDX-License-Identifier: MIT */
/*
 * A stream class minidriver built as it is for Windows: it exports DriverEntry and no
 * kslab_plugin() record (the reference filter minidriver's entry, miniports/stream/filter.c), so
 * kslab tells its kind from what it calls: StreamClassRegisterAdapter.  BARE_NEITHER: a
 * DriverEntry that registers nothing, which kslab cannot classify.
 */
#include "stream_refs.h"

NTSTATUS DriverEntry(PVOID Argument1, PVOID Argument2);

NTSTATUS DriverEntry(PVOID Argument1, PVOID Argument2)
{
#ifdef BARE_NEITHER
    (void)Argument1, (void)Argument2;
    return STATUS_SUCCESS;
#else
    return ksr_filter_driver.DriverEntry(Argument1, Argument2);
#endif
}
