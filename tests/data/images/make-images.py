#!/usr/bin/env python3
"""Makes the demo signature and seal images (transparent PNGs) with the standard library only.

signature.png: a blue handwritten-like stroke; seal.png: a red round seal (two rings, a star, dots).
Deterministic. Run from anywhere: tests/data/images/make-images.py
"""
import math
import os
import struct
import zlib


def png(path, w, h, pixel):
    rows = bytearray()
    for y in range(h):
        rows.append(0)
        for x in range(w):
            rows.extend(pixel(x, y))
    def chunk(t, data):
        c = t + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xffffffff)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def signature(x, y, w=300, h=120):
    # distance to a few strokes: a loop and a flourish
    best = 1e9
    for i in range(0, 400):
        t = i / 400.0
        px = 20 + 260 * t
        py = 60 + 35 * math.sin(t * 9.0) * (1 - t) + 15 * math.sin(t * 23.0)
        d = (x - px) ** 2 + (y - py) ** 2
        best = min(best, d)
    a = max(0.0, min(1.0, 2.2 - math.sqrt(best)))
    return (20, 40, 160, int(255 * a))


def seal(x, y, r=150):
    cx = cy = r
    d = math.hypot(x - cx + 0.5, y - cy + 0.5)
    red = (200, 20, 30)
    def ring(rr, width):
        return max(0.0, min(1.0, width / 2 + 0.5 - abs(d - rr)))
    a = max(ring(r - 6, 7), ring(r - 22, 3))
    # a five-pointed star in the middle
    ang = math.atan2(y - cy, x - cx) + math.pi / 2
    k = (ang % (2 * math.pi / 5)) - math.pi / 5
    star_r = 40 * math.cos(math.pi / 5) / math.cos(k) if abs(k) < math.pi / 5 else 0
    if d < 0.55 * star_r + 0.45 * 40 * (1 - abs(k) / (math.pi / 5)):
        a = 1.0
    # a ring of dots standing for the organisation's name
    for i in range(36):
        t = 2 * math.pi * i / 36
        dx, dy = cx + (r - 45) * math.cos(t), cy + (r - 45) * math.sin(t)
        if math.hypot(x - dx, y - dy) < 4.5:
            a = 1.0
    return red + (int(255 * a),)


here = os.path.dirname(os.path.abspath(__file__))
png(os.path.join(here, "signature.png"), 300, 120, lambda x, y: signature(x, y))
png(os.path.join(here, "seal.png"), 300, 300, lambda x, y: seal(x, y))
print("written signature.png and seal.png in", here)
