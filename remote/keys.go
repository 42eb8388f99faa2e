package remote

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"

	"github.com/ginjwt/ginjwt"
)

// keySource keeps a key set current from a JWKS: the auth service's, for
// the client service's Auth, or another issuer's (NewIssuer). The fetch
// policy is ours (one fetch at a time, a cooldown for unknown kids, the
// last good set kept, answers bounded in size); reading and validating
// each JWK is keyfunc's (and jwkset's, which it is built on).
type keySource struct {
	get     func(ctx context.Context) (*answer, error) // one request for the JWKS
	install func([]ginjwt.Key) error                   // takes a changed set
	algs    []string                                   // the algorithms of the keys kept
	// impliedAlg takes a key published without "alg" for the algorithm its
	// type implies (see impliedAlg), as OIDC providers' JWKS may publish
	// them (Microsoft Entra ID does); the auth service's keys always say.
	impliedAlg bool
	algsName   string        // the field that sets algs, for errors
	timeout    time.Duration // bounds each fetch
	cooldown   time.Duration // between fetches for unknown kids
	every      time.Duration // between fetches of loop
	clock      func() time.Time
	log        *slog.Logger
	what       string // the JWKS's name in the logs

	mu        sync.Mutex   // held during a fetch: one at a time
	last      time.Time    // when the last fetch for an unknown kid began
	gen       atomic.Int64 // bumped whenever the set changes
	fetches   atomic.Int64 // JWKS requests made, for tests and metrics
	lastGood  atomic.Pointer[time.Time]
	print     string // fingerprint of the keys installed; guarded by mu
	lastError atomic.Pointer[error]
}

// fetch reads the JWKS and returns the keys to verify with: those with
// use "sig", a kid, and an algorithm of algs. A key keyfunc cannot read,
// one ginjwt.CheckKey refuses, and a second key of one ID are skipped, so
// one bad key published does not freeze the set; a set with no usable key
// is an error.
func (k *keySource) fetch(ctx context.Context) ([]ginjwt.Key, error) {
	k.fetches.Add(1)
	a, err := k.get(ctx)
	if err != nil {
		return nil, err
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := a.decode(&set); err != nil {
		return nil, err
	}
	var keys []ginjwt.Key
	for _, raw := range set.Keys {
		kf, err := keyfunc.NewJWKJSON(raw)
		if err != nil {
			continue // not a key keyfunc reads: not one of ours
		}
		jwks, err := kf.Storage().KeyReadAll(ctx)
		if err != nil || len(jwks) != 1 {
			continue
		}
		key, ok := verifyKey(jwks[0], k.algs, k.impliedAlg)
		if !ok || slices.ContainsFunc(keys, func(x ginjwt.Key) bool { return x.ID == key.ID }) {
			continue // the first key of an ID is kept; SetKeys refuses two
		}
		if err := ginjwt.CheckKey(key); err != nil {
			continue // one SetKeys refuses (an RSA key under 2048 bits, a type unlike its alg)
		}
		if _, err := x509.MarshalPKIXPublicKey(key.Public); err != nil {
			continue
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: the JWKS has no key with use \"sig\", a kid and an algorithm of %s", ginjwt.ErrRemoteBadAnswer, k.algsName)
	}
	return keys, nil
}

// verifyKey turns a JWK into a key that only verifies; with implied, a key
// without "alg" takes the algorithm its type implies.
func verifyKey(j jwkset.JWK, algs []string, implied bool) (ginjwt.Key, bool) {
	m := j.Marshal()
	pub := j.Key()
	if s, ok := pub.(crypto.Signer); ok {
		pub = s.Public() // a private key published by mistake: keep its public half only
	}
	alg := m.ALG.String()
	if alg == "" && implied {
		alg = impliedAlg(pub)
	}
	if m.USE != jwkset.UseSig || m.KID == "" || !slices.Contains(algs, alg) {
		return ginjwt.Key{}, false
	}
	return ginjwt.Key{ID: m.KID, Algorithm: alg, Public: pub}, true
}

// impliedAlg is the one algorithm a public key without "alg" is taken for:
// RS256 for RSA (what providers that omit it sign with), ES256, ES384 or
// ES512 by the curve of an EC key, EdDSA for Ed25519; "" for anything
// else. A token of another algorithm for such a key is refused.
func impliedAlg(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return "RS256"
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return "ES256"
		case elliptic.P384():
			return "ES384"
		case elliptic.P521():
			return "ES512"
		}
	case ed25519.PublicKey:
		return "EdDSA"
	}
	return ""
}

// refresh fetches the JWKS and installs it; on failure the last good set
// stays. It reports whether the set was replaced.
func (k *keySource) refresh(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	keys, err := k.fetch(ctx)
	var print string
	if err == nil {
		print, err = fingerprint(keys)
	}
	if err == nil && print == k.print {
		now := k.clock()
		k.lastGood.Store(&now)
		return false, nil // the same keys: the verified-token cache stays warm
	}
	if err == nil {
		if err = k.install(keys); err != nil {
			err = fmt.Errorf("%w: %w", ginjwt.ErrRemoteBadAnswer, err)
		}
	}
	if err != nil {
		k.lastError.Store(&err)
		return false, err
	}
	k.print = print
	now := k.clock()
	k.lastGood.Store(&now)
	k.gen.Add(1)
	return true, nil
}

// missing is called when a token names a key the set lacks (ginjwt's
// Config.Service.KeyMissing for a client service). Concurrent callers share one fetch (they wait for it and
// then see its result); after a fetch, further unknown kids wait for the
// cooldown, whatever they name. It reports whether the set changed since
// the call began.
func (k *keySource) missing() bool {
	gen := k.gen.Load()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.gen.Load() != gen {
		return true // a fetch landed while this call waited
	}
	now := k.clock()
	if !k.last.IsZero() && now.Sub(k.last) < k.cooldown {
		return false
	}
	k.last = now
	changed, err := k.refresh(context.Background())
	if err != nil {
		k.log.Warn("ginjwt remote: fetching "+k.what+" for an unknown kid failed; the last good key set stays", "error", err)
	}
	return changed
}

// loop fetches the JWKS every k.every until ctx ends.
func (k *keySource) loop(ctx context.Context) {
	t := time.NewTicker(k.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		k.mu.Lock()
		_, err := k.refresh(ctx)
		k.mu.Unlock()
		if err != nil && !errors.Is(err, context.Canceled) {
			k.log.Warn("ginjwt remote: refreshing "+k.what+" failed; the last good key set stays", "error", err)
		}
	}
}

// fingerprint identifies a key set: each key's ID, algorithm and public
// key, in order.
func fingerprint(keys []ginjwt.Key) (string, error) {
	h := sha256.New()
	for _, k := range keys {
		der, err := x509.MarshalPKIXPublicKey(k.Public)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ginjwt.ErrRemoteBadAnswer, err)
		}
		fmt.Fprintf(h, "%q %q %x\n", k.ID, k.Algorithm, der)
	}
	return string(h.Sum(nil)), nil
}
