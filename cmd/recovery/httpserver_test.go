package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The API's HTTP server refuses oversized headers (431) and cuts off a
// client that keeps a request open without finishing it, so that neither
// can hold the engine's memory or connections.
func TestHTTPServerLimitsWhatAClientCanHold(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serveHTTP(ctx, l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "ok")
		}))
	}()
	defer func() {
		cancel()
		<-done
	}()
	send := func(req string) string {
		t.Helper()
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(90 * time.Second))
		if _, err := c.Write([]byte(req)); err != nil {
			return "write: " + err.Error()
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return "read: " + err.Error()
		}
		return line
	}
	if got := send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"); !strings.Contains(got, "200") {
		t.Fatalf("a plain request: %q", got)
	}
	huge := "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("a", 200<<10) + "\r\n\r\n"
	if got := send(huge); !strings.Contains(got, "431") {
		t.Fatalf("200 KiB of headers: %q, want 431", got)
	}
	// A body promised and never sent: the server gives up on the request
	// (ReadTimeout) instead of waiting for ever.
	if testing.Short() {
		return
	}
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(3 * time.Minute))
	start := time.Now()
	buf := make([]byte, 512)
	for {
		if _, err := c.Read(buf); err != nil {
			break
		}
	}
	if waited := time.Since(start); waited > 2*time.Minute {
		t.Fatalf("a request never finished held its connection %s", waited)
	}
}
