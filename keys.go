package ginjwt

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ginjwt/ginjwt/internal/jose"
)

// algorithms are the signing algorithms ginjwt accepts, in the order they
// are documented. "none" is never accepted.
var algorithms = []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}

// Algorithms returns the signing algorithms ginjwt accepts, in the order
// they are documented; the slice is the caller's. "none" is never accepted.
func Algorithms() []string { return slices.Clone(algorithms) }

// Key is one key of the set that signs and verifies tokens.
//
// A token names its key by kid and its algorithm by alg; a token verifies
// only when both name a key of the set and the alg is that key's algorithm.
// This pinning is the algorithm allow-list: a token cannot choose "none", nor
// an HMAC check against an RSA public key.
type Key struct {
	// ID is the kid header of tokens this key signs. Default: derived from
	// the key material (the RFC 7638 thumbprint for public keys, a hash of the
	// secret for HMAC keys), so it is stable across restarts.
	ID string
	// Algorithm is one of [Algorithms]. Required.
	Algorithm string
	// Secret is the HMAC secret of an HS256/384/512 key: random bytes, at
	// least as long as the hash (32, 48 or 64 bytes).
	Secret []byte
	// Private signs tokens: *rsa.PrivateKey (RS*, PS*; 2048 bits or more),
	// *ecdsa.PrivateKey (ES256 on P-256, ES384 on P-384) or
	// ed25519.PrivateKey (EdDSA). Nil for a key that only verifies.
	Private crypto.Signer
	// Public verifies tokens. Default: Private's public key.
	Public crypto.PublicKey
}

// signingKey is a validated Key, ready to use.
type signingKey struct {
	id     string
	alg    string
	method jwt.SigningMethod
	secret []byte
	priv   crypto.Signer
	pub    crypto.PublicKey
	// headers are the base64url header segments of the tokens this key
	// signs, by their typ (headers[typAccess], headers[typRefresh]), and
	// the one it signed before tokens were typed apart (headers[typLegacy]);
	// a token whose first segment equals one needs no header decoding.
	headers [typCount]string
	// macs pools HMAC states, for HS* keys.
	macs *sync.Pool
	// removed is set when the key leaves the set (Auth.RemoveKey), for
	// good: the verified-token cache drops what it verified.
	removed atomic.Bool
}

// canSign reports whether the key can sign new tokens.
func (k *signingKey) canSign() bool { return k.secret != nil || k.priv != nil }

// macState is a pooled HMAC with a buffer for its sum, so checking a
// signature allocates nothing.
type macState struct {
	mac hash.Hash
	sum []byte
}

// sign returns the signature of input.
func (k *signingKey) sign(input []byte) ([]byte, error) {
	if k.secret != nil {
		st := k.macs.Get().(*macState)
		defer k.macs.Put(st)
		st.mac.Reset()
		st.mac.Write(input)
		return st.mac.Sum(nil), nil
	}
	if k.priv == nil {
		return nil, fmt.Errorf("ginjwt: key %q has no private key", k.id)
	}
	return k.method.Sign(string(input), k.priv)
}

// verify reports whether sig is a valid signature of input. HMAC signatures
// are compared in constant time.
func (k *signingKey) verify(input, sig []byte) bool {
	if k.secret != nil {
		st := k.macs.Get().(*macState)
		defer k.macs.Put(st)
		st.mac.Reset()
		st.mac.Write(input)
		st.sum = st.mac.Sum(st.sum[:0])
		return hmac.Equal(st.sum, sig)
	}
	// The asymmetric methods keep no reference to sig, but take it through
	// an interface: give them a copy so the caller's buffer stays on its
	// stack.
	return k.method.Verify(string(input), bytes.Clone(sig), k.pub) == nil
}

