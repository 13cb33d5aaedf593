#!/usr/bin/env python3
"""The coefficients of the f64 polynomial in `Real::exp_nonpositive`
(src/real.rs), computed in 60-digit arithmetic.

Not a test and run by nothing: `python3 tests/exp_minimax.py` (needs
mpmath) prints them and the largest relative error of the polynomial before
rounding. The Rust test `exp_nonpositive_matches_libm_f64` checks what the
rounded coefficients give in f64 arithmetic.

The form: e^r ~ 1 + r + r^2 (c2 + c3 r + ... + c11 r^9) on |r| <= ln2/2.
The constant and linear terms stay exact (they set the rounding of the
result). c2..c11 make the polynomial equal e^r at the 11 Chebyshev points of
the interval (the middle one is r = 0, where it holds by construction), which
spreads the error almost as evenly as the minimax polynomial would. c2 is
left free rather than fixed at 1/2, which lowers the error before rounding
and, in a throw-away comparison against 40-digit values, kept the largest
error after rounding below 1 ulp, where c2 = 1/2 went just above it.
"""
import mpmath as mp

mp.mp.dps = 60
FREE = 10  # c2 .. c11
H = mp.log(2) / 2 * mp.mpf("1.0001")  # a little past ln2/2: k's rounding
GRID = 20000


def poly(c, x):
    q = mp.mpf(0)
    for a in reversed(c):
        q = q * x + a
    return 1 + x + x * x * q


def main():
    n = FREE + 1
    nodes = [H * mp.cos(mp.pi * (2 * i + 1) / (2 * n)) for i in range(n)]
    nodes = [x for x in nodes if abs(x) > mp.mpf("1e-40")]  # r = 0 holds anyway
    a = mp.matrix(FREE, FREE)
    b = mp.matrix(FREE, 1)
    for i, x in enumerate(nodes):
        for j in range(FREE):
            a[i, j] = x ** (2 + j)
        b[i] = mp.e**x - 1 - x
    s = mp.lu_solve(a, b)
    c = [s[j] for j in range(FREE)]
    worst = max(
        abs(mp.e**x - poly(c, x)) / mp.e**x
        for x in (-H + 2 * H * k / GRID for k in range(GRID + 1))
    )
    print("largest relative error before rounding:", mp.nstr(worst, 3),
          "=", mp.nstr(worst / mp.mpf(2) ** -52, 3), "epsilon")
    for j, v in enumerate(c):
        print(f"c{j + 2} = {float(v)!r}")


if __name__ == "__main__":
    main()
