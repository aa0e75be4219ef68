package api

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/big"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
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
// the bare code so that an event is never dropped from a timeline. Its
// amounts are in base units of an asset it does not know: see messageIn.
func message(lang, code string, params map[string]string) string {
	return messageIn(lang, code, params, assetUnits{})
}

// messageIn renders an event in lang whose amounts (amount, minimum) are
// base units of u. The reader sees whole units written the language's
// way (0.1, 1.000,5), and times in the language's layout; base units only
// when u's decimals are unknown, and then said so.
func messageIn(lang, code string, params map[string]string, u assetUnits) string {
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
	pairs := make([]string, 0, 2*len(params)+2)
	for k, v := range params {
		switch {
		case countParams[k]:
			if n, err := strconv.ParseUint(v, 10, 64); err == nil {
				v = p.Sprint(number.Decimal(n))
			}
		case durationParams[k]:
			if d, err := time.ParseDuration(v); err == nil {
				if told := duration(lang, d); told != "" {
					v = told
				}
			}
		case baseUnitParams[k]:
			v = u.amount(lang, v)
		case wholeUnitParams[k]:
			if f, ok := formatDecimal(lang, v); ok {
				v = f
			}
		case timeParams[k]:
			v = formatTimeText(lang, v)
		}
		pairs = append(pairs, "{"+k+"}", v)
	}
	if _, ok := params["asset"]; !ok {
		// Events recorded before they named their asset: the appeal's own.
		if u.Asset != "" {
			pairs = append(pairs, "{asset}", u.Asset)
		} else {
			pairs = append(pairs, "{asset} ", "", "{asset}", "")
		}
	}
	return strings.NewReplacer(pairs...).Replace(tmpl)
}

// baseUnitParams hold an amount in the asset's smallest unit (satoshi,
// wei), as workflows record them; wholeUnitParams a decimal in whole units
// (a quote's fee and net, USD).
var (
	baseUnitParams  = map[string]bool{"amount": true, "minimum": true}
	wholeUnitParams = map[string]bool{"fee": true, "net": true, "fee_usd": true}
	// timeParams hold an instant (RFC 3339) or a day (2006-01-02).
	timeParams = map[string]bool{"expires_at": true, "credited_at": true, "at": true}
)

// assetUnits is what an appeal's amounts count: the asset's symbol and
// its decimals. Known is false when the decimals are not known (a token
// we do not list, before its quote read them from the chain).
type assetUnits struct {
	Asset    string
	Decimals int32
	Known    bool
}

// amount writes base units of u in lang: whole units when u's decimals
// are known, else the base units, named as such.
func (u assetUnits) amount(lang, base string) string {
	n, ok := new(big.Int).SetString(base, 10)
	if !ok {
		return base
	}
	if u.Known {
		if s, ok := formatDecimal(lang, decimal.NewFromBigInt(n, -u.Decimals).String()); ok {
			return s
		}
	}
	s, _ := formatDecimal(lang, n.String())
	tmpl, ok := catalog[lang]["amount.base_units"]
	if !ok {
		tmpl = catalog["en"]["amount.base_units"]
	}
	return strings.ReplaceAll(tmpl, "{amount}", s)
}

// numberSymbols are how a language writes numbers, as x/text's CLDR data
// has them: its digits, decimal separator and group separator. The form
// writes the numbers of the API's raw fields with the same symbols.
type numberSymbols struct {
	Digits  [10]string `json:"digits"`
	Decimal string     `json:"decimal"`
	Group   string     `json:"group"`
}

var symbolsByLang = map[string]numberSymbols{}

func init() {
	for lang := range catalog {
		symbolsByLang[lang] = symbolsOf(lang)
	}
}

func symbolsOf(lang string) numberSymbols {
	p := xmessage.NewPrinter(language.Make(lang))
	var s numberSymbols
	for d := range s.Digits {
		s.Digits[d] = p.Sprint(number.Decimal(d))
	}
	half := []rune(p.Sprint(number.Decimal(1.5, number.Scale(1))))
	s.Decimal = string(half[1 : len(half)-1])
	thousand := []rune(p.Sprint(number.Decimal(1000)))
	s.Group = string(thousand[1 : len(thousand)-3])
	return s
}

