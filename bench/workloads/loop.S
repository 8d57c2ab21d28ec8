/* loop.S — the "loop" benchmark workloads: eight integer instructions in a hot loop
 *     add reg,reg; xor reg,imm; store; load; add; shl; dec; jne
 * run ITERATIONS times (argv[1] in decimal, default 200,000,000 = 1.6 G loop instructions).
 *
 * Built twice. Plain: the store/load slot is in .bss, pages away from the code. With
 * -DSAMEPAGE: code and slot share one 4 KiB page of an RWX section (the slot 2 KiB after the
 * code, so never in the same 128-byte chunk as any instruction). Every store then hits a
 * page that holds code, which is what self-modifying-code detection watches: real CPUs snoop
 * stores against fetched code, QEMU write-protects pages it has translated, and an emulator
 * with decoded-code caches must notice the store without throwing its work away each time.
 * Exits with status 0. */

#ifdef SAMEPAGE
        .section .samepage, "awx", @progbits
#else
        .text
#endif
        .globl _start
        .type _start, @function
        .p2align 12
_start:
        mov     $200000000, %rcx
        cmpq    $2, (%rsp)              /* argc >= 2: parse argv[1] */
        jb      2f
        mov     16(%rsp), %rsi
        xor     %ecx, %ecx
1:      movzbl  (%rsi), %eax
        sub     $'0', %eax
        cmp     $9, %eax
        ja      2f
        imul    $10, %rcx, %rcx
        add     %rax, %rcx
        inc     %rsi
        jmp     1b
2:      test    %rcx, %rcx
        jz      4f
        lea     slot(%rip), %rdi
        mov     $0x9e3779b97f4a7c15, %rbx
        xor     %eax, %eax
        xor     %esi, %esi
        .p2align 6
3:      add     %rbx, %rax              /* the measured loop: 8 instructions */
        xor     $0x5bd1e995, %rax
        mov     %rax, (%rdi)
        mov     (%rdi), %rdx
        add     %rdx, %rsi
        shl     $2, %rdx
        dec     %rcx
        jne     3b
4:      mov     $60, %eax               /* exit(0) */
        xor     %edi, %edi
        syscall
        ud2
        .size _start, . - _start

#ifdef SAMEPAGE
        .org    0x800                   /* same page as the loop, another 128-byte chunk */
slot:   .quad   0
        .org    0x1000                  /* pad to the page end: nothing else shares it */
#else
        .bss
        .p2align 12
slot:   .quad   0
#endif
