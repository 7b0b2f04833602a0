#!/usr/bin/env python3
"""Makes the PNGs the image checks are tested with (tests/pdf/image_test.cpp), with the standard
library only. Deterministic. Run from anywhere: tests/data/images/check/make-check-images.py

  rgba16.png       16-bit RGBA, a blue stroke on a transparent background       accepted, scaled to 8 bits
  palette-trns.png palette (4 colours, 2 bits) with tRNS: colour 0 transparent   accepted, expanded
  gray-trns.png    8-bit grey with a tRNS grey value                             accepted
  interlaced.png   8-bit RGBA, Adam7 interlaced                                  accepted, same pixels as rgba8
  rgba8.png        8-bit RGBA, the same picture not interlaced
  opaque.png       8-bit RGB, no alpha, no tRNS                                  refused: image_opaque
  opaque-alpha.png 8-bit RGBA whose alpha is 255 everywhere                      refused: image_opaque
  tiny.png         8 x 8 RGBA                                                    refused: image_bad_size
  wide.png         2001 x 16 RGBA                                                refused: image_bad_size
  huge.png         2000 x 2000 RGBA (4,000,000 pixels)                           refused: image_too_many_pixels
  seal-300dpi.png  a red disc, 236 x 236 px, pHYs 11811 px/m (300 dpi: 20 mm)    accepted, with its physical size
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def chunk(t, data):
    c = t + data
    return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xffffffff)


def write(name, w, h, depth, ctype, raw_rows, extra=b"", interlace=0):
    """raw_rows: list of bytes per row (already packed, without filter byte) — or, when interlace,
    a function (x, y) -> pixel bytes."""
    if interlace:
        data = bytearray()
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        for x0, y0, dx, dy in passes:
            xs = list(range(x0, w, dx))
            if not xs:
                continue
            for y in range(y0, h, dy):
                data.append(0)
                for x in xs:
                    data.extend(raw_rows(x, y))
        body = bytes(data)
    else:
        body = b"".join(b"\x00" + r for r in raw_rows)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace))
    png += extra + chunk(b"IDAT", zlib.compress(body, 9)) + chunk(b"IEND", b"")
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(png)


def stroke(x, y, w, h):
    """1.0 on a diagonal blue stroke, 0 elsewhere."""
    return 1.0 if abs(y - (h * x) // w) <= max(1, h // 12) else 0.0


def rgba8(x, y, w=64, h=32):
    a = stroke(x, y, w, h)
    return bytes((20, 40, 160, int(255 * a)))


W, H = 64, 32
write("rgba8.png", W, H, 8, 6, [b"".join(rgba8(x, y) for x in range(W)) for y in range(H)])
write("interlaced.png", W, H, 8, 6, lambda x, y: rgba8(x, y), interlace=1)
write("rgba16.png", W, H, 16, 6,
      [b"".join(struct.pack(">HHHH", 20 * 257, 40 * 257, 160 * 257, 65535 if stroke(x, y, W, H) else 0) for x in range(W)) for y in range(H)])
# palette, 2 bits: 0 = transparent white, 1 = blue, 2 = dark blue, 3 = black
plte = chunk(b"PLTE", bytes((255, 255, 255, 20, 40, 160, 10, 20, 90, 0, 0, 0)))
trns = chunk(b"tRNS", bytes((0,)))
rows = []
for y in range(H):
    px = [1 if stroke(x, y, W, H) else 0 for x in range(W)]
    row = bytearray()
    for i in range(0, W, 4):
        row.append((px[i] << 6) | (px[i + 1] << 4) | (px[i + 2] << 2) | px[i + 3])
    rows.append(bytes(row))
write("palette-trns.png", W, H, 2, 3, rows, plte + trns)
write("gray-trns.png", W, H, 8, 0, [bytes(40 if stroke(x, y, W, H) else 255 for x in range(W)) for y in range(H)],
      chunk(b"tRNS", struct.pack(">H", 255)))
write("opaque.png", W, H, 8, 2, [b"".join(bytes((20, 40, 160)) if stroke(x, y, W, H) else b"\xff\xff\xff" for x in range(W)) for y in range(H)])
write("opaque-alpha.png", W, H, 8, 6, [b"".join(bytes((20, 40, 160, 255)) for x in range(W)) for y in range(H)])
write("tiny.png", 8, 8, 8, 6, [bytes(32) for y in range(8)])
write("wide.png", 2001, 16, 8, 6, [bytes(2001 * 4) for y in range(16)])
write("huge.png", 2000, 2000, 8, 6, [bytes(8000) for y in range(2000)])
S = 236
phys = chunk(b"pHYs", struct.pack(">IIB", 11811, 11811, 1))
write("seal-300dpi.png", S, S, 8, 6,
      [b"".join(bytes((200, 20, 30, 255 if (x - S / 2 + 0.5) ** 2 + (y - S / 2 + 0.5) ** 2 < (S / 2 - 2) ** 2 else 0)) for x in range(S))
       for y in range(S)], phys)
print("written the check images in", HERE)