func symbols(lang string) numberSymbols {
	if s, ok := symbolsByLang[lang]; ok {
		return s
	}
	return symbolsByLang["en"]
}

// plainDecimal is a decimal as the engine writes it: its digits are all
// kept (USD to the cent keeps its trailing zero).
var plainDecimal = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// formatDecimal writes an exact decimal ("1000.5") the way lang does
// ("1.000,5" in German), every digit kept: the integer part grouped by
// x/text's number formatting, the fraction digit by digit. False when v
// is no plain decimal.
func formatDecimal(lang, v string) (string, bool) {
	if !plainDecimal.MatchString(v) {
		return "", false
	}
	sign, s := "", v
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	sym := symbols(lang)
	var out string
	if n, err := strconv.ParseInt(intPart, 10, 64); err == nil {
		out = xmessage.NewPrinter(language.Make(lang)).Sprint(number.Decimal(n))
	} else {
		var b strings.Builder
		for i, c := range intPart {
			if i > 0 && (len(intPart)-i)%3 == 0 {
				b.WriteString(sym.Group)
			}
			b.WriteString(sym.Digits[c-'0'])
		}
		out = b.String()
	}
	if frac != "" {
		out += sym.Decimal + localDigits(lang, frac)
	}
	return sign + out, true
}

// localDigits writes the ASCII digits of s with lang's digits.
func localDigits(lang, s string) string {
	sym := symbols(lang)
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteString(sym.Digits[c-'0'])
		} else {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// timeLayouts are how each language writes a day and an instant, in Go's
// layout notation, numeric only so that no month name needs translating.
// x/text has no date formatting, so the table is here, after CLDR's short
// forms; every time is in UTC and says so. The form writes the times of
// the API's raw fields with the same layout, so that one page reads one
// way.
var timeLayouts = map[string]struct{ Day, Instant string }{
	"en": {"1/2/2006", "1/2/2006, 3:04 PM UTC"},
	"ar": {"02/01/2006", "02/01/2006، 15:04 UTC"},
	"de": {"02.01.2006", "02.01.2006, 15:04 UTC"},
	"es": {"2/1/2006", "2/1/2006, 15:04 UTC"},
	"fr": {"02/01/2006", "02/01/2006 15:04 UTC"},
	"hu": {"2006. 01. 02.", "2006. 01. 02. 15:04 UTC"},
	"id": {"02/01/2006", "02/01/2006, 15.04 UTC"},
	"it": {"02/01/2006", "02/01/2006, 15:04 UTC"},
	"ja": {"2006/01/02", "2006/01/02 15:04 UTC"},
	"ko": {"2006. 1. 2.", "2006. 1. 2. 15:04 UTC"},
	"pl": {"02.01.2006", "02.01.2006, 15:04 UTC"},
	"pt": {"02/01/2006", "02/01/2006, 15:04 UTC"},
	"ru": {"02.01.2006", "02.01.2006, 15:04 UTC"},
	"tr": {"02.01.2006", "02.01.2006 15:04 UTC"},
	"uk": {"02.01.2006", "02.01.2006, 15:04 UTC"},
	"vi": {"02/01/2006", "15:04, 02/01/2006 UTC"},
	"zh": {"2006/01/02", "2006/01/02 15:04 UTC"},
}

func layouts(lang string) struct{ Day, Instant string } {
	if l, ok := timeLayouts[lang]; ok {
		return l
	}
	return timeLayouts["en"]
}

// formatTime writes an instant in lang, in UTC.
func formatTime(lang string, t time.Time) string {
	return localDigits(lang, t.UTC().Format(layouts(lang).Instant))
}

// formatTimeText writes a recorded time (RFC 3339, or a bare day) in
// lang; anything else is left as it is.
func formatTimeText(lang, v string) string {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return formatTime(lang, t)
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return localDigits(lang, t.Format(layouts(lang).Day))
	}
	return v
}

// pluralFormNames are the suffixes of plural forms in catalogue keys.
var pluralFormNames = map[plural.Form]string{
	plural.Other: "other", plural.Zero: "zero", plural.One: "one",
	plural.Two: "two", plural.Few: "few", plural.Many: "many",
}
