# tests/completion.zsh: the zsh half of tests/completion.sh. Starts an interactive zsh on a
# pseudo-terminal (zsh/zpty) with compinit and the staged tree first in $fpath, types each line
# read from stdin, and presses a key bound to a widget that runs the real complete-word and then
# writes down every word the completion functions offered: a compadd wrapper records the words
# that match, as compadd -O reports them. The widget ends each line with a marker that the
# reader waits for (the typed text never holds it), so no sleep paces the exchange.
# Prints the offered words of each line on one line, the inner shell's own pid written as SELF,
# then "source: FILE", the file _ka-tune was loaded from.
# usage: zsh -f tests/completion.zsh FPATH_DIR CAPTURE_FILE <lines

zmodload zsh/zpty || exit 1
dir=$1 cap=$2

zpty kt TERM=xterm zsh -f -i || exit 1
zpty -w kt "PS1='> '; fpath=(${(q)dir} \$fpath); autoload -Uz compinit && compinit -u -D"
zpty -w kt 'setopt no_beep no_auto_list; typeset -ga kt_hits; zmodload zsh/parameter'
# Calls that only ask what would match (-O, -A, -D) are the completion system's own: let them
# be; for the others, record what matches, then add as asked.
zpty -w kt 'compadd() {
	if (( ${@[(I)-[OAD]]} )); then builtin compadd "$@"; return; fi
	local -a kt_m
	builtin compadd -O kt_m "$@"
	kt_hits+=( $kt_m )
	builtin compadd "$@"
}'
zpty -w kt "kt-probe() {
	kt_hits=()
	zle complete-word
	print -r -- \$\$ \${functions_source[_ka-tune]:-none} \$kt_hits >| ${(q)cap}
	print -n -- \$'\\nKT-''DONE\\n'
	zle kill-whole-line
}"
zpty -w kt "zle -N kt-probe; bindkey '^T' kt-probe"

src=
while IFS= read -r line; do
	zpty -n -w kt "$line"$'\C-t'
	zpty -r -m kt junk '*KT-DONE*' || { print -u2 "zsh: no answer to '$line'"; exit 1; }
	words=( ${=${"$(<$cap)"}} )
	self=$words[1] src=$words[2]
	shift 2 words
	print -r -- ${words:/$self/SELF}
done
zpty -d kt
print -r -- "source: $src"
