package keyfile

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ginjwt/ginjwt"
)

// Entry is one key of a key file.
type Entry struct {
	// Key is the key, with the ID of its Key-Id header (empty without one:
	// ginjwt derives it).
	Key ginjwt.Key
	// Created is the time of its Created header; zero without one.
	Created time.Time
}

// The PEM headers of a key file.
const (
	headerAlgorithm = "Algorithm"
	headerKeyID     = "Key-Id"
	headerCreated   = "Created"
)

// hmacBlock is the PEM type of an HMAC secret.
const hmacBlock = "HMAC SECRET"

// Load reads the key file at path and returns its keys in order, for
// ginjwt's Config.Keys. It fails as [Read] does, and when the file holds no
// key.
func Load(path string) ([]ginjwt.Key, error) {
	entries, err := Read(path)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("keyfile: %s holds no key", path)
	}
	keys := make([]ginjwt.Key, len(entries))
	for i, e := range entries {
		keys[i] = e.Key
	}
	return keys, nil
}

// Read reads the key file at path. It fails with the file's error (test
// with errors.Is(err, fs.ErrNotExist)) or with [Parse]'s, prefixed with the
// path.
func Read(path string) ([]Entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keyfile: %w", err)
	}
	entries, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return entries, nil
}

// Parse reads the keys of a key file. An empty file has none. It fails,
// naming the key by its position (from 1), on a block of an unknown type, a
// missing Algorithm header that the key cannot imply, a key that does not
// serve its algorithm (see ginjwt.ParseKeyPEM), an HMAC secret shorter than
// its hash, an unreadable Created header, and two keys with one Key-Id.
func Parse(data []byte) ([]Entry, error) {
	var entries []Entry
	seen := map[string]bool{}
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		n := len(entries) + 1
		e, err := parseBlock(block)
		if err != nil {
			return nil, fmt.Errorf("keyfile: key %d: %w", n, err)
		}
		if id := e.Key.ID; id != "" {
			if seen[id] {
				return nil, fmt.Errorf("keyfile: key %d: Key-Id %q is used twice", n, id)
			}
			seen[id] = true
		}
		entries = append(entries, e)
	}
	if len(entries) == 0 && len(bytes.TrimSpace(data)) > 0 {
		return nil, errors.New("keyfile: no PEM block found (an HMAC secret printed by \"ginjwt keys generate\" is not a key file)")
	}
	return entries, nil
}

func parseBlock(block *pem.Block) (Entry, error) {
	var e Entry
	if c := block.Headers[headerCreated]; c != "" {
		t, err := time.Parse(time.RFC3339, c)
		if err != nil {
			return Entry{}, fmt.Errorf("Created header %q is not an RFC 3339 time", c)
		}
		e.Created = t
	}
	alg := block.Headers[headerAlgorithm]
	switch block.Type {
	case hmacBlock:
		if alg == "" {
			return Entry{}, errors.New("an HMAC SECRET needs an Algorithm header (HS256, HS384 or HS512)")
		}
		need := map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}[alg]
		if need == 0 {
			return Entry{}, fmt.Errorf("an HMAC SECRET cannot serve Algorithm %q", alg)
		}
		if len(block.Bytes) < need {
			return Entry{}, fmt.Errorf("the %s secret is %d bytes; it needs at least %d", alg, len(block.Bytes), need)
		}
		e.Key = ginjwt.Key{Algorithm: alg, Secret: slices.Clone(block.Bytes)}
	case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "PUBLIC KEY":
		plain := pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: block.Bytes})
		if alg == "" {
			var err error
			if alg, err = impliedAlgorithm(plain); err != nil {
				return Entry{}, err
			}
		}
		k, err := ginjwt.ParseKeyPEM(alg, plain)
		if err != nil {
			return Entry{}, err
		}
		e.Key = k
	default:
		return Entry{}, fmt.Errorf("unsupported PEM block %q", block.Type)
	}
	e.Key.ID = block.Headers[headerKeyID]
	return e, nil
}

// impliedAlgorithm names the one algorithm an Ed25519, P-256 or P-384 key
// serves.
func impliedAlgorithm(plain []byte) (string, error) {
	for _, alg := range []string{"EdDSA", "ES256", "ES384"} {
		if _, err := ginjwt.ParseKeyPEM(alg, plain); err == nil {
			return alg, nil
		}
	}
	return "", errors.New("no Algorithm header, and the key does not imply one (RSA keys serve RS256 … PS512: add one)")
}

// Marshal writes entries as a key file, in order. A key without an
// Algorithm fails, as does one with neither a secret nor a private or
// public key.
func Marshal(entries []Entry) ([]byte, error) {
	var buf bytes.Buffer
	for i, e := range entries {
		block, err := blockOf(e)
		if err != nil {
			return nil, fmt.Errorf("keyfile: key %d: %w", i+1, err)
		}
		if err := pem.Encode(&buf, block); err != nil {
			return nil, fmt.Errorf("keyfile: key %d: %w", i+1, err)
		}
	}
	return buf.Bytes(), nil
}

func blockOf(e Entry) (*pem.Block, error) {
	k := e.Key
	if k.Algorithm == "" {
		return nil, errors.New("Algorithm is required")
	}
	var block *pem.Block
	if k.Secret != nil {
		block = &pem.Block{Type: hmacBlock, Bytes: k.Secret}
	} else {
		text, err := ginjwt.MarshalKeyPEM(k)
		if err != nil {
			return nil, err
		}
		block, _ = pem.Decode(text)
	}
	block.Headers = map[string]string{headerAlgorithm: k.Algorithm}
	if k.ID != "" {
		block.Headers[headerKeyID] = k.ID
	}
	if !e.Created.IsZero() {
		block.Headers[headerCreated] = e.Created.UTC().Format(time.RFC3339)
	}
	return block, nil
}

// Write replaces the file at path with entries, atomically: it writes a
// new file (mode 0600) beside it and renames it over the old one, so a
// reader sees the old keys or the new, never half of them.
func Write(path string, entries []Entry) error {
	data, err := Marshal(entries)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("keyfile: %w", err)
	}
	defer os.Remove(f.Name()) // after a failure; gone by then otherwise
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("keyfile: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("keyfile: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("keyfile: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("keyfile: %w", err)
	}
	if d, err := os.Open(dir); err == nil { // make the rename durable
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Generate makes a new key for alg (see ginjwt.GenerateKey), created at
// now, with a Key-Id that says its algorithm and day and is unique by a
// random suffix, e.g. "es256-20260301-3f9a1c0d".
func Generate(alg string, now time.Time) (Entry, error) {
	k, err := ginjwt.GenerateKey(alg)
	if err != nil {
		return Entry{}, err
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:]) // never fails since Go 1.24
	now = now.UTC().Truncate(time.Second)
	k.ID = fmt.Sprintf("%s-%s-%s", strings.ToLower(alg), now.Format("20060102"), hex.EncodeToString(suffix[:]))
	return Entry{Key: k, Created: now}, nil
}

// Kind says what an entry's key is, for listings: "HMAC secret",
// "RSA-2048 private key", "P-256 public key", "Ed25519 private key"…
func Kind(e Entry) string {
	k := e.Key
	if k.Secret != nil {
		return "HMAC secret"
	}
	half := "private key"
	pub := k.Public
	if k.Private != nil {
		pub = k.Private.Public()
	} else {
		half = "public key"
	}
	switch p := pub.(type) {
	case ed25519.PublicKey:
		return "Ed25519 " + half
	case *ecdsa.PublicKey:
		return p.Curve.Params().Name + " " + half
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d %s", p.N.BitLen(), half)
	}
	return "key"
}
