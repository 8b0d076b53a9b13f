package completion

// The usage of each command, as COMMAND -h and help COMMAND print it.
const (
	completionUsage = `Usage: git-credential-glpat completion bash|zsh|fish

Prints the shell completion script (install.sh installs it).

Examples:
    $ source <(git-credential-glpat completion bash)
    $ git-credential-glpat completion fish > ~/.config/fish/completions/git-credential-glpat.fish
`

	doctorUsage = `Usage: git-credential-glpat doctor [--json]

Checks what git-credential-glpat depends on and says how to fix what is
wrong: git and its version, which helpers git asks for each GitLab host and
in which order, the keychain, the config file, each stored token, the clock
and scheduled rotation. Exit status 1 when a check failed or warns.

Examples:
    $ git-credential-glpat doctor
    $ git-credential-glpat doctor --json | jq '.[] | select(.status != "ok")'
`

	gitOpUsage = `Usage: git-credential-glpat get|store|erase   < attributes on stdin

Git's credential helper protocol (gitcredentials(7)): Git runs these with
key=value lines on stdin; get answers on stdout. People use login, status and
logout instead. erase of a managed GitLab token asks GitLab once whether it
still accepts it: a revoked or expired token stays listed as such, one GitLab
accepts is kept and not handed to Git again for a while.

Examples:
    $ printf 'protocol=https\nhost=gitlab.com\n' | git credential fill
`

	initUsage = `Usage: git-credential-glpat init [--passphrase-stdin]
       git-credential-glpat unlock [--passphrase-stdin] [--for DURATION]
       git-credential-glpat lock
       git-credential-glpat passphrase [--passphrase-stdin]

For backend = "encrypted-file" (headless machines: SSH sessions, WSL, build
hosts). init creates the key that encrypts your credentials, protected by a
passphrase. unlock asks for the passphrase once per boot and keeps the key in
the kernel keyring (until reboot, lock, --for, or three idle days); every git
command then reads credentials without a prompt. Storing and rotating tokens
never needs the passphrase. passphrase changes it.

With --passphrase-stdin each passphrase is read once, one line each: init
and unlock read one line, passphrase reads the current one, then the new one.
At a terminal a new passphrase is asked twice, and asked again (three tries)
when it is too short or the two differ. A new passphrase has at least 8
characters.

Examples:
    $ git-credential-glpat init
    $ git-credential-glpat unlock
    $ git-credential-glpat unlock --for 12h
    $ git-credential-glpat lock
`

	loginUsage = `Usage: git-credential-glpat login [HOST] [--username U] [--token-stdin | --web] [--api-url URL] [--ca-file FILE]
       git-credential-glpat login [HOST] --create-url
       git-credential-glpat login [HOST] --oauth [--flow browser|device] [--username U]

Checks a GitLab personal access token against HOST's API (default gitlab.com),
shows its name, scopes and expiry, and stores it in the keychain. The token is
read from a hidden prompt, or from stdin with --token-stdin; never from argv.

With --oauth it logs in through GitLab's OAuth provider instead, with the
application whose Application ID is oauth_client_id under [hosts."HOST"] in
the config: in the browser, or over SSH and without a browser with a code to
confirm on another device. The access token is refreshed before it expires.

Options:
    --username U     the account (Git username) to store it under (default: the
                     account that holds a token of the same GitLab user, else
                     the config, else the token's user when it may read it,
                     else oauth2); never an account of another GitLab user
    --token-stdin    read the token from stdin
    --web            open the page that creates a least-privilege token in the
                     browser (or print it), then wait at the hidden prompt
    --api-url URL    the API base URL (default: the config's api_url, else
                     https://HOST/api/v4); another one is written into the
                     config as the host's api_url, where rotations look
    --ca-file FILE   a PEM file of the CA that signs the API's certificate
                     (an organisation's own CA), trusted besides the system's;
                     written into the config as the host's ca_file
    --create-url     only print the page that creates a least-privilege token
    --oauth          log in with GitLab's OAuth instead of a token
    --flow FLOW      browser or device (default: device over SSH, without a
                     graphical session or without a terminal, else browser)

Examples:
    $ git-credential-glpat login
    $ git-credential-glpat login gitlab.example.com --username alice
    $ git-credential-glpat login gitlab.example.com --token-stdin < token.txt
    $ git-credential-glpat login gitlab.com --oauth
`

	logoutUsage = `Usage: git-credential-glpat logout [HOST] [--username U] [--revoke [--yes]]

Forgets the credentials stored for HOST (default gitlab.com), of account U
only with --username. With --revoke, each GitLab token is first revoked on
GitLab, so it can never be used again; when that is more than one token,
logout lists them and asks first (--yes: do not ask, for scripts).

Examples:
    $ git-credential-glpat logout
    $ git-credential-glpat logout gitlab.example.com --username alice --revoke
    $ git-credential-glpat logout gitlab.example.com --revoke --yes
`

	migrateUsage = `Usage: git-credential-glpat migrate --to BACKEND

The one way to move between backends. Moves every stored credential (and
nothing of its metadata changes) to BACKEND: keyring, encrypted-file or
kernel, and switches the config file to BACKEND (writing through a symlink).
Secrets are removed from the old backend only after the new one holds every
one of them (read back and compared). It finishes from any state: the config
still naming the old backend or already naming BACKEND (switched by hand),
or a migrate that was interrupted: run it again. For encrypted-file, run
git-credential-glpat init first (whatever backend the config names).

Examples:
    $ git-credential-glpat init && git-credential-glpat migrate --to encrypted-file
    $ git-credential-glpat migrate --to kernel
`

	rotateUsage = `Usage: git-credential-glpat rotate [HOST | --all] [--force] [--json]

Rotates the stored GitLab tokens of HOST (default gitlab.com), or of every
host with --all, that are due (less than rotate_before left). --force rotates
them even when they are not due. This is what a daily cron job or systemd
timer runs, so that tokens nobody uses still never expire.

Examples:
    $ git-credential-glpat rotate --all
    $ git-credential-glpat rotate gitlab.example.com --force
`

	scheduleUsage = `Usage: git-credential-glpat schedule install|remove|status

Rotates the tokens daily even when git does not use them, by running
"git-credential-glpat rotate --all" from the system's scheduler: a systemd
user timer on Linux, a launchd agent on macOS, a scheduled task on Windows.
install writes and enables it (run it again after moving this program);
remove undoes exactly that; status says whether it is installed.

Examples:
    $ git-credential-glpat schedule install
    $ git-credential-glpat schedule status
`

	setupUsage = `Usage: git-credential-glpat setup [HOST...] [--undo]

Writes your global git config so that, for each GitLab HOST, this helper is
the only one Git asks: an empty credential.https://HOST.helper (which drops
helpers configured elsewhere, so none serves a stale token), then this
binary's absolute path (so that IDEs started with another PATH find it).
Hosts with several accounts in the config also get credential.useHttpPath.
Without HOST: the hosts in the config file, else gitlab.com. Running it
twice changes nothing; --undo removes exactly what setup wrote.

Examples:
    $ git-credential-glpat setup
    $ git-credential-glpat setup gitlab.com gitlab.example.com:8443
    $ git-credential-glpat setup --undo
`

	statusUsage = `Usage: git-credential-glpat status [HOST] [--json] [--offline]

Shows every stored credential: host, user, token name, scopes, expiry, days
left, whether rotation is due or impossible, and (from GitLab, unless
--offline) when and from which IP addresses the token was last used.
Exit status 1 when a token needs action.

Examples:
    $ git-credential-glpat status
    $ git-credential-glpat status gitlab.com --json | jq '.[].days_left'
`

	versionUsage = `Usage: git-credential-glpat version   (also -v, --version)

Prints the version and the commit it was built from.
`
)
