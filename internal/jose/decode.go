package jose

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// DecodePayload reads a token payload into w without reflection: the hot
// path of every first-seen token. It accepts what encoding/json accepts
// for Payload — any key order, unknown keys of any shape, null for a
// claim — and is stricter in ways a token ginjwt signed never meets:
// invalid UTF-8, nesting deeper than maxDepth, and a number where a string
// is due are errors; and so is an ambiguous name (see Names.Add): two
// members whose names are equal, exactly or under case folding, or a
// member whose name folds to a standard claim's without being it
// ("USER_ID"). Keys are matched exactly, so with no ambiguity left the
// middleware and any reader of the payload (Claims.Decode, whose
// encoding/json folds case) see the same member for every name.
//
// Strings without escapes are not copied: they point into payload, which
// the parsed Claims keep (Claims.raw) and nothing writes to again.
func DecodePayload(payload []byte, w *Payload) error {
	d := decoder{buf: payload}
	// A standard claim can be given once: one bit each. Any other name
	// must differ from every standard one under case folding ("USER_ID"
	// is refused) and from the other names of the application's own: the
	// tokens ginjwt issues without Extra never compare names at all.
	var known uint32
	var own Names
	return d.object(func(key string) error {
		bit, err := d.claim(key, w)
		if err != nil {
			return err
		}
		if bit == 0 {
			if f := foldClass(key); standardClaim(key, f) || !own.addClass(key, f) {
				return ErrAmbiguous
			}
		} else if known&bit != 0 {
			return ErrAmbiguous
		}
		known |= bit
		return nil
	})
}

// object reads one JSON object and the end of the input: for each member
// it reads the name, then calls value with the decoder positioned at the
// member's value, which value must consume.
func (d *decoder) object(value func(key string) error) error {
	d.space()
	if !d.eat('{') {
		return errNotObject
	}
	d.space()
	if d.eat('}') {
		return d.end()
	}
	for {
		d.space()
		key, err := d.str()
		if err != nil {
			return err
		}
		d.space()
		if !d.eat(':') {
			return errSyntax
		}
		d.space()
		if err := value(key); err != nil {
			return err
		}
		d.space()
		if d.eat(',') {
			continue
		}
		if d.eat('}') {
			return d.end()
		}
		return errSyntax
	}
}

// DecodeHeader reads a JOSE header into h without reflection. Member names
// are matched exactly (RFC 7515 §5.3: "ALG" is not alg) and each may appear
// once (RFC 7515 §4) — once under case folding too (see Names.Add), so no
// reader of the header, whatever its convention, sees another alg. alg, kid
// and typ must be strings. crit, whatever its value, is returned in h.Crit
// for the caller to refuse.
func DecodeHeader(raw []byte, h *Header) error {
	d := decoder{buf: raw}
	var seen Names
	return d.object(func(key string) error {
		if !seen.Add(key) {
			return ErrAmbiguous
		}
		var err error
		switch key {
		case "alg":
			h.Alg, err = d.str()
		case "kid":
			h.Kid, err = d.str()
		case "typ":
			h.Typ, err = d.str()
		default:
			start := d.i
			if err = d.skip(0); err == nil && key == "crit" {
				h.Crit = json.RawMessage(d.buf[start:d.i])
			}
		}
		return err
	})
}

var (
	errNotObject = errors.New("payload is not a JSON object")
	errSyntax    = errors.New("payload is not valid JSON")
	errType      = errors.New("a claim has the wrong type")
	ErrAmbiguous = errors.New("a member name is given twice, or in another case")
)

// maxFastNames is how many member names Names compares pairwise; past it
// they go into a map by their case-folded form.
const maxFastNames = 16

// Names are the member names of one JSON object, read so far.
type Names struct {
	n     int
	mask  uint64             // a bit for each class and length seen: most names skip the loop
	wide  bool               // a name beyond ASCII was seen
	class [maxFastNames]byte // foldClass of each name
	size  [maxFastNames]int  // len of each name
	name  [maxFastNames]string
	folds map[string]struct{} // past maxFastNames: foldKey of every name
}

// add records name and reports whether it differs from every name before
// it under Unicode case folding (strings.EqualFold, the folding
// encoding/json matches struct fields with): "a" after "a" or "A" is
// refused.
func (s *Names) Add(name string) bool { return s.addClass(name, foldClass(name)) }

