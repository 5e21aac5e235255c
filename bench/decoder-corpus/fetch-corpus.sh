#!/usr/bin/env bash
# fetch-corpus.sh - rebuild the public image-decoder test corpus.
#
# Usage: fetch-corpus.sh OUT_DIR
#
# Clones six public GitHub repositories, each at a pinned commit, copies
# their image test files into OUT_DIR/<suite>/ and writes OUT_DIR/manifest.csv:
#
#   path,suite,expected,source
#
#   path      relative to OUT_DIR
#   expected  decode  the file is valid; a decoder should decode it
#             reject  the file is corrupt; a decoder should refuse it
#             either  malformed or questionable; any outcome but a hang or
#                     a crash is acceptable
#   source    owner/repo@commit the file was copied from
#
# Only .png .jpg .jpeg .webp .gif .bmp files are taken. The script stops if a
# file is missing, is a Git LFS pointer, or a suite's file count differs from
# the pinned count. It also writes OUT_DIR/SHA256SUMS and copies each suite's
# licence/readme texts into OUT_DIR/NOTICES/<suite>/.
#
# Sources, expected outcomes and licences (as stated in the source repos):
#
# pngsuite                lunapaint/pngsuite, png/*.png and PngSuite.png
#     PngSuite-2017jul19 by Willem van Schaik, http://www.schaik.com/pngsuite/
#     x*.png -> reject (the suite's deliberately corrupt files); all others ->
#     decode. Licence (PngSuite.LICENSE, shipped as LICENSE in that repo):
#     "Permission to use, copy, modify and distribute these images for any
#     purpose and without fee is hereby granted." (c) Willem van Schaik,
#     1996, 2011.
#
# libjpeg-turbo           libjpeg-turbo/libjpeg-turbo, testimages/
#     The JPEG, PNG and BMP test images -> decode. Per testimages/LICENSE.txt:
#     testorig* and testimg* are under the IJG License (README.ijg); the
#     others under the Modified (3-clause) BSD License (LICENSE.md); the
#     embedded sRGB2014.icc profile is (c) International Color Consortium,
#     freely redistributable.
#
# jpeg-decoder-crashtest  image-rs/jpeg-decoder, tests/crashtest/images/
#     Crash reproducers; the upstream test ignores the decode result and only
#     requires no panic -> either. Repo licence: MIT OR Apache-2.0.
#     imagetestsuite/ files come from code.google.com/p/imagetestsuite (the
#     repo states no separate licence for them); the other files' origins are
#     listed in that folder's README.md.
#
# libwebp-test-data       webmproject/libwebp-test-data, *.webp
#     libwebp's conformance vectors -> decode (all are decoded by libwebp's
#     own test scripts; bad_palette_index.webp has a spec-defined result).
#     lossless_big_random_alpha.webp (over 4 MiB) is left out.
#     The repo has no licence file; its scripts say they are "distributed
#     under the same terms as libwebp" (BSD 3-clause).
#
# image-gif               image-rs/image-gif, tests/
#     samples/*.gif and regression/issue-208-*.gif -> decode (upstream tests
#     decode them and check the result); regression/issue-209-*.gif ->
#     either (unknown block: accepted or refused depending on decoder
#     strictness); crashtest/*.gif and stall/*.gif -> either (upstream only
#     requires no panic / no hang). Repo licence: MIT OR Apache-2.0.
#
# bmpsuite                schmouk/CppBMPLoader, images/bmpsuite-2.8/
#     The generated files of BMP Suite 2.8 by Jason Summers
#     (https://entropymine.com/jason/bmpsuite/), committed in that repo; they
#     match the upstream jsummers/bmpsuite "checksums" file. g/ -> decode,
#     b/ -> reject, q/ -> either, x/ (BMP-related, not strictly BMP) ->
#     either. Per the suite's readme.txt the generated image files are in the
#     public domain (except embedded ICC profiles); the generator program is
#     GPL-3.0-or-later.
#
# Requires: bash, git, coreutils (sha256sum). Network access to github.com.
# CORPUS_REPO_CACHE=DIR (optional): take each repo from DIR/<owner>/<repo>
# (an existing clone containing the pinned commit) instead of cloning.

set -euo pipefail

die() { echo "fetch-corpus.sh: $*" >&2; exit 1; }

