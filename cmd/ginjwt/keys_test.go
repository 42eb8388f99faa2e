package main

import (
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/keyfile"
	"github.com/ginjwt/ginjwt/users"
)

func TestKeysGenerate(t *testing.T) {
	for _, alg := range ginjwt.Algorithms() {
		code, stdout, stderr := cli(t, "", "keys", "generate", "-alg", alg)
		if code != 0 {
			t.Fatalf("%s: %d %s", alg, code, stderr)
		}
		var cfg ginjwt.Config
		if strings.HasPrefix(alg, "HS") {
			cfg.Keys = []ginjwt.Key{{Algorithm: alg, Secret: []byte(strings.TrimSpace(stdout))}}
		} else {
			k, err := ginjwt.ParseKeyPEM(alg, []byte(stdout))
			if err != nil {
				t.Fatalf("%s: the generated PEM does not parse: %v", alg, err)
			}
			cfg.Keys = []ginjwt.Key{k}
		}
		cfg.Routes.Paths.Obtain = "-"
		if _, err := ginjwt.New(cfg); err != nil {
			t.Fatalf("%s: the generated key is refused: %v", alg, err)
		}
	}
	out := filepath.Join(t.TempDir(), "ed.pem")
	if code, _, stderr := cli(t, "", "keys", "generate", "-alg", "EdDSA", "-out", out); code != 0 {
		t.Fatalf("-out: %d %s", code, stderr)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st.Mode(), err)
	}
	if code, _, _ := cli(t, "", "keys", "generate", "-alg", "EdDSA", "-out", out); code != 1 {
		t.Fatal("-out overwrote an existing file")
	}
	// The file is also a key file of one key.
	if keys, err := keyfile.Load(out); err != nil || len(keys) != 1 || keys[0].Algorithm != "EdDSA" {
		t.Fatalf("keyfile.Load of a generated key: %v %v", keys, err)
	}
}

// issue signs an access token for a user with keys, as a service using the
// key file would.
func issue(t *testing.T, keys []ginjwt.Key) string {
	t.Helper()
	auth := authWith(t, keys)
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("POST", "/auth/token", nil)
	u := users.NewUser("alice")
	u.ID = "u1"
	pair, err := auth.Login(c, u)
	if err != nil {
		t.Fatal(err)
	}
	return pair.Access
}

func authWith(t *testing.T, keys []ginjwt.Key) *ginjwt.Auth {
	t.Helper()
	cfg := ginjwt.Config{Keys: keys}
	cfg.Routes.Paths.Obtain = "-"
	auth, err := ginjwt.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return auth
}

