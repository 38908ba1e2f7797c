/* SPDX-License-Identifier: MIT */
/* Shared between the files of the WavePci port (src/portcls): constructors of the port's helper
 * objects and the call-site record the WDK helper macros fill in. */
#ifndef KSLAB_PCL_INTERNAL_H
#define KSLAB_PCL_INTERNAL_H

#include <kslab/hw/physmem.h>
#include <kslab/wdk/portcls.h>

/* Pool tag of every object the port allocates on the driver's behalf ("Pcls"). */
#define KSL_PCL_POOL_TAG 0x736C6350u

/* The call site the last helper macro recorded on this host thread, then forget it.  *file is
 * NULL when none was recorded (a direct vtable call).  Any IRQL; not a scheduling point. */
void ksl__pcl_take_site(const char **file, int *line);

/* An IDmaChannel whose common buffer comes from `pm` (reference count 1).  PASSIVE_LEVEL. */
NTSTATUS ksl__pcl_new_dma_channel(PDMACHANNEL *out, ksl_physmem *pm, ULONG maximum_length);

/* An IResourceList over a copy of `entries` (reference count 1).  PASSIVE_LEVEL. */
NTSTATUS ksl__pcl_new_resource_list(PRESOURCELIST *out, const CM_PARTIAL_RESOURCE_DESCRIPTOR *entries, ULONG n);

#endif
