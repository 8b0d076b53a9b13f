# fish completion for git-credential-glpat
# Written by `git-credential-glpat completion fish`. Save it as
# ~/.config/fish/completions/git-credential-glpat.fish, or load it with
#     git-credential-glpat completion fish | source

# The command, and the positional words after it, of the line being completed.
function __git_credential_glpat_args
    set -l words (commandline -opc)
    set -e words[1]
    set -l skip 0
    for w in $words
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case --username --api-url --ca-file --flow --for --to
                set skip 1
            case '-*'
            case '*'
                echo $w
        end
    end
end

function __git_credential_glpat_needs_command
    test (count (__git_credential_glpat_args)) -eq 0
end

# __git_credential_glpat_using CMD [N]: the command is CMD (and, with N, it
# has exactly N positional words so far).
function __git_credential_glpat_using
    set -l args (__git_credential_glpat_args)
    test (count $args) -ge 1; and test "$args[1]" = $argv[1]; or return 1
    test (count $argv) -lt 2; or test (math (count $args) - 1) -eq $argv[2]
end

function __git_credential_glpat_hosts
    git-credential-glpat status --offline --json 2>/dev/null | sed -n 's/^ *"host": *"\([^"]*\)".*/\1/p' | sort -u
end

complete -c git-credential-glpat -f
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -s h -l help -d 'show the usage'
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -l version -d 'print the version'
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -a get -d 'answer git with a stored credential (git calls it)'
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -a store -d 'store a credential (git calls it)'
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -a erase -d 'erase matching credentials (git calls it)'
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -a login -d 'check a GitLab token and store it'
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -a logout -d 'forget a host\'s credentials'
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -a status -d 'show stored credentials, expiry and rotation state'
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -a rotate -d 'rotate the tokens that are due'
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -a setup -d 'make this helper the only one git asks for GitLab hosts'
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -a doctor -d 'check what the helper depends on and say how to fix it'
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -a schedule -d 'rotate daily from the system\'s scheduler'
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -a completion -d 'print a shell completion script'
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -a init -d 'create the encrypted file (encrypted-file backend)'
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -a unlock -d 'unlock the encrypted file until reboot'
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -a lock -d 'lock the encrypted file'
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -a passphrase -d 'change the passphrase of the encrypted file'
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -a migrate -d 'move the secrets to another storage backend'
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -a version -d 'print the version and commit'
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -a help -d 'show the usage of a command'

complete -c git-credential-glpat -n '__git_credential_glpat_using get' -s h -l help -d 'show the usage'

complete -c git-credential-glpat -n '__git_credential_glpat_using store' -s h -l help -d 'show the usage'

complete -c git-credential-glpat -n '__git_credential_glpat_using erase' -s h -l help -d 'show the usage'

complete -c git-credential-glpat -n '__git_credential_glpat_using login' -l username -x -d 'the Git username to store it under'
complete -c git-credential-glpat -n '__git_credential_glpat_using login' -l token-stdin -d 'read the token from stdin'
complete -c git-credential-glpat -n '__git_credential_glpat_using login' -l api-url -x -d 'the API base URL'
complete -c git-credential-glpat -n '__git_credential_glpat_using login' -l ca-file -r -F -d 'a CA certificate (PEM) to trust for the API'
complete -c git-credential-glpat -n '__git_credential_glpat_using login' -l web -d 'open the page that creates a least-privilege token'
complete -c git-credential-glpat -n '__git_credential_glpat_using login' -l create-url -d 'print the page that creates a least-privilege token'
complete -c git-credential-glpat -n '__git_credential_glpat_using login' -l oauth -d 'log in with GitLab\'s OAuth instead of a token'
complete -c git-credential-glpat -n '__git_credential_glpat_using login' -l flow -x -a 'browser device' -d 'the OAuth login\'s flow (default: browser, device over SSH)'
complete -c git-credential-glpat -n '__git_credential_glpat_using login' -s h -l help -d 'show the usage'
complete -c git-credential-glpat -n '__git_credential_glpat_using login 0' -a '(__git_credential_glpat_hosts)' -d host

complete -c git-credential-glpat -n '__git_credential_glpat_using logout' -l username -x -d 'only this user\'s credential'
complete -c git-credential-glpat -n '__git_credential_glpat_using logout' -l revoke -d 'revoke the tokens on GitLab first'
complete -c git-credential-glpat -n '__git_credential_glpat_using logout' -l yes -d 'do not ask before revoking several tokens'
complete -c git-credential-glpat -n '__git_credential_glpat_using logout' -s h -l help -d 'show the usage'
complete -c git-credential-glpat -n '__git_credential_glpat_using logout 0' -a '(__git_credential_glpat_hosts)' -d host

complete -c git-credential-glpat -n '__git_credential_glpat_using status' -l json -d 'print JSON'
complete -c git-credential-glpat -n '__git_credential_glpat_using status' -l offline -d 'do not ask GitLab'
complete -c git-credential-glpat -n '__git_credential_glpat_using status' -s h -l help -d 'show the usage'
complete -c git-credential-glpat -n '__git_credential_glpat_using status 0' -a '(__git_credential_glpat_hosts)' -d host

complete -c git-credential-glpat -n '__git_credential_glpat_using rotate' -l all -d 'every host'
complete -c git-credential-glpat -n '__git_credential_glpat_using rotate' -l force -d 'rotate even tokens that are not due'
complete -c git-credential-glpat -n '__git_credential_glpat_using rotate' -l json -d 'print JSON'
complete -c git-credential-glpat -n '__git_credential_glpat_using rotate' -s h -l help -d 'show the usage'
complete -c git-credential-glpat -n '__git_credential_glpat_using rotate 0' -a '(__git_credential_glpat_hosts)' -d host

