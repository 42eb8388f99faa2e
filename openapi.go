package ginjwt

import (
	_ "embed"
	"slices"
)

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI 3.1 document (JSON) of the HTTP endpoints as
// the default Config.Routes.Paths name them, below the server URL /auth (the
// default Config.Routes.Prefix): every endpoint, its request and answer bodies
// with examples, and its error codes. A test checks it against the routes
// [Mount] registers and against real answers. To serve it:
//
//	r.GET("/auth/openapi.json", func(c *gin.Context) {
//		c.Data(http.StatusOK, "application/json", ginjwt.OpenAPI())
//	})
//
// The document is the same whatever the configuration: with another
// Prefix, change its servers URL; the description says which endpoints
// depend on which settings.
func OpenAPI() []byte { return slices.Clone(openAPI) }
