/* getpid_loop.c - N raw getpid syscalls (default 1,000,000), then one line.
 *
 * syscall(SYS_getpid) is glibc's generic raw-syscall wrapper: one syscall
 * instruction per call, nothing cached (glibc stopped caching getpid() in
 * 2.25, and syscall() never did). Run with "0" it is the start-up baseline:
 * the same binary, the same exit path, no loop iterations.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    long pid = 0, changed = 0;
    for (long i = 0; i < n; i++) {
        long p = syscall(SYS_getpid);
        changed += (i > 0 && p != pid);
        pid = p;
    }
    printf("%ld getpid calls, pid %s\n", n, changed ? "changed" : "stable");
    return changed != 0;
}
