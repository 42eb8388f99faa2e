package ginjwt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

func TestConfigErrorsNameTheField(t *testing.T) {
	t.Parallel()
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	es, _ := GenerateKey("ES256")
	other, _ := GenerateKey("ES256")
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no key", Config{}, "Config.SigningKey or Config.Keys is required"},
		{"short HMAC key", Config{SigningKey: []byte("too short")}, "Config.SigningKey is 9 bytes; HS256 needs at least 32"},
		{"short HS512 key", Config{Keys: []Key{{Algorithm: "HS512", Secret: testSecret}}}, "HS512 needs at least 64"},
		{"both keys", Config{SigningKey: testSecret, Keys: []Key{{Algorithm: "HS256", Secret: testSecret}}}, "not both"},
		{"unknown algorithm", Config{Keys: []Key{{Algorithm: "HS257", Secret: testSecret}}}, `unknown Algorithm "HS257"`},
		{"alg none", Config{Keys: []Key{{Algorithm: "none"}}}, `unknown Algorithm "none"`},
		{"missing algorithm", Config{Keys: []Key{{Secret: testSecret}}}, "Algorithm is required"},
		{"small RSA key", Config{Keys: []Key{{Algorithm: "RS256", Private: small}}}, "1024 bits"},
		{"wrong curve", Config{Keys: []Key{{Algorithm: "ES256", Private: p384}}}, "P-256"},
		{"RSA alg with EC key", Config{Keys: []Key{{Algorithm: "RS256", Private: p384}}}, "needs an RSA key"},
		{"mismatched pair", Config{Keys: []Key{{Algorithm: "ES256", Private: es.Private, Public: other.Private.Public()}}}, "Public does not belong to Private"},
		{"verify-only first", Config{Keys: []Key{{Algorithm: "ES256", Public: es.Private.Public()}, {Algorithm: "ES256", Private: other.Private}}}, "the first key"},
		{"duplicate kid", Config{Keys: []Key{{ID: "k", Algorithm: "HS256", Secret: testSecret}, {ID: "k", Algorithm: "ES256", Private: es.Private}}}, `two keys have the ID "k"`},
		{"negative AccessTTL", Config{SigningKey: testSecret, Tokens: Tokens{AccessTTL: -time.Second}}, "Config.Tokens.AccessTTL must be positive"},
		{"sub-second RefreshTTL", Config{SigningKey: testSecret, Tokens: Tokens{RefreshTTL: time.Millisecond}}, "Config.Tokens.RefreshTTL must be at least one second"},
		{"refresh shorter than access", Config{SigningKey: testSecret, Tokens: Tokens{AccessTTL: time.Hour, RefreshTTL: time.Minute}}, "Config.Tokens.RefreshTTL"},
		{"leeway", Config{SigningKey: testSecret, Tokens: Tokens{Leeway: time.Hour}}, "Config.Tokens.Leeway"},
		{"prefix", Config{SigningKey: testSecret, Routes: Routes{Prefix: "auth"}}, "Config.Routes.Prefix"},
		{"path", Config{SigningKey: testSecret, Routes: Routes{Paths: Paths{Refresh: "refresh"}}}, "Config.Routes.Paths.Refresh"},
		{"body limit", Config{SigningKey: testSecret, Limits: Limits{MaxBodyBytes: -1}}, "Config.Limits.MaxBodyBytes"},
		{"proxies", Config{SigningKey: testSecret, Transport: Transport{TrustedProxies: []string{"nope"}}, Routes: Routes{Paths: Paths{Obtain: "-"}}}, "Config.Transport.TrustedProxies"},
		{"scheme", Config{SigningKey: testSecret, Transport: Transport{AuthScheme: "Bearer x"}}, "Config.Transport.AuthScheme"},
		{"audience", Config{SigningKey: testSecret, Tokens: Tokens{Audience: []string{""}}}, "Config.Tokens.Audience[0]"},
		{"sliding with update", Config{SigningKey: testSecret, Tokens: Tokens{Sliding: true, AllowRefreshUpdate: true}}, "Config.Tokens.AllowRefreshUpdate"},
		{"no user store", Config{SigningKey: testSecret}, "Config.Users or Config.DB is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Mount(gin.New(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	a, err := New(Config{SigningKey: testSecret, Routes: Routes{Paths: Paths{Obtain: "-"}}})
	if err != nil {
		t.Fatal(err)
	}
	c := a.cfg
	if c.Tokens.AccessTTL != 5*time.Minute || c.Tokens.RefreshTTL != 24*time.Hour || c.Routes.Prefix != "/auth" || c.Limits.MaxBodyBytes != 64<<10 ||
		c.Transport.AuthScheme != "Bearer" || c.Limits.Throttle.PerAccount != 10 || c.Limits.Throttle.PerIP != 50 || c.Limits.Throttle.Window != 15*time.Minute ||
		c.Routes.Paths.Refresh != "/token/refresh" || c.Routes.Paths.Obtain != "-" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestPEMRoundTrip(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{"RS256", "PS256", "ES384", "EdDSA"} {
		k, err := GenerateKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		pemBytes, err := MarshalKeyPEM(k)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseKeyPEM(alg, pemBytes)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		a, _ := newSigningKey(k)
		b, _ := newSigningKey(back)
		if a.id != b.id {
			t.Fatalf("%s: kid changed through PEM: %s vs %s", alg, a.id, b.id)
		}
		pub, err := MarshalKeyPEM(Key{Algorithm: alg, Public: k.Private.Public()})
		if err != nil {
			t.Fatal(err)
		}
		if v, err := ParseKeyPEM(alg, pub); err != nil || v.Private != nil {
			t.Fatalf("%s public PEM: %v", alg, err)
		}
	}
	if _, err := ParseKeyPEM("ES256", []byte("not pem")); err == nil {
		t.Fatal("garbage PEM accepted")
	}
	rsaKey, _ := GenerateKey("RS256")
	pemBytes, _ := MarshalKeyPEM(rsaKey)
	if _, err := ParseKeyPEM("ES256", pemBytes); err == nil {
		t.Fatal("an RSA PEM accepted as ES256")
	}
}

func TestJWKSPublishesOnlyPublicKeys(t *testing.T) {
	t.Parallel()
	ec, _ := GenerateKey("ES256")
	rs, _ := GenerateKey("RS256")
	ed, _ := GenerateKey("EdDSA")
	a, err := New(Config{Keys: []Key{ec, rs, ed, {Algorithm: "HS256", Secret: testSecret}}, Routes: Routes{Paths: Paths{Obtain: "-"}}})
	if err != nil {
		t.Fatal(err)
	}
	set := a.JWKS()
	if len(set.Keys) != 3 {
		t.Fatalf("JWKS has %d keys, want 3 (no HMAC)", len(set.Keys))
	}
	kinds := map[string]bool{}
	for _, k := range set.Keys {
		kinds[k.Kty+"/"+k.Alg] = true
		if k.Kid == "" || k.Use != "sig" {
			t.Fatalf("key %+v", k)
		}
	}
	if !kinds["EC/ES256"] || !kinds["RSA/RS256"] || !kinds["OKP/EdDSA"] {
		t.Fatalf("kinds = %v", kinds)
	}
	if set.Keys[0].Alg != "ES256" {
		t.Fatal("the signing key is not listed first")
	}
}