// addClass is add for a name of class f (foldClass). Two ASCII names fold
// alike only if their first bytes do and their lengths are equal; a name
// beyond ASCII is compared with every other in full.
func (s *Names) addClass(name string, f byte) bool {
	if s.folds != nil {
		k := foldKey(name)
		if _, dup := s.folds[k]; dup {
			return false
		}
		s.folds[k] = struct{}{}
		return true
	}
	bit := uint64(1) << ((uint(f)*7 + uint(len(name))) & 63)
	if s.mask&bit != 0 || s.wide || f >= utf8.RuneSelf {
		for i := 0; i < s.n; i++ {
			if (s.class[i] == f && s.size[i] == len(name) || s.class[i]|f >= utf8.RuneSelf) && strings.EqualFold(s.name[i], name) {
				return false
			}
		}
	}
	s.mask |= bit
	s.wide = s.wide || f >= utf8.RuneSelf
	if s.n == maxFastNames {
		s.folds = make(map[string]struct{}, 2*maxFastNames)
		for _, seen := range s.name {
			s.folds[foldKey(seen)] = struct{}{}
		}
		s.folds[foldKey(name)] = struct{}{}
		return true
	}
	s.class[s.n], s.size[s.n], s.name[s.n] = f, len(name), name
	s.n++
	return true
}

// foldClass is the first byte of an ASCII name in lower case, 0 for "",
// and utf8.RuneSelf for a name with any byte beyond ASCII: such a name may
// fold to one of another length ("\u212A" KELVIN SIGN is "k", "\u017F"
// LONG S is "s").
func foldClass(name string) byte {
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			return utf8.RuneSelf
		}
	}
	if name == "" {
		return 0
	}
	c := name[0]
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// foldKey maps every rune of name to the smallest rune of its case-folding
// orbit, so foldKey(a) == foldKey(b) exactly when strings.EqualFold(a, b).
func foldKey(name string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, name)
}

// standardClaim reports whether key, of class f (foldClass), folds to the
// name of a standard claim (ginjwt's own, StandardClaims) without being it:
// "USER_ID", "Exp". Such a member would be the standard claim to
// encoding/json, not to ginjwt.
func standardClaim(key string, f byte) bool {
	if f < utf8.RuneSelf {
		for _, c := range standardByFirst[f] {
			if len(c) == len(key) && c != key && strings.EqualFold(c, key) {
				return true
			}
		}
		return false
	}
	for _, c := range StandardClaims {
		if strings.EqualFold(c, key) {
			return true
		}
	}
	return false
}

// standardByFirst are the standard claim names by their first byte.
var standardByFirst = func() (by [utf8.RuneSelf][]string) {
	for _, c := range StandardClaims {
		by[foldClass(c)] = append(by[foldClass(c)], c)
	}
	return by
}()

// maxDepth bounds the nesting of unknown claims a payload may carry.
const maxDepth = 32

type decoder struct {
	buf []byte
	i   int
}

