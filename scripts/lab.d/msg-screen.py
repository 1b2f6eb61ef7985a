#!/usr/bin/env python3
"""Finds lines of text in a QMP screen dump of the secure persona's text screen.

    msg-screen.py SCREEN.ppm FONT.psf[.gz]... -- TEXT...
    msg-screen.py extract-font KERNEL-IMAGE VGA16.psf[.gz] OUT.psf

The messenger draws on the persona's framebuffer console (fbcon), whose glyphs are the
kernel's built-in console font. Each TEXT is rendered with each given PSF font (Debian's
console-setup-linux ships the same VGA 8x16 and Terminus 16x32 designs the kernel builds in)
and searched for, pixel for pixel, in the dump (in normal and in reverse video): a pixel is
"ink" when it is brighter than the background. Exact matching is deterministic, so a text that is not on the screen cannot be
found by chance, and a font that is not the console's finds nothing. The kernel's VGA 8x16
font differs from console-setup's in a few glyphs (f, v): `extract-font` copies the kernel's
own table out of its Image (found where most of console-setup's ASCII glyphs agree with it,
in code page 437 order) into a PSF1 file, so the text is rendered with the very glyphs fbcon
draws. Prints one line per TEXT
(found at x,y with which font, or not found) and exits 0 only when every TEXT was found;
2 for an unreadable dump or font. Standard library only.
"""
import gzip
import struct
import sys

INK_THRESHOLD = 96  # luminance 0..255; fbcon's default foreground is 0xAAAAAA on black


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            while data[pos:pos + 1] != b"\n":
                pos += 1
            continue
        start = pos
        while pos < len(data) and not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ValueError(f"{path}: not an 8-bit binary PPM")
    width, height = int(fields[1]), int(fields[2])
    pixels = data[pos + 1:pos + 1 + width * height * 3]
    if len(pixels) != width * height * 3:
        raise ValueError(f"{path}: truncated")
    rows = []
    for y in range(height):
        line = pixels[y * width * 3:(y + 1) * width * 3]
        rows.append(bytes(49 if (line[i] * 3 + line[i + 1] * 6 + line[i + 2]) // 10 > INK_THRESHOLD else 48
                          for i in range(0, len(line), 3)))
    return width, height, rows


def read_psf(path):
    """Returns (width, height, {codepoint: [row bit strings]})."""
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if raw[:2] == b"\x36\x04":
        mode, charsize = raw[2], raw[3]
        count = 512 if mode & 1 else 256
        width, height, stride, offset, has_table = 8, charsize, 1, 4, bool(mode & 6)
        table, unicode_size = raw[offset + count * charsize:], 2
    elif raw[:4] == b"\x72\xb5\x4a\x86":
        _, headersize, flags, count, charsize, height, width = struct.unpack("<7I", raw[4:32])
        stride, offset, has_table = (width + 7) // 8, headersize, bool(flags & 1)
        table, unicode_size = raw[offset + count * charsize:], 0
    else:
        raise ValueError(f"{path}: not a PSF font")
    glyphs = []
    for g in range(count):
        base = offset + g * charsize
        rows = []
        for y in range(height):
            bits = int.from_bytes(raw[base + y * stride:base + (y + 1) * stride], "big")
            rows.append("".join("1" if bits & (1 << (stride * 8 - 1 - x)) else "0" for x in range(width)))
        glyphs.append(rows)
    mapping = {}
    if has_table:
        g, pos = 0, 0
        while g < count and pos < len(table):
            if unicode_size == 2:  # PSF1: 16-bit code points, 0xFFFF ends a glyph, 0xFFFE starts sequences
                (cp,) = struct.unpack("<H", table[pos:pos + 2]); pos += 2
                if cp == 0xFFFF:
                    g += 1
                elif cp != 0xFFFE:
                    mapping.setdefault(cp, g)
            else:  # PSF2: UTF-8, 0xFF ends a glyph, 0xFE starts sequences
                b = table[pos]
                if b == 0xFF:
                    g += 1; pos += 1
                elif b == 0xFE:
                    pos += 1
                else:
                    n = 1 if b < 0x80 else 2 if b < 0xE0 else 3 if b < 0xF0 else 4
                    mapping.setdefault(ord(table[pos:pos + n].decode("utf-8", "replace")[0]), g)
                    pos += n
    else:
        mapping = {cp: cp for cp in range(min(count, 128))}
    return width, height, {cp: glyphs[g] for cp, g in mapping.items() if cp < 128}


