package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/policy"
)

func (g *globals) baseURL() string {
	for _, v := range []string{g.api, g.getenv("CASECTL_API")} {
		if v != "" {
			return strings.TrimRight(v, "/")
		}
	}
	return "http://127.0.0.1:8080"
}

// bearer is the staff token: --token, CASECTL_TOKEN, or the token recovery
// dev wrote to its data directory (the admin's, or with --as the team
// person's).
func (g *globals) bearer() (string, error) {
	if g.as != "" {
		if g.token != "" {
			return "", errors.New("give --token or --as, not both")
		}
		if !slices.Contains(recovery.Teams(), recovery.Team(g.as)) {
			return "", fmt.Errorf("--as is one of %s, not %q", strings.Join(teamNames(), ", "), g.as)
		}
		return g.devToken("staff-token-"+g.as, "no dev token for the "+g.as+" team")
	}
	for _, v := range []string{g.token, g.getenv("CASECTL_TOKEN")} {
		if v != "" {
			return v, nil
		}
	}
	return g.devToken("staff-token", "no staff token (pass --token or set CASECTL_TOKEN)")
}

// devToken reads a token file recovery dev keeps in its data directory.
func (g *globals) devToken(name, missing string) (string, error) {
	dir := g.getenv("RECOVERY_DATA_DIR")
	if dir == "" {
		dir = ".recovery"
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return "", fmt.Errorf("%s: %s is missing; run from the directory where recovery dev runs, or set RECOVERY_DATA_DIR", missing, filepath.Join(dir, name))
	}
	return strings.TrimSpace(string(b)), nil
}

// apiError is the engine's error body.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
	// Problems lists every problem of a refused policy.
	Problems []policy.Problem `json:"problems"`
}

// get fetches path with query into out and returns the raw body for -o json.
func (g *globals) get(ctx context.Context, path string, query url.Values, out any) ([]byte, error) {
	return g.send(ctx, http.MethodGet, path, query, "", nil, out)
}

// send makes a staff API request and decodes the answer into out.
func (g *globals) send(ctx context.Context, method, path string, query url.Values, contentType string, body io.Reader, out any) ([]byte, error) {
	token, err := g.bearer()
	if err != nil {
		return nil, err
	}
	u := g.baseURL() + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("engine API at %s: %w", g.baseURL(), err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		var e apiError
		if json.Unmarshal(answer, &e) == nil && e.Error.Message != "" {
			if len(e.Problems) > 0 {
				lines := []string{fmt.Sprintf("%s (%s)", e.Error.Message, e.Error.Code)}
				for _, p := range e.Problems {
					lines = append(lines, "  "+p.String())
				}
				return nil, errors.New(strings.Join(lines, "\n"))
			}
			if e.Error.Field != "" {
				return nil, fmt.Errorf("%s (%s, field %s)", e.Error.Message, e.Error.Code, e.Error.Field)
			}
			return nil, fmt.Errorf("%s (%s)", e.Error.Message, e.Error.Code)
		}
		return nil, fmt.Errorf("engine API answered %s", resp.Status)
	}
	if out != nil {
		if err := json.Unmarshal(answer, out); err != nil {
			return nil, fmt.Errorf("engine API answered something unexpected: %w", err)
		}
	}
	return answer, nil
}

// emit writes raw JSON for -o json, else calls table.
func (g *globals) emit(raw []byte, table func(w io.Writer)) error {
	if g.output == "json" {
		_, err := g.stdout.Write(raw)
		return err
	}
	table(g.stdout)
	return nil
}
