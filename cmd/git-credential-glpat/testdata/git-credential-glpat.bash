# bash completion for git-credential-glpat
# Written by `git-credential-glpat completion bash`. Load it with
#     source <(git-credential-glpat completion bash)
# or save it as ~/.local/share/bash-completion/completions/git-credential-glpat

_git_credential_glpat_hosts() {
	git-credential-glpat status --offline --json 2>/dev/null | sed -n 's/^ *"host": *"\([^"]*\)".*/\1/p' | sort -u
}

_git_credential_glpat() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev= i start=1
	# Called as "git credential-glpat …" (through git's completion), the
	# arguments start after "credential-glpat".
	for ((i = 0; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		credential-glpat | git-credential-glpat | */git-credential-glpat)
			start=$((i + 1))
			break
			;;
		esac
	done
	((COMP_CWORD > start)) && prev=${COMP_WORDS[COMP_CWORD-1]}
	# "--to=value": bash splits it at "=" (COMP_WORDBREAKS) or not.
	# Unsplit, the answers must keep the "--to=" before them.
	local eqflag= eqprefix=
	if [[ $cur == "=" && $COMP_CWORD -gt $start ]]; then
		eqflag=$prev cur=
	elif [[ $prev == "=" && $COMP_CWORD -gt $((start + 1)) ]]; then
		eqflag=${COMP_WORDS[COMP_CWORD-2]}
	elif [[ $cur == --*=* ]]; then
		eqflag=${cur%%=*} eqprefix=${cur%%=*}= cur=${cur#*=}
	fi

	# The command is the first word that is not a flag; count the
	# positional words after it.
	local cmd= npos=0 w
	for ((i = start; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		= | -*) continue ;;
		esac
		if [[ -z $cmd ]]; then
			cmd=$w
			continue
		fi
		case ${COMP_WORDS[i-1]} in
		= | --username | --api-url | --ca-file | --flow | --for | --to) continue ;;
		esac
		npos=$((npos + 1))
	done

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-h --help --version' -- "$cur"))
		else
			COMPREPLY=($(compgen -W 'get store erase login logout status rotate setup doctor schedule completion init unlock lock passphrase migrate version help' -- "$cur"))
		fi
		return 0
	fi

	local flag=${eqflag:-$prev}
	case $cmd in
	get)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-h --help' -- "$cur"))
		fi
		;;
	store)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-h --help' -- "$cur"))
		fi
		;;
	erase)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-h --help' -- "$cur"))
		fi
		;;
	login)
		case $flag in
		--username)
			COMPREPLY=()
			return 0
			;;
		--api-url)
			COMPREPLY=()
			return 0
			;;
		--ca-file)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -P "$eqprefix" -f -- "$cur"))
			return 0
			;;
		--flow)
			COMPREPLY=($(compgen -P "$eqprefix" -W 'browser device' -- "$cur"))
			return 0
			;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--username --token-stdin --api-url --ca-file --web --create-url --oauth --flow -h --help' -- "$cur"))
		elif ((npos == 0)); then
			COMPREPLY=($(compgen -W "$(_git_credential_glpat_hosts)" -- "$cur"))
		fi
		;;
	logout)
		case $flag in
		--username)
			COMPREPLY=()
			return 0
			;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--username --revoke --yes -h --help' -- "$cur"))
		elif ((npos == 0)); then
			COMPREPLY=($(compgen -W "$(_git_credential_glpat_hosts)" -- "$cur"))
		fi
		;;
	status)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--json --offline -h --help' -- "$cur"))
		elif ((npos == 0)); then
			COMPREPLY=($(compgen -W "$(_git_credential_glpat_hosts)" -- "$cur"))
		fi
		;;
	rotate)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--all --force --json -h --help' -- "$cur"))
		elif ((npos == 0)); then
			COMPREPLY=($(compgen -W "$(_git_credential_glpat_hosts)" -- "$cur"))
		fi
		;;
	setup)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--undo -h --help' -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_git_credential_glpat_hosts)" -- "$cur"))
		fi
		;;
	doctor)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--json -h --help' -- "$cur"))
		fi
		;;
	schedule)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-h --help' -- "$cur"))
		elif ((npos == 0)); then
			COMPREPLY=($(compgen -W 'install remove status' -- "$cur"))
		fi
		;;
	completion)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-h --help' -- "$cur"))
		elif ((npos == 0)); then
			COMPREPLY=($(compgen -W 'bash zsh fish' -- "$cur"))
		fi
		;;
	init)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--passphrase-stdin -h --help' -- "$cur"))
		fi
		;;
	unlock)
		case $flag in
		--for)
			COMPREPLY=()
			return 0
			;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--passphrase-stdin --for -h --help' -- "$cur"))
		fi
		;;
	lock)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-h --help' -- "$cur"))
		fi
		;;
	passphrase)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--passphrase-stdin -h --help' -- "$cur"))
		fi
		;;
	migrate)
		case $flag in
		--to)
			COMPREPLY=($(compgen -P "$eqprefix" -W 'keyring encrypted-file kernel' -- "$cur"))
			return 0
			;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--to -h --help' -- "$cur"))
		fi
		;;
	version)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-h --help' -- "$cur"))
		fi
		;;
	help)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-h --help' -- "$cur"))
		elif ((npos == 0)); then
			COMPREPLY=($(compgen -W 'get store erase login logout status rotate setup doctor schedule completion init unlock lock passphrase migrate version help' -- "$cur"))
		fi
		;;
	esac
	return 0
}

complete -F _git_credential_glpat git-credential-glpat
