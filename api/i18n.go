package api

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// The texts users read — timeline events, explanations, decisions, quote
// advice, the appeal form — are in one catalogue file per language,
// i18n/<lang>.json: {"code": "text with {param} placeholders"}. A new
// language is one more file; a test checks that every file has every key
// of en.json with the same placeholders.
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

// Message is the text of a timeline event in lang, as the appeal API shows
// it: what a notification tells the user.
func Message(lang, code string, params map[string]string) string {
	return message(lang, code, params)
}

// message renders an event in lang, falling back to English and then to
// the bare code so that an event is never dropped from a timeline.
func message(lang, code string, params map[string]string) string {
	tmpl, ok := catalog[lang][code]
	if !ok {
		if tmpl, ok = catalog["en"][code]; !ok {
			return code
		}
	}
	pairs := make([]string, 0, 2*len(params))
	for k, v := range params {
		pairs = append(pairs, "{"+k+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(tmpl)
}
