package completion

import (
	"fmt"
	"strings"
)

const program = "git-credential-glpat"

// hostsCommand lists the hosts of the stored credentials, for completing
// HOST. `status --offline` asks no server; its JSON has one "host" per
// credential, on a line of its own; sort -u offers a host with several
// accounts once.
const hostsCommand = program + ` status --offline --json 2>/dev/null | sed -n 's/^ *"host": *"\([^"]*\)".*/\1/p' | sort -u`

// Script returns the completion script for shell ("bash", "zsh" or "fish")
// that completes cmds, in their order.
func Script(shell string, cmds []Command) (string, error) {
	switch shell {
	case "bash":
		return bashScript(cmds), nil
	case "zsh":
		return zshScript(cmds), nil
	case "fish":
		return fishScript(cmds), nil
	}
	return "", fmt.Errorf("completion: unknown shell %q (want bash, zsh or fish)", shell)
}

func commandNames(cmds []Command) []string {
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name)
	}
	return names
}

func wordNames(ws []Word) []string {
	var names []string
	for _, w := range ws {
		names = append(names, w.Name)
	}
	return names
}

// valuedFlags are the flags, of any command, that take a value: the word
// after one is not a positional argument.
func valuedFlags(cmds []Command) []string {
	var valued []string
	seen := map[string]bool{}
	for _, c := range cmds {
		for _, f := range c.Flags {
			if f.Arg != "" && !seen[f.Name] {
				seen[f.Name] = true
				valued = append(valued, "--"+f.Name)
			}
		}
	}
	return valued
}

func flagWords(c Command) []string {
	var fs []string
	for _, f := range c.Flags {
		fs = append(fs, "--"+f.Name)
	}
	return append(fs, "-h", "--help")
}

// bashScript completes with COMP_WORDS alone, so it works with or without
// the bash-completion package. Its function is named _git_credential_glpat
// because that is the name git's own bash completion calls for
// `git credential-glpat …`, which then completes too.
func bashScript(cmds []Command) string {
	var b strings.Builder
	b.WriteString(`# bash completion for git-credential-glpat
# Written by ` + "`git-credential-glpat completion bash`" + `. Load it with
#     source <(git-credential-glpat completion bash)
# or save it as ~/.local/share/bash-completion/completions/git-credential-glpat

_git_credential_glpat_hosts() {
	` + hostsCommand + `
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
`)
	// Flags that take a value: the word after them is not positional.
	fmt.Fprintf(&b, "\t\t= | %s) continue ;;\n", strings.Join(valuedFlags(cmds), " | "))
	b.WriteString(`		esac
		npos=$((npos + 1))
	done

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-h --help --version' -- "$cur"))
		else
			COMPREPLY=($(compgen -W '` + strings.Join(commandNames(cmds), " ") + `' -- "$cur"))
		fi
		return 0
	fi

	local flag=${eqflag:-$prev}
	case $cmd in
`)
	for _, c := range cmds {
		fmt.Fprintf(&b, "\t%s)\n", c.Name)
		// A flag's value.
		var valueCases []string
		for _, f := range c.Flags {
			if f.Arg == "" {
				continue
			}
			if len(f.Values) > 0 {
				valueCases = append(valueCases, fmt.Sprintf("\t\t--%s)\n\t\t\tCOMPREPLY=($(compgen -P \"$eqprefix\" -W '%s' -- \"$cur\"))\n\t\t\treturn 0\n\t\t\t;;\n", f.Name, strings.Join(f.Values, " ")))
			} else if f.File {
				valueCases = append(valueCases, fmt.Sprintf("\t\t--%s)\n\t\t\tcompopt -o filenames 2>/dev/null\n\t\t\tCOMPREPLY=($(compgen -P \"$eqprefix\" -f -- \"$cur\"))\n\t\t\treturn 0\n\t\t\t;;\n", f.Name))
			} else {
				valueCases = append(valueCases, fmt.Sprintf("\t\t--%s)\n\t\t\tCOMPREPLY=()\n\t\t\treturn 0\n\t\t\t;;\n", f.Name))
			}
		}
		if len(valueCases) > 0 {
			b.WriteString("\t\tcase $flag in\n")
			for _, vc := range valueCases {
				b.WriteString(vc)
			}
			b.WriteString("\t\tesac\n")
		}
		fmt.Fprintf(&b, "\t\tif [[ $cur == -* ]]; then\n\t\t\tCOMPREPLY=($(compgen -W '%s' -- \"$cur\"))\n", strings.Join(flagWords(c), " "))
		switch c.Args {
		case ArgHost:
			b.WriteString("\t\telif ((npos == 0)); then\n\t\t\tCOMPREPLY=($(compgen -W \"$(_git_credential_glpat_hosts)\" -- \"$cur\"))\n")
		case ArgHosts:
			b.WriteString("\t\telse\n\t\t\tCOMPREPLY=($(compgen -W \"$(_git_credential_glpat_hosts)\" -- \"$cur\"))\n")
		case ArgWord:
			fmt.Fprintf(&b, "\t\telif ((npos == 0)); then\n\t\t\tCOMPREPLY=($(compgen -W '%s' -- \"$cur\"))\n", strings.Join(wordNames(c.Words), " "))
		}
		b.WriteString("\t\tfi\n\t\t;;\n")
	}
	b.WriteString(`	esac
	return 0
}

complete -F _git_credential_glpat git-credential-glpat
`)
	return b.String()
}

