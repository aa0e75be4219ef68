package api

import (
	"bytes"
	_ "embed"
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
var languageNames = map[string]string{"en": "English", "zh": "中文", "fr": "Français", "hu": "Magyar"}

type formLanguage struct{ Code, Name string }

// formData fills the appeal form's template.
type formData struct {
	Lang      string
	Languages []formLanguage
	// T holds the form's texts, keyed with "_" for "." (form_title for
	// form.title) so that the template can name them.
	T        map[string]string
	Networks []chains.Network
	Dev      bool
}

// formTexts are the catalogue keys the form uses.
var formTexts = []string{"form.", "status.", "line."}

// appealForm serves the appeal form: a plain HTML page on the appeal API,
// in the user's language, with no external assets.
func (s *server) appealForm(w http.ResponseWriter, r *http.Request) {
	lang := pickLang(r)
	d := formData{Lang: lang, T: map[string]string{}, Networks: s.Registry.Networks(), Dev: s.DevUserTokens}
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
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.Write(buf.Bytes())
}