complete -c git-credential-glpat -n '__git_credential_glpat_using setup' -l undo -d 'remove what setup wrote'
complete -c git-credential-glpat -n '__git_credential_glpat_using setup' -s h -l help -d 'show the usage'
complete -c git-credential-glpat -n '__git_credential_glpat_using setup' -a '(__git_credential_glpat_hosts)' -d host

complete -c git-credential-glpat -n '__git_credential_glpat_using doctor' -l json -d 'print JSON'
complete -c git-credential-glpat -n '__git_credential_glpat_using doctor' -s h -l help -d 'show the usage'

complete -c git-credential-glpat -n '__git_credential_glpat_using schedule' -s h -l help -d 'show the usage'
complete -c git-credential-glpat -n '__git_credential_glpat_using schedule 0' -a install -d 'write and enable the daily job'
complete -c git-credential-glpat -n '__git_credential_glpat_using schedule 0' -a remove -d 'disable and remove the daily job'
complete -c git-credential-glpat -n '__git_credential_glpat_using schedule 0' -a status -d 'say whether the daily job is installed'

complete -c git-credential-glpat -n '__git_credential_glpat_using completion' -s h -l help -d 'show the usage'
complete -c git-credential-glpat -n '__git_credential_glpat_using completion 0' -a bash -d 'bash completion'
complete -c git-credential-glpat -n '__git_credential_glpat_using completion 0' -a zsh -d 'zsh completion'
complete -c git-credential-glpat -n '__git_credential_glpat_using completion 0' -a fish -d 'fish completion'

complete -c git-credential-glpat -n '__git_credential_glpat_using init' -l passphrase-stdin -d 'read the passphrase from stdin'
complete -c git-credential-glpat -n '__git_credential_glpat_using init' -s h -l help -d 'show the usage'

complete -c git-credential-glpat -n '__git_credential_glpat_using unlock' -l passphrase-stdin -d 'read the passphrase from stdin'
complete -c git-credential-glpat -n '__git_credential_glpat_using unlock' -l for -x -d 'lock again after this long'
complete -c git-credential-glpat -n '__git_credential_glpat_using unlock' -s h -l help -d 'show the usage'

complete -c git-credential-glpat -n '__git_credential_glpat_using lock' -s h -l help -d 'show the usage'

complete -c git-credential-glpat -n '__git_credential_glpat_using passphrase' -l passphrase-stdin -d 'read the passphrase from stdin'
complete -c git-credential-glpat -n '__git_credential_glpat_using passphrase' -s h -l help -d 'show the usage'

complete -c git-credential-glpat -n '__git_credential_glpat_using migrate' -l to -x -a 'keyring encrypted-file kernel' -d 'the backend to move to'
complete -c git-credential-glpat -n '__git_credential_glpat_using migrate' -s h -l help -d 'show the usage'

complete -c git-credential-glpat -n '__git_credential_glpat_using version' -s h -l help -d 'show the usage'

complete -c git-credential-glpat -n '__git_credential_glpat_using help' -s h -l help -d 'show the usage'
complete -c git-credential-glpat -n '__git_credential_glpat_using help 0' -a get -d 'answer git with a stored credential (git calls it)'
complete -c git-credential-glpat -n '__git_credential_glpat_using help 0' -a store -d 'store a credential (git calls it)'
complete -c git-credential-glpat -n '__git_credential_glpat_using help 0' -a erase -d 'erase matching credentials (git calls it)'
complete -c git-credential-glpat -n '__git_credential_glpat_using help 0' -a login -d 'check a GitLab token and store it'
complete -c git-credential-glpat -n '__git_credential_glpat_using help 0' -a logout -d 'forget a host\'s credentials'
complete -c git-credential-glpat -n '__git_credential_glpat_using help 0' -a status -d 'show stored credentials, expiry and rotation state'
complete -c git-credential-glpat -n '__git_credential_glpat_using help 0' -a rotate -d 'rotate the tokens that are due'
complete -c git-credential-glpat -n '__git_credential_glpat_using help 0' -a setup -d 'make this helper the only one git asks for GitLab hosts'
complete -c git-credential-glpat -n '__git_credential_glpat_using help 0' -a doctor -d 'check what the helper depends on and say how to fix it'
complete -c git-credential-glpat -n '__git_credential_glpat_using help 0' -a schedule -d 'rotate daily from the system\'s scheduler'
complete -c git-credential-glpat -n '__git_credential_glpat_using help 0' -a completion -d 'print a shell completion script'
complete -c git-credential-glpat -n '__git_credential_glpat_using help 0' -a init -d 'create the encrypted file (encrypted-file backend)'
complete -c git-credential-glpat -n '__git_credential_glpat_using help 0' -a unlock -d 'unlock the encrypted file until reboot'
complete -c git-credential-glpat -n '__git_credential_glpat_using help 0' -a lock -d 'lock the encrypted file'
complete -c git-credential-glpat -n '__git_credential_glpat_using help 0' -a passphrase -d 'change the passphrase of the encrypted file'
complete -c git-credential-glpat -n '__git_credential_glpat_using help 0' -a migrate -d 'move the secrets to another storage backend'
complete -c git-credential-glpat -n '__git_credential_glpat_using help 0' -a version -d 'print the version and commit'
complete -c git-credential-glpat -n '__git_credential_glpat_using help 0' -a help -d 'show the usage of a command'
