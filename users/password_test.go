package users

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// fastParams keep the suite fast; the defaults are tested on their own.
var fastParams = Params{Memory: 64, Iterations: 1, Parallelism: 1}

func mustHash(t testing.TB, password string, p Params) string {
	t.Helper()
	h, err := HashPassword(password, p)
	if err != nil {
		t.Fatalf("HashPassword: %v", err)
	}
	return h
}

func TestHashPasswordRoundtrip(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, password string }{
		{"ascii", "correct horse battery staple"},
		{"one byte", "x"},
		{"unicode", "pässwörd-密码-🔑"},
		{"max length", strings.Repeat("a", MaxPasswordLen)},
		{"spaces kept", "  padded  "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			encoded := mustHash(t, tt.password, fastParams)
			if !strings.HasPrefix(encoded, "$argon2id$v=19$m=64,t=1,p=1$") {
				t.Fatalf("hash %q lacks the PHC prefix", encoded)
			}
			ok, err := CheckPassword(encoded, tt.password)
			if err != nil || !ok {
				t.Fatalf("CheckPassword(right) = %v, %v; want true, nil", ok, err)
			}
			ok, err = CheckPassword(encoded, tt.password+"!")
			if err != nil || ok {
				t.Fatalf("CheckPassword(wrong) = %v, %v; want false, nil", ok, err)
			}
			if strings.TrimSpace(tt.password) != tt.password {
				if ok, _ := CheckPassword(encoded, strings.TrimSpace(tt.password)); ok {
					t.Fatal("trimmed password matched")
				}
			}
			if NeedsRehash(encoded, fastParams) {
				t.Fatal("NeedsRehash with the params it was made with = true")
			}
		})
	}
}

func TestHashPasswordDefaults(t *testing.T) {
	t.Parallel()
	for _, p := range []Params{{}, DefaultParams} {
		encoded := mustHash(t, "pw", p)
		if !strings.HasPrefix(encoded, "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Fatalf("HashPassword(%+v) = %q; want OWASP defaults", p, encoded)
		}
		h, err := parsePHC(encoded)
		if err != nil {
			t.Fatal(err)
		}
		if len(h.salt) != 16 || len(h.key) != 32 {
			t.Fatalf("salt %d bytes, key %d bytes; want 16 and 32", len(h.salt), len(h.key))
		}
		if h.params != DefaultParams {
			t.Fatalf("parsed params %+v; want %+v", h.params, DefaultParams)
		}
	}
}

func TestHashPasswordSalted(t *testing.T) {
	t.Parallel()
	a, b := mustHash(t, "same", fastParams), mustHash(t, "same", fastParams)
	if a == b {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestHashPasswordErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		password string
		params   Params
		want     error
	}{
		{"empty password", "", fastParams, ErrInvalidPassword},
		{"password too long", strings.Repeat("a", MaxPasswordLen+1), fastParams, ErrInvalidPassword},
		{"memory above 1 GiB", "pw", Params{Memory: MaxMemory + 1}, ErrInvalidParams},
		{"memory below 8 per lane", "pw", Params{Memory: 15, Parallelism: 2}, ErrInvalidParams},
		{"iterations above 100", "pw", Params{Memory: 64, Iterations: 101}, ErrInvalidParams},
		{"salt too short", "pw", Params{Memory: 64, SaltLength: 4}, ErrInvalidParams},
		{"salt too long", "pw", Params{Memory: 64, SaltLength: 1025}, ErrInvalidParams},
		{"key too short", "pw", Params{Memory: 64, KeyLength: 8}, ErrInvalidParams},
		{"key too long", "pw", Params{Memory: 64, KeyLength: 1025}, ErrInvalidParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := HashPassword(tt.password, tt.params)
			if !errors.Is(err, tt.want) || got != "" {
				t.Fatalf("HashPassword = %q, %v; want \"\", %v", got, err, tt.want)
			}
		})
	}
}

func TestParamsWithDefaults(t *testing.T) {
	t.Parallel()
	got := Params{Memory: 64, KeyLength: 64}.WithDefaults()
	want := Params{Memory: 64, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 64}
	if got != want {
		t.Fatalf("WithDefaults = %+v; want %+v", got, want)
	}
	if (Params{}).WithDefaults() != DefaultParams {
		t.Fatal("zero Params do not mean DefaultParams")
	}
	if err := (Params{}).Validate(); err != nil {
		t.Fatalf("DefaultParams fail Validate: %v", err)
	}
}

