#!/usr/bin/env bash
# Checks the man pages: groff formats each without a warning (-ww), every command `rtmix --help`
# lists has its page, and every option the help gives a command is described in that command's
# page (in the tag of a .TP item, not only in the synopsis).
# Usage: check_man_pages.sh RTMIX MAN_DIR
set -euo pipefail
rtmix=$1 man_dir=$2
failed=0
fail() { echo "man pages: $*" >&2; failed=1; }

for page in "$man_dir"/*.1; do
  warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1) || fail "groff failed on $(basename "$page")"
  [ -z "$warnings" ] || fail "$(basename "$page"):"$'\n'"$warnings"
done

tags() { awk 'previous == ".TP" { print } { previous = $0 }' "$1"; }
options=$("$(dirname "$0")/help_options.sh" "$rtmix")
[ -n "$options" ] || fail "rtmix --help lists no command"
while read -r command option; do
  page="$man_dir/rtmix-$command.1"
  if [ ! -f "$page" ]; then
    fail "no page for 'rtmix $command'"
  elif [ -n "$option" ] && ! tags "$page" | grep -qF -- "${option//-/\\-}"; then
    fail "rtmix-$command.1 does not describe $option"
  fi
done <<<"$options"
# --help and --version belong to rtmix(1).
for option in --help --version; do
  tags "$man_dir/rtmix.1" | grep -qF -- "${option//-/\\-}" || fail "rtmix.1 does not describe $option"
done
exit $failed
