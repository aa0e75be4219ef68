package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAppealFormInEveryLanguage(t *testing.T) {
	srv := NewServer(Deps{Registry: registry(t), DevUserTokens: true})
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
