package users

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// phc is a decoded argon2id hash in PHC string format. params.SaltLength and
// params.KeyLength are the lengths of salt and key.
type phc struct {
	params Params
	salt   []byte
	key    []byte
}

var b64 = base64.RawStdEncoding.Strict()

// encodePHC writes h as "$argon2id$v=19$m=…,t=…,p=…$<salt>$<key>".
func encodePHC(h phc) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.params.Memory, h.params.Iterations, h.params.Parallelism,
		b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

// parsePHC decodes an argon2id PHC string strictly: version 19, parameters
// m, t and p in that order, each within the limits of [Params.Validate].
// It fails with [ErrUnknownHash] for another algorithm or version and with
// [ErrMalformedHash] for anything damaged or out of bounds.
func parsePHC(encoded string) (phc, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) < 2 || parts[0] != "" || parts[1] != "argon2id" {
		return phc{}, ErrUnknownHash
	}
	if len(parts) != 6 {
		return phc{}, fmt.Errorf("%w: argon2id: want 5 fields, got %d", ErrMalformedHash, len(parts)-1)
	}
	if parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return phc{}, fmt.Errorf("%w: argon2id version %q (want v=%d)", ErrUnknownHash, parts[2], argon2.Version)
	}
	p, err := parseParams(parts[3])
	if err != nil {
		return phc{}, err
	}
	salt, err := decodeField("salt", parts[4], MinSaltLength, MaxSaltLength)
	if err != nil {
		return phc{}, err
	}
	key, err := decodeField("key", parts[5], MinKeyLength, MaxKeyLength)
	if err != nil {
		return phc{}, err
	}
	p.SaltLength, p.KeyLength = uint32(len(salt)), uint32(len(key))
	if err := p.Validate(); err != nil {
		return phc{}, fmt.Errorf("%w: %w", ErrMalformedHash, err)
	}
	return phc{params: p, salt: salt, key: key}, nil
}

// parseParams reads "m=<KiB>,t=<iterations>,p=<lanes>", all required, in
// that order, each a positive decimal.
func parseParams(s string) (Params, error) {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return Params{}, fmt.Errorf("%w: argon2id parameters %q: want m=,t=,p=", ErrMalformedHash, s)
	}
	var vals [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		num, ok := strings.CutPrefix(fields[i], name+"=")
		if !ok {
			return Params{}, fmt.Errorf("%w: argon2id parameter %d: want %s=", ErrMalformedHash, i+1, name)
		}
		v, err := strconv.ParseUint(num, 10, 32)
		if err != nil || v == 0 {
			return Params{}, fmt.Errorf("%w: argon2id parameter %s: not a positive 32-bit number", ErrMalformedHash, name)
		}
		vals[i] = v
	}
	if vals[2] > 255 {
		return Params{}, fmt.Errorf("%w: argon2id parallelism %d above 255", ErrMalformedHash, vals[2])
	}
	return Params{Memory: uint32(vals[0]), Iterations: uint32(vals[1]), Parallelism: uint8(vals[2])}, nil
}

// decodeField decodes unpadded base64 of min to max bytes, checking the
// encoded length before decoding anything.
func decodeField(name, s string, minLen, maxLen int) ([]byte, error) {
	if len(s) < b64.EncodedLen(minLen) || len(s) > b64.EncodedLen(maxLen) {
		return nil, fmt.Errorf("%w: argon2id %s length not in [%d, %d] bytes", ErrMalformedHash, name, minLen, maxLen)
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: argon2id %s: bad base64", ErrMalformedHash, name)
	}
	return b, nil
}
