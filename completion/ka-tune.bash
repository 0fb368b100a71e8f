# ka-tune.bash: bash completion for ka-tune(8): its global options, commands, and each command's
# options. Installed as $(PREFIX)/share/bash-completion/completions/ka-tune; needs only bash.

# Offer the words of $1 that start with the word being completed, $2.
_ka_tune_offer()
{
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

# Offer the files (with -d, the directories) whose names start with $2, as paths: quoted as
# needed, directories with a trailing slash.
_ka_tune_paths()
{
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen "$1" -- "$2")
}

# Complete exec's command line from word $1 on: its options, then after "--" or the first other
# word, COMMAND (a command name), then its arguments (files).
_ka_tune_exec()
{
	local cur=${COMP_WORDS[COMP_CWORD]} i=$1 word given=" " left=""

	for ((; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		case $word in
		--help) return 0 ;;
		--) ((i++)); break ;;
		--time | --intvl | --probes) given+="$word "; ((i++)) ;;
		-*) ;;
		*) break ;;
		esac
	done
	if ((i < COMP_CWORD)); then
		compopt -o default 2>/dev/null	# COMMAND's arguments: files
		return 0
	fi
	if [[ $cur == -* && ${COMP_WORDS[COMP_CWORD - 1]} != -- ]]; then
		for word in --time --intvl --probes --help; do
			[[ $given == *" $word "* ]] || left+="$word "
		done
		_ka_tune_offer "$left" "$cur"
	else
		mapfile -t COMPREPLY < <(compgen -c -- "$cur")
	fi
	return 0
}

# Complete ka-tune's command line: global options and the command first, then that command's
# options. --file and --output take a file and --root a directory; --time, --intvl, --probes,
# --netns and --pid get no completion for their value: any DUR, N, name or pid goes; nor do
# --port, probe's HOST:PORT and its options' values, nor --cgroup's PATH (relative to the
# cgroup2 mount, not to the current directory).
_ka_tune()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local opt cmd="" cmdi=0 opts given=" " left="" word i IFS=$' \t\n'
	local cmds="show set check suggest sockets probe persist apply metrics enable disable exec help"

	COMPREPLY=()

	# The option whose value is being completed: "--file x", or, as bash splits words at
	# '=', "--file=x" (words --file, =, x) and "--file=" (words --file, =).
	opt=$prev
	if [[ $cur == = ]]; then
		cur=""
	elif [[ $prev == = ]]; then
		opt=${COMP_WORDS[COMP_CWORD - 2]}
	fi
	# exec's words are its own from the command on: found first, as they may be anything.
	for ((i = 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		case $word in
		--netns | --pid) [[ ${COMP_WORDS[i + 1]} == = ]] && ((i++)); ((i++)) ;;
		-*) ;;
		exec) _ka_tune_exec $((i + 1)); return 0 ;;
		*) break ;;
		esac
	done
	case $opt in
	--file | --output) _ka_tune_paths -f "$cur"; return 0 ;;
	--root) _ka_tune_paths -d "$cur"; return 0 ;;
	--loader) _ka_tune_offer "systemd procps" "$cur"; return 0 ;;
	--behind) _ka_tune_offer "aws-nat azure-lb gcp-nat aliyun-nat conntrack" "$cur"; return 0 ;;
	--time | --intvl | --probes | --netns | --pid | --idle-timeout | --detect-within | --port | \
	--min | --max | --connections | --listen | --cgroup)
		return 0 ;;
	esac
	[[ $prev == = || ${COMP_WORDS[COMP_CWORD]} == = ]] && return 0	# --json=, say

	# The command is the first word that is neither an option nor the value of one.
	for ((i = 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		case $word in
		--netns | --pid)		# and its value, also as --netns=value
			[[ ${COMP_WORDS[i + 1]} == = ]] && ((i++))
			((i++))
			;;
		--help | -h | --version) return 0 ;;	# nothing may follow these
		-*) ;;
		*) cmd=$word cmdi=$i; break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			_ka_tune_offer "--netns --pid --help --version" "$cur"
		else
			_ka_tune_offer "$cmds" "$cur"
		fi
		return 0
	fi

	case $cmd in
	show) opts="--json --sysctl --all-netns --boot --loader --root --help" ;;
	set) opts="--time --intvl --probes --dry-run --persist --file --json --help" ;;
	check) opts="--loader --behind --idle-timeout --json --help" ;;
	suggest) opts="--behind --idle-timeout --detect-within --json --sysctl --k8s --docker --help" ;;
	sockets) opts="--no-keepalive --port --json --help" ;;
	probe) opts="--min --max --connections --json --listen --help" ;;
	persist) opts="--time --intvl --probes --file --root --dry-run --remove --json --help" ;;
	apply) opts="--loader --dry-run --json --help" ;;
	metrics) opts="--behind --output --help" ;;
	enable)
		opts="--pid --cgroup --list --port --time --intvl --probes --persist --dry-run --json"
		opts+=" --help"
		;;
	disable) opts="--cgroup --dry-run --json --help" ;;
	help)			# help COMMAND: one command's name, once
		((COMP_CWORD == cmdi + 1)) && _ka_tune_offer "$cmds" "$cur"
		return 0
		;;
	*) return 0 ;;		# unknown words take nothing more
	esac

	# Leave out the options already given, and those they exclude: --json and --sysctl,
	# --all-netns and --sysctl, --file and --root, --remove and the values, probe's --listen
	# and the rest (HOST:PORT too), enable's targets (--pid, --cgroup, --list) and what only
	# another target takes.
	for ((i = cmdi + 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		case $word in
		-- | --help) return 0 ;;	# nothing may follow these
		--sysctl) given+="--json --sysctl --all-netns --k8s --docker " ;;
		--json | --all-netns) given+="$word --sysctl --k8s --docker --listen " ;;
		--k8s | --docker) given+="--json --sysctl --k8s --docker " ;;
		--file | --root) given+="--file --root " ;;
		--behind | --idle-timeout) given+="--behind --idle-timeout " ;;
		--remove) given+="--remove --time --intvl --probes " ;;
		--time | --intvl | --probes)
			given+="$word "
			[[ $cmd == persist ]] && given+="--remove "
			;;
		--listen) given+="--min --max --connections --json --listen " ;;
		--min | --max | --connections) given+="$word --listen " ;;
		--*) given+="$word " ;;
		=) ;;
		*) [[ $cmd == probe ]] && given+="--listen " ;;	# HOST:PORT, or a value
		esac
		[[ $cmd == enable ]] && case $word in
		--pid | --port) given+="--cgroup --list --persist " ;;
		--cgroup | --persist) given+="--pid --list --port " ;;
		--list) given+="--pid --cgroup --port --time --intvl --probes --persist --dry-run " ;;
		--time | --intvl | --probes | --dry-run) given+="--list " ;;
		esac
	done
	for word in $opts; do
		[[ $given == *" $word "* ]] || left+="$word "
	done
	_ka_tune_offer "$left" "$cur"
	return 0
}

complete -F _ka_tune ka-tune