func TestCheckPasswordBcrypt(t *testing.T) {
	t.Parallel()
	raw, err := bcrypt.GenerateFromPassword([]byte("hunter2"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		t.Run(prefix, func(t *testing.T) {
			t.Parallel()
			encoded := prefix + string(raw[4:])
			if ok, err := CheckPassword(encoded, "hunter2"); err != nil || !ok {
				t.Fatalf("right password = %v, %v; want true, nil", ok, err)
			}
			if ok, err := CheckPassword(encoded, "hunter3"); err != nil || ok {
				t.Fatalf("wrong password = %v, %v; want false, nil", ok, err)
			}
			if !NeedsRehash(encoded, fastParams) {
				t.Fatal("NeedsRehash(bcrypt) = false")
			}
		})
	}
}

func TestCheckPasswordRefusesUnusablePasswords(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", MaxPasswordLen+1)
	emptyBcrypt, err := bcrypt.GenerateFromPassword(nil, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, encoded, password string }{
		{"empty vs argon2id", mustHash(t, "x", fastParams), ""},
		{"empty vs bcrypt of empty", string(emptyBcrypt), ""},
		{"too long vs argon2id", hashArgon2id(long, fastParams.WithDefaults()), long},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if ok, err := CheckPassword(tt.encoded, tt.password); ok || err != nil {
				t.Fatalf("CheckPassword = %v, %v; want false, nil", ok, err)
			}
		})
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	t.Parallel()
	valid := mustHash(t, "pw", fastParams)
	f := strings.Split(valid, "$") // "", argon2id, v=19, m=64,t=1,p=1, salt, key
	salt, key := f[4], f[5]
	phcOf := func(version, params, salt, key string) string {
		return "$argon2id$" + version + "$" + params + "$" + salt + "$" + key
	}
	good := "m=64,t=1,p=1"
	bc, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, encoded string
		want          error
	}{
		{"empty", "", ErrUnknownHash},
		{"plain text", "pw", ErrUnknownHash},
		{"argon2i", strings.Replace(valid, "argon2id", "argon2i", 1), ErrUnknownHash},
		{"argon2d", strings.Replace(valid, "argon2id", "argon2d", 1), ErrUnknownHash},
		{"scrypt", "$scrypt$ln=16,r=8,p=1$" + salt + "$" + key, ErrUnknownHash},
		{"md5crypt", "$1$saltsalt$hash", ErrUnknownHash},
		{"no leading dollar", strings.TrimPrefix(valid, "$"), ErrUnknownHash},
		{"version 18", phcOf("v=18", good, salt, key), ErrUnknownHash},
		{"version missing", "$argon2id$" + good + "$" + salt + "$" + key, ErrMalformedHash},
		{"version garbage", phcOf("v=x", good, salt, key), ErrUnknownHash},
		{"only the name", "$argon2id", ErrMalformedHash},
		{"key missing", "$argon2id$v=19$" + good + "$" + salt, ErrMalformedHash},
		{"extra field", valid + "$" + key, ErrMalformedHash},
		{"trailing dollar", valid + "$", ErrMalformedHash},
		{"empty key", phcOf("v=19", good, salt, ""), ErrMalformedHash},
		{"empty salt", phcOf("v=19", good, "", key), ErrMalformedHash},
		{"p missing", phcOf("v=19", "m=64,t=1", salt, key), ErrMalformedHash},
		{"params empty", phcOf("v=19", "", salt, key), ErrMalformedHash},
		{"params reordered", phcOf("v=19", "t=1,m=64,p=1", salt, key), ErrMalformedHash},
		{"extra param", phcOf("v=19", good+",k=1", salt, key), ErrMalformedHash},
		{"memory huge", phcOf("v=19", "m=2097152,t=1,p=1", salt, key), ErrMalformedHash},
		{"memory overflows 32 bits", phcOf("v=19", "m=99999999999,t=1,p=1", salt, key), ErrMalformedHash},
		{"memory negative", phcOf("v=19", "m=-64,t=1,p=1", salt, key), ErrMalformedHash},
		{"memory plus sign", phcOf("v=19", "m=+64,t=1,p=1", salt, key), ErrMalformedHash},
		{"memory zero", phcOf("v=19", "m=0,t=1,p=1", salt, key), ErrMalformedHash},
		{"memory below 8 per lane", phcOf("v=19", "m=8,t=1,p=2", salt, key), ErrMalformedHash},
		{"iterations non-numeric", phcOf("v=19", "m=64,t=abc,p=1", salt, key), ErrMalformedHash},
		{"iterations zero", phcOf("v=19", "m=64,t=0,p=1", salt, key), ErrMalformedHash},
		{"iterations huge", phcOf("v=19", "m=64,t=101,p=1", salt, key), ErrMalformedHash},
		{"parallelism 256", phcOf("v=19", "m=4096,t=1,p=256", salt, key), ErrMalformedHash},
		{"parallelism zero", phcOf("v=19", "m=64,t=1,p=0", salt, key), ErrMalformedHash},
		{"salt bad base64", phcOf("v=19", good, "!!!!!!!!!!!!!!!!!!!!!!", key), ErrMalformedHash},
		{"salt padded", phcOf("v=19", good, salt+"==", key), ErrMalformedHash},
		{"key bad base64", phcOf("v=19", good, salt, strings.Repeat("*", len(key))), ErrMalformedHash},
		{"key url alphabet", phcOf("v=19", good, salt, strings.Repeat("-_", len(key)/2)), ErrMalformedHash},
		{"salt too short", phcOf("v=19", good, "c2FsdA", key), ErrMalformedHash},
		{"key too short", phcOf("v=19", good, salt, "a2V5a2V5"), ErrMalformedHash},
		{"key too long", phcOf("v=19", good, salt, strings.Repeat("A", 2000)), ErrMalformedHash},
		{"bcrypt truncated", string(bc[:20]), ErrMalformedHash},
		{"bcrypt cost garbage", "$2a$xx$" + string(bc[7:]), ErrMalformedHash},
		{"bcrypt cost too high", "$2b$17$" + string(bc[7:]), ErrMalformedHash},
		{"bcrypt cost 99", "$2b$99$" + string(bc[7:]), ErrMalformedHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, err := CheckPassword(tt.encoded, "pw")
			if ok || !errors.Is(err, tt.want) {
				t.Fatalf("CheckPassword(%q) = %v, %v; want false, %v", tt.encoded, ok, err, tt.want)
			}
			if !NeedsRehash(tt.encoded, fastParams) {
				t.Fatalf("NeedsRehash(%q) = false for an unusable hash", tt.encoded)
			}
		})
	}
	if ok, err := CheckPassword(valid, "pw"); !ok || err != nil {
		t.Fatalf("the untampered hash no longer verifies: %v, %v", ok, err)
	}
}

