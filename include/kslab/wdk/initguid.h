/* SPDX-License-Identifier: MIT */
/* initguid.h: from here on, DEFINE_GUID defines the GUIDs it names (see <guiddef.h>). */
#ifndef INITGUID
#define INITGUID
#endif
#include <kslab/wdk/guiddef.h>
