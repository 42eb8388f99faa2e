package ginjwt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The signature layer (keySet.verifyJWS, which every token parse goes
// through) against vectors nobody here wrote: Project Wycheproof's JSON Web
// Signature vectors and the JWS examples of RFC 7520 §4. Their payloads are
// not ginjwt claims sets, so these tests stop at the signature layer.

// jwkJSON is a JSON Web Key as the vector files write it, private members
// included.
type jwkJSON struct {
	Kty    string   `json:"kty"`
	Kid    string   `json:"kid"`
	Alg    string   `json:"alg"`
	Use    string   `json:"use"`
	KeyOps []string `json:"key_ops"`
	K      string   `json:"k"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	D      string   `json:"d"`
	P      string   `json:"p"`
	Q      string   `json:"q"`
	Crv    string   `json:"crv"`
	X      string   `json:"x"`
	Y      string   `json:"y"`
}

// errKeyUse marks a JWK an application must not use to verify signatures.
var errKeyUse = errors.New("the JWK is not for signatures")

// importJWK makes a ginjwt Key of j, as an application holding a JWK would:
// a key marked for encryption (use, key_ops) is not used to verify, and the
// key must name its algorithm (alg, or the algorithm the example gives),
// since ginjwt pins every key to one. The key then goes through ginjwt's
// own validation (newSigningKey), which refuses an algorithm it does not
// support.
func importJWK(j jwkJSON, alg string) (Key, error) {
	if j.Use != "" && j.Use != "sig" {
		return Key{}, fmt.Errorf("%w: use is %q", errKeyUse, j.Use)
	}
	if j.KeyOps != nil && !slices.ContainsFunc(j.KeyOps, func(op string) bool {
		// One Wycheproof key writes ["sign, verify"] as one string.
		return slices.Contains(strings.Split(strings.ReplaceAll(op, " ", ""), ","), "verify")
	}) {
		return Key{}, fmt.Errorf("%w: key_ops is %q", errKeyUse, j.KeyOps)
	}
	if alg == "" {
		alg = j.Alg
	}
	if alg == "" {
		return Key{}, fmt.Errorf("%w: no alg", errKeyUse)
	}
	k := Key{ID: j.Kid, Algorithm: alg}
	switch j.Kty {
	case "oct":
		k.Secret = b64bytes(j.K)
	case "RSA":
		priv := &rsa.PrivateKey{
			PublicKey: rsa.PublicKey{N: b64int(j.N), E: int(b64int(j.E).Int64())},
			D:         b64int(j.D),
			Primes:    []*big.Int{b64int(j.P), b64int(j.Q)},
		}
		if err := priv.Validate(); err != nil {
			return Key{}, fmt.Errorf("RSA key: %w", err)
		}
		priv.Precompute()
		k.Private = priv
	case "EC":
		curve := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}[j.Crv]
		if curve == nil {
			return Key{}, fmt.Errorf("unknown curve %q", j.Crv)
		}
		k.Private = &ecdsa.PrivateKey{PublicKey: ecdsa.PublicKey{Curve: curve, X: b64int(j.X), Y: b64int(j.Y)}, D: b64int(j.D)}
	default:
		return Key{}, fmt.Errorf("unknown kty %q", j.Kty)
	}
	if _, err := newSigningKey(k); err != nil {
		return Key{}, err
	}
	return k, nil
}

func b64bytes(s string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		panic(fmt.Sprintf("vector file: %q is not base64url: %v", s, err))
	}
	return b
}

func b64int(s string) *big.Int { return new(big.Int).SetBytes(b64bytes(s)) }

// keySetOf is the key set of an application whose keys are keys.
func keySetOf(t *testing.T, keys ...Key) *keySet {
	t.Helper()
	var sks []*signingKey
	for _, k := range keys {
		sk, err := newSigningKey(k)
		if err != nil {
			t.Fatalf("key %q: %v", k.ID, err)
		}
		sks = append(sks, sk)
	}
	ks, err := newKeySet(sks)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// standIn is the key an application would hold for j's kid when ginjwt
// cannot use j's algorithm: a key of the same kid under an algorithm ginjwt
// supports. A token that names the unsupported algorithm must be refused.
func standIn(t *testing.T, j jwkJSON) Key {
	t.Helper()
	k, err := GenerateKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	k.ID = j.Kid
	return k
}

// wycheproofErrata are vectors of the pinned file whose label contradicts
// the file itself; ginjwt is held to the correct outcome. See
// testdata/wycheproof/README.md.
var wycheproofErrata = map[int]struct {
	valid bool
	why   string
}{
	367: {true, "byte-identical to tcId 357, labelled valid (C2SP/wycheproof#236)"},
	370: {true, "byte-identical to tcId 357, labelled valid (C2SP/wycheproof#236)"},
	372: {false, "'?' is outside base64url (RFC 7515 §2); labelled valid by mistake"},
	373: {false, "'?' is outside base64url (RFC 7515 §2); labelled valid by mistake"},
	// RFC 7520's Figure 20 is a PS384 token; the group's JWK says
	// "alg":"PS256". ginjwt pins a key to its one algorithm, so it refuses
	// the token under that key (TestRFC7520JWSExamples verifies it under
	// the key pinned to PS384).
	346: {false, "a PS384 token under a key whose alg is PS256"},
	350: {false, "a PS384 token under a key whose alg is PS256"},
}

func TestWycheproofJWS(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("testdata", "wycheproof", "json_web_signature_test.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		NumberOfTests int `json:"numberOfTests"`
		TestGroups    []struct {
			Comment string  `json:"comment"`
			Private jwkJSON `json:"private"`
			Tests   []struct {
				TcID    int      `json:"tcId"`
				Comment string   `json:"comment"`
				JWS     string   `json:"jws"`
				Result  string   `json:"result"`
				Flags   []string `json:"flags"`
			} `json:"tests"`
		} `json:"testGroups"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}

	// counts[alg][outcome], reported at the end.
	counts := map[string]map[string]int{}
	count := func(alg, outcome string) {
		if counts[alg] == nil {
			counts[alg] = map[string]int{}
		}
		counts[alg][outcome]++
	}
	ran := 0
	for _, g := range file.TestGroups {
		alg := g.Private.Alg
		if alg == "" {
			alg = "(none: " + g.Comment + ")"
		}
		key, importErr := importJWK(g.Private, "")
		var ks *keySet
		switch {
		case importErr == nil:
			ks = keySetOf(t, key)
		case errors.Is(importErr, errKeyUse):
			// An encryption key: the application does not verify with it.
		default:
			// An algorithm ginjwt does not support: ginjwt refuses the key,
			// and tokens naming the algorithm are refused by a set that
			// holds the same kid with an algorithm it does support.
			if !strings.Contains(importErr.Error(), "unknown Algorithm") {
				t.Fatalf("group %s (%s): %v", g.Comment, alg, importErr)
			}
			ks = keySetOf(t, standIn(t, g.Private))
		}
		for _, tc := range g.Tests {
			ran++
			name := fmt.Sprintf("tcId %d %s/%s (%s)", tc.TcID, g.Comment, tc.Comment, tc.Result)
			wantValid := tc.Result == "valid"
			erratum := ""
			if e, ok := wycheproofErrata[tc.TcID]; ok {
				wantValid = e.valid
				erratum = " [erratum, labelled " + tc.Result + "]"
			}
			count := func(alg, outcome string) { count(alg, outcome+erratum) }
			if tc.Result == "acceptable" {
				t.Fatalf("%s: no acceptable vectors expected in the pinned file", name)
			}
			if ks == nil {
				if wantValid {
					t.Errorf("%s: a valid vector with a key not for signatures (%v)", name, importErr)
				}
				count(alg, "refused: key not for signatures")
				continue
			}
			payload, _, _, err := ks.verifyJWS(tc.JWS)
			switch {
			case importErr != nil:
				if err == nil {
					t.Errorf("%s: accepted a token of an unsupported algorithm", name)
				} else if !errors.Is(err, ErrTokenInvalid) {
					t.Errorf("%s: %v, want ErrTokenInvalid", name, err)
				}
				count(alg, "refused: algorithm unsupported")
			case wantValid:
				if err != nil {
					t.Errorf("%s: refused a valid token: %v", name, err)
					break
				}
				if want := b64bytes(strings.Split(tc.JWS, ".")[1]); !bytes.Equal(payload, want) {
					t.Errorf("%s: payload %q, want %q", name, payload, want)
				}
				count(alg, "valid: verified")
			default:
				if err == nil {
					t.Errorf("%s: accepted an invalid token", name)
				} else if !errors.Is(err, ErrTokenInvalid) {
					t.Errorf("%s: %v, want ErrTokenInvalid", name, err)
				}
				if slices.Contains(tc.Flags, "JsonSerialization") {
					count(alg, "invalid: refused (JSON serialization)")
				} else {
					count(alg, "invalid: refused")
				}
			}
		}
	}
	if ran != file.NumberOfTests || ran == 0 {
		t.Fatalf("ran %d of %d vectors", ran, file.NumberOfTests)
	}
	algs := make([]string, 0, len(counts))
	for alg := range counts {
		algs = append(algs, alg)
	}
	sort.Strings(algs)
	for _, alg := range algs {
		t.Logf("%-40s %v", alg, counts[alg])
	}
	t.Logf("%d vectors", ran)
}

