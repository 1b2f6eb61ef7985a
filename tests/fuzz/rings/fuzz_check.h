#pragma once
// Invariant checks for the ring fuzz targets: a violated invariant is a bug in the ring code,
// so it must crash loudly for libFuzzer to record the input.
#include <cstdio>
#include <cstdlib>

#define TWOFOLD_FUZZ_CHECK(condition)                                                     \
    do {                                                                                  \
        if (!(condition)) {                                                               \
            std::fprintf(stderr, "invariant violated: %s (%s:%d)\n", #condition, __FILE__, __LINE__); \
            std::abort();                                                                 \
        }                                                                                 \
    } while (false)