def render(text, font):
    width, height, glyphs = font
    for ch in text:
        if ord(ch) not in glyphs:
            return None
    return [("".join(glyphs[ord(ch)][y] for ch in text)).encode() for y in range(height)]


def find(rows, pattern):
    """(x, y) of the pattern's top-left corner in the ink rows, or None."""
    anchor = max(range(len(pattern)), key=lambda k: pattern[k].count(b"1"))
    for y in range(anchor, len(rows) - (len(pattern) - anchor) + 1):
        x = rows[y].find(pattern[anchor])
        while x >= 0:
            top = y - anchor
            if all(rows[top + k][x:x + len(pattern[k])] == pattern[k] for k in range(len(pattern))):
                return x, top
            x = rows[y].find(pattern[anchor], x + 1)
    return None


def extract_font(kernel_path, reference_path, out_path):
    kernel = open(kernel_path, "rb").read()
    _, height, glyphs = read_psf(reference_path)
    if height != 16:
        raise ValueError(f"{reference_path}: not an 8x16 font")
    as_bytes = {cp: bytes(int(r, 2) for r in rows) for cp, rows in glyphs.items()}
    best, best_score = None, 0
    pos = kernel.find(as_bytes[ord("A")])
    while pos >= 0:
        base = pos - ord("A") * 16
        if base >= 0:
            score = sum(kernel[base + cp * 16:base + cp * 16 + 16] == g for cp, g in as_bytes.items())
            if score > best_score:
                best, best_score = base, score
        pos = kernel.find(as_bytes[ord("A")], pos + 1)
    if best is None or best_score < 80:
        raise ValueError(f"{kernel_path}: no VGA 8x16 font table found (best agreement {best_score} glyphs)")
    with open(out_path, "wb") as f:
        f.write(b"\x36\x04\x00\x10" + kernel[best:best + 256 * 16])
    print(f"kernel font table at offset {best:#x}: {best_score} of {len(as_bytes)} ASCII glyphs as in {reference_path}")
    return 0


def main(argv):
    if len(argv) == 5 and argv[1] == "extract-font":
        try:
            return extract_font(argv[2], argv[3], argv[4])
        except (OSError, ValueError, struct.error) as e:
            print(f"msg-screen: {e}", file=sys.stderr)
            return 2
    if "--" not in argv or argv.index("--") < 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    sep = argv.index("--")
    try:
        _, _, rows = read_ppm(argv[1])
        fonts = [(p.rsplit("/", 1)[-1], read_psf(p)) for p in argv[2:sep]]
    except (OSError, ValueError, struct.error) as e:
        print(f"msg-screen: {e}", file=sys.stderr)
        return 2
    missing = 0
    for text in argv[sep + 1:]:
        where = None
        for name, font in fonts:
            pattern = render(text, font)
            if not pattern:
                continue
            # Reverse video (the top line): background ink, glyphs dark.
            inverse = [row.translate(bytes.maketrans(b"01", b"10")) for row in pattern]
            for video, pat in (("normal", pattern), ("reverse", inverse)):
                if at := find(rows, pat):
                    where = f"at {at[0]},{at[1]} ({name}, {font[0]}x{font[1]}, {video} video)"
                    break
            if where:
                break
        if where:
            print(f"found '{text}' {where}")
        else:
            print(f"not found '{text}'")
            missing += 1
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
