package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/keyfile"
)

func algorithmsText() string { return strings.Join(ginjwt.Algorithms(), ", ") }

func keysGenerateCommand() command {
	return command{
		name:    "keys generate",
		summary: "generate one signing key (an HMAC secret as text, others as PEM)",
		usage:   "-alg ALG [-out FILE]",
		example: "ginjwt keys generate -alg ES256 -out signing-key.pem\n",
		flags: func(fs *flag.FlagSet) func(context.Context, env) error {
			alg := fs.String("alg", "", "the `algorithm`, one of "+algorithmsText()+" (required)")
			out := fs.String("out", "", "write the key to this new `file` (mode 0600) instead of standard output")
			return func(_ context.Context, e env) error {
				if *alg == "" {
					return usageError("-alg is required")
				}
				key, err := ginjwt.GenerateKey(*alg)
				if err != nil {
					return usageError("%v", err)
				}
				data, err := keyText(key)
				if err != nil {
					return err
				}
				if *out == "" {
					_, err = e.stdout.Write(data)
					return err
				}
				f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
				if err != nil {
					return err
				}
				if _, err := f.Write(data); err != nil {
					f.Close()
					return err
				}
				if err := f.Close(); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "wrote %s key to %s\n", *alg, *out)
				return nil
			}
		},
	}
}

// keyText is how a generated key is written: an HMAC secret as one line of
// text (use it as GINJWT_SIGNING_KEY), an asymmetric key as PKCS #8 PEM.
func keyText(k ginjwt.Key) ([]byte, error) {
	if k.Secret != nil {
		// base64url text of 64 random bytes: as raw bytes it is an 86-byte
		// secret, enough for HS512.
		return []byte(base64.RawURLEncoding.EncodeToString(k.Secret) + "\n"), nil
	}
	return ginjwt.MarshalKeyPEM(k)
}

func keysRotateCommand() command {
	return command{
		name:    "keys rotate",
		summary: "add a signing key to a key file; the older keys keep verifying",
		usage:   "-file FILE [-alg ALG] [-stage | -promote [-kid KID]] [-keep N]",
		example: "ginjwt keys rotate -file /etc/myapp/jwt-keys.pem -alg ES256 -keep 3\n" +
			"# several instances: stage first, deploy everywhere, then promote\n" +
			"ginjwt keys rotate -file /etc/myapp/jwt-keys.pem -stage\n" +
			"ginjwt keys rotate -file /etc/myapp/jwt-keys.pem -promote\n",
		flags: func(fs *flag.FlagSet) func(context.Context, env) error {
			file := fs.String("file", "", "the key `file` (created when missing): PEM blocks, the first signs, all verify; see 'go doc github.com/ginjwt/ginjwt/keyfile' (required)")
			alg := fs.String("alg", "", "the new key's `algorithm`, one of "+algorithmsText()+" (default: the signing key's; required for a new file)")
			stage := fs.Bool("stage", false, "add the new key second, to verify only, until -promote makes it sign")
			promote := fs.Bool("promote", false, "make the second key (the one -stage added) sign, keeping the current one to verify; no new key")
			kid := fs.String("kid", "", "with -promote: the Key-Id (`kid`) of the key to promote instead of the second")
			keep := fs.Int("keep", 0, "then keep only the first `N` keys, dropping the oldest (at least 2; 0 keeps all)")
			return func(_ context.Context, e env) error {
				switch {
				case *file == "":
					return usageError("-file is required")
				case *stage && *promote:
					return usageError("give -stage or -promote, not both")
				case *promote && *alg != "":
					return usageError("-promote makes no key; -alg does not apply")
				case *kid != "" && !*promote:
					return usageError("-kid goes with -promote")
				case *keep != 0 && *keep < 2:
					return usageError("-keep must be at least 2: the new signing key and the one before it, whose tokens are still out")
				}
				entries, err := keyfile.Read(*file)
				missing := errors.Is(err, iofs.ErrNotExist)
				if err != nil && !missing {
					return err
				}
				var msg string
				switch {
				case *promote:
					if entries, msg, err = promoteKey(entries, *kid); err != nil {
						return err
					}
				default:
					a := *alg
					if a == "" {
						if len(entries) == 0 {
							return usageError("-alg is required for a new key file")
						}
						a = entries[0].Key.Algorithm
					}
					if *stage && len(entries) == 0 {
						return usageError("-stage needs a key file with a signing key; run without -stage first")
					}
					fresh, err := keyfile.Generate(a, time.Now())
					if err != nil {
						return usageError("%v", err)
					}
					if *stage {
						entries = slices.Insert(entries, 1, fresh)
						msg = fmt.Sprintf("staged %s: it verifies; deploy the file to every instance, then run with -promote", fresh.Key.ID)
					} else {
						entries = slices.Insert(entries, 0, fresh)
						msg = fmt.Sprintf("%s signs new tokens", fresh.Key.ID)
						if len(entries) > 1 {
							msg += "; the older keys keep verifying the tokens they signed"
						}
					}
				}
				dropped := 0
				if *keep > 0 && len(entries) > *keep {
					dropped = len(entries) - *keep
					entries = entries[:*keep]
				}
				if err := keyfile.Write(*file, entries); err != nil {
					return err
				}
				if err := listKeys(e, entries); err != nil {
					return err
				}
				if dropped > 0 {
					msg += fmt.Sprintf("; dropped the %d oldest keys (tokens they signed are refused from now on)", dropped)
				}
				fmt.Fprintf(e.stdout, "wrote %s: %s.\nRestart or reload every instance to use it.\n", *file, msg)
				return nil
			}
		},
	}
}

