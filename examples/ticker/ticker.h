/* SPDX-License-Identifier: MIT */
/*
 * The "ticker": a small frame device and its stream class minidriver, written against kslab's
 * installed headers only, built out of kslab's tree as two plugins (see CMakeLists.txt).
 *
 * The device makes a 32-byte frame (<kslab/hw/frame.h>, magic TICKER_MAGIC) every millisecond
 * while CONTROL.RUN is set.  A frame waits in a one-frame buffer until the driver releases it;
 * one that comes while the buffer is still held is dropped whole (STATUS.OVERRUN latches).
 * With CONTROL.IE the interrupt line is high while a frame waits.
 */
#ifndef TICKER_H
#define TICKER_H

/* Registers, 32-bit, offsets from the port base. */
#define TICKER_CONTROL 0x00u  /* RW: RUN, IE */
#define TICKER_STATUS 0x04u   /* RO: READY, OVERRUN */
#define TICKER_ACK 0x08u      /* W: RELEASE the buffer, CLEAR the overrun */
#define TICKER_DATA 0x0Cu     /* RO: the next 32-bit word of the waiting frame */
#define TICKER_PORTS 0x10u    /* the port range */

#define TICKER_CTL_RUN 0x1u
#define TICKER_CTL_IE 0x2u
#define TICKER_ST_READY 0x1u
#define TICKER_ST_OVERRUN 0x2u
#define TICKER_ACK_RELEASE 0x1u
#define TICKER_ACK_CLEAR 0x2u

#define TICKER_FRAME_BYTES 32u
#define TICKER_FRAME_NS 1000000u
#define TICKER_MAGIC 0x4B434954u /* "TICK" */

#endif
