package bench

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	jwtv3 "github.com/appleboy/gin-jwt/v3"
	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/registry"
)

// BenchmarkProtected is one authenticated GET through a gin.Engine, per
// implementation. Compare with benchstat -col /impl (see BENCHMARKS.md).
func BenchmarkProtected(b *testing.B) {
	b.Run("impl=bare-gin", func(b *testing.B) {
		r := gin.New()
		r.GET("/hello", hello)
		serve(b, r, bearer("/hello", "unused"), http.StatusOK)
	})
	b.Run("impl=raw-floor-HS256", func(b *testing.B) {
		r := gin.New()
		r.GET("/hello", rawFloor(), hello)
		serve(b, r, bearer("/hello", rawToken(b)), http.StatusOK)
	})
	b.Run("impl=golang-jwt-HS256", func(b *testing.B) {
		r := gin.New()
		r.GET("/hello", golangJWT(), hello)
		serve(b, r, bearer("/hello", rawToken(b)), http.StatusOK)
	})
	b.Run("impl=gin-jwt-v3-HS256", func(b *testing.B) {
		r, token := ginJWTv3(b)
		serve(b, r, bearer("/hello", token), http.StatusOK)
	})
	for _, alg := range []string{"HS256", "RS256", "ES256", "EdDSA"} {
		for _, seen := range []string{"first", "repeated"} {
			b.Run("impl=ginjwt-"+alg+"-"+seen, func(b *testing.B) {
				r, token := ginjwtEngine(b, alg, false, seen == "first")
				serve(b, r, bearer("/hello", token), http.StatusOK)
			})
		}
	}
	for _, seen := range []string{"first", "repeated"} {
		b.Run("impl=ginjwt-HS256-registry-"+seen, func(b *testing.B) {
			r, token := ginjwtEngine(b, "HS256", true, seen == "first")
			serve(b, r, bearer("/hello", token), http.StatusOK)
		})
	}
}

// ginjwtEngine mounts ginjwt with a key of alg, with or without the token
// registry (on SQLite, with 10,000 revoked sessions in memory, so the check
// is not against an empty map), and returns the engine and an access token.
// firstSeen turns the verified-token cache off, so every request pays for
// a token never seen before: the signature check and the decode.
func ginjwtEngine(b *testing.B, alg string, withRegistry, firstSeen bool) (*gin.Engine, string) {
	b.Helper()
	key := ginjwt.Key{Algorithm: "HS256", Secret: secret}
	if alg != "HS256" {
		var err error
		if key, err = ginjwt.GenerateKey(alg); err != nil {
			b.Fatal(err)
		}
	}
	cfg := ginjwt.Config{Keys: []ginjwt.Key{key}, Routes: ginjwt.Routes{Paths: ginjwt.Paths{Obtain: "-"}}, Limits: ginjwt.Limits{Cache: ginjwt.Cache{Disabled: firstSeen}}}
	if withRegistry {
		cfg.DB = openSQLite(b)
	}
	r := gin.New()
	auth, err := ginjwt.Mount(r, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { auth.Close(context.Background()) })
	if withRegistry {
		revokeMany(b, auth.Registry(), 10_000)
	}
	r.GET("/hello", ginjwt.RequireLogin(), hello)
	return r, login(b, auth, alice).Access
}

// revokeMany fills the revocation log with n session revocations, in one
// transaction's worth of rows, and loads them.
func revokeMany(b *testing.B, reg *registry.Registry, n int) {
	b.Helper()
	now := time.Now().UTC()
	rows := make([]registry.Revocation, n)
	for i := range rows {
		rows[i] = registry.Revocation{Kind: registry.KindSession, Subject: "s" + string(rune('a'+i%26)) + strings.Repeat("x", i%7) + itoa(i), At: now, Until: now.Add(time.Hour), CreatedAt: now}
	}
	if err := reg.DB().CreateInBatches(rows, 500).Error; err != nil {
		b.Fatal(err)
	}
	if err := reg.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
}

func itoa(i int) string {
	var buf [20]byte
	n := len(buf)
	for {
		n--
		buf[n] = byte('0' + i%10)
		if i /= 10; i == 0 {
			return string(buf[n:])
		}
	}
}

