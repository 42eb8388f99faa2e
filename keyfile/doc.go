// Package keyfile keeps ginjwt's signing keys in one file, so keys can be
// rotated without logging anyone out: a new key signs new tokens while the
// older ones keep verifying the tokens they signed.
//
//	keys, err := keyfile.Load("/etc/myapp/jwt-keys.pem")
//	if err != nil { … }
//	auth, err := ginjwt.Mount(r, ginjwt.Config{Keys: keys, …})
//
// The ginjwt command writes these files ("ginjwt keys rotate -file F") and
// lists them ("ginjwt keys list -file F").
//
// # Format
//
// A key file is a sequence of PEM blocks, one key each, in the order of
// ginjwt's Config.Keys: the first key signs new tokens, every key verifies.
// Text outside the blocks is ignored.
//
//	-----BEGIN PRIVATE KEY-----
//	Algorithm: ES256
//	Key-Id: es256-20260301-3f9a1c0d
//	Created: 2026-03-01T12:00:00Z
//
//	MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg…
//	-----END PRIVATE KEY-----
//
// Block types: "PRIVATE KEY" (PKCS #8), "RSA PRIVATE KEY" (PKCS #1) and
// "EC PRIVATE KEY" (SEC 1) sign and verify; "PUBLIC KEY" (PKIX) only
// verifies; "HMAC SECRET" holds the raw secret of an HS256, HS384 or HS512
// key.
//
// Headers:
//   - Algorithm: one of ginjwt.Algorithms(). It may be left out for an
//     Ed25519 key (EdDSA), a P-256 key (ES256) and a P-384 key (ES384), so
//     the plain PEM that "ginjwt keys generate -out" writes is a key file of
//     one key; RSA and HMAC keys need it, since the key does not say which
//     algorithm it serves.
//   - Key-Id: the kid of the tokens the key signs. Without it ginjwt derives
//     the kid from the key material.
//   - Created: when the key was made (RFC 3339), for people.
//
// The file holds private keys: [Write] makes it readable by its owner only
// (mode 0600) and replaces it atomically, so a service reading it never
// sees half a file.
package keyfile