// newSigningKey validates k and prepares it. The error names the problem.
func newSigningKey(k Key) (*signingKey, error) {
	if k.Algorithm == "" {
		return nil, errors.New("Algorithm is required")
	}
	if !slices.Contains(algorithms, k.Algorithm) {
		return nil, fmt.Errorf("unknown Algorithm %q (supported: %v)", k.Algorithm, algorithms)
	}
	sk := &signingKey{alg: k.Algorithm, method: jwt.GetSigningMethod(k.Algorithm)}
	if m, ok := sk.method.(*jwt.SigningMethodRSAPSS); ok {
		// RFC 7518 §3.5: the salt is as long as the hash. golang-jwt signs
		// so but verifies any salt length; ginjwt verifies only that one.
		exact := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}
		sk.method = &jwt.SigningMethodRSAPSS{SigningMethodRSA: m.SigningMethodRSA, Options: exact, VerifyOptions: exact}
	}
	switch k.Algorithm {
	case "HS256", "HS384", "HS512":
		newHash := map[string]func() hash.Hash{"HS256": sha256.New, "HS384": sha512.New384, "HS512": sha512.New}[k.Algorithm]
		if min := newHash().Size(); len(k.Secret) < min {
			return nil, fmt.Errorf("Secret is %d bytes; %s needs at least %d random bytes", len(k.Secret), k.Algorithm, min)
		}
		if k.Private != nil || k.Public != nil {
			return nil, fmt.Errorf("%s takes a Secret, not Private/Public keys", k.Algorithm)
		}
		secret := slices.Clone(k.Secret)
		sk.secret = secret
		sk.macs = &sync.Pool{New: func() any { return &macState{mac: hmac.New(newHash, secret), sum: make([]byte, 0, sha512.Size)} }}
	default:
		if len(k.Secret) > 0 {
			return nil, fmt.Errorf("%s takes Private/Public keys, not a Secret", k.Algorithm)
		}
		pub := k.Public
		if pub == nil && k.Private != nil {
			pub = k.Private.Public()
		}
		if pub == nil {
			return nil, fmt.Errorf("%s needs a Private or a Public key", k.Algorithm)
		}
		if err := checkAsymmetric(k.Algorithm, k.Private, pub); err != nil {
			return nil, err
		}
		sk.priv, sk.pub = k.Private, pub
	}
	sk.id = k.ID
	if sk.id == "" {
		sk.id = deriveKeyID(sk)
	}
	for typ, name := range map[tokenTyp]string{typAccess: jose.TypAccess, typRefresh: jose.TypRefresh, typLegacy: jose.TypLegacy} {
		header, err := json.Marshal(struct {
			Alg string `json:"alg"`
			Kid string `json:"kid"`
			Typ string `json:"typ"`
		}{sk.alg, sk.id, name})
		if err != nil {
			return nil, err
		}
		sk.headers[typ] = base64.RawURLEncoding.EncodeToString(header)
	}
	return sk, nil
}

// checkAsymmetric checks that the key types and sizes fit alg, and that a
// given public key belongs to the given private key.
func checkAsymmetric(alg string, priv crypto.Signer, pub crypto.PublicKey) error {
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		p, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("%s needs an RSA key, got %T", alg, pub)
		}
		if p.N.BitLen() < 2048 {
			return fmt.Errorf("%s key is %d bits; at least 2048 are required", alg, p.N.BitLen())
		}
		if priv != nil {
			if _, ok := priv.(*rsa.PrivateKey); !ok {
				return fmt.Errorf("%s needs an *rsa.PrivateKey, got %T", alg, priv)
			}
		}
	case "ES256", "ES384":
		p, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("%s needs an ECDSA key, got %T", alg, pub)
		}
		want := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384()}[alg]
		if p.Curve != want {
			return fmt.Errorf("%s needs a key on %s, got %s", alg, want.Params().Name, p.Curve.Params().Name)
		}
		if priv != nil {
			if _, ok := priv.(*ecdsa.PrivateKey); !ok {
				return fmt.Errorf("%s needs an *ecdsa.PrivateKey, got %T", alg, priv)
			}
		}
	case "EdDSA":
		if _, ok := pub.(ed25519.PublicKey); !ok {
			return fmt.Errorf("EdDSA needs an Ed25519 key, got %T", pub)
		}
		if priv != nil {
			if _, ok := priv.(ed25519.PrivateKey); !ok {
				return fmt.Errorf("EdDSA needs an ed25519.PrivateKey, got %T", priv)
			}
		}
	}
	if priv != nil {
		if eq, ok := priv.Public().(interface{ Equal(crypto.PublicKey) bool }); ok && !eq.Equal(pub) {
			return errors.New("Public does not belong to Private")
		}
	}
	return nil
}

// deriveKeyID names a key after its material: the RFC 7638 thumbprint of a
// public key, or a domain-separated hash of an HMAC secret. Both are
// base64url and do not reveal the secret.
func deriveKeyID(k *signingKey) string {
	var sum [32]byte
	if k.secret != nil {
		sum = sha256.Sum256(append([]byte("ginjwt kid\x00"), k.secret...))
	} else {
		sum = sha256.Sum256(thumbprintInput(k.pub))
	}
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// thumbprintInput is the canonical JWK member string of RFC 7638.
func thumbprintInput(pub crypto.PublicKey) []byte {
	j := publicJWK(pub)
	var s string
	switch j.Kty {
	case "RSA":
		s = fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, j.E, j.N)
	case "EC":
		s = fmt.Sprintf(`{"crv":%q,"kty":"EC","x":%q,"y":%q}`, j.Crv, j.X, j.Y)
	case "OKP":
		s = fmt.Sprintf(`{"crv":%q,"kty":"OKP","x":%q}`, j.Crv, j.X)
	}
	return []byte(s)
}

