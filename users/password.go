package users

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// MaxPasswordLen is the longest password accepted, in bytes. Longer (or
// empty) passwords are refused by [HashPassword] with [ErrInvalidPassword]
// and never match in [CheckPassword].
const MaxPasswordLen = 1024

// Limits on argon2id parameters. [HashPassword] refuses to produce, and
// [CheckPassword] refuses to verify, anything outside them, so a hostile
// stored hash cannot make a login allocate gigabytes or spin for minutes.
const (
	MaxMemory     = 1 << 20 // KiB: 1 GiB
	MaxIterations = 100
	MinSaltLength = 8
	MaxSaltLength = 1024
	MinKeyLength  = 16
	MaxKeyLength  = 1024
	// MaxBcryptCost is the highest bcrypt cost [CheckPassword] verifies
	// (cost 16 is 65536 rounds, about four seconds).
	MaxBcryptCost = 16
)

// Params are the argon2id parameters of new hashes. A zero field means the
// field of [DefaultParams].
type Params struct {
	// Memory is the memory cost in KiB. Default 19456 (19 MiB).
	Memory uint32
	// Iterations is the time cost (passes over memory). Default 2.
	Iterations uint32
	// Parallelism is the number of lanes (and goroutines). Default 1.
	Parallelism uint8
	// SaltLength is the length of the random salt, in bytes. Default 16.
	SaltLength uint32
	// KeyLength is the length of the derived key, in bytes. Default 32.
	KeyLength uint32
}

// DefaultParams are OWASP's recommended argon2id parameters:
// m=19456 KiB (19 MiB), t=2, p=1, with a 16-byte salt and a 32-byte key.
var DefaultParams = Params{
	Memory:      19456,
	Iterations:  2,
	Parallelism: 1,
	SaltLength:  16,
	KeyLength:   32,
}

// WithDefaults returns p with each zero field replaced by the field of
// [DefaultParams].
func (p Params) WithDefaults() Params {
	if p.Memory == 0 {
		p.Memory = DefaultParams.Memory
	}
	if p.Iterations == 0 {
		p.Iterations = DefaultParams.Iterations
	}
	if p.Parallelism == 0 {
		p.Parallelism = DefaultParams.Parallelism
	}
	if p.SaltLength == 0 {
		p.SaltLength = DefaultParams.SaltLength
	}
	if p.KeyLength == 0 {
		p.KeyLength = DefaultParams.KeyLength
	}
	return p
}

// Validate reports, wrapping [ErrInvalidParams], whether p (with defaults
// filled in) lies outside the limits: memory from 8×Parallelism KiB to
// [MaxMemory], at most [MaxIterations], salt of [MinSaltLength] to
// [MaxSaltLength] bytes, key of [MinKeyLength] to [MaxKeyLength] bytes.
// It does not judge strength: small values are allowed, for tests.
func (p Params) Validate() error {
	p = p.WithDefaults()
	switch {
	case p.Memory < 8*uint32(p.Parallelism) || p.Memory > MaxMemory:
		return fmt.Errorf("%w: memory %d KiB not in [%d, %d]", ErrInvalidParams, p.Memory, 8*uint32(p.Parallelism), MaxMemory)
	case p.Iterations > MaxIterations:
		return fmt.Errorf("%w: iterations %d above %d", ErrInvalidParams, p.Iterations, MaxIterations)
	case p.SaltLength < MinSaltLength || p.SaltLength > MaxSaltLength:
		return fmt.Errorf("%w: salt length %d not in [%d, %d]", ErrInvalidParams, p.SaltLength, MinSaltLength, MaxSaltLength)
	case p.KeyLength < MinKeyLength || p.KeyLength > MaxKeyLength:
		return fmt.Errorf("%w: key length %d not in [%d, %d]", ErrInvalidParams, p.KeyLength, MinKeyLength, MaxKeyLength)
	}
	return nil
}

// HashPassword hashes password with argon2id and a fresh random salt, and
// returns it in PHC string format:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with salt and key in unpadded standard base64. Zero fields of p take their
// defaults. It fails with [ErrInvalidPassword] for an empty password or one
// longer than [MaxPasswordLen], and with [ErrInvalidParams] when p fails
// [Params.Validate].
func HashPassword(password string, p Params) (string, error) {
	if !validPassword(password) {
		return "", ErrInvalidPassword
	}
	p = p.WithDefaults()
	if err := p.Validate(); err != nil {
		return "", err
	}
	return hashArgon2id(password, p), nil
}

// hashArgon2id hashes password with p, already validated.
func hashArgon2id(password string, p Params) string {
	salt := make([]byte, p.SaltLength)
	_, _ = rand.Read(salt) // never fails since Go 1.24
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLength)
	return encodePHC(phc{params: p, salt: salt, key: key})
}

// CheckPassword reports whether password matches encoded, a hash made by
// [HashPassword] (argon2id, parameters read from the string) or by bcrypt
// ("$2a$", "$2b$" or "$2y$"; bcrypt looks at the first 72 bytes only).
// Keys are compared in constant time.
//
// A wrong password is (false, nil); so is an empty password or one longer
// than [MaxPasswordLen], whatever the hash. An unrecognised format fails with
// [ErrUnknownHash]; a damaged hash, or one whose parameters exceed the
// limits ([MaxMemory], [MaxIterations], [MaxKeyLength], [MaxBcryptCost]…),
// with [ErrMalformedHash]. It never panics on hostile input.
func CheckPassword(encoded, password string) (bool, error) {
	switch {
	case strings.HasPrefix(encoded, "$argon2"):
		h, err := parsePHC(encoded)
		if err != nil {
			return false, err
		}
		if !validPassword(password) {
			return false, nil
		}
		key := argon2.IDKey([]byte(password), h.salt, h.params.Iterations, h.params.Memory, h.params.Parallelism, uint32(len(h.key)))
		return subtle.ConstantTimeCompare(key, h.key) == 1, nil
	case isBcrypt(encoded):
		return checkBcrypt(encoded, password)
	}
	return false, ErrUnknownHash
}

// NeedsRehash reports whether encoded should be replaced by a fresh
// [HashPassword] with p: true for bcrypt, for argon2id with any parameter
// (memory, iterations, parallelism, salt or key length) other than p's, and
// for anything unrecognised or malformed.
func NeedsRehash(encoded string, p Params) bool {
	h, err := parsePHC(encoded)
	if err != nil {
		return true
	}
	return h.params != p.WithDefaults()
}

func validPassword(password string) bool {
	return password != "" && len(password) <= MaxPasswordLen
}

func isBcrypt(encoded string) bool {
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		if strings.HasPrefix(encoded, prefix) {
			return true
		}
	}
	return false
}

func checkBcrypt(encoded, password string) (bool, error) {
	cost, err := bcrypt.Cost([]byte(encoded))
	if err != nil {
		return false, fmt.Errorf("%w: bcrypt: %w", ErrMalformedHash, err)
	}
	if cost > MaxBcryptCost {
		return false, fmt.Errorf("%w: bcrypt cost %d above %d", ErrMalformedHash, cost, MaxBcryptCost)
	}
	if !validPassword(password) {
		return false, nil
	}
	err = bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	}
	return false, fmt.Errorf("%w: bcrypt: %w", ErrMalformedHash, err)
}
