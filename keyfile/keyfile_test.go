package keyfile_test

import (
	"crypto/ed25519"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/keyfile"
)

// accepts reports whether ginjwt takes keys as its Config.Keys, and the
// kids of the set.
func accepts(t *testing.T, keys []ginjwt.Key) []string {
	t.Helper()
	cfg := ginjwt.Config{Keys: keys}
	cfg.Routes.Paths.Obtain = "-"
	auth, err := ginjwt.New(cfg)
	if err != nil {
		t.Fatalf("ginjwt refuses the keys: %v", err)
	}
	return auth.KeyIDs()
}

func TestRoundTrip(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var entries []keyfile.Entry
	for _, alg := range ginjwt.Algorithms() {
		e, err := keyfile.Generate(alg, now)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(e.Key.ID, strings.ToLower(alg)+"-20260301-") || len(e.Key.ID) != len(alg)+1+8+1+8 {
			t.Fatalf("%s: Key-Id %q", alg, e.Key.ID)
		}
		entries = append(entries, e)
	}
	path := filepath.Join(t.TempDir(), "keys.pem")
	if err := os.WriteFile(path, []byte("an older file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := keyfile.Write(path, entries); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", st.Mode(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".keys.pem.*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	got, err := keyfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(entries) {
		t.Fatalf("%d keys read; want %d", len(got), len(entries))
	}
	for i, e := range got {
		w := entries[i]
		if e.Key.ID != w.Key.ID || e.Key.Algorithm != w.Key.Algorithm || !e.Created.Equal(now) {
			t.Errorf("key %d: %s %s %v; want %s %s %v", i+1, e.Key.ID, e.Key.Algorithm, e.Created, w.Key.ID, w.Key.Algorithm, now)
		}
		if string(e.Key.Secret) != string(w.Key.Secret) || (w.Key.Private == nil) != (e.Key.Private == nil) {
			t.Errorf("key %d: the key material changed", i+1)
		}
	}
	keys, err := keyfile.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ids := accepts(t, keys)
	if ids[0] != entries[0].Key.ID {
		t.Fatalf("signing kid %q; want the first key's %q", ids[0], entries[0].Key.ID)
	}
	if kinds := []string{keyfile.Kind(got[0]), keyfile.Kind(got[3]), keyfile.Kind(got[9]), keyfile.Kind(got[11])}; strings.Join(kinds, ",") != "HMAC secret,RSA-2048 private key,P-256 private key,Ed25519 private key" {
		t.Fatalf("kinds %q", kinds)
	}
}

// A plain PEM from "ginjwt keys generate -out" is a key file of one key
// when the key implies its algorithm.
func TestPlainPEM(t *testing.T) {
	for _, alg := range []string{"EdDSA", "ES256", "ES384"} {
		k, err := ginjwt.GenerateKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		text, err := ginjwt.MarshalKeyPEM(k)
		if err != nil {
			t.Fatal(err)
		}
		got, err := keyfile.Parse(append([]byte("# the signing key\n"), text...))
		if err != nil || len(got) != 1 || got[0].Key.Algorithm != alg || got[0].Key.ID != "" || !got[0].Created.IsZero() {
			t.Fatalf("%s: %+v, %v", alg, got, err)
		}
		accepts(t, []ginjwt.Key{got[0].Key})
	}
	k, _ := ginjwt.GenerateKey("RS256")
	text, _ := ginjwt.MarshalKeyPEM(k)
	if _, err := keyfile.Parse(text); err == nil || !strings.Contains(err.Error(), "key 1: no Algorithm header") {
		t.Fatalf("an RSA key without Algorithm: %v", err)
	}
}

func TestVerifyOnlyKey(t *testing.T) {
	signer, _ := keyfile.Generate("EdDSA", time.Now())
	old, _ := ginjwt.GenerateKey("EdDSA")
	pub := ginjwt.Key{Algorithm: "EdDSA", ID: "old", Public: old.Private.Public()}
	data, err := keyfile.Marshal([]keyfile.Entry{signer, {Key: pub}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := keyfile.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if got[1].Key.Private != nil || !got[1].Key.Public.(ed25519.PublicKey).Equal(pub.Public) || keyfile.Kind(got[1]) != "Ed25519 public key" {
		t.Fatalf("verify-only key read back as %+v", got[1])
	}
	accepts(t, []ginjwt.Key{got[0].Key, got[1].Key})
}

func TestParseErrors(t *testing.T) {
	block := func(typ string, headers map[string]string, body []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: body}))
	}
	good, _ := keyfile.Generate("ES256", time.Now())
	goodText, _ := keyfile.Marshal([]keyfile.Entry{good})
	p256, _ := pem.Decode(goodText)
	secret := make([]byte, 32)
	cases := []struct{ name, data, want string }{
		{"garbage", "hello\n", "no PEM block found"},
		{"unknown type", block("CERTIFICATE", nil, []byte{1}), `key 1: unsupported PEM block "CERTIFICATE"`},
		{"HMAC without algorithm", block("HMAC SECRET", nil, secret), "key 1: an HMAC SECRET needs an Algorithm header"},
		{"HMAC for RSA", block("HMAC SECRET", map[string]string{"Algorithm": "RS256"}, secret), `cannot serve Algorithm "RS256"`},
		{"short HMAC", block("HMAC SECRET", map[string]string{"Algorithm": "HS384"}, secret), "the HS384 secret is 32 bytes; it needs at least 48"},
		{"wrong algorithm", block(p256.Type, map[string]string{"Algorithm": "ES384"}, p256.Bytes), "key 1:"},
		{"bad Created", block(p256.Type, map[string]string{"Created": "yesterday"}, p256.Bytes), `Created header "yesterday"`},
		{"Key-Id twice", string(goodText) + string(goodText), "key 2: Key-Id"},
	}
	for _, tc := range cases {
		_, err := keyfile.Parse([]byte(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", tc.name, err, tc.want)
		}
	}
	if got, err := keyfile.Parse(nil); err != nil || len(got) != 0 {
		t.Fatalf("an empty file: %v, %v", got, err)
	}
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pem")
	_ = os.WriteFile(empty, nil, 0o600)
	if _, err := keyfile.Load(empty); err == nil || !strings.Contains(err.Error(), "holds no key") {
		t.Fatalf("Load of an empty file: %v", err)
	}
	if _, err := keyfile.Load(filepath.Join(dir, "missing.pem")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of a missing file: %v", err)
	}
	if _, err := keyfile.Marshal([]keyfile.Entry{{Key: ginjwt.Key{Secret: secret}}}); err == nil {
		t.Fatal("Marshal wrote a key without an algorithm")
	}
}
