package ginjwt

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// userPayload is the payload of a token of type typ for the user id, issued
// at iat (a float: ginjwt wrote milliseconds before), in session sid.
func userPayload(typ TokenType, id, jti, sid string, iat float64, ttl int64) map[string]any {
	return map[string]any{"jti": jti, "sid": sid, "token_type": string(typ), "iat": iat, "nbf": int64(iat),
		"exp": int64(iat) + ttl, "user_id": id, "sub": id, "username": "alice"}
}

// TestTypAgreesWithTokenType: ginjwt's parser refuses a token whose typ
// header and token_type claim disagree (token_type_invalid), and one with
// no typ or a typ it never writes (token_invalid); typ compares without
// regard to case, with or without "application/" (RFC 7515 §4.1.9).
func TestTypAgreesWithTokenType(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	u := h.user("alice")
	kid := h.auth.KeyIDs()[0]
	now := float64(h.clock.Now().Unix())
	header := func(typ string) map[string]string {
		m := map[string]string{"alg": "HS256", "kid": kid}
		if typ != "" {
			m["typ"] = typ
		}
		return m
	}
	access := func(jti string) map[string]any { return userPayload(AccessToken, u.ID, jti, "s-"+jti, now, 300) }
	refresh := func(jti string) map[string]any { return userPayload(RefreshToken, u.ID, jti, jti, now, 3600) }
	sliding := func(jti string) map[string]any {
		p := userPayload(SlidingToken, u.ID, jti, jti, now, 300)
		p["refresh_exp"] = int64(now) + 3600
		return p
	}

	cases := []struct {
		name     string
		header   map[string]string
		payload  map[string]any
		api      string // the answer of GET /api/hello: "" for 200, or the error code
		refresh  string // the answer of POST /auth/token/refresh
		parseErr error  // of ParseToken without a wanted type
	}{
		{"access typ, access claims", header("at+jwt"), access("a1"), "", "token_type_invalid", nil},
		{"refresh typ, refresh claims", header("refresh+jwt"), refresh("r1"), "token_type_invalid", "", nil},
		{"access typ, refresh claims", header("at+jwt"), refresh("r2"), "token_type_invalid", "token_type_invalid", ErrTokenTypeInvalid},
		{"refresh typ, access claims", header("refresh+jwt"), access("a2"), "token_type_invalid", "token_type_invalid", ErrTokenTypeInvalid},
		{"refresh typ, sliding claims", header("refresh+jwt"), sliding("s1"), "token_type_invalid", "token_type_invalid", ErrTokenTypeInvalid},
		{"typ missing, access claims", header(""), access("a3"), "token_invalid", "token_invalid", ErrTokenInvalid},
		{"typ missing, refresh claims", header(""), refresh("r3"), "token_invalid", "token_invalid", ErrTokenInvalid},
		{"typ empty", map[string]string{"alg": "HS256", "kid": kid, "typ": ""}, access("a4"), "token_invalid", "token_invalid", ErrTokenInvalid},
		{"typ JOSE", header("JOSE"), access("a5"), "token_invalid", "token_invalid", ErrTokenInvalid},
		{"typ rt+jwt", header("rt+jwt"), refresh("r4"), "token_invalid", "token_invalid", ErrTokenInvalid},
		{"typ text/at+jwt", header("text/at+jwt"), access("a6"), "token_invalid", "token_invalid", ErrTokenInvalid},
		{"typ AT+JWT", header("AT+JWT"), access("a7"), "", "token_type_invalid", nil},
		{"typ application/at+jwt", header("application/at+jwt"), access("a8"), "", "token_type_invalid", nil},
		{"typ Application/AT+Jwt", header("Application/AT+Jwt"), access("a9"), "", "token_type_invalid", nil},
		{"typ Refresh+JWT", header("Refresh+JWT"), refresh("r5"), "token_type_invalid", "", nil},
		{"typ application/refresh+jwt", header("application/refresh+jwt"), refresh("r6"), "token_type_invalid", "", nil},
		{"typ application/at+jwt, refresh claims", header("application/at+jwt"), refresh("r7"), "token_type_invalid", "token_type_invalid", ErrTokenTypeInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			token := forge(t, h.auth, tc.header, tc.payload)
			if _, err := h.auth.ParseToken(token); tc.parseErr == nil && err != nil || tc.parseErr != nil && !errors.Is(err, tc.parseErr) {
				t.Fatalf("ParseToken: %v, want %v", err, tc.parseErr)
			}
			w := h.do(req{path: "/api/hello", bearer: token})
			if tc.api == "" {
				wantStatus(t, w, http.StatusOK)
			} else {
				wantError(t, w, http.StatusUnauthorized, tc.api)
			}
			w = h.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": token}})
			if tc.refresh == "" {
				wantStatus(t, w, http.StatusOK)
			} else {
				wantError(t, w, http.StatusUnauthorized, tc.refresh)
			}
		})
	}
}

