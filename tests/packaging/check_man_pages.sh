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

# The help's sections: the command lines ("  rtmix render SESSION ... [--json]") give each command's
# options on its line; "render options:", "mastering (render):", "play options ...:" and
# "analyze options:" give the options of the command they name.
help=$("$rtmix" --help)
section=""
while IFS= read -r line; do
  if [[ $line =~ ^[a-z] ]]; then   # a section heading
    section=""
    for command in render play analyze check params devices; do
      [[ $line == *"$command"* ]] && section=$command && break
    done
    continue
  fi
  command=$section
  if [[ $line =~ ^\ +rtmix\ ([a-z]+) ]]; then command=${BASH_REMATCH[1]}; fi
  [ -n "$command" ] || continue
  page="$man_dir/rtmix-$command.1"
  [ -f "$page" ] || { fail "no page for 'rtmix $command'"; continue; }
  tags=$(awk 'previous == ".TP" { print } { previous = $0 }' "$page")
  for option in $(grep -oE -- '(^|[ [])--?[a-z][a-z-]*' <<<"$line" | grep -oE -- '--?[a-z][a-z-]*'); do
    roff=${option//-/\\-}
    grep -qF -- "$roff" <<<"$tags" || fail "rtmix-$command.1 does not describe $option (from: $line)"
  done
done <<<"$help"
# --help and --version belong to rtmix(1).
for option in --help --version; do
  awk 'previous == ".TP" { print } { previous = $0 }' "$man_dir/rtmix.1" | grep -qF -- "${option//-/\\-}" || fail "rtmix.1 does not describe $option"
done
exit $failed
