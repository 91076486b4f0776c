/* watch: variables of 1, 2, 4 and 8 bytes, each written and read only by
 * tiny assembly functions whose accessing instruction is followed by a
 * global label (after_store_vN / after_load_vN), so a test can check that a
 * watchpoint reports the instruction right after the access.
 *
 * main, for each size N in 8, 16, 32, 64: store_vN(1); load_vN();
 * store_vN(2); load_vN(). So each variable is written twice and read twice.
 * Then `hits_var` is written 5 times by C code (for callback tests), and
 * the loaded values are printed. */
#include <stdio.h>
#include <stdint.h>

uint8_t v8 __attribute__((aligned(16)));
uint16_t v16 __attribute__((aligned(16)));
uint32_t v32 __attribute__((aligned(16)));
uint64_t v64 __attribute__((aligned(16)));
volatile uint64_t hits_var __attribute__((aligned(16)));

uint64_t store_v8(uint64_t), load_v8(void);
uint64_t store_v16(uint64_t), load_v16(void);
uint64_t store_v32(uint64_t), load_v32(void);
uint64_t store_v64(uint64_t), load_v64(void);

#define ACCESSORS(N, STORE_INSN, LOAD_INSN)                     \
    ".globl store_v" #N "\n"                                    \
    ".type store_v" #N ", @function\n"                          \
    "store_v" #N ":\n"                                          \
    "  " STORE_INSN ", v" #N "(%rip)\n"                         \
    ".globl after_store_v" #N "\n"                              \
    "after_store_v" #N ":\n"                                    \
    "  ret\n"                                                   \
    ".size store_v" #N ", .-store_v" #N "\n"                    \
    ".globl load_v" #N "\n"                                     \
    ".type load_v" #N ", @function\n"                           \
    "load_v" #N ":\n"                                           \
    "  " LOAD_INSN "\n"                                         \
    ".globl after_load_v" #N "\n"                               \
    "after_load_v" #N ":\n"                                     \
    "  ret\n"                                                   \
    ".size load_v" #N ", .-load_v" #N "\n"

__asm__(".text\n"
        ACCESSORS(8, "movb %dil", "movzbq v8(%rip), %rax")
        ACCESSORS(16, "movw %di", "movzwq v16(%rip), %rax")
        ACCESSORS(32, "movl %edi", "movl v32(%rip), %eax")
        ACCESSORS(64, "movq %rdi", "movq v64(%rip), %rax"));

int main(void)
{
    uint64_t a, b;
    store_v8(1); a = load_v8(); store_v8(2); b = load_v8();
    printf("v8 %lu %lu\n", (unsigned long)a, (unsigned long)b);
    store_v16(1); a = load_v16(); store_v16(2); b = load_v16();
    printf("v16 %lu %lu\n", (unsigned long)a, (unsigned long)b);
    store_v32(1); a = load_v32(); store_v32(2); b = load_v32();
    printf("v32 %lu %lu\n", (unsigned long)a, (unsigned long)b);
    store_v64(1); a = load_v64(); store_v64(2); b = load_v64();
    printf("v64 %lu %lu\n", (unsigned long)a, (unsigned long)b);
    for (int i = 0; i < 5; i++)
        hits_var = 100 + i;
    printf("done\n");
    fflush(stdout);
    return 0;
}