// zshQuote quotes s for a zsh completion spec inside single quotes: the
// spec's own "[", "]" and ":" are escaped with a backslash.
func zshQuote(s string) string {
	s = strings.ReplaceAll(s, "'", `'\''`)
	return strings.NewReplacer("[", `\[`, "]", `\]`, ":", `\:`).Replace(s)
}

func zshScript(cmds []Command) string {
	var b strings.Builder
	b.WriteString(`#compdef git-credential-glpat
# zsh completion for git-credential-glpat
# Written by ` + "`git-credential-glpat completion zsh`" + `. Save it as _git-credential-glpat in
# a directory of $fpath (before compinit runs), or load it with
#     source <(git-credential-glpat completion zsh)

_git-credential-glpat_hosts() {
	local -a hosts
	hosts=(${(f)"$(` + hostsCommand + `)"})
	_wanted hosts expl host compadd -a hosts
}

_git-credential-glpat() {
	local curcontext=$curcontext state line ret=1
	local -a commands
	commands=(
`)
	for _, c := range cmds {
		fmt.Fprintf(&b, "\t\t'%s:%s'\n", c.Name, zshQuote(c.Help))
	}
	b.WriteString(`	)
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
`)
	for _, c := range cmds {
		fmt.Fprintf(&b, "\t\t%s)\n\t\t\t_arguments \\\n", c.Name)
		for _, f := range c.Flags {
			switch {
			case f.Arg == "":
				fmt.Fprintf(&b, "\t\t\t\t'--%s[%s]' \\\n", f.Name, zshQuote(f.Help))
			case len(f.Values) > 0:
				fmt.Fprintf(&b, "\t\t\t\t'--%s=[%s]:%s:(%s)' \\\n", f.Name, zshQuote(f.Help), strings.ToLower(f.Arg), strings.Join(f.Values, " "))
			case f.File:
				fmt.Fprintf(&b, "\t\t\t\t'--%s=[%s]:%s:_files' \\\n", f.Name, zshQuote(f.Help), strings.ToLower(f.Arg))
			default:
				fmt.Fprintf(&b, "\t\t\t\t'--%s=[%s]:%s: ' \\\n", f.Name, zshQuote(f.Help), strings.ToLower(f.Arg))
			}
		}
		b.WriteString("\t\t\t\t'(- *)'{-h,--help}'[show the usage]' \\\n")
		switch c.Args {
		case ArgHost:
			b.WriteString("\t\t\t\t'1:host:_git-credential-glpat_hosts' \\\n")
		case ArgHosts:
			b.WriteString("\t\t\t\t'*:host:_git-credential-glpat_hosts' \\\n")
		case ArgWord:
			var ws []string
			for _, w := range c.Words {
				help := strings.NewReplacer(" ", `\ `, "(", `\(`, ")", `\)`, "'", `\'`).Replace(w.Help)
				ws = append(ws, fmt.Sprintf(`%s\:%s`, w.Name, zshQuote(help)))
			}
			fmt.Fprintf(&b, "\t\t\t\t'1:%s:((%s))' \\\n", c.Name, strings.Join(ws, " "))
		}
		b.WriteString("\t\t\t\t&& ret=0\n\t\t\t;;\n")
	}
	b.WriteString(`		esac
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
`)
	return b.String()
}

// fishQuote quotes s for fish inside single quotes.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}

func fishScript(cmds []Command) string {
	var b strings.Builder
	b.WriteString(`# fish completion for git-credential-glpat
# Written by ` + "`git-credential-glpat completion fish`" + `. Save it as
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
`)
	fmt.Fprintf(&b, "            case %s\n                set skip 1\n", strings.Join(valuedFlags(cmds), " "))
	b.WriteString(`            case '-*'
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
    ` + hostsCommand + `
end

complete -c git-credential-glpat -f
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -s h -l help -d 'show the usage'
complete -c git-credential-glpat -n __git_credential_glpat_needs_command -l version -d 'print the version'
`)
	for _, c := range cmds {
		fmt.Fprintf(&b, "complete -c git-credential-glpat -n __git_credential_glpat_needs_command -a %s -d %s\n", c.Name, fishQuote(c.Help))
	}
	for _, c := range cmds {
		b.WriteString("\n")
		cond := "'__git_credential_glpat_using " + c.Name + "'"
		for _, f := range c.Flags {
			fmt.Fprintf(&b, "complete -c git-credential-glpat -n %s -l %s", cond, f.Name)
			switch {
			case len(f.Values) > 0:
				fmt.Fprintf(&b, " -x -a %s", fishQuote(strings.Join(f.Values, " ")))
			case f.File:
				b.WriteString(" -r -F")
			case f.Arg != "":
				b.WriteString(" -x")
			}
			fmt.Fprintf(&b, " -d %s\n", fishQuote(f.Help))
		}
		fmt.Fprintf(&b, "complete -c git-credential-glpat -n %s -s h -l help -d 'show the usage'\n", cond)
		first := "'__git_credential_glpat_using " + c.Name + " 0'"
		switch c.Args {
		case ArgHost:
			fmt.Fprintf(&b, "complete -c git-credential-glpat -n %s -a '(__git_credential_glpat_hosts)' -d host\n", first)
		case ArgHosts:
			fmt.Fprintf(&b, "complete -c git-credential-glpat -n %s -a '(__git_credential_glpat_hosts)' -d host\n", cond)
		case ArgWord:
			for _, w := range c.Words {
				fmt.Fprintf(&b, "complete -c git-credential-glpat -n %s -a %s -d %s\n", first, w.Name, fishQuote(w.Help))
			}
		}
	}
	return b.String()
}
