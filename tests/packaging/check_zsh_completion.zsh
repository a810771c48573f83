#!/usr/bin/env zsh
# Checks the zsh completion: starts an interactive zsh on a pseudo-terminal (zpty) with _rtmix on
# its fpath, types lines followed by TAB, and compares the matches offered (recorded by a compadd
# wrapper) with what each line should offer. The parameter paths come from the rtmix given.
# Usage: check_zsh_completion.zsh RTMIX COMPLETION_DIR
emulate -L zsh
setopt err_return
rtmix=${1:A} dir=${2:A}
work=$(mktemp -d)
trap 'zpty -d z 2>/dev/null; rm -rf $work' EXIT

# A session whose parameters need no audio file: a bus and a track with a live input.
mkdir -p $work/bin $work/here/mixes
ln -s $rtmix $work/bin/rtmix
cat > $work/here/song.toml <<'TOML'
[session]
sample_rate = 48000

[[bus]]
name = "drums"

[[track]]
name = "vox"
input = "system:capture_1"
output = "drums"
TOML
touch $work/here/notes.txt $work/here/master.wav $work/here/take.FLAC
unsetopt err_return

zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "cd ${(q)work}/here; PATH=${(q)work}/bin:\$PATH; fpath=(${(q)dir} \$fpath)"
zpty -w z "autoload -Uz compinit; compinit -u -d ${(q)work}/zcompdump; LISTMAX=0"
# Record every match offered; compadd calls that only ask (-O, -A, -D) are passed through.
zpty -w z 'compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a hits; builtin compadd -A hits "$@"; print -rl -- $hits >> '${(q)work}'/matches
  builtin compadd "$@"
}'

# TAB completes, then notes in the file that it is done.
zpty -w z 'complete-and-note() { zle complete-word; print -r -- "-- done --" >> '${(q)work}'/matches }'
zpty -w z 'zle -N complete-and-note; bindkey "^I" complete-and-note'

failed=0
# complete_words LINE: type LINE and TAB; the matches offered go to $matches.
complete_words() {
  local line=$1 i
  matches=()
  : > $work/matches
  zpty -w -n z "$line"$'\t'
  for (( i = 0; i < 200; i++ )); do
    grep -q -- '^-- done --$' $work/matches && break
    sleep 0.05
  done
  zpty -w -n z $'\C-e\C-u'
  if (( i == 200 )); then
    print -u2 "zsh completion of '$line': no answer"; failed=1; return 1
  fi
  matches=( ${(ou)${(f)"$(grep -v -- '^-- done --$' $work/matches)"}} )
}

# complete_line LINE EXPECTED...: complete LINE and compare the sorted matches with EXPECTED.
complete_line() {
  local line=$1 got expected
  shift
  complete_words $line || return
  got=${(j: :)matches}
  expected=${(j: :)${(ou)@}}
  if [[ $got != $expected ]]; then
    print -u2 "zsh completion of '$line': got [$got], expected [$expected]"
    failed=1
  fi
}

complete_line "rtmix re" render
complete_line "rtmix render " song.toml mixes
complete_line "rtmix render song.toml --di" --dither
complete_line "rtmix render song.toml --dither " none tpdf shaped
complete_line "rtmix render song.toml -o " master.wav take.FLAC mixes
complete_line "rtmix render song.toml --set track.vox.eq.1.ty" track.vox.eq.1.type
complete_line "rtmix render song.toml --set track.vox.eq.1.type=high" highpass highshelf
complete_line "rtmix render song.toml --set track.vox.eq.1.slope=" 12 24
complete_line "rtmix play --start 1:30 song.toml --set track.vox.mu" track.vox.mute
complete_line "rtmix play song.toml --backend " jack portaudio
complete_line "rtmix params song.toml track.vox.compressor.r" track.vox.compressor.ratio track.vox.compressor.release_ms
complete_line "rtmix analyze " master.wav take.FLAC mixes

# Every command and option `rtmix --help` gives is offered.
local -a matches
complete_words "rtmix "
local -a top_level=( $matches )
typeset -A offered
while read -r command option; do
  if [[ -z $option ]]; then
    (( ${top_level[(Ie)$command]} )) || { print -u2 "zsh completion: rtmix does not offer '$command'"; failed=1 }
  else
    if [[ -z ${offered[$command]} ]]; then
      complete_words "rtmix $command song.toml -"
      offered[$command]=" $matches "
    fi
    [[ ${offered[$command]} == *" $option "* ]] || { print -u2 "zsh completion: 'rtmix $command' does not offer $option"; failed=1 }
  fi
done < <(${0:A:h}/help_options.sh $rtmix)
exit $failed
