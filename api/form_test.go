package api

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestAppealFormInEveryLanguage(t *testing.T) {
	srv := NewServer(Deps{Registry: registry(t), DevUserTokens: true, Notifications: true})
	for lang, want := range map[string]string{"en": "File the appeal", "zh": "提交申诉", "fr": "Déposer la demande", "hu": "Kérelem benyújtása"} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/?lang="+lang, nil))
		body := rec.Body.String()
		if rec.Code != 200 || !strings.Contains(body, want) || !strings.Contains(body, `<html lang="`+lang+`">`) {
			t.Errorf("%s: %d, no %q", lang, rec.Code, want)
		}
		// Every field has a label; nothing is loaded from elsewhere.
		for _, id := range []string{"tx_hash", "to_address", "network", "memo", "asset", "amount", "contact", "token"} {
			if !strings.Contains(body, `<label for="`+id+`"`) || !strings.Contains(body, `id="`+id+`"`) {
				t.Errorf("%s: field %s has no label", lang, id)
			}
		}
		if strings.Contains(body, "http://") || strings.Contains(body, "https://") || strings.Contains(body, "{{") {
			t.Errorf("%s: the page refers to outside assets or has unfilled texts", lang)
		}
		if !strings.Contains(body, `id="dev-form"`) {
			t.Errorf("%s: no dev sign-in in dev", lang)
		}
	}
	// Accept-Language picks the language when ?lang= does not.
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept-Language", "hu-HU,hu;q=0.9")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), `<html lang="hu">`) || rec.Header().Get("Content-Security-Policy") == "" {
		t.Errorf("Accept-Language hu: %.200s", rec.Body.String())
	}
	// Outside dev there is no dev sign-in.
	prod := NewServer(Deps{Registry: registry(t)})
	rec = httptest.NewRecorder()
	prod.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if strings.Contains(rec.Body.String(), `id="dev-form"`) {
		t.Error("dev sign-in offered outside dev")
	}
	rec = httptest.NewRecorder()
	prod.ServeHTTP(rec, httptest.NewRequest("GET", "/nope", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("/nope: %d", rec.Code)
	}
}

// The form's own script and style run under a nonce that changes with every
// response, and nothing else on the page can run: no 'unsafe-inline', no
// event handler attributes, no style attributes.
func TestAppealFormRunsOnlyItsOwnScript(t *testing.T) {
	srv := NewServer(Deps{Registry: registry(t), DevUserTokens: true})
	seen := map[string]bool{}
	for range 3 {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/?lang=en", nil))
		if rec.Code != 200 {
			t.Fatalf("form: %d", rec.Code)
		}
		if got := rec.Header().Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("Referrer-Policy %q", got)
		}
		csp := rec.Header().Get("Content-Security-Policy")
		directives := map[string]string{}
		for _, d := range strings.Split(csp, ";") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
			directives[name] = value
		}
		script := directives["script-src"]
		nonce, ok := strings.CutPrefix(script, "'nonce-")
		nonce, ok2 := strings.CutSuffix(nonce, "'")
		if !ok || !ok2 || strings.ContainsAny(nonce, "' ") {
			t.Fatalf("script-src is not one nonce: %q", csp)
		}
		if directives["style-src"] != script || directives["default-src"] != "'none'" || strings.Contains(csp, "unsafe-") {
			t.Errorf("CSP admits more than the page's nonce: %q", csp)
		}
		if raw, err := base64.RawURLEncoding.DecodeString(nonce); err != nil || len(raw) < 16 {
			t.Errorf("nonce %q: %d bytes, %v", nonce, len(raw), err)
		}
		if seen[nonce] {
			t.Errorf("nonce %q served twice", nonce)
		}
		seen[nonce] = true

		scripts, styles := 0, 0
		z := html.NewTokenizer(rec.Body)
		for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			tok := z.Token()
			attrs := map[string]string{}
			for _, a := range tok.Attr {
				attrs[a.Key] = a.Val
				if strings.HasPrefix(a.Key, "on") || a.Key == "style" || strings.HasPrefix(strings.TrimSpace(strings.ToLower(a.Val)), "javascript:") {
					t.Errorf("<%s %s=%q> would need 'unsafe-inline'", tok.Data, a.Key, a.Val)
				}
			}
			switch tok.Data {
			case "script":
				scripts++
			case "style":
				styles++
			default:
				continue
			}
			if attrs["nonce"] != nonce {
				t.Errorf("<%s id=%q> has nonce %q, the header %q", tok.Data, attrs["id"], attrs["nonce"], nonce)
			}
		}
		if scripts == 0 || styles == 0 {
			t.Errorf("%d scripts, %d styles on the page", scripts, styles)
		}
	}
}

// An engine that notifies no one does not ask the user for a contact it
// would refuse (and never use); one that notifies asks for it.
func TestAppealFormAsksForAContactOnlyWhenUsersAreNotified(t *testing.T) {
	for _, on := range []bool{false, true} {
		srv := NewServer(Deps{Registry: registry(t), Notifications: on})
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/?lang=en", nil))
		if asks := strings.Contains(rec.Body.String(), `id="contact"`); asks != on {
			t.Errorf("notifications %v: the form asks for a contact: %v", on, asks)
		}
	}
}
