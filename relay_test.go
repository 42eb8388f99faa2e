package ginjwt

import (
	"strings"
	"testing"
)

// TestVerifyOnlyKeySet: an Auth given only public keys verifies the
// tokens of the Auth that holds the private key, cannot issue any, needs
// an explicit CSRF secret in the cookie modes, and stops verifying a
// key's tokens once SetKeys drops it (the verified-token cache included).
func TestVerifyOnlyKeySet(t *testing.T) {
	t.Parallel()
	key, err := GenerateKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	issuer := newHarness(t, nil, func(c *Config) { c.SigningKey, c.Keys = nil, []Key{key} })
	issuer.user("alice")
	p := issuer.login("alice")
	public := Key{ID: issuer.auth.KeyIDs()[0], Algorithm: "ES256", Public: key.Private.Public()}

	v, err := New(Config{Keys: []Key{public}, Clock: issuer.clock.Now, Routes: Routes{Paths: Paths{Obtain: "-"}}})
	if err != nil {
		t.Fatalf("a verify-only set: %v", err)
	}
	c, err := v.ParseToken(p.Access, AccessToken)
	if err != nil || c.Username != "alice" {
		t.Fatalf("verify-only parse: %v %+v", err, c)
	}
	if _, err := v.signClaims(c); err == nil {
		t.Fatal("a verify-only set signed a token")
	}
	if _, err := New(Config{Keys: []Key{public}, Mode: TwoCookies, Routes: Routes{Paths: Paths{Obtain: "-"}}}); err == nil || !strings.Contains(err.Error(), "Config.Transport.CSRF.Secret") {
		t.Fatalf("cookie mode without a CSRF secret: %v", err)
	}
	other, _ := GenerateKey("ES256")
	if _, err := New(Config{Keys: []Key{public, other}, Routes: Routes{Paths: Paths{Obtain: "-"}}}); err == nil {
		t.Fatal("a set whose first key cannot sign while another can was accepted")
	}
	if err := v.SetKeys([]Key{{Algorithm: "ES256", Public: other.Private.Public()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.ParseToken(p.Access); err == nil {
		t.Fatal("a token of a key SetKeys dropped still verifies")
	}
	if err := v.SetKeys([]Key{{Algorithm: "nope"}}); err == nil {
		t.Fatal("SetKeys accepted an invalid key")
	}
}

// TestKeyMissingHook: a token naming an unknown key calls
// Config.Service.KeyMissing; when it reports a new set, the token is
// verified once more against it.
func TestKeyMissingHook(t *testing.T) {
	t.Parallel()
	key, _ := GenerateKey("EdDSA")
	issuer := newHarness(t, nil, func(c *Config) { c.SigningKey, c.Keys = nil, []Key{key} })
	issuer.user("alice")
	p := issuer.login("alice")
	stale, _ := GenerateKey("EdDSA")
	calls := 0
	var v *Auth
	var err error
	v, err = New(Config{
		Keys:  []Key{{Algorithm: "EdDSA", Public: stale.Private.Public()}},
		Clock: issuer.clock.Now,
		Service: Service{KeyMissing: func() bool {
			calls++
			return v.SetKeys([]Key{{ID: issuer.auth.KeyIDs()[0], Algorithm: "EdDSA", Public: key.Private.Public()}}) == nil
		}},
		Routes: Routes{Paths: Paths{Obtain: "-"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ParseToken(p.Access); err != nil || calls != 1 {
		t.Fatalf("after KeyMissing: %v, %d calls", err, calls)
	}
	if _, err := v.ParseToken(p.Access); err != nil || calls != 1 {
		t.Fatalf("a known key called KeyMissing again: %v, %d calls", err, calls)
	}
}
