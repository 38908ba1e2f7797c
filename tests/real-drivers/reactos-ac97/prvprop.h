/* SPDX-License-Identifier: MIT */
/*
 * kslab test fixture: stands in for the private-property header of the WDK AC'97 sample, which the
 * sample keeps outside its driver folder and which the ReactOS AC'97 driver's mintopo.h includes
 * (when INCLUDE_PRIVATE_PROPERTY is defined).  Written by kslab from that header's documented
 * facts: the property set GUID, the two property ids, the two enumerations and the layout of the
 * features structure.  C11 and C++17.
 */
#ifndef KSLAB_TEST_REACTOS_AC97_PRVPROP_H
#define KSLAB_TEST_REACTOS_AC97_PRVPROP_H

#include <kslab/wdk/ks.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- property set ----------------------------------------------------------------------- */

/* A filter property of the topology miniport (no node), read by the sample's property page. */
#define STATIC_KSPROPSETID_Private 0x2AA7A0B1L, 0x9F78, 0x4606, 0xB8, 0x82, 0x66, 0xB7, 0x0F, 0x02, 0x26, 0x37
DEFINE_GUIDSTRUCT("2AA7A0B1-9F78-4606-B882-66B70F022637", KSPROPSETID_Private);
#define KSPROPSETID_Private DEFINE_GUIDNAMED(KSPROPSETID_Private)

/* Property ids in KSPROPSETID_Private.  FEATURES (get) fills a tAC97Features; SAMPLE_SET (set,
 * compiled in the sample only with PROPERTY_SHOW_SET) takes a DWORD. */
enum {
    KSPROPERTY_AC97_FEATURES = 1,
    KSPROPERTY_AC97_SAMPLE_SET = 2
};

/* ---- features --------------------------------------------------------------------------- */

/* How a volume control is implemented (or that it is absent). */
typedef enum VolumeControl {
    VolumeDisabled,
    Volume5bit,
    Volume6bit
} VolumeControl;

/* Converter resolution. */
typedef enum Resolution {
    Resolution16bit,
    Resolution18bit,
    Resolution20bit
} Resolution;

/* The answer to KSPROPERTY_AC97_FEATURES, fields in the sample's order. */
typedef struct {
    VolumeControl MasterVolume;
    VolumeControl HeadphoneVolume;
    VolumeControl MonoOutVolume;
    Resolution DAC;
    Resolution ADC;
    int n3DTechnique;      /* 3D technique field of the codec's reset register */
    BOOLEAN bMicInPresent;
    BOOLEAN bVSRPCM;       /* variable sample rate, PCM */
    BOOLEAN bDSRPCM;       /* double sample rate, PCM */
    BOOLEAN bVSRMIC;       /* variable sample rate, microphone */
    BOOLEAN bCenterDAC;
    BOOLEAN bSurroundDAC;
    BOOLEAN bLFEDAC;
} tAC97Features;

#ifdef __cplusplus
}
#endif
#endif
