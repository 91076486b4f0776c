/* regs_print: lets tests read and write every register and see the effect.
 *
 * fill_regs() (assembly below) loads known values into every general register
 * (register number k, counting rax=1 ... r15=15 in the order of gpr_out, gets
 * the bytes k0 k1 ... k7 from low to high, so every sub-register differs),
 * then reaches the global label `regs_loaded`.
 * A test stops there with a breakpoint, reads the values, may overwrite them,
 * and the code after the label stores the (possibly changed) registers into
 * `gpr_out`, which main prints. fill_x87() does the same for xmm0, xmm1,
 * ymm2 and st0 (label `vec_loaded`) and for mm0 (label `mmx_loaded`).
 *
 * print_value(long) prints its argument: a test that sets rdi at its entry
 * sees the new value printed. */
#include <stdio.h>
#include <stdint.h>

uint64_t gpr_out[15];          /* rax rbx rcx rdx rsi rdi rbp r8 ... r15, in that order */
uint64_t vec_out[8] __attribute__((aligned(32)));  /* xmm0 (2 qwords), xmm1 (2), ymm2 (4) */
uint64_t mm_out[1];
unsigned char st_out[10];

void fill_regs(void);
void fill_x87(void);

__asm__(
    ".text\n"
    ".globl fill_regs\n"
    ".type fill_regs, @function\n"
    "fill_regs:\n"
    "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
    "  movabs $0x1716151413121110, %rax\n"
    "  movabs $0x2726252423222120, %rbx\n"
    "  movabs $0x3736353433323130, %rcx\n"
    "  movabs $0x4746454443424140, %rdx\n"
    "  movabs $0x5756555453525150, %rsi\n"
    "  movabs $0x6766656463626160, %rdi\n"
    "  movabs $0x7776757473727170, %rbp\n"
    "  movabs $0x8786858483828180, %r8\n"
    "  movabs $0x9796959493929190, %r9\n"
    "  movabs $0xa7a6a5a4a3a2a1a0, %r10\n"
    "  movabs $0xb7b6b5b4b3b2b1b0, %r11\n"
    "  movabs $0xc7c6c5c4c3c2c1c0, %r12\n"
    "  movabs $0xd7d6d5d4d3d2d1d0, %r13\n"
    "  movabs $0xe7e6e5e4e3e2e1e0, %r14\n"
    "  movabs $0xf7f6f5f4f3f2f1f0, %r15\n"
    "  .globl regs_loaded\n"
    "regs_loaded:\n"
    "  nop\n"
    "  mov %rax, gpr_out+0(%rip)\n"
    "  mov %rbx, gpr_out+8(%rip)\n"
    "  mov %rcx, gpr_out+16(%rip)\n"
    "  mov %rdx, gpr_out+24(%rip)\n"
    "  mov %rsi, gpr_out+32(%rip)\n"
    "  mov %rdi, gpr_out+40(%rip)\n"
    "  mov %rbp, gpr_out+48(%rip)\n"
    "  mov %r8,  gpr_out+56(%rip)\n"
    "  mov %r9,  gpr_out+64(%rip)\n"
    "  mov %r10, gpr_out+72(%rip)\n"
    "  mov %r11, gpr_out+80(%rip)\n"
    "  mov %r12, gpr_out+88(%rip)\n"
    "  mov %r13, gpr_out+96(%rip)\n"
    "  mov %r14, gpr_out+104(%rip)\n"
    "  mov %r15, gpr_out+112(%rip)\n"
    "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n"
    "  ret\n"
    ".size fill_regs, .-fill_regs\n"

    /* Vector and x87 registers: xmm0, xmm1 and ymm2 get known values, st0 gets
     * 1.5 (80-bit 0x3fff c000000000000000); after vec_loaded the registers are
     * stored to memory. mm0 is the low 64 bits of the st0 slot, so the second
     * half loads an MMX value and stores it after mmx_loaded. */
    ".globl fill_x87\n"
    ".type fill_x87, @function\n"
    "fill_x87:\n"
    "  sub $40, %rsp\n"
    "  movabs $0x0706050403020100, %rax\n  mov %rax, 0(%rsp)\n"
    "  movabs $0x0f0e0d0c0b0a0908, %rax\n  mov %rax, 8(%rsp)\n"
    "  movups (%rsp), %xmm0\n"
    "  movabs $0x1716151413121110, %rax\n  mov %rax, 0(%rsp)\n"
    "  movabs $0x1f1e1d1c1b1a1918, %rax\n  mov %rax, 8(%rsp)\n"
    "  movups (%rsp), %xmm1\n"
    "  vpcmpeqd %ymm2, %ymm2, %ymm2\n"          /* ymm2 = all ones */
    "  movabs $0x3ff8000000000000, %rax\n  mov %rax, 0(%rsp)\n"  /* double 1.5 */
    "  fldl (%rsp)\n"
    "  .globl vec_loaded\n"
    "vec_loaded:\n"
    "  nop\n"
    "  movups %xmm0, vec_out+0(%rip)\n"
    "  movups %xmm1, vec_out+16(%rip)\n"
    "  vmovdqu %ymm2, vec_out+32(%rip)\n"
    "  vzeroupper\n"
    "  fstpt st_out(%rip)\n"
    "  emms\n"
    "  movabs $0x1122334455667788, %rax\n  mov %rax, 0(%rsp)\n"
    "  movq (%rsp), %mm0\n"
    "  .globl mmx_loaded\n"
    "mmx_loaded:\n"
    "  nop\n"
    "  movq %mm0, mm_out(%rip)\n"
    "  emms\n"
    "  add $40, %rsp\n"
    "  ret\n"
    ".size fill_x87, .-fill_x87\n");

__attribute__((noinline)) void print_value(long v)
{
    printf("value=%ld\n", v);
    fflush(stdout);
}

int main(void)
{
    static const char *names[15] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp",
                                    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};
    fill_regs();
    for (int i = 0; i < 15; i++)
        printf("%s=%016llx\n", names[i], (unsigned long long)gpr_out[i]);
    fill_x87();
    printf("xmm0=%016llx%016llx\n", (unsigned long long)vec_out[1], (unsigned long long)vec_out[0]);
    printf("xmm1=%016llx%016llx\n", (unsigned long long)vec_out[3], (unsigned long long)vec_out[2]);
    printf("ymm2=%016llx%016llx%016llx%016llx\n", (unsigned long long)vec_out[7],
           (unsigned long long)vec_out[6], (unsigned long long)vec_out[5], (unsigned long long)vec_out[4]);
    printf("st0=");
    for (int i = 9; i >= 0; i--)
        printf("%02x", st_out[i]);
    printf("\n");
    printf("mm0=%016llx\n", (unsigned long long)mm_out[0]);
    print_value(42);
    fflush(stdout);
    return 0;
}
