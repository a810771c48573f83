#!/usr/bin/env bash
# Prints the commands `rtmix --help` lists and the options it gives each: "COMMAND" for every
# command, then "COMMAND OPTION" for each option on the command's usage line ("  rtmix check
# SESSION [--json]") and in the sections that name the command ("render options:", "mastering
# (render):", "play options ...:", "analyze options:"). The checks of the man pages and the
# completion compare themselves with it.
# Usage: help_options.sh RTMIX
set -euo pipefail
help=$("$1" --help)
section=""
while IFS= read -r line; do
  if [[ $line =~ ^[a-z] ]]; then  # a section heading
    section=""
    for command in render play analyze check params devices; do
      [[ $line == *"$command"* ]] && section=$command && break
    done
    continue
  fi
  command=$section
  if [[ $line =~ ^\ +rtmix\ ([a-z]+) ]]; then
    command=${BASH_REMATCH[1]}
    echo "$command"
  fi
  [ -n "$command" ] || continue
  for option in $(grep -oE -- '(^|[ [])--?[a-z][a-z-]*' <<<"$line" | grep -oE -- '--?[a-z][a-z-]*'); do
    echo "$command $option"
  done
done <<<"$help"
