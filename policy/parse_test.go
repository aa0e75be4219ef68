package policy

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/fees"
)

// problems returns the problems of err, failing when err is not a
// *ValidationError.
func problems(t testing.TB, err error) []Problem {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	if recovery.ErrorCode(err) != recovery.EInvalid {
		t.Errorf("code %s, want invalid", recovery.ErrorCode(err))
	}
	return ve.Problems
}

const sampleYAML = `
version: "2026-11-23.1"
defaults:
  unlisted_token:
    action: conditional
    conditions: {min_usd: 50, batchable: false}
    signoffs: [wallet, settlement]
    sla_hours: 168
    fee:
      percent: 2.5
      network_cost: charge
networks:
  bsc:
    recoverable: direct
    categories:
      unlisted_token: {fee: {percent: "0.1", network_cost: absorb}}
`

const sampleJSON = "{\n\t\"version\": \"2026-11-23.1\",\n\t\"defaults\": {\"unlisted_token\": {\"action\": \"conditional\", \"conditions\": {\"min_usd\": 50, \"batchable\": false},\n\t\t\"signoffs\": [\"wallet\", \"settlement\"], \"sla_hours\": 168, \"fee\": {\"percent\": 2.5, \"network_cost\": \"charge\"}}},\n\t\"networks\": {\"bsc\": {\"recoverable\": \"direct\", \"categories\": {\"unlisted_token\": {\"fee\": {\"percent\": \"0.1\", \"network_cost\": \"absorb\"}}}}}\n}\n"

func TestParseReadsYAMLAndJSONAlike(t *testing.T) {
	y, err := Parse([]byte(sampleYAML), FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	// JSON with tab indentation, which YAML would refuse.
	j, err := Parse([]byte(sampleJSON), FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(y, j) {
		t.Errorf("YAML and JSON differ:\n%+v\n%+v", y, j)
	}
	r := y.Defaults[recovery.CategoryUnlistedToken]
	if r.Action != Conditional || r.Conditions.MinUSD == nil || r.Conditions.MinUSD.String() != "50" ||
		r.Conditions.Batchable == nil || *r.Conditions.Batchable || r.Fee.Percent.String() != "2.5" || r.Fee.NetworkCost != fees.ChargeNetworkCost {
		t.Errorf("rule %+v", r)
	}
	if got := y.Networks["bsc"].Categories[recovery.CategoryUnlistedToken].Fee.Percent.String(); got != "0.1" {
		t.Errorf("network fee percent %s", got)
	}
}

func TestParseReportsEveryShapeProblemWithItsPath(t *testing.T) {
	const doc = `version: "1"
defaults:
  unlisted_token:
    acton: direct
    conditions: {min_usd: lots, batchable: maybe, max_age_days: 1.5}
    signoffs: wallet
    fee: {percent: 2, network_cost: charge, surcharge: 1}
networks:
  bsc:
    recoverable: direct
    categories:
      unlisted_token: {fee: {tiers: {up_to: 1}}}
  eth: []
extra: 1
`
	_, err := Parse([]byte(doc), FormatYAML)
	got := problems(t, err)
	want := []Problem{
		{Path: "defaults.unlisted_token.acton", Line: 4},
		{Path: "defaults.unlisted_token.conditions.min_usd", Line: 5},
		{Path: "defaults.unlisted_token.conditions.batchable", Line: 5},
		{Path: "defaults.unlisted_token.conditions.max_age_days", Line: 5},
		{Path: "defaults.unlisted_token.signoffs", Line: 6},
		{Path: "defaults.unlisted_token.fee.surcharge", Line: 7},
		{Path: "networks.bsc.categories.unlisted_token.fee.tiers", Line: 12},
		{Path: "networks.eth", Line: 13},
		{Path: "extra", Line: 14},
	}
	if len(got) != len(want) {
		t.Fatalf("problems:\n%s", joinProblems(got))
	}
	for i := range want {
		if got[i].Path != want[i].Path || got[i].Line != want[i].Line || got[i].Message == "" {
			t.Errorf("problem %d = %s, want path %s line %d", i, got[i], want[i].Path, want[i].Line)
		}
	}
	if m := got[0].Message; !strings.Contains(m, "unknown key") || !strings.Contains(m, "action") {
		t.Errorf("unknown key message %q should name the known keys", m)
	}
}

func joinProblems(ps []Problem) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, "\n")
}

