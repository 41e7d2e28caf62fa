#!/usr/bin/env bash
# Renders every committed HTML report (reports/, reports/presets/, and the sweep page), and
# the page `hbsim tune` writes (from target/release/hbsim, which must be built), in
# headless Chromium and checks what a reader gets: the DOM holds the verdict table, every
# detector of the report and every picture, inline; the screenshot is not blank. Needs
# Debian's chromium (`.ci/run` installs it). Screenshots go to $BROWSER_SHOTS if set.
set -euo pipefail
cd "$(dirname "$0")/.."
chrome=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
shots=${BROWSER_SHOTS:-$tmp}
mkdir -p "$shots"
# Headless Chromium now and then crashes at start-up on a loaded machine: try again,
# each time with a fresh profile.
render() {
  local what=$1 out=$2 url=$3
  for attempt in 1 2 3; do
    local profile="$tmp/profile-$RANDOM-$attempt"
    if [ "$what" = dom ]; then
      timeout 120 "$chrome" "${flags[@]}" --user-data-dir="$profile" --dump-dom "$url" > "$out" 2> /dev/null && return 0
    else
      timeout 120 "$chrome" "${flags[@]}" --user-data-dir="$profile" --screenshot="$out" "$url" > /dev/null 2>&1 && [ -s "$out" ] && return 0
    fi
    echo "browser: chromium failed on $url (attempt $attempt)" >&2
  done
  return 1
}
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,1600)
target/release/hbsim tune scenarios/tune-mobile.json --quiet --out "$tmp/tune" \
  --target 'deadline.detection_latency.p99<=20s' \
  --target 'deadline.false_positives.spurious_per_client_day<=1' > /dev/null
n=0
for html in reports/*.html reports/presets/*.html "$tmp"/tune/*.html; do
  name=$(basename "$html" .html)
  url="file://$(realpath "$html")"
  render dom "$tmp/$name.dom" "$url"
  render png "$shots/$name.png" "$url"
  json="${html%.html}.json"
  python3 - "$tmp/$name.dom" "$shots/$name.png" "$json" "$html" <<'PY'
import json, re, struct, sys, zlib

dom_path, png_path, json_path, html_path = sys.argv[1:5]
dom = open(dom_path, encoding="utf-8").read()
assert "<html" in dom and "</html>" in dom, f"{html_path}: no document rendered"
assert "<script" not in dom, f"{html_path}: a script"
assert not re.search(r'(src|href)="https?://', dom), f"{html_path}: loads something from outside"
figures = re.findall(r'<figure id="([^"]+)">\s*<svg', dom)
if html_path.endswith("-sweep.html"):
    assert "Pareto frontier" in dom and "<table>" in dom, f"{html_path}: no table"
    assert any(f.endswith("tradeoff.svg") for f in figures), f"{html_path}: no trade-off picture"
elif html_path.endswith("-tune.html"):
    assert "<strong>Recommended: " in dom and "<td>recommended</td>" in dom, f"{html_path}: no recommendation"
    assert figures == ["tune-mobile-tune-tradeoff.svg"], f"{html_path}: pictures {figures}"
else:
    report = json.load(open(json_path))
    assert "At a glance" in dom, f"{html_path}: no verdict table"
    for d in report["detectors"]:
        assert f"<code>{d}</code>" in dom, f"{html_path}: detector {d} missing"
    md = open(html_path[:-5] + ".md", encoding="utf-8").read()
    wanted = re.findall(r"!\[[^\]]*\]\(([^)]+\.svg)\)", md)
    assert sorted(figures) == sorted(wanted), f"{html_path}: pictures {figures} != {wanted}"
# The screenshot: a PNG whose pixels are not all one colour.
png = open(png_path, "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n", f"{png_path}: not a PNG"
pos, idat, width = 8, b"", 0
while pos < len(png):
    length, kind = struct.unpack(">I4s", png[pos:pos + 8])
    data = png[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        width = struct.unpack(">I", data[:4])[0]
    if kind == b"IDAT":
        idat += data
    pos += 12 + length
raw = zlib.decompress(idat)
assert len(set(raw[: 4 * width * 400])) > 16, f"{png_path}: blank screenshot"
print(f"browser: {html_path}: {len(figures)} pictures, screenshot {len(png)} bytes")
PY
  n=$((n + 1))
done
echo "browser: $n pages rendered and checked"
