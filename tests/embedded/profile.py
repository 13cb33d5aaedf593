#!/usr/bin/env python3
"""Instructions per function from insn_profile.so output (not used by CI).

    profile.py ELF PROFILE            instructions per function in one run
    profile.py ELF BASE PROFILE       PROFILE minus BASE (e.g. 11 em_steps
                                      minus 1), the cost of the extra work

Each translation block is charged to the function (symbol from
`arm-none-eabi-nm`) that contains its first instruction; with LTO most of
gaussmix is inlined into a few large functions, so read the names as
"code inlined into". Prints the 25 largest entries.
"""
import bisect
import collections
import subprocess
import sys


def symbols(elf):
    out = subprocess.run(["arm-none-eabi-nm", "-C", "-n", "-S", elf],
                         capture_output=True, text=True, check=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4 and parts[2] in "tT":
            syms.append((int(parts[0], 16), int(parts[1], 16), parts[3]))
    return syms


def load(path, syms, starts):
    per_fn = collections.Counter()
    with open(path) as f:
        for line in f:
            addr, n, executions = line.split()
            a = int(addr, 16) & ~1
            i = bisect.bisect_right(starts, a) - 1
            if i >= 0 and a < syms[i][0] + syms[i][1]:
                name = syms[i][2]
            else:
                name = hex(a)
            per_fn[name] += int(n) * int(executions)
    return per_fn


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    syms = symbols(sys.argv[1])
    starts = [s[0] for s in syms]
    runs = [load(p, syms, starts) for p in sys.argv[2:]]
    if len(runs) == 2:
        base, run = runs
        cost = {k: run[k] - base[k] for k in set(base) | set(run)}
    else:
        cost = runs[0]
    total = sum(cost.values())
    for name, n in sorted(cost.items(), key=lambda kv: -kv[1])[:25]:
        print(f"{n:12d} {100 * n / total:5.1f}%  {name[:100]}")
    print(f"{total:12d}        total")


if __name__ == "__main__":
    main()
