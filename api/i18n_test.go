package api

import (
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

var placeholderRE = regexp.MustCompile(`\{([^{}]*)\}`)

// placeholders returns the sorted, distinct {name} placeholders of text.
func placeholders(text string) []string {
	var names []string
	for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	sort.Strings(names)
	return names
}

func catalogLanguages() []string {
	langs := make([]string, 0, len(catalog))
	for lang := range catalog {
		langs = append(langs, lang)
	}
	sort.Strings(langs)
	return langs
}

// allLanguages are the languages the appeal API speaks.
var allLanguages = []string{"ar", "de", "en", "es", "fr", "hu", "id", "it", "ja", "ko", "pl", "pt", "ru", "tr", "uk", "vi", "zh"}

// baseCode is the code a plural form's key belongs to:
// recovery.confirmed for recovery.confirmed#few.
func baseCode(key string) string {
	code, _, _ := strings.Cut(key, "#")
	return code
}

func TestCatalogHasTheSameKeysInEveryLanguage(t *testing.T) {
	for _, want := range allLanguages {
		if _, ok := catalog[want]; !ok {
			t.Errorf("catalog has no %s", want)
		}
	}
	en := catalog["en"]
	for _, lang := range catalogLanguages() {
		texts := catalog[lang]
		for code := range en {
			if _, ok := texts[code]; !ok && !strings.Contains(code, "#") {
				t.Errorf("%s: missing %s", lang, code)
			}
		}
		for code := range texts {
			if _, ok := en[baseCode(code)]; !ok {
				t.Errorf("%s: %s is not in en", lang, code)
			}
		}
		for code, text := range texts {
			if strings.TrimSpace(text) == "" {
				t.Errorf("%s: %s is empty", lang, code)
			}
		}
	}
}

func TestCatalogPlaceholdersAgreeAcrossLanguages(t *testing.T) {
	for _, lang := range catalogLanguages() {
		for code, text := range catalog[lang] {
			en, ok := catalog["en"][baseCode(code)]
			if !ok {
				continue // reported by TestCatalogHasTheSameKeysInEveryLanguage
			}
			if got, want := placeholders(text), placeholders(en); !slices.Equal(got, want) {
				t.Errorf("%s %s: placeholders %v, en has %v", lang, code, got, want)
			}
		}
	}
}

// integerPluralForms are the plural forms lang uses for whole numbers,
// besides "other", as CLDR defines them.
func integerPluralForms(lang string) []string {
	var forms []string
	for n := range 1000 {
		form := pluralFormNames[plural.Cardinal.MatchPlural(language.Make(lang), n, 0, 0, 0, 0)]
		if form != "other" && !slices.Contains(forms, form) {
			forms = append(forms, form)
		}
	}
	return forms
}

// A count reads right in every language: each text with a count has every
// plural form its language uses (one, few, many... for Russian; none for
// Japanese), and no form the language does not have.
func TestCatalogHasEveryPluralFormOfItsLanguage(t *testing.T) {
	for _, lang := range catalogLanguages() {
		forms := integerPluralForms(lang)
		for code := range pluralParams {
			for _, form := range forms {
				if _, ok := catalog[lang][code+"#"+form]; !ok {
					t.Errorf("%s: missing %s#%s", lang, code, form)
				}
			}
		}
		for key := range catalog[lang] {
			code, form, ok := strings.Cut(key, "#")
			if !ok {
				continue
			}
			if _, counted := pluralParams[code]; !counted {
				t.Errorf("%s: %s has plural forms but no count chooses them", lang, key)
			}
			if !slices.Contains(forms, form) {
				t.Errorf("%s: %s is not a plural form of %s (%v)", lang, key, lang, forms)
			}
		}
	}
}

func TestMessageChoosesThePluralFormAndTheReadersDigits(t *testing.T) {
	for _, tc := range []struct{ lang, code, count, want string }{
		{"en", "recovery.confirmed", "1", "Recovery transaction 0xabc confirmed (1 confirmation)."},
		{"en", "recovery.confirmed", "12", "Recovery transaction 0xabc confirmed (12 confirmations)."},
		{"en", "recovery.confirmed", "1200", "Recovery transaction 0xabc confirmed (1,200 confirmations)."},
		{"fr", "recovery.confirmed", "0", "(0 confirmation)"},
		{"fr", "recovery.confirmed", "1200", "(1\u00a0200 confirmations)"},
		{"de", "recovery.confirmed", "1200", "1.200"},
		{"ru", "recovery.confirmed", "1", "(1 подтверждение)"},
		{"ru", "recovery.confirmed", "3", "(3 подтверждения)"},
		{"ru", "recovery.confirmed", "12", "(12 подтверждений)"},
		{"ru", "recovery.confirmed", "21", "(21 подтверждение)"},
		{"pl", "recovery.confirmed", "22", "(22 potwierdzenia)"},
		{"pl", "recovery.confirmed", "25", "(25 potwierdzeń)"},
		{"ar", "recovery.confirmed", "2", "٢"},
	} {
		got := message(tc.lang, tc.code, map[string]string{"tx_hash": "0xabc", "confirmations": tc.count})
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s %s with %s: %q, want %q in it", tc.lang, tc.code, tc.count, got, tc.want)
		}
	}
	// A wait is told in the reader's words, with its plural form.
	for _, tc := range []struct{ lang, code, wait, want string }{
		{"en", "unavailable", "15m0s", "every 15 minutes,"},
		{"en", "not_found_retry", "1h0m0s", "in 1 hour (attempt 2)"},
		{"en", "not_found_retry", "48h0m0s", "in 2 days"},
		{"en", "not_found_retry", "1h30m0s", "in 90 minutes"},
		{"ru", "not_found_retry", "1h0m0s", "через 1 час"},
		{"ru", "not_found_retry", "3h0m0s", "через 3 часа"},
		{"ru", "unavailable", "15m0s", "каждые 15 минут"},
		{"pl", "not_found_retry", "2m0s", "za 2 minuty"},
		{"ja", "unavailable", "15m0s", "15分ごと"},
		{"ar", "not_found_retry", "2h0m0s", "بعد ٢ ساعتين"},
		{"de", "unavailable", "1.5s", "alle 1.5s"}, // no whole unit: as given
	} {
		got := message(tc.lang, tc.code, map[string]string{"wait": tc.wait, "attempt": "2"})
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s %s with %s: %q, want %q in it", tc.lang, tc.code, tc.wait, got, tc.want)
		}
	}
	// Block numbers are technical tokens: written as given. An amount
	// whose asset is unknown here stays in base units, and says so.
	got := message("de", "confirmed", map[string]string{"network": "eth", "block": "19000000", "amount": "1500000", "to": "0x1"})
	if !strings.Contains(got, "19000000") || !strings.Contains(got, "1.500.000 (Basiseinheiten) an 0x1") {
		t.Errorf("de confirmed: %q", got)
	}
}

