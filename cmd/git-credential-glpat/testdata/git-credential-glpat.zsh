#compdef git-credential-glpat
# zsh completion for git-credential-glpat
# Written by `git-credential-glpat completion zsh`. Save it as _git-credential-glpat in
# a directory of $fpath (before compinit runs), or load it with
#     source <(git-credential-glpat completion zsh)

_git-credential-glpat_hosts() {
	local -a hosts
	hosts=(${(f)"$(git-credential-glpat status --offline --json 2>/dev/null | sed -n 's/^ *"host": *"\([^"]*\)".*/\1/p' | sort -u)"})
	_wanted hosts expl host compadd -a hosts
}

_git-credential-glpat() {
	local curcontext=$curcontext state line ret=1
	local -a commands
	commands=(
		'get:answer git with a stored credential (git calls it)'
		'store:store a credential (git calls it)'
		'erase:erase matching credentials (git calls it)'
		'login:check a GitLab token and store it'
		'logout:forget a host'\''s credentials'
		'status:show stored credentials, expiry and rotation state'
		'rotate:rotate the tokens that are due'
		'setup:make this helper the only one git asks for GitLab hosts'
		'doctor:check what the helper depends on and say how to fix it'
		'schedule:rotate daily from the system'\''s scheduler'
		'completion:print a shell completion script'
		'init:create the encrypted file (encrypted-file backend)'
		'unlock:unlock the encrypted file until reboot'
		'lock:lock the encrypted file'
		'passphrase:change the passphrase of the encrypted file'
		'migrate:move the secrets to another storage backend'
		'version:print the version and commit'
		'help:show the usage of a command'
	)
	_arguments -C \
		'(- :)'{-h,--help}'[show the usage]' \
		'(- :)--version[print the version]' \
		'1: :->command' \
		'*:: :->args' && ret=0
	case $state in
	command)
		_describe -t commands 'git-credential-glpat command' commands && ret=0
		;;
	args)
		curcontext=${curcontext%:*:*}:git-credential-glpat-$words[1]:
		case $words[1] in
		get)
			_arguments \
				'(- *)'{-h,--help}'[show the usage]' \
				&& ret=0
			;;
		store)
			_arguments \
				'(- *)'{-h,--help}'[show the usage]' \
				&& ret=0
			;;
		erase)
			_arguments \
				'(- *)'{-h,--help}'[show the usage]' \
				&& ret=0
			;;
		login)
			_arguments \
				'--username=[the Git username to store it under]:u: ' \
				'--token-stdin[read the token from stdin]' \
				'--api-url=[the API base URL]:url: ' \
				'--ca-file=[a CA certificate (PEM) to trust for the API]:file:_files' \
				'--web[open the page that creates a least-privilege token]' \
				'--create-url[print the page that creates a least-privilege token]' \
				'--oauth[log in with GitLab'\''s OAuth instead of a token]' \
				'--flow=[the OAuth login'\''s flow (default\: browser, device over SSH)]:flow:(browser device)' \
				'(- *)'{-h,--help}'[show the usage]' \
				'1:host:_git-credential-glpat_hosts' \
				&& ret=0
			;;
		logout)
			_arguments \
				'--username=[only this user'\''s credential]:u: ' \
				'--revoke[revoke the tokens on GitLab first]' \
				'--yes[do not ask before revoking several tokens]' \
				'(- *)'{-h,--help}'[show the usage]' \
				'1:host:_git-credential-glpat_hosts' \
				&& ret=0
			;;
		status)
			_arguments \
				'--json[print JSON]' \
				'--offline[do not ask GitLab]' \
				'(- *)'{-h,--help}'[show the usage]' \
				'1:host:_git-credential-glpat_hosts' \
				&& ret=0
			;;
		rotate)
			_arguments \
				'--all[every host]' \
				'--force[rotate even tokens that are not due]' \
				'--json[print JSON]' \
				'(- *)'{-h,--help}'[show the usage]' \
				'1:host:_git-credential-glpat_hosts' \
				&& ret=0
			;;
		setup)
			_arguments \
				'--undo[remove what setup wrote]' \
				'(- *)'{-h,--help}'[show the usage]' \
				'*:host:_git-credential-glpat_hosts' \
				&& ret=0
			;;
		doctor)
			_arguments \
				'--json[print JSON]' \
				'(- *)'{-h,--help}'[show the usage]' \
				&& ret=0
			;;
		schedule)
			_arguments \
				'(- *)'{-h,--help}'[show the usage]' \
				'1:schedule:((install\:write\ and\ enable\ the\ daily\ job remove\:disable\ and\ remove\ the\ daily\ job status\:say\ whether\ the\ daily\ job\ is\ installed))' \
				&& ret=0
			;;
		completion)
			_arguments \
				'(- *)'{-h,--help}'[show the usage]' \
				'1:completion:((bash\:bash\ completion zsh\:zsh\ completion fish\:fish\ completion))' \
				&& ret=0
			;;
		init)
			_arguments \
				'--passphrase-stdin[read the passphrase from stdin]' \
				'(- *)'{-h,--help}'[show the usage]' \
				&& ret=0
			;;
		unlock)
			_arguments \
				'--passphrase-stdin[read the passphrase from stdin]' \
				'--for=[lock again after this long]:duration: ' \
				'(- *)'{-h,--help}'[show the usage]' \
				&& ret=0
			;;
		lock)
			_arguments \
				'(- *)'{-h,--help}'[show the usage]' \
				&& ret=0
			;;
		passphrase)
			_arguments \
				'--passphrase-stdin[read the passphrase from stdin]' \
				'(- *)'{-h,--help}'[show the usage]' \
				&& ret=0
			;;
		migrate)
			_arguments \
				'--to=[the backend to move to]:backend:(keyring encrypted-file kernel)' \
				'(- *)'{-h,--help}'[show the usage]' \
				&& ret=0
			;;
		version)
			_arguments \
				'(- *)'{-h,--help}'[show the usage]' \
				&& ret=0
			;;
		help)
			_arguments \
				'(- *)'{-h,--help}'[show the usage]' \
				'1:help:((get\:answer\ git\ with\ a\ stored\ credential\ \(git\ calls\ it\) store\:store\ a\ credential\ \(git\ calls\ it\) erase\:erase\ matching\ credentials\ \(git\ calls\ it\) login\:check\ a\ GitLab\ token\ and\ store\ it logout\:forget\ a\ host\'\''s\ credentials status\:show\ stored\ credentials,\ expiry\ and\ rotation\ state rotate\:rotate\ the\ tokens\ that\ are\ due setup\:make\ this\ helper\ the\ only\ one\ git\ asks\ for\ GitLab\ hosts doctor\:check\ what\ the\ helper\ depends\ on\ and\ say\ how\ to\ fix\ it schedule\:rotate\ daily\ from\ the\ system\'\''s\ scheduler completion\:print\ a\ shell\ completion\ script init\:create\ the\ encrypted\ file\ \(encrypted-file\ backend\) unlock\:unlock\ the\ encrypted\ file\ until\ reboot lock\:lock\ the\ encrypted\ file passphrase\:change\ the\ passphrase\ of\ the\ encrypted\ file migrate\:move\ the\ secrets\ to\ another\ storage\ backend version\:print\ the\ version\ and\ commit help\:show\ the\ usage\ of\ a\ command))' \
				&& ret=0
			;;
		esac
		;;
	esac
	return ret
}

# Autoloaded from $fpath, this file is the function's body: complete now.
# Sourced, it registers the function.
if [[ $funcstack[1] == _git-credential-glpat ]]; then
	_git-credential-glpat "$@"
else
	compdef _git-credential-glpat git-credential-glpat
fi