// promoteKey moves the key named kid, or the second key, to the front.
func promoteKey(entries []keyfile.Entry, kid string) ([]keyfile.Entry, string, error) {
	i := 1
	if kid != "" {
		i = slices.IndexFunc(entries, func(e keyfile.Entry) bool { return e.Key.ID == kid })
		if i < 0 {
			return nil, "", fmt.Errorf("no key has the Key-Id %s", clean(kid))
		}
	}
	switch {
	case len(entries) < 2:
		return nil, "", errors.New("nothing to promote: the file holds fewer than two keys (stage one with -stage)")
	case i == 0:
		return nil, "", fmt.Errorf("%s signs already", clean(kid))
	case entries[i].Key.Secret == nil && entries[i].Key.Private == nil:
		return nil, "", fmt.Errorf("key %d is a public key: it cannot sign", i+1)
	}
	e := entries[i]
	entries = slices.Insert(slices.Delete(entries, i, i+1), 0, e)
	return entries, fmt.Sprintf("%s signs new tokens; %s keeps verifying", keyName(e, 1), keyName(entries[1], 2)), nil
}

// keyName is a key's Key-Id, or its position when it has none.
func keyName(e keyfile.Entry, pos int) string {
	if e.Key.ID != "" {
		return clean(e.Key.ID)
	}
	return "key " + strconv.Itoa(pos)
}

func keysListCommand() command {
	return command{
		name:    "keys list",
		summary: "list a key file's keys: which signs, algorithm, ID, age",
		usage:   "-file FILE [-json]",
		example: "ginjwt keys list -file /etc/myapp/jwt-keys.pem\n",
		flags: func(fs *flag.FlagSet) func(context.Context, env) error {
			file := fs.String("file", "", "the key `file` (required)")
			asJSON := fs.Bool("json", false, jsonFlag)
			return func(_ context.Context, e env) error {
				if *file == "" {
					return usageError("-file is required")
				}
				entries, err := keyfile.Read(*file)
				if err != nil {
					return err
				}
				if !*asJSON {
					return listKeys(e, entries)
				}
				type keyView struct {
					Position  int        `json:"position"`
					Role      string     `json:"role"`
					Algorithm string     `json:"algorithm"`
					KeyID     string     `json:"key_id,omitempty"`
					Kind      string     `json:"kind"`
					Created   *time.Time `json:"created,omitempty"`
				}
				out := []keyView{}
				for i, k := range entries {
					v := keyView{Position: i + 1, Role: role(i), Algorithm: k.Key.Algorithm, KeyID: k.Key.ID, Kind: keyfile.Kind(k)}
					if !k.Created.IsZero() {
						v.Created = &k.Created
					}
					out = append(out, v)
				}
				return writeJSON(e.stdout, struct {
					Keys []keyView `json:"keys"`
				}{out})
			}
		},
	}
}

func role(i int) string {
	if i == 0 {
		return "signs"
	}
	return "verifies"
}

// listKeys writes a table of the keys of a file.
func listKeys(e env, entries []keyfile.Entry) error {
	rows := make([][]string, 0, len(entries))
	for i, k := range entries {
		id := k.Key.ID
		if id == "" {
			id = "(derived from the key)"
		}
		rows = append(rows, []string{strconv.Itoa(i + 1), role(i), k.Key.Algorithm, id, keyfile.Kind(k), when(&k.Created)})
	}
	return table(e.stdout, []string{"#", "ROLE", "ALG", "KEY ID", "KIND", "CREATED"}, rows)
}
