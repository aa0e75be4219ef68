package api

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
)

// The API reference page: Redoc rendering /v1/openapi.json, its script
// embedded in the binary (see docs/README.md for its version and licence)
// so that the page needs nothing from outside the engine.
var (
	//go:embed docs/index.html
	docsHTML []byte
	//go:embed docs/redoc.standalone.js
	redocJS []byte
	// redocETag lets browsers keep the 1 MB script until the engine
	// serves another one.
	redocETag = func() string {
		sum := sha256.Sum256(redocJS)
		return `"` + hex.EncodeToString(sum[:12]) + `"`
	}()
)

// docsCSP admits the engine's own script and document and nothing from
// elsewhere; what Redoc needs beyond that, found by loading the page in
// Chromium: it writes its styles into <style> elements at run time
// ('unsafe-inline' styles, which cannot run code), runs its search in a
// worker made from a blob: URL, and draws its link icons as data: images.
// Its "API docs by Redocly" logo, from Redocly's CDN, is refused and Redoc
// leaves it out.
const docsCSP = "default-src 'none'; script-src 'self'; connect-src 'self'; " +
	"style-src 'unsafe-inline'; worker-src blob:; img-src data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

func (s *server) docsPage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", docsCSP)
	h.Set("Referrer-Policy", "no-referrer")
	w.Write(docsHTML)
}

func (s *server) docsScript(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("ETag", redocETag)
	h.Set("Cache-Control", "no-cache")
	if r.Header.Get("If-None-Match") == redocETag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(redocJS)
}
