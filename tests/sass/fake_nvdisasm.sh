#!/bin/sh
# fake_nvdisasm.sh — a stand-in disassembler for test_sass_parse.c: records its arguments
# (one per line) in $FAKE_SASS_ARGS, prints $FAKE_SASS_LISTING, then fails with
# $FAKE_SASS_EXIT and a message on stderr when that is set.
for a in "$@"; do printf '%s\n' "$a"; done > "$FAKE_SASS_ARGS"
cat "$FAKE_SASS_LISTING"
if [ -n "$FAKE_SASS_EXIT" ]; then
  echo "nvdisasm fatal   : Input file is not a cubin" >&2
  exit "$FAKE_SASS_EXIT"
fi
