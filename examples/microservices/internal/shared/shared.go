// Package shared holds what the two services of examples/microservices
// have in common: the access group, the extra data the auth service hands
// to client services with each user, and the service credential.
package shared

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// AccessGroup says which services a user may use ("staff", "admin"). The
// auth service keeps the original; each client service a copy, written
// with the user's.
type AccessGroup struct {
	UserID string `gorm:"column:user_id;primaryKey;size:64" json:"-"`
	Group  string `gorm:"column:group_name;size:64;not null" json:"group"`
}

// TableName is "access_groups".
func (AccessGroup) TableName() string { return "access_groups" }

// CredentialFile is where the demo keeps the client service's credential
// when $GINJWT_SERVICE_CREDENTIAL is not set: in the working directory,
// which both services share in the walk-through.
const CredentialFile = ".ginjwt-service-credential"

// Credential returns the client service's credential: the environment's,
// or the demo file's, made by whichever service starts first. A real
// deployment hands it to both from its secret store.
func Credential() (string, error) {
	if env := os.Getenv("GINJWT_SERVICE_CREDENTIAL"); env != "" {
		return env, nil
	}
	b, err := os.ReadFile(CredentialFile)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	cred := base64.RawURLEncoding.EncodeToString(raw)
	f, err := os.OpenFile(CredentialFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return Credential() // the other service made it meanwhile
	}
	if err != nil {
		return "", fmt.Errorf("saving the service credential: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(cred + "\n"); err != nil {
		return "", err
	}
	return cred, nil
}