// JWK is one public key in a JSON Web Key Set (RFC 7517).
type JWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid,omitempty"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// JWKS is a JSON Web Key Set: the body of GET /auth/jwks.json.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

func publicJWK(pub crypto.PublicKey) JWK {
	b64 := base64.RawURLEncoding.EncodeToString
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return JWK{Kty: "RSA", N: b64(p.N.Bytes()), E: b64(big.NewInt(int64(p.E)).Bytes())}
	case *ecdsa.PublicKey:
		size := (p.Curve.Params().BitSize + 7) / 8
		x, y := make([]byte, size), make([]byte, size)
		p.X.FillBytes(x)
		p.Y.FillBytes(y)
		return JWK{Kty: "EC", Crv: p.Curve.Params().Name, X: b64(x), Y: b64(y)}
	case ed25519.PublicKey:
		return JWK{Kty: "OKP", Crv: "Ed25519", X: b64(p)}
	}
	return JWK{}
}

// keySet is an immutable snapshot of the keys: rotation swaps the whole set.
type keySet struct {
	current  *signingKey            // signs new tokens
	byID     map[string]*signingKey // every key, by kid
	byHeader map[string]keyHeader   // every key, by its header segments
}

// keyHeader is what a header segment a key writes says: the key, and the
// token's typ.
type keyHeader struct {
	key *signingKey
	typ tokenTyp
}

func newKeySet(keys []*signingKey) (*keySet, error) {
	if len(keys) == 0 {
		return nil, errors.New("at least one key is required")
	}
	// A set where no key signs only verifies (a client service's, holding
	// the auth service's public keys); otherwise the first key signs.
	if !keys[0].canSign() && slices.ContainsFunc(keys, (*signingKey).canSign) {
		return nil, fmt.Errorf("the first key (%q) signs new tokens and needs a Secret or a Private key", keys[0].id)
	}
	ks := &keySet{current: keys[0], byID: map[string]*signingKey{}, byHeader: map[string]keyHeader{}}
	for _, k := range keys {
		if _, dup := ks.byID[k.id]; dup {
			return nil, fmt.Errorf("two keys have the ID %q", k.id)
		}
		ks.byID[k.id] = k
		for typ, h := range k.headers {
			if h != "" {
				ks.byHeader[h] = keyHeader{k, tokenTyp(typ)}
			}
		}
	}
	return ks, nil
}

// ordered returns the keys with the current one first.
func (ks *keySet) ordered() []*signingKey {
	out := []*signingKey{ks.current}
	for _, k := range ks.byID {
		if k != ks.current {
			out = append(out, k)
		}
	}
	slices.SortFunc(out[1:], func(a, b *signingKey) int {
		if a.id < b.id {
			return -1
		}
		return 1
	})
	return out
}

// jwks publishes the public halves of the set's asymmetric keys.
func (ks *keySet) jwks() JWKS {
	set := JWKS{Keys: []JWK{}}
	for _, k := range ks.ordered() {
		if k.pub == nil {
			continue
		}
		j := publicJWK(k.pub)
		j.Kid, j.Alg, j.Use = k.id, k.alg, "sig"
		set.Keys = append(set.Keys, j)
	}
	return set
}

// GenerateKey makes a new random key for alg: a 64-byte secret for HMAC
// (enough for HS512), a 2048-bit RSA key for RS*/PS*, a P-256 or P-384 key
// for ES256/ES384, an Ed25519 key for EdDSA.
func GenerateKey(alg string) (Key, error) {
	k := Key{Algorithm: alg}
	var err error
	switch alg {
	case "HS256", "HS384", "HS512":
		k.Secret = make([]byte, 64)
		_, err = rand.Read(k.Secret)
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		k.Private, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		k.Private, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		k.Private, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "EdDSA":
		_, k.Private, err = ed25519.GenerateKey(rand.Reader)
	default:
		return Key{}, fmt.Errorf("ginjwt: unknown algorithm %q (supported: %v)", alg, algorithms)
	}
	if err != nil {
		return Key{}, fmt.Errorf("ginjwt: generate %s key: %w", alg, err)
	}
	return k, nil
}

