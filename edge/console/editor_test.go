package console

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestEditor(t *testing.T) {
	tests := []struct {
		name  string
		max   int
		in    []string // fed in these chunks
		lines []string // the lines run gets
		wire  string
	}{
		{"echo and CR", 8, []string{"ab\r"}, []string{"ab"}, "ab\r\n[ab]\r\n"},
		{"CRLF split across reads", 8, []string{"ab\r", "\ncd\n"}, []string{"ab", "cd"}, "ab\r\n[ab]\r\ncd\r\n[cd]\r\n"},
		{"LF CR is two ends", 8, []string{"a\n\r"}, []string{"a", ""}, "a\r\n[a]\r\n\r\n[]\r\n"},
		{"backspace", 8, []string{"ax\x7f\x08\x08b\r"}, []string{"b"}, "ax\b \b\b \bb\r\n[b]\r\n"},
		{"too long once", 3, []string{"abcdef", "gh\rok\r"}, []string{"ok"}, "abc\r\nerror: line too long (max 3)\r\nok\r\n[ok]\r\n"},
		{"exactly max", 3, []string{"abc\r"}, []string{"abc"}, "abc\r\n[abc]\r\n"},
		{"backspace ignored while discarding", 2, []string{"abc\x7f\x7f\x7fd\rx\r"}, []string{"x"}, "ab\r\nerror: line too long (max 2)\r\nx\r\n[x]\r\n"},
		{"Ctrl-C ends discarding", 2, []string{"abc\x03x\r"}, []string{"x"}, "ab\r\nerror: line too long (max 2)\r\n^C\r\nx\r\n[x]\r\n"},
		{"CSI swallowed", 8, []string{"\x1b[1;5Ca\r"}, []string{"a"}, "a\r\n[a]\r\n"},
		{"escape split across reads", 8, []string{"\x1b", "[", "A", "a\r"}, []string{"a"}, "a\r\n[a]\r\n"},
		{"CR ends an escape", 8, []string{"a\x1b[\rb\r"}, []string{"a", "b"}, "a\r\n[a]\r\nb\r\n[b]\r\n"},
		{"high bytes dropped", 8, []string{"\x80a\xff\xc3\xa9\r"}, []string{"a"}, "a\r\n[a]\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEditor(tt.max)
			var w bytes.Buffer
			var lines []string
			run := func(l string) string { lines = append(lines, l); return "[" + l + "]\n" }
			for _, chunk := range tt.in {
				e.feed([]byte(chunk), &w, run)
			}
			if strings.Join(lines, "|") != strings.Join(tt.lines, "|") || len(lines) != len(tt.lines) {
				t.Errorf("lines %q, want %q", lines, tt.lines)
			}
			if w.String() != tt.wire {
				t.Errorf("wire %q, want %q", w.String(), tt.wire)
			}
		})
	}
}

func TestInterject(t *testing.T) {
	e := newEditor(8)
	var w bytes.Buffer
	e.interject(&w, "status\n")
	e.feed([]byte("ve"), &w, nil)
	e.interject(&w, "status\n")
	if want := "status\r\nve\r\nstatus\r\nve"; w.String() != want {
		t.Errorf("wire %q, want %q", w.String(), want)
	}
}

func TestWriteText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a\nb\n", "a\r\nb\r\n"},
		{"tab\there", "tab here"},
		{"bell\x07 esc\x1b[2J del\x7f", "bell? esc?[2J del?"},
		{"c1 \u009b ok é", "c1 ? ok é"},
		{"bad \xff utf8", "bad ? utf8"},
	}
	for _, tt := range tests {
		var w bytes.Buffer
		writeText(&w, tt.in)
		if w.String() != tt.want {
			t.Errorf("writeText(%q) = %q, want %q", tt.in, w.String(), tt.want)
		}
	}
}

func TestStatusLine(t *testing.T) {
	now := time.Date(2024, 5, 6, 1, 2, 3, 0, time.UTC)
	tests := []struct {
		name string
		s    Status
		want string
	}{
		{"zero", Status{}, "[edge 01:02:03] up 0s fps 0.0 invoke - drop 0"},
		{"minutes", Status{Uptime: 12*time.Minute + 5*time.Second, FPS: 9.96, InvokeP50: 120 * time.Millisecond, Dropped: 7},
			"[edge 01:02:03] up 12m05s fps 10.0 invoke 120.0ms drop 7"},
		{"days and temp", Status{Uptime: 76 * time.Hour, TempC: 71.05}, "[edge 01:02:03] up 3d04h fps 0.0 invoke - drop 0 temp 71.0C"},
	}
	for _, tt := range tests {
		if got := StatusLine(now, tt.s); got != tt.want {
			t.Errorf("%s: StatusLine = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestReadTempC(t *testing.T) {
	if got := readTempC("/nonexistent/thermal"); got != 0 {
		t.Errorf("readTempC(missing) = %v, want 0", got)
	}
	if got := readTempC(""); got != 0 {
		t.Errorf("readTempC(\"\") = %v, want 0", got)
	}
}
