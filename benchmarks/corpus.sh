#!/usr/bin/env bash
# Assembles the tokenizer benchmark corpus (>= 5 MB of English, Chinese, Japanese and Python code) at benchmark time
# from Debian packages, so nothing with its own licence is committed:
#   debian-reference-en, debian-reference-zh-cn, debian-reference-ja (the Debian Reference, GPL-2+; HTML, tags stripped)
#   libpython3.11-stdlib (the Python standard library, PSF licence; *.py files)
# Needs apt package lists (apt-get update) and network access to the Debian mirror; no root needed to download.
# Usage: benchmarks/corpus.sh [out-dir]   (default benchmarks/target/corpus); writes corpus.txt and corpus.manifest.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/target/corpus}"
jar="$here/target/benchmarks.jar"
[ -f "$jar" ] || { echo "corpus.sh: build first: mvn -B -ntp -DskipTests package" >&2; exit 2; }
mkdir -p "$out/debs" "$out/x"
cd "$out/debs"
pkgs=(debian-reference-en debian-reference-zh-cn debian-reference-ja libpython3.11-stdlib)
for p in "${pkgs[@]}"; do
    ls "$p"_*.deb >/dev/null 2>&1 || apt-get download "$p" </dev/null
done
for d in *.deb; do dpkg-deb -x "$d" "$out/x"; done
java -cp "$jar" dev.dsv32.bench.Corpus "$out/x" "$out/corpus.txt"
