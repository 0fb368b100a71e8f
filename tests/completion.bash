# tests/completion.bash: the bash half of tests/completion.sh. Loads ka-tune's completion from
# the staged tree the way bash-completion does when ka-tune is first completed (without
# bash-completion: sources the staged file), then completes each line read from stdin as bash
# would with the cursor at its end, and prints the offered words on one line each. Last, it
# prints "source: FILE", the file the completion function came from.
# usage: bash tests/completion.bash SHARE_DIR <lines

share=$1
if [[ -r /usr/share/bash-completion/bash_completion ]]; then
	# Only the staged tree: no user's completions, no installed ka-tune's.
	export BASH_COMPLETION_USER_DIR=/nonexistent XDG_DATA_DIRS=$share
	# shellcheck source=/dev/null
	. /usr/share/bash-completion/bash_completion
	__load_completion ka-tune || { echo "bash-completion found no completion" >&2; exit 1; }
else
	# shellcheck source=/dev/null
	. "$share/bash-completion/completions/ka-tune" || exit 1
fi
spec=$(complete -p ka-tune) || exit 1
fn=${spec##*-F }
fn=${fn%% *}

# Split a line into COMP_WORDS as readline does with the default COMP_WORDBREAKS, for the
# characters these lines hold: blanks separate words and each '=' is a word of its own.
split_line()
{
	local line=$1 tok
	COMP_WORDS=()
	for tok in $line; do
		while [[ $tok == *=* ]]; do
			[[ -n ${tok%%=*} ]] && COMP_WORDS+=("${tok%%=*}")
			COMP_WORDS+=("=")
			tok=${tok#*=}
		done
		[[ -n $tok ]] && COMP_WORDS+=("$tok")
	done
	[[ $line == *' ' ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
}

while IFS= read -r line; do
	split_line "$line"
	COMPREPLY=()
	"$fn" ka-tune "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	echo "${COMPREPLY[*]}"
done

shopt -s extdebug
src=$(declare -F "$fn")
echo "source: ${src#* * }"
