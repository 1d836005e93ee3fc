/* hello.c - start-up cost only: one line with stdio, exit 0. */
#include <stdio.h>

int main(void)
{
    puts("hello, world");
    return 0;
}
