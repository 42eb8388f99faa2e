// Package jose is ginjwt's token codec: the JSON forms of a token's
// payload ([Payload]) and JOSE header ([Header]), and their strict,
// reflection-free decoders ([DecodePayload], [DecodeHeader]). Strict means
// that a name given twice, or twice under case folding, or folding to a
// standard claim's name without being it, is refused ([ErrAmbiguous]), so
// that ginjwt and any other reader of a token see the same member for every
// name. Signing keys and the verification of signatures are the root
// package's (keys.go, tokens.go).
package jose