func TestNeedsRehash(t *testing.T) {
	t.Parallel()
	current := fastParams.WithDefaults()
	encoded := mustHash(t, "pw", current)
	with := func(change func(*Params)) Params {
		p := current
		change(&p)
		return p
	}
	tests := []struct {
		name   string
		params Params
		want   bool
	}{
		{"same params", current, false},
		{"same params, zero fields defaulted", Params{Memory: 64, Iterations: 1}, false},
		{"more memory", with(func(p *Params) { p.Memory = 128 }), true},
		{"more iterations", with(func(p *Params) { p.Iterations = 3 }), true},
		{"more lanes", with(func(p *Params) { p.Parallelism = 2 }), true},
		{"longer salt", with(func(p *Params) { p.SaltLength = 32 }), true},
		{"longer key", with(func(p *Params) { p.KeyLength = 64 }), true},
		{"defaults", Params{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := NeedsRehash(encoded, tt.params); got != tt.want {
				t.Fatalf("NeedsRehash(%q, %+v) = %v; want %v", encoded, tt.params, got, tt.want)
			}
		})
	}
}

// FuzzCheckPassword makes sure no stored hash, however hostile, panics or
// matches a password it was not made from.
func FuzzCheckPassword(f *testing.F) {
	f.Add(mustHash(f, "pw", fastParams), "pw")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", "pw")
	f.Add("$2a$04$abcdefghijklmnopqrstuuMk3/NQ9X8BZwQ5sT6L5b0m3y8g1l5h6", "pw")
	f.Add("$argon2id$v=19$m=1048577,t=1,p=1$$", "")
	f.Fuzz(func(t *testing.T, encoded, password string) {
		if p, err := parsePHC(encoded); err == nil && p.params.Memory*uint32(p.params.Iterations) > 1<<16 {
			t.Skip("too costly to compute in a fuzz run")
		}
		if strings.HasPrefix(encoded, "$2") {
			if c, err := bcrypt.Cost([]byte(encoded)); err == nil && c > 6 {
				t.Skip("too costly to compute in a fuzz run")
			}
		}
		ok, err := CheckPassword(encoded, password)
		if ok && err != nil {
			t.Fatalf("CheckPassword = true with error %v", err)
		}
		if ok && (password == "" || len(password) > MaxPasswordLen) {
			t.Fatal("an unusable password matched")
		}
	})
}
