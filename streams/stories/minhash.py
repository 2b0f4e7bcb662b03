"""Column minima of MinHash rows with big-integer arithmetic (SWAR: one register, many lanes).

``stories.signature`` needs, for each of ``PERMUTATIONS`` positions, the minimum 32-bit value over
one row per shingle. ``map(min, zip(*rows))`` does that one Python int at a time (~60 × 60 objects
per item). Here all rows are one integer: the even and the odd positions are split into 64-bit lanes
(the value in the low 32 bits, room above), and rows are halved pairwise, every lane at once, with
a handful of C-speed big-integer operations per halving: for lanes ``a`` and ``b``,
``(a + 2³²) - b`` cannot borrow from the next lane, and its bit 32 says ``a >= b``; that bit widened
to a 32-bit mask picks ``b`` or ``a``. The result is exactly the column minima (tests compare).
"""

from __future__ import annotations

import struct

LANES = 60  # values per row (stories.PERMUTATIONS)
_ROW_BITS = 32 * LANES  # one row = LANES/2 64-bit lanes of even (or odd) positions
_LOW = b"\xff\xff\xff\xff\x00\x00\x00\x00" * (LANES // 2)  # the low 32 bits of every 64-bit lane
_GUARD = b"\x00\x00\x00\x00\x01\x00\x00\x00" * (LANES // 2)  # bit 32 of every lane
_HALF = struct.Struct(f"<{LANES // 2}Q").unpack
_CACHED_ROWS = 1024  # masks for up to this many rows are kept (~1 MB); longer texts build theirs
_masks: dict[tuple[bytes, int], int] = {}


def _mask(pattern: bytes, rows: int) -> int:
    """``pattern`` over at least ``rows`` rows (a power of two of them, so few masks are cached);
    lanes beyond the operands are harmless: they compare 0 with 0."""
    size = 1 << max(rows - 1, 0).bit_length()
    if size > _CACHED_ROWS:
        return int.from_bytes(pattern * rows, "little")
    mask = _masks.get((pattern, size))
    if mask is None:
        mask = _masks[(pattern, size)] = int.from_bytes(pattern * size, "little")
    return mask


def _halve_to_one(lanes: int, rows: int) -> int:
    while rows > 1:
        half = rows // 2
        shift = half * _ROW_BITS
        low = (1 << shift) - 1
        a, b, rest = lanes & low, (lanes >> shift) & low, lanes >> (2 * shift)  # rest: the odd row out
        guard = _mask(_GUARD, half)
        ge = (((a | guard) - b) & guard) >> 32  # 1 in each lane where a >= b
        lanes = (a ^ ((a ^ b) & ((ge << 32) - ge))) | (rest << shift)
        rows = half + (rows & 1)
    return lanes


def column_minima(blob: bytes, rows: int) -> list[int]:
    """``blob``: ``rows`` rows of ``LANES`` little-endian uint32; the minimum of each position."""
    if rows == 0:
        return []
    whole = int.from_bytes(blob, "little")
    low = _mask(_LOW, rows)
    even = _halve_to_one(whole & low, rows).to_bytes(4 * LANES, "little")
    odd = _halve_to_one((whole >> 32) & low, rows).to_bytes(4 * LANES, "little")
    minima = [0] * LANES
    minima[0::2] = _HALF(even)
    minima[1::2] = _HALF(odd)
    return minima
