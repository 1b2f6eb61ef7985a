#!/bin/sh
# needed_has_no.sh READELF BINARY WORD: fails if BINARY's dynamic section NEEDs a library whose
# name contains WORD, or if it cannot be read (a check that reads nothing must not pass).
set -eu
readelf=$1 binary=$2 word=$3
needed=$("$readelf" -d "$binary" | grep '(NEEDED)') || { echo "no NEEDED entries read from $binary" >&2; exit 1; }
echo "$needed"
if echo "$needed" | grep -i -- "$word"; then
    echo "$binary links $word" >&2
    exit 1
fi
