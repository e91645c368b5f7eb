#!/usr/bin/env bash
# Regenerates screenshots/*.png: the real `shmbal` dashboard running in a tmux terminal,
# captured with `tmux capture-pane -e` (text + SGR colours), replayed through the pyte terminal
# emulator and drawn cell by cell with Pillow in DejaVu Sans Mono.
#
#   scripts/screenshots.sh            (needs tmux, python3 with pyte + Pillow, fonts-dejavu-core;
#                                      on Debian: apt-get install -y tmux python3-pyte python3-pil)
#
# Run by developers, not by CI; commit the PNGs it writes, after looking at them.
set -euo pipefail
cd "$(dirname "$0")/.."
out=screenshots
cols=120
rows=35

python=python3
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import pyte, PIL' 2>/dev/null; then python=$p; break; fi
done
"$python" -c 'import pyte, PIL' || { echo "needs python3 with pyte and Pillow (apt-get install -y python3-pyte python3-pil)" >&2; exit 1; }

swift build --product shmbal >/dev/null
bin=$(swift build --show-bin-path)/shmbal

work=$(mktemp -d /tmp/shmbal-shots-XXXXXX)
server=shmbal-shots-$$
cleanup() {
  tmux -L "$server" kill-server 2>/dev/null || true
  rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$server"
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$out"

# ANSI screen text -> PNG.
cat > "$work/render.py" <<'PY'
import sys, pyte
from PIL import Image, ImageDraw, ImageFont

src, dst, cols, rows, title = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
screen = pyte.Screen(cols, rows)
stream = pyte.Stream(screen)
lines = open(src, encoding="utf-8").read().split("\n")
# Joined by CR LF with no trailing newline, or the emulated screen scrolls by a line.
stream.feed("\r\n".join(lines[:rows]))

fonts = "/usr/share/fonts/truetype/dejavu/"
size = 15
regular = ImageFont.truetype(fonts + "DejaVuSansMono.ttf", size)
bold = ImageFont.truetype(fonts + "DejaVuSansMono-Bold.ttf", size)
fallback = ImageFont.truetype(fonts + "DejaVuSans.ttf", size)
cw = round(regular.getlength("M"))
ch = round(size * 1.32)

palette = {
    "default": (208, 212, 220), "black": (40, 44, 52), "red": (239, 83, 80), "green": (129, 199, 132),
    "brown": (255, 202, 40), "yellow": (255, 202, 40), "blue": (100, 160, 240), "magenta": (198, 120, 221),
    "cyan": (86, 182, 194), "white": (230, 232, 236),
}
background = (24, 26, 33)

def colour(name, default):
    if name == "default":
        return default
    if name in palette:
        return palette[name]
    if len(name) == 6:
        return tuple(int(name[i:i + 2], 16) for i in (0, 2, 4))
    return default

# A glyph DejaVu Sans Mono lacks is drawn from DejaVu Sans (same family, same metrics style).
missing = regular.getmask("\uffff").getbbox()
def font_for(c, is_bold):
    f = bold if is_bold else regular
    if c.isascii():
        return f
    return f if regular.getmask(c).getbbox() != missing else fallback

bar = 30
pad = 14
img = Image.new("RGB", (cols * cw + 2 * pad, rows * ch + 2 * pad + bar), background)
d = ImageDraw.Draw(img)
d.rectangle([0, 0, img.width, bar], fill=(44, 47, 58))
for i, c in enumerate([(237, 106, 94), (245, 191, 79), (98, 197, 84)]):
    d.ellipse([12 + 20 * i, 9, 24 + 20 * i, 21], fill=c)
d.text((img.width // 2, bar // 2), title, font=regular, fill=(170, 174, 186), anchor="mm")
for y in range(rows):
    row = screen.buffer[y]
    for x in range(cols):
        cell = row[x]
        fg = colour(cell.fg, palette["default"])
        bg = colour(cell.bg, background)
        if cell.reverse:
            fg, bg = bg, fg
        if cell.bold and cell.fg == "default" and not cell.reverse:
            fg = (245, 246, 248)
        px, py = pad + x * cw, pad + bar + y * ch
        if bg != background:
            d.rectangle([px, py, px + cw - 1, py + ch - 1], fill=bg)
        c = cell.data
        if c.strip():
            if c in "─│┌┐└┘├┤┬┴┼█":
                # Box lines and bars drawn as shapes, so they join across cells whatever the font.
                mx, my = px + cw // 2, py + ch // 2
                if c == "█":
                    d.rectangle([px, py + 3, px + cw - 1, py + ch - 4], fill=fg)
                    continue
                if c in "─┌└┐┘├┤┬┴┼":
                    left = px if c in "─┐┘┤┬┴┼" else mx
                    right = px + cw - 1 if c in "─┌└├┬┴┼" else mx
                    d.line([left, my, right, my], fill=fg)
                if c in "│┌┐└┘├┤┬┴┼":
                    top = py if c in "│└┘├┤┴┼" else my
                    bottom = py + ch - 1 if c in "│┌┐├┤┬┼" else my
                    d.line([mx, top, mx, bottom], fill=fg)
                continue
            d.text((px, py + 2), c, font=font_for(c, cell.bold), fill=fg)
img.save(dst, optimize=True)
PY

# Starts `shmbal ARGS` in a fresh cols×rows terminal.
run() {
  tmux -L "$server" kill-server 2>/dev/null || true
  local args=""
  for a in "$@"; do args+=" '$a'"; done
  tmux -L "$server" -f /dev/null new-session -d -x "$cols" -y "$rows" \
    "exec env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=tmux-256color TZ=${TZ:-UTC} '$bin'$args"
}

# Waits until the screen shows TEXT (at most 15 s).
wait_for() {
  for _ in $(seq 300); do
    if tmux -L "$server" capture-pane -p | grep -qF -- "$1"; then return 0; fi
    sleep 0.05
  done
  echo "timed out waiting for: $1" >&2
  tmux -L "$server" capture-pane -p >&2
  exit 1
}

# Captures the screen as NAME.png.
shot() {
  sleep 0.3
  tmux -L "$server" capture-pane -p -e > "$work/$1.ans"
  "$python" "$work/render.py" "$work/$1.ans" "$out/$1.png" "$cols" "$rows" "$2"
  echo "wrote $out/$1.png"
}

cli() { "$bin" "$@" --segment "$work/books" >/dev/null; }

# 1. The demo, after its simulated strategies have been at work for a while.
run demo --seed 11
wait_for "grid-bot"
sleep 8
shot demo "shmbal demo"
tmux -L "$server" send-keys q

# The seed's example books for the other pictures.
cli reset USDC 10000 --strategies 5 --exchange KRAKEN
cli credit USDC 5000
cli name USDC 2 grid-bot
cli name USDC 3 arb
cli name USDC 4 mm
cli allocate USDC 2 2000
cli allocate USDC 3 3000
cli allocate USDC 4 1000
cli reset USD 5000 --strategies 4 --exchange KRAKEN
cli reset BTC 2.5 --strategies 4 --exchange KRAKEN
cli allocate BTC 2 0.75
cli quote write KRAKEN BALANCE BTC 2.5
cli quote write KRAKEN BALANCE USDC 10000

# 2. A prompt open: allocate to grid-bot.
run top --segment "$work/books" --currency USDC
wait_for "USDC · 5 slots"
tmux -L "$server" send-keys a
wait_for "Allocate · KRAKEN USDC #2 grid-bot"
tmux -L "$server" send-keys -l 500
shot prompt "shmbal top — allocate prompt"

# 3. The help overlay.
tmux -L "$server" send-keys Escape '?'
wait_for "KEYS"
shot help "shmbal top — help"
tmux -L "$server" send-keys Escape q

# 4. Broken books: a withdrawal booked on the total leaves USDC's headroom below 0, and a
#    damaged budget (written straight into the mapping, as a stray write or bad RAM would)
#    breaks its identity. The core never does this itself; the dashboard must still say so.
cli adjust USDC -12000
cli quote write KRAKEN BALANCE USDC -2000
"$python" - "$work/books" <<'PY'
import struct, sys
# Offsets from Sources/ShmBalance/Layout.swift (layout version 1).
with open(sys.argv[1], "r+b") as f:
    head = f.read(4096)
    records_offset, = struct.unpack_from("<Q", head, 48)
    count, = struct.unpack_from("<Q", head, 128)
    for i in range(count):
        base = records_offset + i * 4992
        f.seek(base + 16)
        if f.read(16).rstrip(b"\0") != b"USDC":
            continue
        f.seek(base + 128)
        generation, = struct.unpack("<Q", f.read(8))
        slot = base + 768 + (generation & 1) * 1088 + 64 + 16 * 3  # the published state's slots[3] (arb)
        f.seek(slot)
        lo, hi = struct.unpack("<Qq", f.read(16))
        value = (hi << 64) + lo - 100 * 10**18
        f.seek(slot)
        f.write(struct.pack("<Qq", value & (2**64 - 1), value >> 64))
PY
run top --segment "$work/books" --currency USDC
wait_for "off by"
shot broken "shmbal top — broken books"
tmux -L "$server" send-keys q
