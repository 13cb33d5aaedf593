/*
 * insn_profile: insn_count plus a per-translation-block profile, for finding
 * where the instructions go (not used by CI). At exit it prints the total
 * like insn_count and writes one line per executed translation block,
 *
 *     <start address, hex> <instructions in the block> <executions>
 *
 * to the file named by the plugin argument out=PATH (default
 * insn_profile.txt). tests/embedded/profile.py sums it per function.
 *
 * Build:  gcc -O2 -shared -fPIC -o insn_profile.so insn_profile.c
 * Use:    qemu-system-arm ... -plugin ./insn_profile.so,out=prof.txt -kernel ELF
 *
 * The plugin API declarations are those of insn_count.c (API version 1,
 * QEMU 7.2), plus qemu_plugin_tb_vaddr.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
enum qemu_plugin_op {
    QEMU_PLUGIN_INLINE_ADD_U64,
};
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
                                               struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                           qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
                                              enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
                                    qemu_plugin_udata_cb_t cb, void *userdata);

QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;

/* One record per translation (a block translated twice gets two). */
struct block {
    uint64_t vaddr, n_insns, executions;
    struct block *next;
};
static struct block *blocks;
static const char *out_path = "insn_profile.txt";

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    struct block *b = calloc(1, sizeof *b);
    (void)id;
    if (!b)
        return;
    b->vaddr = qemu_plugin_tb_vaddr(tb);
    b->n_insns = qemu_plugin_tb_n_insns(tb);
    b->next = blocks;
    blocks = b;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
                                             &b->executions, 1);
}

static void at_exit(qemu_plugin_id_t id, void *userdata)
{
    FILE *f = fopen(out_path, "w");
    uint64_t total = 0;
    (void)id;
    (void)userdata;
    for (struct block *b = blocks; b; b = b->next) {
        total += b->n_insns * b->executions;
        if (f && b->executions)
            fprintf(f, "%" PRIx64 " %" PRIu64 " %" PRIu64 "\n", b->vaddr,
                    b->n_insns, b->executions);
    }
    if (f)
        fclose(f);
    fprintf(stderr, "insn_count: %" PRIu64 "\n", total);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
                                           const qemu_info_t *info,
                                           int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++)
        if (strncmp(argv[i], "out=", 4) == 0)
            out_path = argv[i] + 4;
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