func TestRFC7520JWSExamples(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "rfc7520", "4_*.json"))
	if err != nil || len(files) != 8 {
		t.Fatalf("want the 8 examples of RFC 7520 §4, found %d (%v)", len(files), err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var ex struct {
				Title string `json:"title"`
				Input struct {
					Payload string          `json:"payload"`
					Key     json.RawMessage `json:"key"`
					Alg     json.RawMessage `json:"alg"`
				} `json:"input"`
				Signing json.RawMessage            `json:"signing"`
				Output  map[string]json.RawMessage `json:"output"`
			}
			if err := json.Unmarshal(raw, &ex); err != nil {
				t.Fatal(err)
			}
			// §4.8 has one key and one algorithm per signature.
			var jwks []jwkJSON
			var algs []string
			if json.Unmarshal(ex.Input.Key, &jwks) != nil {
				jwks = make([]jwkJSON, 1)
				algs = make([]string, 1)
				if err := json.Unmarshal(ex.Input.Key, &jwks[0]); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(ex.Input.Alg, &algs[0]); err != nil {
					t.Fatal(err)
				}
			} else if err := json.Unmarshal(ex.Input.Alg, &algs); err != nil {
				t.Fatal(err)
			}
			var keys []Key
			for i, j := range jwks {
				k, err := importJWK(j, algs[i])
				if err != nil {
					if !strings.Contains(err.Error(), "unknown Algorithm") {
						t.Fatalf("%s key: %v", algs[i], err)
					}
					t.Logf("%s: ginjwt does not support the algorithm: %v", algs[i], err)
					k = standIn(t, j)
				}
				if !slices.ContainsFunc(keys, func(o Key) bool { return o.ID == k.ID }) {
					keys = append(keys, k) // §4.8 gives two keys one kid
				}
			}
			ks := keySetOf(t, keys...)

			// Every JSON serialization is refused: ginjwt reads only the
			// compact one.
			for _, form := range []string{"json", "json_flat"} {
				if out, ok := ex.Output[form]; ok {
					compacted := new(bytes.Buffer)
					if err := json.Compact(compacted, out); err != nil {
						t.Fatal(err)
					}
					for _, s := range []string{string(out), compacted.String()} {
						if _, _, _, err := ks.verifyJWS(s); !errors.Is(err, ErrTokenInvalid) {
							t.Errorf("%s serialization: %v, want ErrTokenInvalid", form, err)
						}
					}
				}
			}

			rawCompact, ok := ex.Output["compact"]
			if !ok {
				t.Logf("%s: JSON serialization only, refused", ex.Title)
				return
			}
			var compact string
			if err := json.Unmarshal(rawCompact, &compact); err != nil {
				t.Fatal(err)
			}
			payload, _, _, err := ks.verifyJWS(compact)
			var signing struct {
				SigInput string `json:"sig-input"`
				Sig      string `json:"sig"`
			}
			if err := json.Unmarshal(ex.Signing, &signing); err != nil {
				t.Fatal(err)
			}
			switch {
			case strings.Contains(compact, ".."):
				// §4.5, detached content: the payload is not in the token.
				if !errors.Is(err, ErrTokenInvalid) {
					t.Fatalf("detached content: %v, want ErrTokenInvalid", err)
				}
				// With the content put back it is an ordinary JWS, and
				// verifies: the refusal is for the detachment.
				if got, _, _, err := ks.verifyJWS(signing.SigInput + "." + signing.Sig); err != nil || string(got) != ex.Input.Payload {
					t.Fatalf("reattached: %q, %v", got, err)
				}
				t.Logf("%s: detached content refused, reattached verifies", ex.Title)
			case keys[0].Algorithm != algs[0]:
				if !errors.Is(err, ErrTokenInvalid) {
					t.Fatalf("%s, unsupported: %v, want ErrTokenInvalid", algs[0], err)
				}
				t.Logf("%s: %s refused (unsupported)", ex.Title, algs[0])
			default:
				if err != nil {
					t.Fatalf("%s: %v", algs[0], err)
				}
				if string(payload) != ex.Input.Payload {
					t.Fatalf("payload %q, want %q", payload, ex.Input.Payload)
				}
				// One flipped bit anywhere in the signature is refused.
				sig := b64bytes(signing.Sig)
				sig[len(sig)/2] ^= 1
				if _, _, _, err := ks.verifyJWS(signing.SigInput + "." + base64.RawURLEncoding.EncodeToString(sig)); !errors.Is(err, ErrTokenInvalid) {
					t.Fatalf("modified signature: %v, want ErrTokenInvalid", err)
				}
				t.Logf("%s: %s verifies", ex.Title, algs[0])
			}
		})
	}
}
