package remote_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/remote"
)

// TestJWKSFailureKeepsLastGoodSet: a refetch that fails (the JWKS answers
// 500, then garbage) leaves the keys fetched before: issued tokens keep
// verifying, and a token of a key never fetched is refused.
func TestJWKSFailureKeepsLastGoodSet(t *testing.T) {
	t.Parallel()
	as := newAuthService(t, false, nil)
	as.user("alice", "staff")
	cs := newClientService(t, as, func(c *remote.Config) { c.KeyCooldown = 1 })
	b := newBrowser(t)
	p := b.login(as.srv.URL, "alice")
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(p.Access)).want(t, 200, "")
	key, _ := ginjwt.GenerateKey("ES256")
	if err := as.auth.RotateKey(key); err != nil {
		t.Fatal(err)
	}
	fresh := b.login(as.srv.URL, "alice")
	for _, fault := range []gin.HandlerFunc{
		func(c *gin.Context) { c.String(500, "down") },
		func(c *gin.Context) {
			c.Data(200, "application/json", []byte(`{"keys":[{"kty":"EC","kid":"x","use":"sig","alg":"ES256","crv":"P-256","x":"AAAA","y":"AAAA"}]}`))
		},
	} {
		as.setFault(func(c *gin.Context) {
			if strings.HasSuffix(c.Request.URL.Path, "/jwks.json") {
				fault(c)
			}
		})
		before := cs.client.JWKSFetches()
		b.do("GET", cs.srv.URL+"/api/test", nil, bearer(fresh.Access)).want(t, 401, "token_invalid")
		if cs.client.JWKSFetches() == before {
			t.Fatal("an unknown kid fetched nothing")
		}
		b.do("GET", cs.srv.URL+"/api/test", nil, bearer(p.Access)).want(t, 200, "")
	}
	as.setFault(nil)
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(fresh.Access)).want(t, 200, "")
}

// TestJWKSKeysFiltered: only keys with use "sig", a kid and an algorithm
// of Config.Algorithms verify; a set without one is refused at start.
func TestJWKSKeysFiltered(t *testing.T) {
	t.Parallel()
	as := newAuthService(t, false, nil) // EdDSA
	as.user("alice", "staff")
	if _, err := tryClientService(t, as, func(c *remote.Config) { c.Algorithms = []string{"ES256"} }); err == nil || !strings.Contains(err.Error(), "Config.Algorithms") {
		t.Fatalf("an EdDSA-only JWKS with Algorithms ES256: %v", err)
	}
	// The same key published with use "enc", or without a kid: ignored.
	var jwks ginjwt.JWKS = as.auth.JWKS()
	for _, edit := range []func(*ginjwt.JWK){func(k *ginjwt.JWK) { k.Use = "enc" }, func(k *ginjwt.JWK) { k.Kid = "" }} {
		bad := jwks
		bad.Keys = append([]ginjwt.JWK(nil), jwks.Keys...)
		edit(&bad.Keys[0])
		raw, _ := json.Marshal(bad)
		as.setFault(func(c *gin.Context) {
			if strings.HasSuffix(c.Request.URL.Path, "/jwks.json") {
				c.Data(http.StatusOK, "application/json", raw)
			}
		})
		if _, err := tryClientService(t, as, nil); err == nil {
			t.Fatalf("a JWKS %s was used", raw)
		}
	}
	as.setFault(nil)
	newClientService(t, as, nil)
}

// TestJWKSBadKeySkipped: a JWKS with a key ginjwt refuses (RSA under 2048
// bits) and a second key of an ID already published beside the good ones
// still installs the good ones, at start and on later refreshes.
func TestJWKSBadKeySkipped(t *testing.T) {
	t.Parallel()
	as := newAuthService(t, false, nil)
	as.user("alice", "staff")
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	as.setFault(func(c *gin.Context) {
		if !strings.HasSuffix(c.Request.URL.Path, "/jwks.json") {
			return
		}
		jwks := as.auth.JWKS()
		x, y := make([]byte, 32), make([]byte, 32)
		other.X.FillBytes(x)
		other.Y.FillBytes(y)
		jwks.Keys = append(jwks.Keys,
			ginjwt.JWK{Kty: "RSA", Kid: "weak", Alg: "RS256", Use: "sig", N: b64(weak.N.Bytes()), E: b64(big.NewInt(int64(weak.E)).Bytes())},
			ginjwt.JWK{Kty: "EC", Kid: jwks.Keys[0].Kid, Alg: "ES256", Use: "sig", Crv: "P-256", X: b64(x), Y: b64(y)})
		c.JSON(http.StatusOK, jwks)
	})
	cs := newClientService(t, as, func(c *remote.Config) { c.KeyCooldown = 1 })
	b := newBrowser(t)
	p := b.login(as.srv.URL, "alice")
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(p.Access)).want(t, 200, "")
	key, _ := ginjwt.GenerateKey("ES256")
	if err := as.auth.RotateKey(key); err != nil {
		t.Fatal(err)
	}
	fresh := b.login(as.srv.URL, "alice")
	b.do("GET", cs.srv.URL+"/api/test", nil, bearer(fresh.Access)).want(t, 200, "")
}
