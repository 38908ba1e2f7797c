/* SPDX-License-Identifier: MIT */
/*
 * ntddk.h: everything of <wdm.h>, which is where kslab declares the kernel services non-WDM
 * drivers also use.  Drivers include it as <ntddk.h>.
 */
#ifndef KSLAB_WDK_NTDDK_H
#define KSLAB_WDK_NTDDK_H

#include <kslab/wdk/wdm.h>

#endif
