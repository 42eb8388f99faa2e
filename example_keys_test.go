package ginjwt_test

import (
	"encoding/json"
	"fmt"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
)

// Rotating a signing key: the new key signs from now on, the old one keeps
// verifying the tokens it signed until it is removed.
func ExampleAuth_RotateKey() {
	old, err := ginjwt.GenerateKey("ES256")
	if err != nil {
		panic(err)
	}
	r := gin.New()
	auth, err := ginjwt.Mount(r, ginjwt.Config{Keys: []ginjwt.Key{old}, Users: setup()})
	if err != nil {
		panic(err)
	}
	oldID := auth.KeyIDs()[0]
	_, body := call(r, "POST", "/auth/token", `{"username":"alice","password":"correct horse battery staple"}`, "")
	var pair struct{ Access string }
	if err := json.Unmarshal([]byte(body), &pair); err != nil {
		panic(err)
	}
	before := pair.Access // signed by the old key

	next, err := ginjwt.GenerateKey("ES256")
	if err != nil {
		panic(err)
	}
	if err := auth.RotateKey(next); err != nil {
		panic(err)
	}
	fmt.Println("keys:", len(auth.KeyIDs()), "signing with the new one:", auth.KeyIDs()[0] != oldID)
	_, err = auth.ParseToken(before)
	fmt.Println("old token after the rotation:", err == nil)

	// Once every token of the old key has expired (AccessTTL and
	// RefreshTTL after the rotation), remove it.
	if err := auth.RemoveKey(oldID); err != nil {
		panic(err)
	}
	_, err = auth.ParseToken(before)
	fmt.Println("old token after the removal:", err)
	// Output:
	// keys: 2 signing with the new one: true
	// old token after the rotation: true
	// old token after the removal: ginjwt: token invalid: the token names an unknown key
}
