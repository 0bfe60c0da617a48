#!/usr/bin/env bash
# Copies the crmsync working tree to DEST for a package build: tracked and
# untracked files as they are now (uncommitted changes included), without what
# .gitignore leaves out (build/, build-*/, objects, crmsync.so, ...). Outside a
# git checkout, everything but build products.
#   packaging/copy-tree.sh DEST
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST=${1:?usage: copy-tree.sh DEST}
mkdir -p "$DEST"
cd "$ROOT"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # -c tracked, -o untracked; deleted-but-tracked files are skipped, and so are
    # package outputs (dist/ is not in .gitignore).
    git ls-files -z -co --exclude-standard |
        while IFS= read -r -d '' f; do
            case $f in dist/* | *.deb | *.rpm) continue ;; esac
            if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
        done |
        tar -c --null -T - -f - | tar -x -C "$DEST" -f -
else
    tar -c -f - --exclude=./.git --exclude='./build' --exclude='./build-*' --exclude='./dist' \
        --exclude='*.o' --exclude='*.so' --exclude='./crmsync.control' --exclude='./tmp_check*' \
        --exclude='./results' --exclude='./log' --exclude='./output_iso' . | tar -x -C "$DEST" -f -
fi
