package keyfile_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/keyfile"
)

// Rotating by hand: the new key goes first and signs; the old one stays to
// verify the tokens it signed until they expire.
func Example() {
	dir, err := os.MkdirTemp("", "keyfile")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "jwt-keys.pem")

	first, _ := keyfile.Generate("EdDSA", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err := keyfile.Write(path, []keyfile.Entry{first}); err != nil {
		panic(err)
	}
	entries, _ := keyfile.Read(path)
	next, _ := keyfile.Generate("ES256", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
	if err := keyfile.Write(path, append([]keyfile.Entry{next}, entries...)); err != nil {
		panic(err)
	}

	keys, err := keyfile.Load(path)
	if err != nil {
		panic(err)
	}
	for _, k := range keys {
		fmt.Println(k.Algorithm, k.ID[:len(k.ID)-9])
	}
	cfg := ginjwt.Config{Keys: keys} // the first key signs
	_ = cfg
	// Output:
	// ES256 es256-20260401
	// EdDSA eddsa-20260101
}
