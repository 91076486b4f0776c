// cflags: -m32 -no-pie
/* i386_regs: loads known patterns into the 32-bit registers (8-bit, 16-bit,
 * 32-bit and high-byte views) and stops at a global label after each load
 * (tests put breakpoints on the labels), then stores eax, ebx, ecx and edx
 * into `stored` after the label `store_point`: a test that writes registers
 * there sees its values in the program's memory. ebp is saved and restored
 * around the loads (the C code needs it). */
#include <stdint.h>
#include <stdio.h>

volatile uint32_t stored[4];

int main(void)
{
    __asm__ volatile(
        "push %%ebp\n\t"
        "mov $0x11, %%al\n\t"
        "mov $0x22, %%bl\n\t"
        "mov $0x33, %%cl\n\t"
        "mov $0x44, %%dl\n\t"
        ".globl after_8l\nafter_8l:\n\t"
        "nop\n\t"
        "mov $0x1122, %%ax\n\t"
        "mov $0x2233, %%bx\n\t"
        "mov $0x3344, %%cx\n\t"
        "mov $0x4455, %%dx\n\t"
        "mov $0x5566, %%si\n\t"
        "mov $0x6677, %%di\n\t"
        "mov $0x7788, %%bp\n\t"
        ".globl after_16\nafter_16:\n\t"
        "nop\n\t"
        "mov $0x11223344, %%eax\n\t"
        "mov $0x22334455, %%ebx\n\t"
        "mov $0x33445566, %%ecx\n\t"
        "mov $0x44556677, %%edx\n\t"
        "mov $0x55667788, %%esi\n\t"
        "mov $0x66778899, %%edi\n\t"
        "mov $0x778899AA, %%ebp\n\t"
        ".globl after_32\nafter_32:\n\t"
        "nop\n\t"
        "mov $0x11, %%ah\n\t"
        "mov $0x22, %%bh\n\t"
        "mov $0x33, %%ch\n\t"
        "mov $0x44, %%dh\n\t"
        ".globl after_8h\nafter_8h:\n\t"
        "nop\n\t"
        "pop %%ebp\n\t"
        ".globl store_point\nstore_point:\n\t"
        "mov %%eax, stored\n\t"
        "mov %%ebx, stored+4\n\t"
        "mov %%ecx, stored+8\n\t"
        "mov %%edx, stored+12\n\t"
        ::: "eax", "ebx", "ecx", "edx", "esi", "edi", "memory");
    printf("%08x %08x %08x %08x\n", stored[0], stored[1], stored[2], stored[3]);
    return 0;
}
