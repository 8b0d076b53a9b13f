#!/bin/sh
# Builds git-credential-glpat from this checkout and installs it.
#
#   ./install.sh            installs into ~/.local/bin
#   PREFIX=/usr/local ./install.sh   installs into /usr/local/bin
#   ./install.sh --setup    also runs `git-credential-glpat setup`
#
# Running it again replaces the binary with a fresh build; nothing else changes.
set -eu

min_go_minor=26
prefix=${PREFIX:-"$HOME/.local"}
run_setup=0
for arg in "$@"; do
	case $arg in
	--setup) run_setup=1 ;;
	-h | --help)
		sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "install.sh: error: unknown option $arg (try --help)" >&2
		exit 2
		;;
	esac
done

die() {
	echo "install.sh: error: $*" >&2
	exit 1
}

command -v go >/dev/null 2>&1 || die "Go is not installed; get Go 1.$min_go_minor or newer from https://go.dev/dl/"
gov=$(go env GOVERSION 2>/dev/null || true)
minor=$(printf '%s' "$gov" | sed -n 's/^go1\.\([0-9][0-9]*\).*/\1/p')
if [ -z "$minor" ] || [ "$minor" -lt "$min_go_minor" ]; then
	die "Go $gov is too old; this needs Go 1.$min_go_minor or newer (https://go.dev/dl/)"
fi

cd "$(dirname "$0")"
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
bindir="$prefix/bin"
mkdir -p "$bindir"
tmp="$bindir/.git-credential-glpat.tmp.$$"
trap 'rm -f "$tmp"' EXIT
CGO_ENABLED=0 go build -trimpath \
	-ldflags "-s -w -X main.Version=$version -X main.Commit=$commit" \
	-o "$tmp" ./cmd/git-credential-glpat
chmod 0755 "$tmp"
mv -f "$tmp" "$bindir/git-credential-glpat"
trap - EXIT
echo "installed $bindir/git-credential-glpat ($version)"

# The man page, so that `man git-credential-glpat` and `git help credential-glpat`
# work, and shell completion.
mandir="$prefix/share/man/man1"
mkdir -p "$mandir"
cp doc/git-credential-glpat.1 "$mandir/.git-credential-glpat.1.$$"
chmod 0644 "$mandir/.git-credential-glpat.1.$$"
mv -f "$mandir/.git-credential-glpat.1.$$" "$mandir/git-credential-glpat.1"
install_completion() { # shell, file
	mkdir -p "$(dirname "$2")"
	"$bindir/git-credential-glpat" completion "$1" >"$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"
}
install_completion bash "$prefix/share/bash-completion/completions/git-credential-glpat"
install_completion zsh "$prefix/share/zsh/site-functions/_git-credential-glpat"
install_completion fish "$prefix/share/fish/vendor_completions.d/git-credential-glpat.fish"
echo "installed the man page and bash, zsh and fish completion under $prefix/share"

case ":$PATH:" in
*":$bindir:"*) ;;
*) echo "note: $bindir is not on your PATH; add it so that git finds the helper" ;;
esac

if [ "$run_setup" = 1 ]; then
	"$bindir/git-credential-glpat" setup
fi
