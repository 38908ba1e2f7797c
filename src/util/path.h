/* SPDX-License-Identifier: MIT */
/*
 * Source paths as messages show them.  Host code; a leaf of the layers.
 */
#ifndef KSLAB_UTIL_PATH_H
#define KSLAB_UTIL_PATH_H

/* The last component of `path` ("stream.c"): a message names the file, the finding carries the
 * whole path.  "?" for NULL. */
const char *ksl__base_name(const char *path);

#endif