// TestLegacyTokensLiveOut: tokens as ginjwt issued them before typing
// (typ JWT, iat to the millisecond) still live at an upgrade are accepted
// for what their token_type says until they expire — an upgrade logs
// nobody out — and a legacy refresh token buys typed tokens. With
// RefuseLegacyTyp they are refused.
func TestLegacyTokensLiveOut(t *testing.T) {
	t.Parallel()
	for _, refuse := range []bool{false, true} {
		name := map[bool]string{false: "accepted", true: "RefuseLegacyTyp"}[refuse]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil, func(c *Config) { c.Tokens.RefuseLegacyTyp = refuse })
			u := h.user("alice")
			kid := h.auth.KeyIDs()[0]
			// The header bytes old ginjwt wrote (alg, kid, typ in that
			// order), and the same header in another order (decoded).
			old := map[string]string{"alg": "HS256", "kid": kid, "typ": "JWT"}
			reordered := `{"typ":"JWT","kid":"` + kid + `","alg":"HS256"}`
			iat := float64(h.clock.Now().Unix()) - 0.25 // issued a quarter of a second before the upgrade
			access := forge(t, h.auth, old, userPayload(AccessToken, u.ID, "old-a", "old-r", iat, 300))
			access2 := forge(t, h.auth, reordered, userPayload(AccessToken, u.ID, "old-a2", "old-r", iat, 300))
			refresh := forge(t, h.auth, old, userPayload(RefreshToken, u.ID, "old-r", "old-r", iat, 3600))
			if got := string(mustHeader(t, access)); got != `{"alg":"HS256","kid":"`+kid+`","typ":"JWT"}` {
				t.Fatalf("header %s", got)
			}
			h.clock.Advance(time.Minute)
			if refuse {
				for _, tok := range []string{access, access2} {
					wantError(t, h.do(req{path: "/api/hello", bearer: tok}), http.StatusUnauthorized, "token_invalid")
				}
				wantError(t, h.do(req{path: "/auth/token/refresh", json: refreshBody(refresh)}), http.StatusUnauthorized, "token_invalid")
				return
			}
			for _, tok := range []string{access, access2} {
				wantStatus(t, h.do(req{path: "/api/hello", bearer: tok}), http.StatusOK)
			}
			// The token_type claim decides: a legacy refresh token is no
			// access token, and the reverse.
			wantError(t, h.do(req{path: "/api/hello", bearer: refresh}), http.StatusUnauthorized, "token_type_invalid")
			wantError(t, h.do(req{path: "/auth/token/refresh", json: refreshBody(access)}), http.StatusUnauthorized, "token_type_invalid")
			w := h.do(req{path: "/auth/token/refresh", json: refreshBody(refresh)})
			wantStatus(t, w, http.StatusOK)
			var p pairBody
			decode(t, w, &p)
			if got := string(mustHeader(t, p.Access)); got != `{"alg":"HS256","kid":"`+kid+`","typ":"at+jwt"}` {
				t.Fatalf("refreshed access header %s", got)
			}
			if got := string(mustHeader(t, p.Refresh)); got != `{"alg":"HS256","kid":"`+kid+`","typ":"refresh+jwt"}` {
				t.Fatalf("rotated refresh header %s", got)
			}
			if c := mustClaims(t, h, p.Access); c.SessionID != "old-r" {
				t.Fatalf("the refreshed token left the session: %+v", c)
			}
			// Until they expire, and no longer.
			h.clock.Advance(5 * time.Minute)
			wantError(t, h.do(req{path: "/api/hello", bearer: access}), http.StatusUnauthorized, "token_expired")
		})
	}
}
