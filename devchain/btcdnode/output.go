package btcdnode

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
)

// tailSize is how much of btcd's output is kept for error messages.
const tailSize = 16 << 10

// output keeps the tail of btcd's stdout and stderr and passes each line to
// the logger.
type output struct {
	mu      sync.Mutex
	log     *slog.Logger
	tail    []byte
	partial []byte
}

func newOutput(log *slog.Logger) *output { return &output{log: log} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tail = append(o.tail, p...)
	if len(o.tail) > tailSize {
		o.tail = append(o.tail[:0:0], o.tail[len(o.tail)-tailSize:]...)
	}
	o.partial = append(o.partial, p...)
	for {
		i := bytes.IndexByte(o.partial, '\n')
		if i < 0 {
			break
		}
		if o.log.Enabled(context.Background(), slog.LevelDebug) {
			o.log.Debug(string(bytes.TrimRight(o.partial[:i], "\r")), "process", "btcd")
		}
		o.partial = o.partial[i+1:]
	}
	if len(o.partial) > tailSize {
		o.partial = o.partial[:0] // not line-oriented output; the tail keeps it
	}
	return len(p), nil
}

// Tail returns the last lines written, at most max of them.
func (o *output) Tail(max int) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.tail
	if len(t) == tailSize {
		// Drop the first, probably cut, line.
		if i := bytes.IndexByte(t, '\n'); i >= 0 {
			t = t[i+1:]
		}
	}
	lines := bytes.Split(bytes.TrimRight(t, "\n"), []byte("\n"))
	if len(lines) > max {
		lines = lines[len(lines)-max:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
