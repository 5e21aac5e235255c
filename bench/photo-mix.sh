#!/usr/bin/env bash
# photo-mix.sh OUT_DIR - build the photograph mix that the decoder speed runs use, from Debian's own packages.
#
# Debian's plasma-workspace-wallpapers ships photographs up to 5120x2880 (credited in each wallpaper's
# metadata.json; not copied into this repository). From them this script writes, re-encoded with libvips
# (libvips-tools):
#   OUT_DIR/12mp/   three 12 MP JPEGs (4608x2592, quality 90)
#   OUT_DIR/2mp/    eight 2 MP JPEGs (1792x1120, quality 90)
#   OUT_DIR/0.3mp/  eight 0.3 MP JPEGs (704x440, quality 90)
#   OUT_DIR/png/    four 2 MP PNGs
# Needs apt-get (to download the package; nothing is installed), dpkg-deb and vips.
set -euo pipefail

out=${1:?usage: photo-mix.sh OUT_DIR}
command -v vips >/dev/null || { echo "vips not found: apt-get install -y libvips-tools" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && apt-get download plasma-workspace-wallpapers >/dev/null)
dpkg-deb -x "$work"/plasma-workspace-wallpapers_*.deb "$work/pkg"
walls="$work/pkg/usr/share/wallpapers"
mkdir -p "$out/12mp" "$out/2mp" "$out/0.3mp" "$out/png"

# 5120x2880 photographs (PNG in the package) for the 12 MP JPEGs.
for name in Altai MilkyWay Patak; do
  vips thumbnail "$walls/$name/contents/images/5120x2880.png" "$out/12mp/$name.jpg[Q=90,strip]" 4608 --height 2592 --size force
done

# 2560x1600 photographs (JPEG in the package) for the 2 MP and 0.3 MP JPEGs and the PNGs.
i=0
for name in Autumn BytheWater ColdRipple ColorfulCups EveningGlow FallenLeaf Kite Path; do
  src="$walls/$name/contents/images/2560x1600.jpg"
  vips thumbnail "$src" "$out/2mp/$name.jpg[Q=90,strip]" 1792 --height 1120 --size force
  vips thumbnail "$src" "$out/0.3mp/$name.jpg[Q=90,strip]" 704 --height 440 --size force
  if [ $((i++)) -lt 4 ]; then
    vips thumbnail "$src" "$out/png/$name.png[strip]" 1792 --height 1120 --size force
  fi
done

echo "photo mix written to $out: $(find "$out" -type f | wc -l) files"
