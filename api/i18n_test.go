package api

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
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

func TestCatalogHasTheSameKeysInEveryLanguage(t *testing.T) {
	for _, want := range []string{"en", "zh", "fr", "hu"} {
		if _, ok := catalog[want]; !ok {
			t.Errorf("catalog has no %s", want)
		}
	}
	en := catalog["en"]
	for _, lang := range catalogLanguages() {
		texts := catalog[lang]
		for code := range en {
			if _, ok := texts[code]; !ok {
				t.Errorf("%s: missing %s", lang, code)
			}
		}
		for code := range texts {
			if _, ok := en[code]; !ok {
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
	for code, text := range catalog["en"] {
		want := placeholders(text)
		for _, lang := range catalogLanguages() {
			other, ok := catalog[lang][code]
			if !ok {
				continue // reported by TestCatalogHasTheSameKeysInEveryLanguage
			}
			if got := placeholders(other); !slices.Equal(got, want) {
				t.Errorf("%s %s: placeholders %v, en has %v", lang, code, got, want)
			}
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
			for _, name := range placeholders(catalog["en"][code]) {
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
		for _, lang := range []string{"xx", "", "de"} {
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
	if !slices.Equal(languages, []string{"en", "fr", "hu", "zh"}) {
		t.Errorf("languages %v", languages)
	}
}
