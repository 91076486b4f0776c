/* nop_sled: a function made of 12 000 one-byte nops (labelled `sled_start`),
 * so a test can put 10 000 breakpoints on distinct instructions that all run
 * exactly once. Prints "sled done" afterwards. */
#include <stdio.h>

void run_sled(void);

__asm__(
    ".text\n"
    ".globl run_sled\n"
    ".type run_sled, @function\n"
    "run_sled:\n"
    "  .globl sled_start\n"
    "sled_start:\n"
    "  .rept 12000\n"
    "  nop\n"
    "  .endr\n"
    "  ret\n"
    ".size run_sled, .-run_sled\n");

int main(void)
{
    run_sled();
    puts("sled done");
    fflush(stdout);
    return 0;
}
