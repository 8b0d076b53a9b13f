package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// appName names the directories this program keeps its files in.
const appName = "git-credential-glpat"

// ConfigPath returns where the config file is: $GLPAT_CONFIG if set, else
// $XDG_CONFIG_HOME/git-credential-glpat/config.toml, else
// ~/.config/git-credential-glpat/config.toml on Linux and the BSDs, and the
// OS's user config directory (as os.UserConfigDir names it) on macOS and
// Windows. The file need not exist.
//
// $GLPAT_CONFIG must be absolute: Git runs helpers in the repository's
// directory, so a relative path would name a different file in every repository.
// A relative $XDG_CONFIG_HOME is ignored, as the XDG Base Directory
// Specification asks (https://specifications.freedesktop.org/basedir-spec/latest/).
func ConfigPath() (string, error) {
	return configPath(runtime.GOOS, os.Getenv)
}

// StateDir returns the directory for non-secret state (token metadata,
// locks, what setup wrote): $GLPAT_STATE_DIR if set, else
// $XDG_STATE_HOME/git-credential-glpat, else
// ~/.local/state/git-credential-glpat on Linux and the BSDs,
// ~/Library/Application Support/git-credential-glpat/state on macOS (beside
// the config file, where macOS keeps per-user application data), and
// %LOCALAPPDATA%\git-credential-glpat\state on Windows (local, not roaming:
// locks and metadata about this machine's keychain must not roam). The
// directory need not exist; see EnsurePrivateDir.
func StateDir() (string, error) {
	return stateDir(runtime.GOOS, os.Getenv)
}

// EnsurePrivateDir creates dir (and missing parents) with mode 0700. An
// existing directory must belong to the current user; if its mode lets
// others in, it is tightened to 0700 rather than refused, because only its
// owner can have loosened it and refusing would leave them stuck. A
// directory owned by someone else is an error: its owner could read the
// state or swap files under us. On Windows, where per-user directories are
// protected by ACLs, only existence is checked.
func EnsurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("config: create state directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("config: state directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("config: state directory %s is not a directory", dir)
	}
	return checkPrivateDir(dir, fi)
}

func configPath(goos string, getenv func(string) string) (string, error) {
	if p := getenv("GLPAT_CONFIG"); p != "" {
		if !filepath.IsAbs(p) {
			return "", fmt.Errorf("config: GLPAT_CONFIG=%q is not an absolute path", p)
		}
		return p, nil
	}
	if x := getenv("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, appName, "config.toml"), nil
	}
	var base string
	switch goos {
	case "windows":
		base = getenv("APPDATA")
		if base == "" {
			return "", errors.New("config: cannot find the config directory: %APPDATA% is not set")
		}
	case "darwin", "ios":
		home, err := homeDir(goos, getenv)
		if err != nil {
			return "", err
		}
		base = filepath.Join(home, "Library", "Application Support")
	default:
		home, err := homeDir(goos, getenv)
		if err != nil {
			return "", err
		}
		base = filepath.Join(home, ".config")
	}
	return filepath.Join(base, appName, "config.toml"), nil
}

func stateDir(goos string, getenv func(string) string) (string, error) {
	if p := getenv("GLPAT_STATE_DIR"); p != "" {
		if !filepath.IsAbs(p) {
			return "", fmt.Errorf("config: GLPAT_STATE_DIR=%q is not an absolute path", p)
		}
		return p, nil
	}
	if x := getenv("XDG_STATE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, appName), nil
	}
	switch goos {
	case "windows":
		base := getenv("LOCALAPPDATA")
		if base == "" {
			return "", errors.New("config: cannot find the state directory: %LOCALAPPDATA% is not set")
		}
		return filepath.Join(base, appName, "state"), nil
	case "darwin", "ios":
		home, err := homeDir(goos, getenv)
		if err != nil {
			return "", err
		}
		return filepath.Join(home, "Library", "Application Support", appName, "state"), nil
	default:
		home, err := homeDir(goos, getenv)
		if err != nil {
			return "", err
		}
		return filepath.Join(home, ".local", "state", appName), nil
	}
}

// homeDir is os.UserHomeDir with the environment passed in, so that every
// platform's rule can be tested on any platform.
func homeDir(goos string, getenv func(string) string) (string, error) {
	name := "HOME"
	if goos == "windows" {
		name = "USERPROFILE"
	}
	home := getenv(name)
	if home == "" {
		return "", fmt.Errorf("config: cannot find the home directory: $%s is not set", name)
	}
	return home, nil
}