func (d *decoder) space() {
	for d.i < len(d.buf) {
		switch d.buf[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) eat(c byte) bool {
	if d.i < len(d.buf) && d.buf[d.i] == c {
		d.i++
		return true
	}
	return false
}

// end accepts only white space after the object.
func (d *decoder) end() error {
	d.space()
	if d.i != len(d.buf) {
		return errSyntax
	}
	return nil
}

// null consumes a null literal, reporting whether there was one.
func (d *decoder) null() bool {
	if len(d.buf)-d.i >= 4 && string(d.buf[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// claim reads the value of key into w, or skips it when the key is not
// one of Payload'. It returns which claim it read, one bit each, or 0
// for a key of the application's own.
func (d *decoder) claim(key string, w *Payload) (uint32, error) {
	var err error
	var bit uint32
	switch key {
	case "jti":
		bit, err = 1<<0, d.strInto(&w.JTI)
	case "sid":
		bit, err = 1<<1, d.strInto(&w.SID)
	case "token_type":
		bit = 1 << 2
		var s string
		if !d.null() {
			if s, err = d.str(); err == nil {
				w.Type = s
			}
		}
	case "iat":
		bit, err = 1<<3, d.numInto(&w.IAT)
	case "exp":
		bit, err = 1<<4, d.numInto(&w.EXP)
	case "nbf":
		bit, err = 1<<5, d.numInto(&w.NBF)
	case "refresh_exp":
		bit, err = 1<<6, d.numInto(&w.RefreshEXP)
	case "gen":
		bit, err = 1<<7, d.numInto(&w.Gen)
	case "iss":
		bit, err = 1<<8, d.strInto(&w.ISS)
	case "sub":
		bit, err = 1<<9, d.strInto(&w.SUB)
	case "user_id":
		bit, err = 1<<10, d.strInto(&w.UserID)
	case "username":
		bit, err = 1<<11, d.strInto(&w.Username)
	case "aud":
		bit = 1 << 12
		if d.i < len(d.buf) && d.buf[d.i] == '"' {
			var s string
			if s, err = d.str(); err == nil {
				w.AUD = Audience{s}
			}
		} else {
			var list []string
			if list, err = d.strings(); err == nil {
				w.AUD = list
			}
		}
	case "perms":
		bit = 1 << 13
		var list []string
		if list, err = d.strings(); err == nil {
			w.Perms = list
		}
	case "staff":
		bit, err = 1<<14, d.boolInto(&w.Staff)
	case "superuser":
		bit, err = 1<<15, d.boolInto(&w.Superuser)
	default:
		err = d.skip(0)
	}
	return bit, err
}

func (d *decoder) strInto(dst *string) error {
	if d.null() {
		return nil
	}
	s, err := d.str()
	if err == nil {
		*dst = s
	}
	return err
}

func (d *decoder) boolInto(dst *bool) error {
	switch {
	case d.null():
	case len(d.buf)-d.i >= 4 && string(d.buf[d.i:d.i+4]) == "true":
		d.i += 4
		*dst = true
	case len(d.buf)-d.i >= 5 && string(d.buf[d.i:d.i+5]) == "false":
		d.i += 5
		*dst = false
	default:
		return errType
	}
	return nil
}

func (d *decoder) numInto(dst *float64) error {
	if d.null() {
		return nil
	}
	start := d.i
	if err := d.number(); err != nil {
		return err
	}
	lit := d.buf[start:d.i]
	if f, ok := simpleNumber(lit); ok {
		*dst = f
		return nil
	}
	f, err := strconv.ParseFloat(unsafe.String(&lit[0], len(lit)), 64)
	if err != nil {
		return errType // out of range for a float64
	}
	*dst = f
	return nil
}

// simpleNumber reads the numbers tokens carry — an integer of up to 15
// digits, or of up to 12 with up to 3 decimals — exactly and without
// strconv; ok is false for any other shape, which ParseFloat then reads.
func simpleNumber(lit []byte) (float64, bool) {
	var whole, frac int64
	i, digits := 0, 0
	for ; i < len(lit) && lit[i] >= '0' && lit[i] <= '9'; i++ {
		whole = whole*10 + int64(lit[i]-'0')
		digits++
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	if i == len(lit) {
		return float64(whole), true
	}
	// whole·1000 + frac must stay below 2^53 to be exact in a float64.
	if lit[i] != '.' || len(lit)-i-1 > 3 || len(lit)-i-1 == 0 || digits > 12 {
		return 0, false
	}
	scale := int64(1)
	for i++; i < len(lit); i++ {
		if lit[i] < '0' || lit[i] > '9' {
			return 0, false
		}
		frac = frac*10 + int64(lit[i]-'0')
		scale *= 10
	}
	// whole*scale+frac is exact in an int64 and the division rounds once,
	// as ParseFloat does.
	return float64(whole*scale+frac) / float64(scale), true
}

// number consumes a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) number() error {
	d.eat('-')
	switch {
	case d.eat('0'):
	case d.i < len(d.buf) && d.buf[d.i] >= '1' && d.buf[d.i] <= '9':
		d.digits()
	default:
		return errType
	}
	if d.eat('.') {
		if d.digits() == 0 {
			return errSyntax
		}
	}
	if d.i < len(d.buf) && (d.buf[d.i] == 'e' || d.buf[d.i] == 'E') {
		d.i++
		if !d.eat('+') {
			d.eat('-')
		}
		if d.digits() == 0 {
			return errSyntax
		}
	}
	return nil
}

func (d *decoder) digits() int {
	start := d.i
	for d.i < len(d.buf) && d.buf[d.i] >= '0' && d.buf[d.i] <= '9' {
		d.i++
	}
	return d.i - start
}

// strings reads an array of strings, or null (a nil slice).
func (d *decoder) strings() ([]string, error) {
	if d.null() {
		return nil, nil
	}
	if !d.eat('[') {
		return nil, errType
	}
	out := []string{}
	d.space()
	if d.eat(']') {
		return out, nil
	}
	for {
		d.space()
		s := ""
		if !d.null() {
			var err error
			if s, err = d.str(); err != nil {
				return nil, err
			}
		}
		out = append(out, s)
		d.space()
		if d.eat(',') {
			continue
		}
		if d.eat(']') {
			return out, nil
		}
		return nil, errSyntax
	}
}

// str reads a JSON string. Without escapes it shares the buffer's bytes.
func (d *decoder) str() (string, error) {
	if !d.eat('"') {
		return "", errType
	}
	start := d.i
	for d.i < len(d.buf) {
		c := d.buf[d.i]
		switch {
		case c == '"':
			raw := d.buf[start:d.i]
			d.i++
			if !utf8.Valid(raw) {
				return "", errSyntax
			}
			if len(raw) == 0 {
				return "", nil
			}
			return unsafe.String(&raw[0], len(raw)), nil
		case c == '\\':
			return d.unescape(start)
		case c < 0x20:
			return "", errSyntax
		}
		d.i++
	}
	return "", errSyntax
}

// unescape finishes a string that has escapes, from its start, into a new
// string. Lone surrogates become U+FFFD, as encoding/json has them.
func (d *decoder) unescape(start int) (string, error) {
	out := make([]byte, 0, d.i-start+16)
	out = append(out, d.buf[start:d.i]...)
	for d.i < len(d.buf) {
		c := d.buf[d.i]
		switch {
		case c == '"':
			d.i++
			if !utf8.Valid(out) {
				return "", errSyntax
			}
			return string(out), nil
		case c < 0x20:
			return "", errSyntax
		case c != '\\':
			out = append(out, c)
			d.i++
			continue
		}
		d.i++
		if d.i >= len(d.buf) {
			return "", errSyntax
		}
		esc := d.buf[d.i]
		d.i++
		switch esc {
		case '"', '\\', '/':
			out = append(out, esc)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return "", errSyntax
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(d.buf)-d.i >= 6 && d.buf[d.i] == '\\' && d.buf[d.i+1] == 'u' {
					save := d.i
					d.i += 2
					if second, ok := d.hex4(); ok {
						r2 = second
					} else {
						d.i = save
					}
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
				} else {
					if r2 >= 0 {
						d.i -= 6 // the second escape stands on its own
					}
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", errSyntax
		}
	}
	return "", errSyntax
}

func (d *decoder) hex4() (rune, bool) {
	if len(d.buf)-d.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d.buf[d.i : d.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	d.i += 4
	return r, true
}

// skip consumes any JSON value, checking its syntax, at most maxDepth deep.
func (d *decoder) skip(depth int) error {
	if depth > maxDepth {
		return errSyntax
	}
	if d.i >= len(d.buf) {
		return errSyntax
	}
	switch c := d.buf[d.i]; {
	case c == '"':
		_, err := d.str()
		return err
	case c == '{':
		d.i++
		d.space()
		if d.eat('}') {
			return nil
		}
		for {
			d.space()
			if _, err := d.str(); err != nil {
				return errSyntax
			}
			d.space()
			if !d.eat(':') {
				return errSyntax
			}
			d.space()
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			d.space()
			if d.eat(',') {
				continue
			}
			if d.eat('}') {
				return nil
			}
			return errSyntax
		}
	case c == '[':
		d.i++
		d.space()
		if d.eat(']') {
			return nil
		}
		for {
			d.space()
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			d.space()
			if d.eat(',') {
				continue
			}
			if d.eat(']') {
				return nil
			}
			return errSyntax
		}
	case c == 't' || c == 'f':
		var b bool
		return d.boolInto(&b)
	case c == 'n':
		if d.null() {
			return nil
		}
		return errSyntax
	default:
		if err := d.number(); err != nil {
			return errSyntax
		}
		return nil
	}
}
