package api

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"sort"
	"strings"

	"github.com/misdeposit/recovery/chains"
)

//go:embed form/index.html
var formHTML string

var formTemplate = template.Must(template.New("form").Parse(formHTML))

// languageNames are the languages offered on the form, in their own words.
var languageNames = map[string]string{
	"en": "English", "zh": "中文", "fr": "Français", "hu": "Magyar",
	"es": "Español", "pt": "Português", "ru": "Русский", "tr": "Türkçe",
	"vi": "Tiếng Việt", "id": "Bahasa Indonesia", "ja": "日本語", "ko": "한국어",
	"de": "Deutsch", "it": "Italiano", "uk": "Українська", "pl": "Polski",
	"ar": "العربية",
}

type formLanguage struct{ Code, Name string }

// formData fills the appeal form's template.
type formData struct {
	Lang string
	// RTL lays the page out right to left, for Arabic.
	RTL       bool
	Languages []formLanguage
	// T holds the form's texts, keyed with "_" for "." (form_title for
	// form.title) so that the template can name them.
	T        map[string]string
	Networks []chains.Network
	Dev      bool
	// Nonce admits the page's own script and style and nothing else: an
	// injected <script> cannot guess it, so it does not run.
	Nonce string
	// Notifications says the engine tells users of their case: the form
	// asks for a contact only then.
	Notifications bool
	// Formats are how the language writes numbers and times, the same as
	// in the API's texts: the page writes the raw fields it shows with
	// them, so that one page reads one way.
	Formats formFormats
}

type formFormats struct {
	numberSymbols
	Instant string `json:"instant"` // Go layout, in UTC
}

// formTexts are the catalogue keys the form uses.
var formTexts = []string{"form.", "status.", "line."}

// appealForm serves the appeal form: a plain HTML page on the appeal API,
// in the user's language, with no external assets.
func (s *server) appealForm(w http.ResponseWriter, r *http.Request) {
	lang := pickLang(r)
	nonce := cspNonce()
	d := formData{Lang: lang, RTL: rightToLeft(lang), T: map[string]string{}, Networks: s.Registry.Networks(), Dev: s.DevUserTokens, Nonce: nonce, Notifications: s.Notifications,
		Formats: formFormats{numberSymbols: symbols(lang), Instant: layouts(lang).Instant}}
	for code := range catalog["en"] {
		for _, prefix := range formTexts {
			if strings.HasPrefix(code, prefix) {
				d.T[strings.ReplaceAll(code, ".", "_")] = message(lang, code, nil)
			}
		}
	}
	for code := range catalog {
		name := languageNames[code]
		if name == "" {
			name = code
		}
		d.Languages = append(d.Languages, formLanguage{code, name})
	}
	sort.Slice(d.Languages, func(i, j int) bool { return d.Languages[i].Code < d.Languages[j].Code })
	var buf bytes.Buffer
	if err := formTemplate.Execute(&buf, d); err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", lang)
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'nonce-"+nonce+"'; "+
		"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'")
	// A cached page would hand its nonce to every later reader.
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	// The page's address may carry the user's token: no request the page
	// makes tells where it came from.
	h.Set("Referrer-Policy", "no-referrer")
	w.Write(buf.Bytes())
}

// cspNonce is a fresh nonce for one response's Content-Security-Policy:
// 128 random bits, in the URL alphabet of base64 so that the template
// writes it into the page unescaped.
func cspNonce() string {
	var b [16]byte
	rand.Read(b[:]) // crypto/rand never returns an error: it ends the program instead
	return base64.RawURLEncoding.EncodeToString(b[:])
}
