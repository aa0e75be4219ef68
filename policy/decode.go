package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"
)

// Both formats are read into a yaml.Node tree first (JSON through its own
// tokenizer, so that JSON-only documents — tabs, any whitespace — read as
// JSON does), which is walked against the Go types before anything is
// decoded. The walk is what gives every problem its path: yaml.v3's
// KnownFields and encoding/json's DisallowUnknownFields stop at the first
// unknown key and name only the line, or nothing.

func decodeYAML(data []byte, out *Policy) (err error) {
	// yaml.v3 has panicked on hostile input before; a policy file is
	// operator input, so a panic becomes a problem.
	defer func() {
		if r := recover(); r != nil {
			err = invalid(Problem{Message: fmt.Sprintf("unreadable YAML: %v", r)})
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return invalid(Problem{Message: "the document is empty"})
		}
		return invalid(yamlProblem(err))
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return invalid(yamlProblem(err))
	default:
		return invalid(Problem{Line: extra.Line, Message: "only one YAML document is allowed"})
	}
	return decodeNode(&doc, out)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlProblem(err error) Problem {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{Line: line, Message: m[2]}
	}
	return Problem{Message: strings.TrimPrefix(msg, "yaml: ")}
}

func decodeJSON(data []byte, out *Policy) error {
	lines := newLineIndex(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	root, err := jsonNode(dec, lines, 0)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = &jsonError{offset: dec.InputOffset(), msg: "unexpected data after the JSON document"}
		}
	}
	if err != nil {
		var se *json.SyntaxError
		var je *jsonError
		switch {
		case errors.As(err, &se):
			return invalid(Problem{Line: lines.line(se.Offset), Message: se.Error()})
		case errors.As(err, &je):
			return invalid(Problem{Line: lines.line(je.offset), Message: je.msg})
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			if len(bytes.TrimSpace(data)) == 0 {
				return invalid(Problem{Message: "the document is empty"})
			}
			return invalid(Problem{Line: lines.line(int64(len(data))), Message: "unexpected end of JSON input"})
		default:
			return invalid(Problem{Message: err.Error()})
		}
	}
	return decodeNode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}, out)
}

type jsonError struct {
	offset int64
	msg    string
}

func (e *jsonError) Error() string { return e.msg }

// maxDepth bounds nesting; a policy is four levels deep.
const maxDepth = 32

// jsonNode reads one JSON value from dec as a yaml.Node. Strings become
// quoted scalars (so "true" stays text); numbers, booleans and null become
// plain scalars that yaml.v3 resolves exactly as it would in a YAML file.
func jsonNode(dec *json.Decoder, lines lineIndex, depth int) (*yaml.Node, error) {
	if depth > maxDepth {
		return nil, &jsonError{offset: dec.InputOffset(), msg: "the document is nested too deeply"}
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	line := lines.line(dec.InputOffset())
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string) // the tokenizer only gives strings as keys
				kn := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle, Value: key, Line: lines.line(dec.InputOffset())}
				vn, err := jsonNode(dec, lines, depth+1)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, kn, vn)
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, err
			}
			return n, nil
		case '[':
			n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: line}
			for dec.More() {
				vn, err := jsonNode(dec, lines, depth+1)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, vn)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, err
			}
			return n, nil
		}
		return nil, &jsonError{offset: dec.InputOffset(), msg: fmt.Sprintf("unexpected %q", v)}
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle, Value: v, Line: line}, nil
	case json.Number:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: string(v), Line: line}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: strconv.FormatBool(v), Line: line}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null", Line: line}, nil
	}
	return nil, &jsonError{offset: dec.InputOffset(), msg: fmt.Sprintf("unexpected token %v", tok)}
}

// lineIndex turns byte offsets into 1-based line numbers.
type lineIndex []int

func newLineIndex(data []byte) lineIndex {
	var l lineIndex
	for i, b := range data {
		if b == '\n' {
			l = append(l, i)
		}
	}
	return l
}

