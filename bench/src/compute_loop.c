/* compute_loop.c - pure user-mode work: FNV-1a over a xorshift-filled buffer.
 *
 * ROUNDS passes (argv[1], default DEFAULT_ROUNDS) of 64-bit FNV-1a over a
 * 64 KiB buffer; after each pass one byte of the buffer is perturbed by the
 * hash, so no pass can be hoisted or skipped. The final hash is printed (and
 * is the same on every arch: only fixed-width unsigned arithmetic), so the
 * benchmark can check that every runner computed the same thing.
 * DEFAULT_ROUNDS is sized for about one second natively on the machine the
 * benchmark was written on (x86_64 Xeon, gcc -O2).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef DEFAULT_ROUNDS
#define DEFAULT_ROUNDS 11000
#endif
#define BUF_SIZE (64 * 1024)

static uint8_t buf[BUF_SIZE];

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : DEFAULT_ROUNDS;
    uint64_t x = 88172645463325252ull;          /* xorshift64 seed */
    for (size_t i = 0; i < BUF_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t)(x >> 32);
    }
    uint64_t h = 14695981039346656037ull;       /* FNV-1a 64 offset basis */
    for (long r = 0; r < rounds; r++) {
        for (size_t i = 0; i < BUF_SIZE; i++) {
            h ^= buf[i];
            h *= 1099511628211ull;              /* FNV-1a 64 prime */
        }
        buf[(size_t)r % BUF_SIZE] ^= (uint8_t)h;
    }
    printf("rounds %ld hash %016" PRIx64 "\n", rounds, h);
    return 0;
}