// floorClaims is what the raw floor decodes.
type floorClaims struct {
	Sub string `json:"sub"`
	Exp int64  `json:"exp"`
}

// rawToken is an HS256 token with sub and exp, as golang-jwt signs it.
func rawToken(b *testing.B) string {
	b.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(secret)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// rawFloor is the least a correct HS256 check can do: split, HMAC-SHA256
// compared in constant time, base64url-decode the payload and unmarshal a
// claims struct, check exp.
func rawFloor() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.GetHeader("Authorization")
		tok, ok := strings.CutPrefix(h, "Bearer ")
		dot2 := strings.LastIndexByte(tok, '.')
		if !ok || dot2 < 0 {
			c.AbortWithStatus(http.StatusUnauthorized)
			return
		}
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(tok[:dot2]))
		sig, err := base64.RawURLEncoding.DecodeString(tok[dot2+1:])
		if err != nil || !hmac.Equal(mac.Sum(nil), sig) {
			c.AbortWithStatus(http.StatusUnauthorized)
			return
		}
		payload, err := base64.RawURLEncoding.DecodeString(tok[strings.IndexByte(tok, '.')+1 : dot2])
		var claims floorClaims
		if err != nil || json.Unmarshal(payload, &claims) != nil || claims.Exp < time.Now().Unix() {
			c.AbortWithStatus(http.StatusUnauthorized)
			return
		}
		c.Set("sub", claims.Sub)
		c.Next()
	}
}

// golangJWT is the middleware most applications write by hand.
func golangJWT() gin.HandlerFunc {
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}))
	keyFunc := func(*jwt.Token) (any, error) { return secret, nil }
	return func(c *gin.Context) {
		tok, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		var claims jwt.RegisteredClaims
		if _, err := parser.ParseWithClaims(tok, &claims, keyFunc); !ok || err != nil {
			c.AbortWithStatus(http.StatusUnauthorized)
			return
		}
		c.Set("sub", claims.Subject)
		c.Next()
	}
}

// ginJWTv3 is appleboy/gin-jwt v3 configured as its README shows.
func ginJWTv3(b *testing.B) (*gin.Engine, string) {
	b.Helper()
	mw, err := jwtv3.New(&jwtv3.GinJWTMiddleware{
		Realm:       "bench",
		Key:         secret,
		Timeout:     time.Hour,
		MaxRefresh:  time.Hour,
		IdentityKey: "id",
		PayloadFunc: func(data any) jwt.MapClaims {
			return jwt.MapClaims{"id": data.(string)}
		},
		IdentityHandler: func(c *gin.Context) any { return jwtv3.ExtractClaims(c)["id"] },
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := mw.MiddlewareInit(); err != nil {
		b.Fatal(err)
	}
	r := gin.New()
	r.GET("/hello", mw.MiddlewareFunc(), hello)
	tok, err := mw.TokenGenerator(context.Background(), "alice")
	if err != nil {
		b.Fatal(err)
	}
	return r, tok.AccessToken
}

// BenchmarkPairedRepeated measures a repeated token (a verified-token cache
// hit) of each algorithm against bare gin, alternately in one run (see
// pairedRatio). Run it with -benchtime 100000x.
func BenchmarkPairedRepeated(b *testing.B) {
	bare := gin.New()
	bare.GET("/hello", hello)
	base := pairedSide{bare, bearer("/hello", "unused"), http.StatusOK}
	for _, alg := range []string{"HS256", "RS256", "ES256", "EdDSA"} {
		b.Run("impl=ginjwt-"+alg+"-repeated", func(b *testing.B) {
			r, token := ginjwtEngine(b, alg, false, false)
			pairedRatio(b, base, pairedSide{r, bearer("/hello", token), http.StatusOK})
		})
	}
	b.Run("impl=ginjwt-HS256-registry-repeated", func(b *testing.B) {
		r, token := ginjwtEngine(b, "HS256", true, false)
		pairedRatio(b, base, pairedSide{r, bearer("/hello", token), http.StatusOK})
	})
}
