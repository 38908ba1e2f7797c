/* SPDX-License-Identifier: MIT */
#include "path.h"

#include <string.h>

const char *ksl__base_name(const char *path)
{
    if (!path)
        return "?";
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}
