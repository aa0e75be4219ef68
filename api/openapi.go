package api

import (
	_ "embed"
	"net/http"
)

// openAPIDocument describes every route of the API and every field of its
// bodies; a test checks it against the handlers both ways.
//
//go:embed openapi.json
var openAPIDocument []byte

func (s *server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPIDocument)
}
