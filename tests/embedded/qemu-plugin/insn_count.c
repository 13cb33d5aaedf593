/*
 * insn_count: a QEMU TCG plugin that counts the guest instructions executed
 * and prints the total on stderr when QEMU exits:
 *
 *     insn_count: 123456789
 *
 * Build:  gcc -O2 -shared -fPIC -o insn_count.so insn_count.c
 * Use:    qemu-system-arm ... -plugin ./insn_count.so -kernel firmware.elf
 *
 * Marks: with the argument mark=ADDRESS (hex, the address of a function the
 * guest calls between units of work, e.g. `gaussmix_mark` from
 * `arm-none-eabi-nm`; the Thumb bit is ignored), the plugin also records the
 * count each time the TB at that address is entered and prints, besides
 * the total,
 *
 *     insn_marks: <marks> max <largest difference> min <smallest> span <last − first>
 *
 * over consecutive marks: the instructions of the most (least) expensive
 * unit of work, and of all of them together, exactly (every mark is counted the same way, so the offset
 * of the mark's own TB cancels in a difference).
 *
 * Debian ships QEMU with plugin support but without qemu-plugin.h, so the
 * few declarations of the plugin API version 1 (QEMU 4.2 to 8.1; Debian
 * bookworm has 7.2) that this file needs are written out below, copied in
 * substance from QEMU's include/qemu/qemu-plugin.h.
 *
 * Counting: at translation, each translation block (TB) gets an inline
 * "add n_insns to a 64-bit counter" that runs every time the TB is entered.
 * No callback per instruction, so the cost is small and the count is exact
 * and repeatable for a deterministic guest. (A TB left early by an
 * exception, e.g. the semihosting exit itself, still counts whole; the
 * guests measured here take no exceptions until that exit.)
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* opaque here: not read */
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
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
                                    qemu_plugin_udata_cb_t cb, void *userdata);
enum qemu_plugin_cb_flags {
    QEMU_PLUGIN_CB_NO_REGS,
};
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index,
                                            void *userdata);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
                                          qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags,
                                          void *userdata);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);

/* The API version this plugin was written against. */
QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;

/* One guest CPU (the boards used have one), so one plain counter. */
static uint64_t insn_count;

/* Marks: the address (0: none), the count at the last mark, the extremes. */
static uint64_t mark_addr, first_mark, last_mark, marks, max_delta, min_delta = UINT64_MAX;

static void at_mark(unsigned int vcpu, void *userdata)
{
    (void)vcpu;
    (void)userdata;
    if (marks == 0) {
        first_mark = insn_count;
    } else {
        uint64_t d = insn_count - last_mark;
        max_delta = d > max_delta ? d : max_delta;
        min_delta = d < min_delta ? d : min_delta;
    }
    last_mark = insn_count;
    marks++;
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
                                             &insn_count,
                                             qemu_plugin_tb_n_insns(tb));
    if (mark_addr != 0 && qemu_plugin_tb_vaddr(tb) == mark_addr) {
        qemu_plugin_register_vcpu_tb_exec_cb(tb, at_mark,
                                             QEMU_PLUGIN_CB_NO_REGS, NULL);
    }
}

static void at_exit(qemu_plugin_id_t id, void *userdata)
{
    (void)id;
    (void)userdata;
    fprintf(stderr, "insn_count: %" PRIu64 "\n", insn_count);
    if (mark_addr != 0) {
        fprintf(stderr,
                "insn_marks: %" PRIu64 " max %" PRIu64 " min %" PRIu64 " span %" PRIu64 "\n",
                marks, max_delta, marks > 1 ? min_delta : 0, last_mark - first_mark);
    }
    fflush(stderr);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
                                           const qemu_info_t *info,
                                           int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "mark=", 5) == 0) {
            mark_addr = strtoull(argv[i] + 5, NULL, 16) & ~(uint64_t)1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
