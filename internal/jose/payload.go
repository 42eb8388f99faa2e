package jose

import "encoding/json"

// StandardClaims are the claims ginjwt reads and writes itself; an
// application's own claims may not use these names, in any case.
var StandardClaims = []string{"jti", "sid", "token_type", "iat", "exp", "nbf", "refresh_exp", "gen", "iss", "sub", "aud", "user_id", "username", "perms", "staff", "superuser"}

// Payload is the JSON form of ginjwt.Claims. Times are float64 so tokens with
// fractional NumericDates (RFC 7519 allows them) still decode.
type Payload struct {
	JTI        string   `json:"jti"`
	SID        string   `json:"sid"`
	Type       string   `json:"token_type"`
	IAT        float64  `json:"iat"`
	EXP        float64  `json:"exp"`
	NBF        float64  `json:"nbf,omitempty"`
	RefreshEXP float64  `json:"refresh_exp,omitempty"`
	Gen        float64  `json:"gen,omitempty"`
	ISS        string   `json:"iss,omitempty"`
	SUB        string   `json:"sub,omitempty"`
	AUD        Audience `json:"aud,omitempty"`
	UserID     string   `json:"user_id"`
	Username   string   `json:"username,omitempty"`
	Perms      []string `json:"perms,omitempty"`
	Staff      bool     `json:"staff,omitempty"`
	Superuser  bool     `json:"superuser,omitempty"`
}

// Audience is aud: a string or an array of strings (RFC 7519 4.1.3).
type Audience []string

func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

func (a *Audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = Audience{s}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

// Header is the part of a JOSE header ginjwt reads (DecodeHeader).
type Header struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  string          `json:"typ"`
	Crit json.RawMessage `json:"crit"`
}
