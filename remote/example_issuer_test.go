package remote_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-jose/go-jose/v4"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/remote"
)

// ExampleNewIssuer accepts the access tokens of a Keycloak realm next to
// the service's own. A stand-in serves the realm's JWKS, and go-jose mints
// the token as Keycloak would.
func ExampleNewIssuer() {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	// The stand-in for Keycloak: one ES256 key in its JWKS.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
	sso := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jwks)
	}))
	defer sso.Close()
	realm := sso.URL + "/realms/acme"

	keycloak, err := remote.NewIssuer(remote.IssuerConfig{
		JWKSURL:    realm + "/protocol/openid-connect/certs",
		Issuer:     realm,
		Audience:   []string{"orders-api"},
		PermsClaim: "realm_access.roles",
		Logger:     quiet,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer keycloak.Close(context.Background())

	ownKey, _ := ginjwt.GenerateKey("EdDSA")
	r := gin.New()
	_, err = ginjwt.Mount(r, ginjwt.Config{
		Keys:   []ginjwt.Key{ownKey},
		Routes: ginjwt.Routes{Paths: ginjwt.Paths{Obtain: "-"}}, // no users of its own here
		Tokens: ginjwt.Tokens{Issuers: []ginjwt.TokenVerifier{keycloak}},
		Logger: quiet,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	r.GET("/api/orders", ginjwt.RequirePerms("orders:read"), func(c *gin.Context) {
		claims, _ := ginjwt.ClaimsFrom(c)
		c.String(http.StatusOK, "orders of %s (%s), external %v", claims.Username, claims.UserID, claims.External())
	})

	// A Keycloak access token.
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	payload, _ := json.Marshal(map[string]any{
		"iss": realm, "aud": "orders-api", "azp": "web", "typ": "Bearer",
		"sub": "7c1f0c7e-0001", "preferred_username": "alice",
		"realm_access": map[string]any{"roles": []string{"orders:read"}},
		"iat":          time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix(),
	})
	jws, _ := signer.Sign(payload)
	token, _ := jws.CompactSerialize()

	req := httptest.NewRequest("GET", "/api/orders", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	fmt.Println(w.Code, w.Body.String())
	// Output: 200 orders of alice (7c1f0c7e-0001), external true
}