// ParseKeyPEM reads a key for alg from PEM: a private key (PKCS #8, PKCS #1
// or SEC 1) makes a signing key, a public key (PKIX) a verify-only one.
func ParseKeyPEM(alg string, data []byte) (Key, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return Key{}, errors.New("ginjwt: no PEM block found")
	}
	k := Key{Algorithm: alg}
	switch block.Type {
	case "PUBLIC KEY":
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return Key{}, fmt.Errorf("ginjwt: parse public key: %w", err)
		}
		k.Public = pub
	case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
		priv, err := parsePrivateKey(block)
		if err != nil {
			return Key{}, err
		}
		k.Private = priv
	default:
		return Key{}, fmt.Errorf("ginjwt: unsupported PEM block %q", block.Type)
	}
	if _, err := newSigningKey(k); err != nil {
		return Key{}, fmt.Errorf("ginjwt: %s key: %s", alg, err)
	}
	return k, nil
}

func parsePrivateKey(block *pem.Block) (crypto.Signer, error) {
	var (
		key any
		err error
	)
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("ginjwt: parse private key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("ginjwt: %T cannot sign", key)
	}
	return signer, nil
}

// MarshalKeyPEM writes k's private key (PKCS #8) or, for a verify-only key,
// its public key (PKIX) as PEM. HMAC keys have no PEM form.
func MarshalKeyPEM(k Key) ([]byte, error) {
	if k.Private != nil {
		der, err := x509.MarshalPKCS8PrivateKey(k.Private)
		if err != nil {
			return nil, fmt.Errorf("ginjwt: marshal private key: %w", err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	if k.Public != nil {
		der, err := x509.MarshalPKIXPublicKey(k.Public)
		if err != nil {
			return nil, fmt.Errorf("ginjwt: marshal public key: %w", err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
	}
	return nil, errors.New("ginjwt: an HMAC key has no PEM form; store its Secret")
}

// RotateKey makes k the key that signs new tokens. The keys already in the
// set keep verifying until [Auth.RemoveKey]. It fails, changing nothing,
// when k is invalid, cannot sign, or has the ID of a key in the set.
func (a *Auth) RotateKey(k Key) error {
	sk, err := newSigningKey(k)
	if err != nil {
		return fmt.Errorf("ginjwt: RotateKey: %s", err)
	}
	for {
		old := a.keys.Load()
		next, err := newKeySet(append([]*signingKey{sk}, old.ordered()...))
		if err != nil {
			return fmt.Errorf("ginjwt: RotateKey: %s", err)
		}
		if a.keys.CompareAndSwap(old, next) {
			return nil
		}
	}
}

// RemoveKey removes the key with this ID: tokens it signed stop verifying at
// once. The key that signs new tokens cannot be removed; rotate first.
func (a *Auth) RemoveKey(id string) error {
	for {
		old := a.keys.Load()
		if old.byID[id] == nil {
			return fmt.Errorf("ginjwt: RemoveKey: no key %q", id)
		}
		if old.current.id == id {
			return fmt.Errorf("ginjwt: RemoveKey: %q signs new tokens; rotate to another key first", id)
		}
		var keep []*signingKey
		for _, k := range old.ordered() {
			if k.id != id {
				keep = append(keep, k)
			}
		}
		next, err := newKeySet(keep)
		if err != nil {
			return fmt.Errorf("ginjwt: RemoveKey: %s", err)
		}
		if a.keys.CompareAndSwap(old, next) {
			old.byID[id].removed.Store(true) // tokens the key signed must not pass from the cache
			if a.cache != nil {
				a.cache.clear()
			}
			return nil
		}
	}
}

// KeyIDs returns the IDs of the keys in the set, the signing key first.
func (a *Auth) KeyIDs() []string {
	var ids []string
	for _, k := range a.keys.Load().ordered() {
		ids = append(ids, k.id)
	}
	return ids
}

// JWKS returns the public keys of the set as a JSON Web Key Set, for
// services that verify ginjwt's tokens without its secrets. HMAC keys are
// never published.
func (a *Auth) JWKS() JWKS { return a.keys.Load().jwks() }

// loadKeys builds the key set of Config.Keys, the first key signing.
func loadKeys(cfg []Key) (*keySet, error) {
	keys := make([]*signingKey, 0, len(cfg))
	for i, k := range cfg {
		sk, err := newSigningKey(k)
		if err != nil {
			return nil, fmt.Errorf("ginjwt: Config.Keys[%d]: %s", i, err)
		}
		keys = append(keys, sk)
	}
	ks, err := newKeySet(keys)
	if err != nil {
		return nil, fmt.Errorf("ginjwt: Config.Keys: %s", err)
	}
	return ks, nil
}