func (l lineIndex) line(offset int64) int {
	return 1 + sort.SearchInts(l, int(offset))
}

// decodeNode walks the document against the Policy type and, when the walk
// found nothing wrong, decodes it.
func decodeNode(doc *yaml.Node, out *Policy) error {
	root := doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return invalid(Problem{Message: "the document is empty"})
		}
		root = doc.Content[0]
	}
	if isNull(root) {
		return invalid(Problem{Line: root.Line, Message: "the document is empty"})
	}
	w := &walker{}
	w.walk(root, reflect.TypeFor[Policy](), "")
	if len(w.problems) > 0 {
		return invalid(w.problems...)
	}
	if err := root.Decode(out); err != nil {
		// The walk checks every value the decoder reads, so this is a
		// case the walk missed; still an answer, not a crash.
		var te *yaml.TypeError
		if errors.As(err, &te) {
			var ps []Problem
			for _, e := range te.Errors {
				ps = append(ps, yamlProblem(errors.New("yaml: "+e)))
			}
			return invalid(ps...)
		}
		return invalid(yamlProblem(err))
	}
	return nil
}

var decimalType = reflect.TypeFor[decimal.Decimal]()

// walker checks a node tree against a Go type: every key known, every
// value of the right kind, no duplicate keys, no aliases.
type walker struct {
	problems []Problem
}

func (w *walker) add(path string, n *yaml.Node, format string, args ...any) {
	w.problems = append(w.problems, Problem{Path: path, Line: n.Line, Message: fmt.Sprintf(format, args...)})
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode {
		w.add(path, n, "YAML aliases are not supported: write the value out")
		return
	}
	if isNull(n) {
		return // the zero value
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == decimalType:
		w.scalar(n, t, path, "must be a number")
	case t.Kind() == reflect.Struct:
		w.structure(n, t, path)
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			w.add(path, n, "must be a mapping")
			return
		}
		w.keys(n, path, func(k, v *yaml.Node) { w.walk(v, t.Elem(), join(path, k.Value)) })
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.add(path, n, "must be a list")
			return
		}
		for i, v := range n.Content {
			w.walk(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case t.Kind() == reflect.String:
		w.scalar(n, t, path, "must be text")
	case t.Kind() == reflect.Bool:
		w.scalar(n, t, path, "must be true or false")
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		// yaml.v3 would truncate 1.5 into 1.
		if n.Kind == yaml.ScalarNode && n.ShortTag() != "!!int" {
			w.add(path, n, "must be a whole number, not %q", clip(n.Value))
			return
		}
		w.scalar(n, t, path, "must be a whole number")
	default:
		w.add(path, n, "cannot be read") // no such field in the policy types
	}
}

func (w *walker) scalar(n *yaml.Node, t reflect.Type, path, msg string) {
	if n.Kind != yaml.ScalarNode {
		w.add(path, n, "%s", msg)
		return
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		w.add(path, n, "%s, not %q", msg, clip(n.Value))
	}
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// keys calls f for each key of a mapping, reporting non-text, merge and
// duplicate keys.
func (w *walker) keys(n *yaml.Node, path string, f func(k, v *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case k.Kind != yaml.ScalarNode:
			w.add(path, k, "keys must be text")
			continue
		case k.ShortTag() == "!!merge":
			w.add(join(path, k.Value), k, "merge keys (<<) are not supported: write the value out")
			continue
		}
		if line, dup := seen[k.Value]; dup {
			w.add(join(path, k.Value), k, "duplicate key (first at line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		f(k, v)
	}
}

func (w *walker) structure(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.add(path, n, "must be a mapping")
		return
	}
	fields := map[string]reflect.Type{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
		names = append(names, name)
	}
	slices.Sort(names)
	w.keys(n, path, func(k, v *yaml.Node) {
		ft, ok := fields[k.Value]
		if !ok {
			w.add(join(path, k.Value), k, "unknown key (known: %s)", strings.Join(names, ", "))
			return
		}
		w.walk(v, ft, join(path, k.Value))
	})
}
