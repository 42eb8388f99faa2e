package ginjwt

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"strings"
)

// A session's tokens are stored packed: the segments of both tokens
// decoded from base64url (a quarter smaller) and compressed together (the
// two payloads repeat the same user claims). A cookie store encodes its
// value in base64 twice over: stored as text, the two tokens of a user with
// ten permissions took 3.3 KB of the 4 KB a cookie may hold, and twenty did
// not fit.

// maxPacked bounds what unpacking a session's tokens may produce: twice
// ginjwt's longest token.
const maxPacked = 4 * maxTokenLen

var errBadPack = errors.New("ginjwt: the session's tokens are malformed")

// packTokens packs the tokens (JWS compact serializations) for a session.
func packTokens(tokens ...string) ([]byte, error) {
	var raw []byte
	for _, tok := range tokens {
		segs := strings.Split(tok, ".")
		if len(segs) != 3 {
			return nil, errBadPack
		}
		for _, seg := range segs {
			b, err := base64.RawURLEncoding.Strict().DecodeString(seg)
			if err != nil {
				return nil, errBadPack
			}
			raw = binary.AppendUvarint(raw, uint64(len(b)))
			raw = append(raw, b...)
		}
	}
	var out bytes.Buffer
	w, _ := flate.NewWriter(&out, flate.BestCompression) // a valid level: no error
	_, _ = w.Write(raw)                                  // into a bytes.Buffer: no error
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// unpackTokens undoes packTokens: n tokens, each segment encoded again as
// base64url without padding, as a JWS compact serialization has it.
func unpackTokens(packed []byte, n int) ([]string, error) {
	in := bytes.NewReader(packed) // an io.ByteReader: flate reads no further than its stream
	raw, err := io.ReadAll(io.LimitReader(flate.NewReader(in), maxPacked+1))
	if err != nil || len(raw) > maxPacked || in.Len() != 0 {
		return nil, errBadPack
	}
	tokens := make([]string, 0, n)
	for range n {
		var tok strings.Builder
		for i := range 3 {
			size, k := binary.Uvarint(raw)
			if k <= 0 || size > uint64(len(raw)-k) {
				return nil, errBadPack
			}
			if i > 0 {
				tok.WriteByte('.')
			}
			tok.WriteString(base64.RawURLEncoding.EncodeToString(raw[k : k+int(size)]))
			raw = raw[k+int(size):]
		}
		tokens = append(tokens, tok.String())
	}
	if len(raw) != 0 {
		return nil, errBadPack
	}
	return tokens, nil
}
