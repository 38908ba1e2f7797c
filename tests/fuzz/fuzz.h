/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harnesses for every input kslab reads (label `fuzz`).  Each harness defines
 * LLVMFuzzerTestOneInput and checks what must hold for any input: no crash, no leak, no hang,
 * and a round trip where the format has one.  Built with the `fuzz` preset (clang,
 * -fsanitize=fuzzer,address,undefined) they fuzz; built in any other preset, with standalone.c
 * as their main, they replay their corpus (tests/fuzz/corpus/NAME) as tests.
 */
#ifndef KSLAB_TESTS_FUZZ_H
#define KSLAB_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property every input must keep: abort (the fuzzer's crash) with a message when it does not. */
#define FUZZ_CHECK(cond)                                                                                \
    do {                                                                                                \
        if (!(cond)) {                                                                                  \
            fprintf(stderr, "%s:%d: %s does not hold\n", __FILE__, __LINE__, #cond);                    \
            abort();                                                                                    \
        }                                                                                               \
    } while (0)

#endif