[[ $# -eq 1 ]] || die "usage: fetch-corpus.sh OUT_DIR"
OUT=$1
if [[ -e $OUT ]]; then
    [[ -d $OUT && -z "$(ls -A "$OUT")" ]] || die "$OUT exists and is not an empty directory"
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
ROWS=$WORK/rows.csv
: > "$ROWS"

export GIT_LFS_SKIP_SMUDGE=1

REPO_DIR=
SOURCE=

# checkout OWNER/REPO COMMIT: check the repo out at COMMIT into $REPO_DIR.
checkout() {
    local slug=$1 commit=$2
    REPO_DIR=$WORK/repos/${slug//\//+}
    SOURCE=$slug@$commit
    echo "== $SOURCE" >&2
    if [[ -n ${CORPUS_REPO_CACHE:-} ]]; then
        git clone -q --no-checkout "$CORPUS_REPO_CACHE/$slug" "$REPO_DIR"
    else
        git init -q "$REPO_DIR"
        git -C "$REPO_DIR" fetch -q --depth 1 "https://github.com/$slug.git" "$commit"
    fi
    git -C "$REPO_DIR" -c advice.detachedHead=false checkout -q --detach "$commit"
    [[ $(git -C "$REPO_DIR" rev-parse HEAD) == "$commit" ]] || die "$slug: not at $commit"
}

# files DIR: tracked image files under DIR (recursively), sorted.
files() {
    git -C "$REPO_DIR" ls-files -- "$1" | LC_ALL=C sort |
        grep -iE '\.(png|jpe?g|webp|gif|bmp)$' || true
}

# add SUITE EXPECTED SRC DEST: copy SRC (repo path) to OUT/SUITE/DEST.
add() {
    local suite=$1 expected=$2 src=$3 dest=$4
    local from=$REPO_DIR/$src to=$OUT/$suite/$dest
    case $expected in decode|reject|either) ;; *) die "bad expected '$expected'" ;; esac
    [[ -f $from ]] || die "$SOURCE: missing $src"
    [[ $dest != *,* ]] || die "comma in $dest"
    if [[ $(head -c 24 "$from" | tr -d '\0') == "version https://git-lfs"* ]]; then
        die "$SOURCE: $src is a Git LFS pointer"
    fi
    mkdir -p "$(dirname "$to")"
    cp "$from" "$to"
    printf '%s,%s,%s,%s\n' "$suite/$dest" "$suite" "$expected" "$SOURCE" >> "$ROWS"
}

# notice SUITE SRC...: copy licence/readme texts to OUT/NOTICES/SUITE/.
notice() {
    local suite=$1 src
    shift
    mkdir -p "$OUT/NOTICES/$suite"
    for src in "$@"; do
        cp "$REPO_DIR/$src" "$OUT/NOTICES/$suite/"
    done
}

# --- pngsuite -------------------------------------------------------------
checkout lunapaint/pngsuite 8cd768dd0d0063195174d0d01cacbd5a7d1e5605
for f in PngSuite.png $(files png); do
    name=${f##*/}
    case $name in x*) exp=reject ;; *) exp=decode ;; esac
    add pngsuite "$exp" "$f" "$name"
done
notice pngsuite LICENSE PngSuite.README

# --- libjpeg-turbo --------------------------------------------------------
checkout libjpeg-turbo/libjpeg-turbo 8a99315babe7fe946bef539c125f26b9e6aad8ab
for f in $(files testimages); do
    add libjpeg-turbo decode "$f" "${f#testimages/}"
done
notice libjpeg-turbo testimages/LICENSE.txt LICENSE.md README.ijg

# --- jpeg-decoder crash tests ---------------------------------------------
checkout image-rs/jpeg-decoder eb2d7c0f6a2d0298aba7a7f8b9ca1440353e8f8c
for f in $(files tests/crashtest/images); do
    add jpeg-decoder-crashtest either "$f" "${f#tests/crashtest/images/}"
done
notice jpeg-decoder-crashtest tests/crashtest/images/README.md LICENSE-MIT LICENSE-APACHE

# --- libwebp-test-data ----------------------------------------------------
checkout webmproject/libwebp-test-data 05cd58b26e61385abd851aae60d26b6e3a769479
# lossless_big_random_alpha.webp (over 4 MiB) is left out to keep the corpus small.
for f in $(files . | grep -iE '\.webp$' | grep -vx 'lossless_big_random_alpha.webp'); do
    add libwebp-test-data decode "$f" "$f"
done

# --- image-gif ------------------------------------------------------------
checkout image-rs/image-gif c1a6c4f18aec2884fe4fa7ce4fdbead92c975af1
for f in $(files tests); do
    case $f in
        tests/samples/*)                   exp=decode ;;
        tests/regression/issue-208-*)      exp=decode ;;
        tests/regression/*)                exp=either ;;
        tests/crashtest/* | tests/stall/*) exp=either ;;
        *) die "image-gif: no expectation for $f" ;;
    esac
    add image-gif "$exp" "$f" "${f#tests/}"
done
notice image-gif LICENSE-MIT LICENSE-APACHE

# --- bmpsuite -------------------------------------------------------------
checkout schmouk/CppBMPLoader c6f32876b5513cad4e08af5c151aac4af52b723c
base=images/bmpsuite-2.8
for f in $(files "$base/g") $(files "$base/q") $(files "$base/b") $(files "$base/x"); do
    rel=${f#"$base"/}
    case $rel in
        g/*) exp=decode ;;
        b/*) exp=reject ;;
        q/* | x/*) exp=either ;;
    esac
    add bmpsuite "$exp" "$f" "$rel"
done
notice bmpsuite "$base/readme.txt" "$base/COPYING.txt"

# --- manifest and checks --------------------------------------------------
{
    echo "path,suite,expected,source"
    cat "$ROWS"
} > "$OUT/manifest.csv"

(cd "$OUT" && cut -d, -f1 "$ROWS" | xargs sha256sum) > "$OUT/SHA256SUMS"

declare -A want=(
    [pngsuite]=176
    [libjpeg-turbo]=10
    [jpeg-decoder-crashtest]=111
    [libwebp-test-data]=130
    [image-gif]=19
    [bmpsuite]=91
)
for suite in "${!want[@]}"; do
    got=$(cut -d, -f2 "$ROWS" | grep -cx -- "$suite" || true)
    [[ $got -eq ${want[$suite]} ]] || die "$suite: $got files, expected ${want[$suite]}"
done

echo "wrote $(wc -l < "$ROWS") files and manifest.csv to $OUT" >&2
