#compdef ka-tune
# ka-tune.zsh: zsh completion for ka-tune(8): its global options, commands, each command's
# options, and the values that have names (--loader, --behind), are paths (--file, --root),
# namespaces (--netns) or processes (--pid). Installed as
# $(PREFIX)/share/zsh/vendor-completions/_ka-tune; the bash one is completion/ka-tune.bash.
# tests/completion.sh checks both against the commands and options ka-tune --help lists.

# The commands, with the line ka-tune --help gives each. With --one-netns, only those that
# --netns and --pid apply to: the ones that act in one network namespace.
(( $+functions[_ka-tune_commands] )) ||
_ka-tune_commands()
{
	local -a cmds=(
		'show:print the keepalive values the kernel uses now'
		'set:change the values the kernel uses now, all or nothing'
		'check:exit 1 when the running values are not the boot values'
		'suggest:values that keep idle connections alive behind a NAT or LB'
		'sockets:which TCP connections use keepalive, and whose they are'
		'probe:measure how long the path to a TCP server keeps an idle flow'
		'persist:write the values to a sysctl.d file for the next boot'
		'apply:set the running values to the boot values, as the loader would'
		'metrics:the values, drift and connections for Prometheus (node_exporter)'
		'enable:turn keepalive on in a process'\''s TCP sockets, or a cgroup'\''s'
		'disable:stop enabling keepalive for a cgroup'\''s new connections'
		'exec:run a command whose TCP sockets all have keepalive on'
		'help:print the help, or a command'\''s'
	)
	[[ $1 == --one-netns ]] && cmds=( ${(M)cmds:#(show|set|check|sockets|probe):*} )
	_describe -t commands 'ka-tune command' cmds
}

# A network namespace: the names ip netns add made, or, once the value holds a '/', a file.
(( $+functions[_ka-tune_netns] )) ||
_ka-tune_netns()
{
	local expl
	local -a names=( /run/netns/*(N:t) )

	if [[ $PREFIX == */* ]]; then
		_files
	else
		_wanted netns expl 'network namespace (a name, or a file with a /)' compadd -a names
	fi
}

# The NATs and load balancers --behind knows; their idle timeouts are in ka-tune --help.
(( $+functions[_ka-tune_profiles] )) ||
_ka-tune_profiles()
{
	local -a profiles=(
		'aws-nat:AWS NAT gateway'
		'azure-lb:Azure load balancer'
		'gcp-nat:Google Cloud NAT'
		'aliyun-nat:Aliyun NAT gateway'
		'conntrack:this machine'\''s nf_conntrack_tcp_timeout_established'
	)
	_describe -t profiles 'NAT or load balancer' profiles
}

# Complete ka-tune's command line: global options and the command first, then that command's
# options. Options that exclude each other (ka-tune refuses them together, exit 2) are not
# offered once one is given; --help takes nothing after it. --time, --intvl, --probes,
# --idle-timeout, --detect-within, --port, probe's options and its HOST:PORT only show what
# their value is.
_ka-tune()
{
	local curcontext=$curcontext state state_descr line ret=1 one_netns=
	local -A opt_args
	local hv='--help --version'
	local dur='duration (seconds, or units d h m s as in 600, 10m, 1m30s)'
	local time="--time=[idle time before the first probe, 1..32767 s]:$dur: "
	local intvl="--intvl=[time between probes, 1..32767 s]:$dur: "
	local probes='--probes=[unanswered probes before the peer is dead, 1..127]:count: '
	local loaders='((systemd\:systemd-sysctl procps\:sysctl\ --system))'
	local loader="--loader=[the boot-time loader to model]:loader:$loaders"
	local behind='--behind=[a NAT or load balancer]:profile:_ka-tune_profiles'
	local idle="--idle-timeout=[any other idle timeout]:$dur: "
	local -a args=('(- : *)--help[print this command'\''s usage and options]')
	local -a after=(-A '-*')	# no option after a word that is not one

	# -A: the global options end at the command, so that enable --pid is enable's own.
	_arguments -C -S -A '-*' \
		'(- : *)--help[print the usage and a line on each command]' \
		'(- : *)--version[print the version]' \
		"(--pid $hv)--netns=[act in another network namespace]:namespace:_ka-tune_netns" \
		"(--netns $hv)--pid=[act in the network namespace of a process]:process:_pids" \
		'1: :->command' \
		'*:: :->option' && ret=0

	(( $+opt_args[--netns] || $+opt_args[--pid] )) && one_netns=--one-netns
	case $state in
	command)
		_ka-tune_commands $one_netns && ret=0
		return ret
		;;
	option) ;;
	*) return ret ;;
	esac

	curcontext=${curcontext%:*:*}:ka-tune-$words[1]:
	case $words[1] in
	show)
		args+=(
			'(--sysctl)--json[one JSON object (an array with --all-netns)]'
			'(--json --all-netns)--sysctl[the three lines a sysctl.d file holds]'
		)
		[[ -z $one_netns ]] && args+=(
			'(--sysctl --boot --loader --root)--all-netns[each network namespace]'
			'(--all-netns)--boot[what applies at boot, and from which file and line]'
			"(--all-netns)$loader"
			'(--all-netns)--root=[read an image tree'\''s sysctl.d files]:dir:_files -/'
		)
		;;
	set)
		args+=("$time" "$intvl" "$probes" '--dry-run[print the plan, change nothing]'
			'--json[one JSON object: the result]')
		[[ -z $one_netns ]] && args+=(
			'--persist[write the boot file too, all or nothing]'
			'--file=[with --persist, write this file instead]:sysctl.d file:_files'
		)
		;;
	check)
		args+=("$loader" "(--idle-timeout)$behind" "(--behind)$idle"
			'--json[one JSON object: drift and idle-timeout verdict apart]')
		;;
	suggest)
		args+=(
			"(--idle-timeout)$behind" "(--behind)$idle"
			"--detect-within=[also notice a dead peer within DUR]:$dur: "
			'(--sysctl --k8s --docker)--json[one JSON object, with the set command]'
			'(--json --k8s --docker)--sysctl[the three lines a sysctl.d file holds]'
			'(--json --sysctl --docker)--k8s[a pod'\''s securityContext.sysctls]'
			'(--json --sysctl --k8s)--docker[the docker run --sysctl flags]'
		)
		;;
	sockets)
		args+=(
			'--no-keepalive[only the connections without keepalive]'
			'--port=[only those whose local or remote port is N]:port: '
			'--json[one JSON object: the connections, and a summary by process]'
		)
		;;
	persist)
		args+=(
			"(--remove)$time" "(--remove)$intvl" "(--remove)$probes"
			'(--root)--file=[write this file instead]:sysctl.d file:_files'
			'(--file)--root=[write DIR/etc/sysctl.d/90-ka-tune.conf]:dir:_files -/'
			'(--time --intvl --probes)--remove[take the three keys out]'
			'--dry-run[print the new content, write nothing]'
			'--json[one JSON object: the result]'
		)
		;;
	probe)
		# Options come before HOST:PORT or after it; --listen takes neither.
		after=()
		args+=(
			"(--listen)--min=[the shortest idle time tested, from 2 s]:$dur: "
			"(--listen)--max=[the longest idle time tested (default 2h)]:$dur: "
			'(--listen)--connections=[connections a round, 2..64]:count: '
			'(--listen)--json[one JSON object: the bracket, the loss, the suggestion]'
			'(--min --max --connections --json : *)--listen=[be the far end to probe]:port: '
			'(--listen)1:HOST\:PORT (a name, an IPv4 address or an [IPv6] one): '
		)
		;;
	apply)
		args+=("$loader" '--dry-run[print the plan, change nothing]'
			'--json[one JSON object: the result]')
		;;
	metrics)
		args+=("$behind" '--output=[replace this *.prom file whole]:file:_files')
		;;
	enable)
		# One target: --pid, --cgroup or --list; each takes only its own options.
		args+=(
			'(--cgroup --list --persist)--pid=[the process whose TCP sockets to turn keepalive on in]:process:_pids'
			'(--pid --list --port)--cgroup=[a cgroup v2 directory: keepalive for every connection made in it]:cgroup path: '
			'(--pid --cgroup --port --time --intvl --probes --persist --dry-run)--list[each cgroup enabled, its values and counters]'
			'(--cgroup --list --persist)--port=[only the sockets whose local or remote port is N]:port: '
			"(--list)$time" "(--list)$intvl" "(--list)$probes"
			'(--pid --list --port)--persist[with --cgroup: drop-ins that enable it at each start of its unit]'
			'(--list)--dry-run[say what would change, change nothing]'
			'--json[one JSON object: the result]'
		)
		;;
	disable)
		args+=(
			'--cgroup=[the cgroup enable --cgroup was given]:cgroup path: '
			'--dry-run[say what would change, change nothing]'
			'--json[one JSON object: the result]'
		)
		;;
	exec)
		# After its options (or --), COMMAND and its arguments, completed as zsh would.
		_arguments -S "${args[@]}" "$time" "$intvl" "$probes" \
			'(-)1:command:_command_names -e' '*::arguments: _normal' && ret=0
		return ret
		;;
	help)
		args+=('1: :_ka-tune_commands')
		;;
	*)
		return ret	# not a command: ka-tune takes nothing after it
		;;
	esac
	# -A: after a word that is not an option (help's COMMAND), no option is offered.
	_arguments -S $after $args && ret=0
	return ret
}

_ka-tune "$@"