func TestPickLangNegotiatesAcceptLanguage(t *testing.T) {
	for _, tc := range []struct{ query, header, want string }{
		{"", "pt-BR,pt;q=0.9,en;q=0.8", "pt"},
		{"", "zh-Hant-TW", "zh"},
		{"", "zh-TW,zh;q=0.9", "zh"},
		{"", "sr", "en"},
		{"", "sr-Latn-RS,nb;q=0.8", "en"},
		{"", "ar-EG", "ar"},
		{"", "de-CH, fr;q=0.5", "de"},
		{"", "fr;q=0.5, uk-UA", "uk"},
		{"", "es-419", "es"},
		{"", "en-GB", "en"},
		{"", "ko-KR", "ko"},
		{"", "ja-JP", "ja"},
		{"", "in", "id"}, // the old code of Indonesian
		{"", "*", "en"},
		{"", "not a header;;", "en"},
		{"", "", "en"},
		{"ar", "ja", "ar"},
		{"AR", "ja", "ar"},
		{"xx", "vi-VN", "vi"},
	} {
		r := httptest.NewRequest("GET", "/?lang="+tc.query, nil)
		r.Header.Set("Accept-Language", tc.header)
		if got := pickLang(r); got != tc.want {
			t.Errorf("lang=%q Accept-Language=%q: %s, want %s", tc.query, tc.header, got, tc.want)
		}
	}
}

// The form offers each language in its own words.
func TestEveryLanguageHasItsOwnName(t *testing.T) {
	for _, lang := range catalogLanguages() {
		if languageNames[lang] == "" {
			t.Errorf("%s has no name on the form", lang)
		}
	}
}

func TestOnlyArabicIsRightToLeft(t *testing.T) {
	for _, lang := range catalogLanguages() {
		if got := rightToLeft(lang); got != (lang == "ar") {
			t.Errorf("rightToLeft(%s) = %v", lang, got)
		}
	}
	for _, lang := range []string{"he", "fa", "ur"} {
		if !rightToLeft(lang) {
			t.Errorf("%s is written right to left", lang)
		}
	}
}

