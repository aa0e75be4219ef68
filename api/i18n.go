package api

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	xmessage "golang.org/x/text/message"
	"golang.org/x/text/number"
)

// The texts users read — timeline events, explanations, decisions, quote
// advice, the appeal form — are in one catalogue file per language,
// i18n/<lang>.json: {"code": "text with {param} placeholders"}. A new
// language is one more file; a test checks that every file has every key
// of en.json with the same placeholders.
//
// A text that names a count has its plural forms as "code#one",
// "code#few"... beside "code", which is the "other" form: the language's
// CLDR rules (x/text's feature/plural) choose among them, so a catalogue
// lists the forms its language has and no rule is written by hand.
//
//go:embed i18n/*.json
var catalogFiles embed.FS

// catalog maps a language to its texts.
var catalog = mustLoadCatalog(catalogFiles)

func mustLoadCatalog(files fs.FS) map[string]map[string]string {
	c, err := loadCatalog(files)
	if err != nil {
		panic("api: " + err.Error()) // a test keeps this from happening
	}
	return c
}

func loadCatalog(files fs.FS) (map[string]map[string]string, error) {
	names, err := fs.Glob(files, "i18n/*.json")
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	for _, name := range names {
		raw, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, err
		}
		texts := map[string]string{}
		if err := json.Unmarshal(raw, &texts); err != nil {
			return nil, fmt.Errorf("catalogue %s: %w", name, err)
		}
		out[strings.TrimSuffix(path.Base(name), ".json")] = texts
	}
	if out["en"] == nil {
		return nil, fmt.Errorf("no en.json catalogue")
	}
	return out, nil
}

// pluralParams names, for each text with plural forms, the parameter whose
// count chooses the form.
var pluralParams = map[string]string{
	"recovery.confirmed": "confirmations",
	"diagnosis.pending":  "required",
	"duration.days":      "n",
	"duration.hours":     "n",
	"duration.minutes":   "n",
	"duration.seconds":   "n",
}

// countParams are the parameters that hold a small count: they are written
// with the reader's digits and grouping. Amounts, block numbers and
// hashes are technical tokens and stay as they are.
var countParams = map[string]bool{"confirmations": true, "required": true, "attempt": true, "n": true}

// durationParams are the parameters that hold a wait as Go writes it
// (15m0s): they are told in the reader's words ("15 minutes").
var durationParams = map[string]bool{"wait": true}

// durationUnits are the units a wait is told in, largest first: the
// largest it is a whole number of (90m0s reads 90 minutes).
var durationUnits = []struct {
	code string
	unit time.Duration
}{
	{"duration.days", 24 * time.Hour},
	{"duration.hours", time.Hour},
	{"duration.minutes", time.Minute},
	{"duration.seconds", time.Second},
}

// duration tells d in lang, or returns "" when d is no whole number of
// seconds.
func duration(lang string, d time.Duration) string {
	for _, u := range durationUnits {
		if d > 0 && d%u.unit == 0 {
			return message(lang, u.code, map[string]string{"n": strconv.FormatInt(int64(d/u.unit), 10)})
		}
	}
	return ""
}

// languageTags are the catalogue languages, English first: the fallback.
var languageTags = func() []language.Tag {
	tags := []language.Tag{language.English}
	for _, lang := range sortedKeys(catalog) {
		if lang != "en" {
			tags = append(tags, language.Make(lang))
		}
	}
	return tags
}()

var languageMatcher = language.NewMatcher(languageTags)

// matchLanguage picks the catalogue that serves an Accept-Language header
// best (pt-BR reads pt, zh-Hant-TW reads zh), or English.
func matchLanguage(acceptLanguage string) string {
	desired, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(desired) == 0 {
		return "en"
	}
	_, i, conf := languageMatcher.Match(desired...)
	if conf == language.No {
		return "en"
	}
	base, _ := languageTags[i].Base()
	return base.String()
}

// rtlScripts are the scripts written right to left among those a
// catalogue language may use.
var rtlScripts = map[string]bool{"Arab": true, "Hebr": true, "Syrc": true, "Thaa": true, "Nkoo": true, "Adlm": true, "Rohg": true}

// rightToLeft says whether lang is written right to left.
func rightToLeft(lang string) bool {
	script, _ := language.Make(lang).Script()
	return rtlScripts[script.String()]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Message is the text of a timeline event in lang, as the appeal API shows
// it: what a notification tells the user.
func Message(lang, code string, params map[string]string) string {
	return message(lang, code, params)
}

// message renders an event in lang, falling back to English and then to
// the bare code so that an event is never dropped from a timeline.
func message(lang, code string, params map[string]string) string {
	texts := catalog[lang]
	if _, ok := texts[code]; !ok {
		lang, texts = "en", catalog["en"]
		if _, ok := texts[code]; !ok {
			return code
		}
	}
	tag := language.Make(lang)
	tmpl := texts[code]
	if n, err := strconv.Atoi(params[pluralParams[code]]); err == nil && n >= 0 {
		form := plural.Cardinal.MatchPlural(tag, n, 0, 0, 0, 0)
		if t, ok := texts[code+"#"+pluralFormNames[form]]; ok {
			tmpl = t
		}
	}
	p := xmessage.NewPrinter(tag)
	pairs := make([]string, 0, 2*len(params))
	for k, v := range params {
		if n, err := strconv.ParseUint(v, 10, 64); err == nil && countParams[k] {
			v = p.Sprint(number.Decimal(n))
		}
		if d, err := time.ParseDuration(v); err == nil && durationParams[k] {
			if told := duration(lang, d); told != "" {
				v = told
			}
		}
		pairs = append(pairs, "{"+k+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(tmpl)
}

// pluralFormNames are the suffixes of plural forms in catalogue keys.
var pluralFormNames = map[plural.Form]string{
	plural.Other: "other", plural.Zero: "zero", plural.One: "one",
	plural.Two: "two", plural.Few: "few", plural.Many: "many",
}
