"""html_check_lib.py — what the HTML page tests share (check_views.py, check_html.py): a
parser that records tags and attributes and finds unbalanced ones, a reader of the PNG
screenshots headless Chromium takes, and the Chromium run itself. Standard library only."""
import os
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser


class Page(HTMLParser):
    """Tags in order, (tag, attributes) pairs, and the problems of nesting."""

    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.stack, self.problems = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))
        if tag != "meta":  # the one void element the page uses
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()


def parse(text):
    p = Page()
    p.feed(text)
    p.close()
    return p


def png_pixels(path):
    """(width, height, [(row bytes, bytes per pixel)]) of an 8-bit non-interlaced RGB(A) PNG;
    rows is empty for other kinds. Raises ValueError when the file is not a PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, color, _, _, interlace = hdr
    if depth != 8 or interlace or color not in (2, 6):
        return w, h, []
    bpp = 3 if color == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, [(r, bpp) for r in rows]


def count_colour(rows, rgb, min_alpha=0.4, bg=250):
    """Pixels of png_pixels' rows that are rgb drawn over a light background (about bg in
    each channel) with a coverage of at least min_alpha: thin lines are anti-aliased, so a
    line's pixels are blends of its colour and the background, the same blend in each
    channel."""
    n = 0
    for row, bpp in rows:
        for i in range(0, len(row), bpp):
            alphas = [(bg - row[i + k]) / (bg - rgb[k]) for k in range(3) if bg - rgb[k] >= 40]
            if alphas and min(alphas) >= min_alpha and max(alphas) - min(alphas) <= 0.15 and \
                    max(alphas) <= 1.1 and all(abs(row[i + k] - rgb[k]) <= 30 or bg - rgb[k] >= 40
                                               for k in range(3)):
                n += 1
    return n


def chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(page, shot, width=1000, height=900):
    """Loads page in headless Chromium and saves a screenshot of the window into shot.
    Returns (exit status, the console lines of its log): the page has no script, so any
    console line is an error (a refused resource, a Content-Security-Policy violation)."""
    if os.path.exists(shot):
        os.unlink(shot)
    r = subprocess.run([chromium(), "--headless=new", "--no-sandbox", "--disable-gpu",
                        "--enable-logging=stderr", "--v=0", f"--screenshot={shot}",
                        f"--window-size={width},{height}", "file://" + os.path.abspath(page)],
                       capture_output=True, timeout=120)
    log = r.stderr.decode("utf-8", "replace")
    return r.returncode, [line for line in log.splitlines() if ":CONSOLE" in line]