// TestCatalogDiagnosisAndPolicyKeys pins the codes the diagnosis and the
// policy emit, with the parameters they pass.
func TestCatalogDiagnosisAndPolicyKeys(t *testing.T) {
	want := map[string][]string{
		"diagnosis.not_found":             nil,
		"diagnosis.failed_tx":             {"network"},
		"diagnosis.pending":               {"confirmations", "network", "required"},
		"diagnosis.unsupported_network":   {"network"},
		"diagnosis.not_our_address":       {"address", "network"},
		"diagnosis.already_credited":      {"address", "amount", "asset", "credited_at"},
		"diagnosis.retired_address":       {"address", "amount", "asset", "network"},
		"diagnosis.wrong_network_evm":     {"address", "amount", "asset", "issued_for", "network"},
		"diagnosis.cross_chain_utxo":      {"address", "amount", "asset", "issued_for", "network"},
		"diagnosis.missing_or_wrong_memo": {"address", "amount", "asset", "network"},
		"diagnosis.unlisted_token":        {"address", "amount", "network", "token"},
		"diagnosis.contract_deposit":      {"address", "amount", "asset", "network"},
		"diagnosis.below_minimum":         {"amount", "asset", "minimum", "network"},
		"diagnosis.regular_deposit":       {"address", "amount", "asset", "network"},
		"decision.direct":                 {"policy_version"},
		"decision.conditional":            {"policy_version"},
		"decision.batch":                  {"policy_version"},
		"decision.park":                   {"policy_version"},
		"decision.reject":                 {"policy_version"},
		"policy.not_found":                nil,
		"policy.pending":                  nil,
		"policy.failed_tx":                nil,
		"policy.not_our_address":          nil,
		"policy.already_credited":         nil,
		"policy.below_minimum":            nil,
		"policy.missing_or_wrong_memo":    nil,
		"policy.unlisted_token":           nil,
		"policy.wrong_network_evm":        nil,
		"policy.cross_chain_utxo":         nil,
		"policy.retired_address":          nil,
		"policy.contract_deposit":         nil,
		"policy.unsupported_network":      nil,
	}
	for code, params := range want {
		text, ok := catalog["en"][code]
		if !ok {
			t.Errorf("en: missing %s", code)
			continue
		}
		if got := placeholders(text); !slices.Equal(got, params) {
			t.Errorf("en %s: placeholders %v, want %v", code, got, params)
		}
	}
}

func TestMessageFillsEveryPlaceholder(t *testing.T) {
	for _, lang := range catalogLanguages() {
		for code, text := range catalog[lang] {
			params := map[string]string{}
			for _, name := range placeholders(catalog["en"][baseCode(code)]) {
				params[name] = "<" + name + ">"
			}
			got := message(lang, code, params)
			if left := placeholderRE.FindAllString(got, -1); len(left) > 0 {
				t.Errorf("%s %s: %v left in %q", lang, code, left, got)
			}
			for _, name := range placeholders(text) {
				if !strings.Contains(got, "<"+name+">") {
					t.Errorf("%s %s: %s not filled in %q", lang, code, name, got)
				}
			}
		}
	}
}

func TestMessageFallsBack(t *testing.T) {
	params := map[string]string{"network": "eth", "confirmations": "2", "required": "12"}
	for _, code := range []string{"confirming", "diagnosis.pending", "decision.reject", "policy.pending"} {
		want := message("en", code, params)
		if want == code {
			t.Fatalf("en has no %s", code)
		}
		for _, lang := range []string{"xx", "", "sr"} {
			if got := message(lang, code, params); got != want {
				t.Errorf("message(%q, %s) = %q, want the English %q", lang, code, got, want)
			}
		}
	}
	for _, lang := range []string{"en", "zh", "fr", "hu", "xx"} {
		if got := message(lang, "diagnosis.no_such_code", params); got != "diagnosis.no_such_code" {
			t.Errorf("message(%q, unknown code) = %q, want the code", lang, got)
		}
	}
}

// A language is one more catalogue file.
func TestALanguageIsACatalogueFile(t *testing.T) {
	en, _ := catalogFiles.ReadFile("i18n/en.json")
	files := fstest.MapFS{
		"i18n/en.json": {Data: en},
		"i18n/de.json": {Data: []byte(`{"received": "Einspruch für Transaktion {tx_hash} erhalten."}`)},
	}
	c, err := loadCatalog(files)
	if err != nil || c["de"]["received"] == "" || len(c["en"]) != len(catalog["en"]) {
		t.Fatalf("catalogue with de: %v", err)
	}
	if _, err := loadCatalog(fstest.MapFS{"i18n/en.json": {Data: []byte("{")}}); err == nil {
		t.Error("a broken catalogue file is accepted")
	}
	if !slices.Equal(languages, allLanguages) {
		t.Errorf("languages %v", languages)
	}
}