func TestParseRefusesTrickyYAML(t *testing.T) {
	for _, tc := range []struct {
		name, doc, path string
		line            int
	}{
		{"duplicate key", "version: a\nversion: b\n", "version", 2},
		{"duplicate network", "networks:\n  bsc: {recoverable: direct}\n  bsc: {recoverable: park}\n", "networks.bsc", 3},
		{"alias", "defaults:\n  failed_tx: &r {action: reject}\n  not_our_address: *r\n", "defaults.not_our_address", 3},
		{"merge key", "defaults:\n  failed_tx: {action: reject}\nnetworks:\n  bsc:\n    <<: {recoverable: direct}\n", "networks.bsc.<<", 5},
		{"syntax error", "version: a\nnetworks: [1\n", "", 0}, // yaml.v3 names the line of the context
		{"two documents", "version: a\n---\nversion: b\n", "", 2},
		{"not a mapping", "- 1\n- 2\n", "", 1},
		{"tab indentation", "version: a\ndefaults:\n\tfailed_tx: {}\n", "", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), FormatYAML)
			ps := problems(t, err)
			if !slices.ContainsFunc(ps, func(p Problem) bool { return p.Path == tc.path && (p.Line == tc.line || tc.line == 0 && p.Line > 0) }) {
				t.Errorf("want a problem at %q line %d, got:\n%s", tc.path, tc.line, joinProblems(ps))
			}
		})
	}
}

func TestParseRefusesBadJSON(t *testing.T) {
	for _, tc := range []struct {
		name, doc, path string
		line            int
	}{
		{"unknown key", "{\n\"version\": \"1\",\n\"netwrks\": {}\n}", "netwrks", 3},
		{"syntax", "{\n\"version\": \"1\",\n\"defaults\": {,}\n}", "", 3},
		{"trailing data", "{\"version\": \"1\"} {}", "", 1},
		{"truncated", "{\"version\": \"1\",\n", "", 2},
		{"string for a bool", `{"defaults":{"failed_tx":{"conditions":{"batchable":"true"}}}}`, "defaults.failed_tx.conditions.batchable", 1},
		{"duplicate key", "{\"version\": \"1\",\n\"version\": \"2\"}", "version", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), FormatJSON)
			ps := problems(t, err)
			if !slices.ContainsFunc(ps, func(p Problem) bool { return p.Path == tc.path && p.Line == tc.line }) {
				t.Errorf("want a problem at %q line %d, got:\n%s", tc.path, tc.line, joinProblems(ps))
			}
		})
	}
}

func TestParseEmptyAndOdd(t *testing.T) {
	for _, doc := range []string{"", "   \n", "~\n", "# only a comment\n"} {
		if _, err := Parse([]byte(doc), FormatAuto); len(problems(t, err)) != 1 {
			t.Errorf("%q: %v", doc, err)
		}
	}
	if _, err := Parse([]byte("{}"), "toml"); len(problems(t, err)) != 1 {
		t.Errorf("unknown format: %v", err)
	}
	if _, err := Parse(make([]byte, MaxDocument+1), FormatAuto); len(problems(t, err)) != 1 {
		t.Errorf("huge document: %v", err)
	}
}

func TestLoadPicksTheFormatByExtension(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, name := range []string{"p.yaml", "p.yml", "policy"} {
		if _, err := Load(write(name, sampleYAML)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Load(write("p.json", sampleJSON)); err != nil {
		t.Errorf("json: %v", err)
	}
	// A .json file must be JSON.
	if _, err := Load(write("y.json", sampleYAML)); err == nil {
		t.Error("YAML in a .json file accepted")
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
