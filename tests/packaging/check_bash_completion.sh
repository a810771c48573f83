#!/usr/bin/env bash
# Checks the bash completion: sources it, completes lines as bash would split them, and compares
# COMPREPLY with what each line should offer. The parameter paths come from the rtmix given.
# Usage: check_bash_completion.sh RTMIX COMPLETION_FILE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rtmix=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
completion=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A session whose parameters need no audio file: a bus and a track with a live input.
mkdir -p "$work/bin" "$work/here/mixes"
ln -s "$rtmix" "$work/bin/rtmix"
cat > "$work/here/song.toml" <<'TOML'
[session]
sample_rate = 48000

[[bus]]
name = "drums"

[[track]]
name = "vox"
input = "system:capture_1"
output = "drums"
TOML
touch "$work/here/notes.txt" "$work/here/master.wav" "$work/here/take.FLAC"
cd "$work/here"
PATH="$work/bin:$PATH"

set +eu  # the completion runs as in an interactive shell
source "$completion"
compopt() { :; }  # only a completion started by readline may set its options

failed=0
# complete_words LINE: split LINE as readline does (at blanks, and '=' and ':' as words of their own)
# and complete its last word into COMPREPLY.
complete_words() {
    local line=$1
    local -a words=()
    local word
    for word in $line; do
        while [[ $word =~ ^([^=:]*)([=:]+)(.*)$ ]]; do
            [[ -n ${BASH_REMATCH[1]} ]] && words+=("${BASH_REMATCH[1]}")
            words+=("${BASH_REMATCH[2]}")
            word=${BASH_REMATCH[3]}
        done
        [[ -n $word ]] && words+=("$word")
    done
    [[ $line == *" " ]] && words+=("")
    COMP_WORDS=("${words[@]}")
    COMP_CWORD=$((${#words[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMPREPLY=()
    _rtmix
}

# complete_line LINE EXPECTED...: complete LINE and compare the sorted COMPREPLY with EXPECTED.
complete_line() {
    local line=$1
    shift
    complete_words "$line"
    local got expected
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
    expected=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
    if [[ $got != "$expected" ]]; then
        echo "bash completion of '$line': got [$got], expected [$expected]" >&2
        failed=1
    fi
}

complete_line "rtmix re" render
complete_line "rtmix --v" --version
complete_line "rtmix render " song.toml mixes
complete_line "rtmix render song.toml --di" --dither
complete_line "rtmix render song.toml --dither " none tpdf shaped
complete_line "rtmix render song.toml --loudness s" streaming
complete_line "rtmix render song.toml -o " master.wav take.FLAC mixes
complete_line "rtmix render song.toml --set track.vox.eq.1.t" track.vox.eq.1.type=
complete_line "rtmix render song.toml --set track.vox.eq.1.type=high" highpass highshelf
complete_line "rtmix render song.toml --set track.vox.eq.1.slope=" 12 24
complete_line "rtmix render --set bus.drums.mute=1 song.toml --set bus.drums.mu" bus.drums.mute=
complete_line "rtmix play --start 1:30 song.toml --set track.vox.mu" track.vox.mute=
complete_line "rtmix play --loop 0:10 0:20 " song.toml mixes
complete_line "rtmix play song.toml --backend " jack portaudio
complete_line "rtmix params song.toml track.vox.compressor.r" track.vox.compressor.ratio track.vox.compressor.release_ms
complete_line "rtmix params song.toml --j" --json
complete_line "rtmix check song.toml " 
complete_line "rtmix analyze " master.wav take.FLAC mixes
complete_line "rtmix analyze master.wav --plot " mixes
complete_line "rtmix devices " 

# Every command and option `rtmix --help` gives is offered.
help_options=$("$here/help_options.sh" "$rtmix")
while read -r command option; do
  if [[ -z $option ]]; then
    complete_words "rtmix "
    [[ " ${COMPREPLY[*]} " == *" $command "* ]] || { echo "bash completion: rtmix does not offer '$command'" >&2; failed=1; }
  else
    complete_words "rtmix $command song.toml -"
    [[ " ${COMPREPLY[*]} " == *" $option "* ]] || { echo "bash completion: 'rtmix $command' does not offer $option" >&2; failed=1; }
  fi
done <<<"$help_options"
exit $failed
