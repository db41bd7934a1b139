"""QuickXorHash (the OneDrive content hash), fast in pure Python.

Byte ``i`` of the data is XORed into a 160-bit circular register at bit offset
``(11 * i) mod 160``. The offset repeats every 160 bytes, so all 160-byte blocks can be XORed
together first (as big integers), and the per-position rotations applied to the 160 bytes left.
Finally the data length (64-bit little endian) is XORed into the last 8 bytes.
"""

from __future__ import annotations

import base64

WIDTH = 160  # bits in the register == bytes per block of equal shifts
SHIFT = 11
_MASK = (1 << WIDTH) - 1


def _fold(data: bytes) -> bytes:
    """XOR all 160-byte blocks of data (zero padded) into one 160-byte block."""
    n = len(data)
    if n == 0:
        return bytes(WIDTH)
    blocks = -(-n // WIDTH)
    buf = data + bytes(blocks * WIDTH - n)
    # Halve repeatedly: XOR the first half of the blocks with the second half.
    while blocks > 1:
        if blocks % 2:
            buf += bytes(WIDTH)
            blocks += 1
        half = blocks // 2 * WIDTH
        a = int.from_bytes(buf[:half], "little")
        b = int.from_bytes(buf[half:], "little")
        buf = (a ^ b).to_bytes(half, "little")
        blocks //= 2
    return buf


def quickxor_digest(data: bytes) -> bytes:
    folded = _fold(bytes(data))
    reg = 0
    for k, byte in enumerate(folded):
        if byte:
            s = (SHIFT * k) % WIDTH
            v = byte << s
            reg ^= (v | (v >> WIDTH)) & _MASK
    out = bytearray(reg.to_bytes(20, "little"))
    length = len(data).to_bytes(8, "little")
    for i in range(8):
        out[12 + i] ^= length[i]
    return bytes(out)


def quickxor_b64(data: bytes) -> str:
    """The base64 form Graph puts in ``file.hashes.quickXorHash``."""
    return base64.b64encode(quickxor_digest(data)).decode("ascii")
