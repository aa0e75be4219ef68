package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/misdeposit/recovery/policy"
)

// casectl runs the CLI in-process, as a user would from the shell.
func casectl(t *testing.T, args ...string) (stdout string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, func(string) string { return "" }, &out, &errOut)
	return out.String(), err
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// brokenPolicy is the default policy with a fee above 100 % on bsc and a
// network the registry does not know.
func brokenPolicy(t *testing.T) string {
	t.Helper()
	doc := strings.Replace(string(policy.DefaultDocument()), "  bsc: {recoverable: direct}\n",
		"  bsc:\n    recoverable: direct\n    categories:\n      unlisted_token: {fee: {percent: \"150\", network_cost: charge}}\n  tron: {recoverable: direct}\n", 1)
	if !strings.Contains(doc, "tron") {
		t.Fatal("the default policy no longer has the line this test edits")
	}
	return writeFile(t, "broken.yaml", []byte(doc))
}

func TestPolicyValidateAcceptsTheDefaultPolicy(t *testing.T) {
	file := writeFile(t, "policy.yaml", policy.DefaultDocument())
	out, err := casectl(t, "policy", "validate", file)
	if err != nil {
		t.Fatal(err)
	}
	p := policy.Default()
	want := fmt.Sprintf("ok: policy %s, 32 networks, %d rules\n", p.Version, p.RuleCount())
	if out != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}

	out, err = casectl(t, "policy", "validate", file, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Valid    bool             `json:"valid"`
		Version  string           `json:"version"`
		Problems []policy.Problem `json:"problems"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if !res.Valid || res.Version != p.Version || res.Problems == nil || len(res.Problems) != 0 {
		t.Errorf("json = %s", out)
	}
}

func TestPolicyValidatePrintsEveryProblem(t *testing.T) {
	file := brokenPolicy(t)
	out, err := casectl(t, "policy", "validate", file)
	if err == nil {
		t.Fatal("a broken policy passed")
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{
		"networks.bsc.categories.unlisted_token.fee.percent: must be between 0 and 100",
		"networks.tron: unknown network (not in the network registry)",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
	if !strings.Contains(err.Error(), "2 problem") {
		t.Errorf("err = %v", err)
	}

	out, err = casectl(t, "-o", "json", "policy", "validate", file)
	if err == nil {
		t.Fatal("a broken policy passed with -o json")
	}
	var res struct {
		Valid    bool `json:"valid"`
		Problems []struct {
			Path    string `json:"path"`
			Message string `json:"message"`
		} `json:"problems"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if res.Valid || len(res.Problems) != 2 || res.Problems[0].Path != "networks.bsc.categories.unlisted_token.fee.percent" {
		t.Errorf("json = %s", out)
	}
}

func TestPolicyValidateShowsWhereAFileDoesNotParse(t *testing.T) {
	file := writeFile(t, "p.json", []byte("{\n  \"version\": \"1\",\n  \"netwroks\": {}\n}\n"))
	out, err := casectl(t, "policy", "validate", file)
	if err == nil || !strings.HasPrefix(out, "netwroks: unknown key") || !strings.Contains(out, "(line 3)") {
		t.Errorf("stdout %q, err %v", out, err)
	}
}

func TestPolicyValidateUsage(t *testing.T) {
	if _, err := casectl(t, "policy", "validate"); err == nil {
		t.Error("no file: accepted")
	}
	if _, err := casectl(t, "policy", "validate", filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := casectl(t, "-o", "xml", "policy", "validate", "x"); err == nil {
		t.Error("-o xml accepted")
	}
}