func load(t *testing.T, path string) []keyfile.Entry {
	t.Helper()
	entries, err := keyfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func TestKeysRotate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jwt-keys.pem")
	if code, _, stderr := cli(t, "", "keys", "rotate", "-file", path); code != 2 || !strings.Contains(stderr, "-alg is required for a new key file") {
		t.Fatalf("a new file without -alg: %d %q", code, stderr)
	}
	if code, _, stderr := cli(t, "", "keys", "rotate", "-file", path, "-stage", "-alg", "ES256"); code != 2 || !strings.Contains(stderr, "-stage needs a key file") {
		t.Fatalf("-stage on a new file: %d %q", code, stderr)
	}
	out := must(t, "", "keys", "rotate", "-file", path, "-alg", "ES256")
	first := load(t, path)
	if len(first) != 1 || first[0].Key.Algorithm != "ES256" || !strings.Contains(out, first[0].Key.ID+" signs new tokens") {
		t.Fatalf("a new key file: %+v\n%s", first, out)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", st.Mode())
	}
	if code, _, stderr := cli(t, "", "keys", "rotate", "-file", path, "-promote"); code != 1 || !strings.Contains(stderr, "nothing to promote") {
		t.Fatalf("-promote with one key: %d %q", code, stderr)
	}
	oldToken := issue(t, keyfileKeys(t, path))

	// rotate: a new key signs (same algorithm by default); the old verifies.
	out = must(t, "", "keys", "rotate", "-file", path)
	second := load(t, path)
	if len(second) != 2 || second[1].Key.ID != first[0].Key.ID || second[0].Key.Algorithm != "ES256" || second[0].Key.ID == first[0].Key.ID {
		t.Fatalf("after rotate: %+v", second)
	}
	for _, want := range []string{"1  signs", "2  verifies", "the older keys keep verifying", "Restart or reload every instance"} {
		if !strings.Contains(out, want) {
			t.Fatalf("rotate: no %q in\n%s", want, out)
		}
	}
	rotated := authWith(t, keyfileKeys(t, path))
	if _, err := rotated.ParseToken(oldToken); err != nil {
		t.Fatalf("a token of the old key is refused after rotation: %v", err)
	}
	if ids := rotated.KeyIDs(); ids[0] != second[0].Key.ID {
		t.Fatalf("the signing key is %s; want the new %s", ids[0], second[0].Key.ID)
	}

	// stage, then promote: another algorithm this time.
	must(t, "", "keys", "rotate", "-file", path, "-stage", "-alg", "EdDSA")
	staged := load(t, path)
	if len(staged) != 3 || staged[0].Key.ID != second[0].Key.ID || staged[1].Key.Algorithm != "EdDSA" {
		t.Fatalf("after -stage: %+v", staged)
	}
	if ids := authWith(t, keyfileKeys(t, path)).KeyIDs(); ids[0] != second[0].Key.ID {
		t.Fatal("a staged key signs")
	}
	out = must(t, "", "keys", "rotate", "-file", path, "-promote")
	promoted := load(t, path)
	if promoted[0].Key.ID != staged[1].Key.ID || promoted[1].Key.ID != staged[0].Key.ID || len(promoted) != 3 {
		t.Fatalf("after -promote: %+v", promoted)
	}
	if !strings.Contains(out, staged[1].Key.ID+" signs new tokens; "+staged[0].Key.ID+" keeps verifying") {
		t.Fatalf("-promote said:\n%s", out)
	}
	if code, _, stderr := cli(t, "", "keys", "rotate", "-file", path, "-promote", "-kid", "nope"); code != 1 || !strings.Contains(stderr, "no key has the Key-Id nope") {
		t.Fatalf("-promote -kid nope: %d %q", code, stderr)
	}

	// -keep drops the oldest: its tokens are refused from then on.
	if _, err := authWith(t, keyfileKeys(t, path)).ParseToken(oldToken); err != nil {
		t.Fatalf("the first key's token before -keep: %v", err)
	}
	out = must(t, "", "keys", "rotate", "-file", path, "-keep", "3")
	kept := load(t, path)
	if len(kept) != 3 || kept[2].Key.ID != promoted[1].Key.ID || !strings.Contains(out, "dropped the 1 oldest keys") {
		t.Fatalf("after -keep 3: %+v\n%s", kept, out)
	}
	if _, err := authWith(t, keyfileKeys(t, path)).ParseToken(oldToken); err == nil {
		t.Fatal("a token of a dropped key still verifies")
	}

	// list: never the key material.
	out = must(t, "", "keys", "list", "-file", path)
	for _, want := range []string{"ROLE", "signs", "verifies", kept[0].Key.ID, "P-256 private key", "Ed25519 private key"} {
		if !strings.Contains(out, want) {
			t.Fatalf("keys list: no %q in\n%s", want, out)
		}
	}
	data, _ := os.ReadFile(path)
	block, _ := pem.Decode(data)
	if strings.Contains(out, "BEGIN") || strings.Contains(out, string(block.Bytes[:8])) {
		t.Fatal("keys list printed key material")
	}
	var listed struct {
		Keys []struct {
			Position        int
			Role, Algorithm string
			KeyID           string `json:"key_id"`
		}
	}
	decodeJSON(t, must(t, "", "keys", "list", "-file", path, "-json"), &listed)
	if len(listed.Keys) != 3 || listed.Keys[0].Role != "signs" || listed.Keys[0].KeyID != kept[0].Key.ID || listed.Keys[2].Position != 3 {
		t.Fatalf("keys list -json: %+v", listed)
	}
	if code, _, stderr := cli(t, "", "keys", "list", "-file", filepath.Join(t.TempDir(), "missing.pem")); code != 1 || !strings.Contains(stderr, "no such file") {
		t.Fatalf("keys list of a missing file: %d %q", code, stderr)
	}
	// An RSA key without an Algorithm header is refused with the fix.
	k, _ := ginjwt.GenerateKey("RS256")
	plain, _ := ginjwt.MarshalKeyPEM(k)
	rsaFile := filepath.Join(t.TempDir(), "rsa.pem")
	_ = os.WriteFile(rsaFile, plain, 0o600)
	if code, _, stderr := cli(t, "", "keys", "rotate", "-file", rsaFile); code != 1 || !strings.Contains(stderr, "no Algorithm header") {
		t.Fatalf("rotate a header-less RSA file: %d %q", code, stderr)
	}
}

func keyfileKeys(t *testing.T, path string) []ginjwt.Key {
	t.Helper()
	keys, err := keyfile.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}
