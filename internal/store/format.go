package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The index format. Each version this helper has written is read: an older
// file is brought up to indexVersion as it is read (upgrade), and written
// in indexVersion on its next write. A file of a newer version is read as
// far as its records decode, and never written, moved aside or deleted
// (NewerIndexError): its helper's records may mean more than this one knows.
//
//   - 1: Token.Dead, OAuth.Dead and Token.NoSelfRotation held sentences.
//   - 2: they hold the codes of Dead and NoSelfRotation; the GitLab version
//     that has no self-rotation is Token.GitLabVersion.

// ErrNewerIndex is wrapped by a *NewerIndexError.
var ErrNewerIndex = errors.New("index of a newer format")

// NewerIndexError is an index file that a newer helper wrote (its Version
// is above indexVersion): it is not written by this one.
type NewerIndexError struct {
	File    string
	Version int
}

func (e *NewerIndexError) Error() string {
	return fmt.Sprintf("store: %s is in index format %d, and this helper knows formats up to %d", e.File, e.Version, indexVersion)
}

func (e *NewerIndexError) Is(target error) bool { return target == ErrNewerIndex }

// Writable reports why the index of protocol and host cannot be written
// (a *NewerIndexError), or nil: a caller about to do what it must record
// (a rotation) asks first.
func (s *Store) Writable(protocol, host string) error {
	idx, _, err := s.readIndex(protocol, host)
	if err == nil && idx.Version > indexVersion {
		return &NewerIndexError{File: s.fileName(protocol, host), Version: idx.Version}
	}
	var newer *NewerIndexError
	if errors.As(err, &newer) {
		return err
	}
	return nil
}

// decodeIndex parses an index file named name; an older format is upgraded.
func decodeIndex(name string, data []byte) (*indexFile, error) {
	var idx indexFile
	if err := json.Unmarshal(data, &idx); err != nil || idx.Version < 1 {
		// Records a newer helper shaped otherwise: not damage.
		var v struct {
			Version int `json:"version"`
		}
		if json.Unmarshal(data, &v) == nil && v.Version > indexVersion {
			return nil, &NewerIndexError{File: name, Version: v.Version}
		}
		return nil, fmt.Errorf("store: %s: %w", name, ErrCorruptIndex)
	}
	if idx.Version < indexVersion {
		upgrade(&idx)
	}
	return &idx, nil
}

// upgrade brings idx, of an older format, to indexVersion.
func upgrade(idx *indexFile) {
	if idx.Version == 1 {
		for i := range idx.Records {
			r := &idx.Records[i]
			if t := r.Token; t != nil {
				t.Dead = tokenDeadOfV1(t.Dead)
				t.NoSelfRotation, t.GitLabVersion = noSelfRotationOfV1(string(t.NoSelfRotation))
			}
			if o := r.OAuth; o != nil {
				o.Dead = oauthDeadOfV1(o.Dead)
			}
		}
	}
	idx.Version = indexVersion
}

// tokenDeadOfV1 is the code of the reason format 1 stored for a dead
// token, a sentence; one it does not know is dead all the same, for no
// reason GitLab gave. (A switch, not a map: a map literal is built at init,
// in every process.)
func tokenDeadOfV1(why Dead) Dead {
	switch why {
	case "":
		return ""
	case "expired":
		return DeadExpired
	case "revoked":
		return DeadRevoked
	case "rotation answer lost", "revoked: GitLab rotated it but the answer with the new token was lost":
		return DeadAnswerLost
	case "revoked (it was rotated, but the new token could not be saved)":
		return DeadUnsaved
	case "revoked (rotated; a token in the recovery file may be its successor)":
		return DeadUnconfirmed
	}
	return DeadRefused // "no longer accepted by GitLab", or not known
}

// oauthDeadOfV1 is tokenDeadOfV1 for an OAuth credential.
func oauthDeadOfV1(why Dead) Dead {
	switch why {
	case "":
		return ""
	case "GitLab refreshed it but the answer with the new token was lost":
		return DeadAnswerLost
	case "it was refreshed, but the new token could not be saved":
		return DeadUnsaved
	}
	return DeadRefused // "GitLab no longer accepts its refresh token (…)", or not known
}

// noSelfRotationOfV1 is the code of a format-1 reason why a GitLab cannot
// rotate a token itself, with the GitLab version the sentence named:
// "this GitLab (16.9.1) cannot rotate tokens itself: …" or "this GitLab
// has disabled the rotation of legacy personal access tokens, …".
func noSelfRotationOfV1(why string) (NoSelfRotation, string) {
	switch {
	case why == "":
		return "", ""
	case strings.HasPrefix(why, "this GitLab has disabled the rotation of legacy"):
		return LegacyRotationDisabled, ""
	}
	ver := ""
	if rest, ok := strings.CutPrefix(why, "this GitLab ("); ok {
		ver, _, _ = strings.Cut(rest, ")")
	}
	return NoSelfRotateEndpoint, ver
}
