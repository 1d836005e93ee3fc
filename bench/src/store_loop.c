/* store_loop.c - store-heavy user-mode work: xorshift64 written over a buffer.
 *
 * ROUNDS passes (argv[1], default DEFAULT_ROUNDS) each write all 8192 words
 * of a 64 KiB buffer (one 8-byte store per xorshift step); the sum of the
 * buffer is printed (the same on every arch). compute_loop only loads from
 * memory in its hot loop; this one measures what guest stores cost, which
 * an emulator's softmmu store path can make much more expensive than loads.
 * DEFAULT_ROUNDS is sized for about 0.1 s natively (x86_64 Xeon, gcc -O2).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef DEFAULT_ROUNDS
#define DEFAULT_ROUNDS 5000
#endif
#define WORDS 8192

static volatile uint64_t buf[WORDS]; /* volatile: every store is emitted */

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : DEFAULT_ROUNDS;
    uint64_t x = 88172645463325252ull;
    for (long r = 0; r < rounds; r++) {
        for (size_t i = 0; i < WORDS; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = x;
        }
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < WORDS; i++) sum += buf[i];
    printf("rounds %ld sum %016" PRIx64 "\n", rounds, sum);
    return 0;
}
