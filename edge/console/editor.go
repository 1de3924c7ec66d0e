package console

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Input bytes the editor acts on.
const (
	ctrlC     = 0x03 // cancel the line
	backspace = 0x08
	ctrlU     = 0x15 // erase the line
	esc       = 0x1b
	del       = 0x7f // what most terminals send for Backspace
)

// escState tracks an escape sequence (arrow keys send ESC [ A), whose
// bytes are swallowed instead of landing in the line.
type escState uint8

const (
	escNone escState = iota
	escStart
	escCSI // ESC [ params... final
	escSS3 // ESC O final
)

// editor is the console's line discipline: a serial terminal program
// (screen, minicom, picocom) sends every key as typed and echoes nothing,
// so the editor echoes printable characters, handles backspace, Ctrl-C and
// Ctrl-U, ends lines at \r, \n or \r\n, and drops everything else. A line
// is printable ASCII of at most max bytes; a longer one is reported once
// and discarded up to its end.
type editor struct {
	max     int
	line    []byte
	discard bool // the line overflowed: drop bytes up to its end
	cr      bool // the last byte ended a line with \r: a \n next is part of it
	esc     escState
}

func newEditor(max int) *editor { return &editor{max: max, line: make([]byte, 0, max)} }

// feed processes input and writes what goes back to the terminal to w, in
// wire form: echo, and for each complete line the output of run(line).
func (e *editor) feed(input []byte, w *bytes.Buffer, run func(line string) string) {
	for _, b := range input {
		if e.swallowEscape(b) {
			continue
		}
		cr := e.cr
		e.cr = false
		switch {
		case b == '\r':
			e.cr = true
			e.endLine(w, run)
		case b == '\n':
			if !cr {
				e.endLine(w, run)
			}
		case b == backspace || b == del:
			if !e.discard && len(e.line) > 0 {
				e.line = e.line[:len(e.line)-1]
				w.WriteString("\b \b")
			}
		case b == ctrlC:
			w.WriteString("^C\r\n")
			e.line, e.discard = e.line[:0], false
		case b == ctrlU:
			if !e.discard {
				w.WriteString(strings.Repeat("\b \b", len(e.line)))
			}
			e.line = e.line[:0]
		case b == esc:
			e.esc = escStart
		case b >= 0x20 && b < 0x7f:
			switch {
			case e.discard:
			case len(e.line) < e.max:
				e.line = append(e.line, b)
				w.WriteByte(b)
			default:
				e.discard = true
				w.WriteString("\r\n")
				writeText(w, fmt.Sprintf("error: line too long (max %d)\n", e.max))
			}
		}
		// Any other control or non-ASCII byte is dropped, unechoed.
	}
}

// swallowEscape advances an escape sequence and reports whether b belongs
// to it. A control byte inside a sequence ends it and is processed.
func (e *editor) swallowEscape(b byte) bool {
	if e.esc == escNone {
		return false
	}
	if b < 0x20 || b >= 0x7f {
		e.esc = escNone
		return false
	}
	switch e.esc {
	case escStart:
		switch b {
		case '[':
			e.esc = escCSI
		case 'O':
			e.esc = escSS3
		default:
			e.esc = escNone
		}
	case escCSI:
		if b >= 0x40 {
			e.esc = escNone
		}
	case escSS3:
		e.esc = escNone
	}
	return true
}

func (e *editor) endLine(w *bytes.Buffer, run func(string) string) {
	e.esc = escNone
	if e.discard {
		// The error went out when the line overflowed; the cursor is
		// already at the start of a line.
		e.discard = false
		e.line = e.line[:0]
		return
	}
	w.WriteString("\r\n")
	line := string(e.line)
	e.line = e.line[:0]
	writeText(w, run(line))
}

// interject writes text (a status or event line) without garbling a line
// being typed: the partial line moves below it.
func (e *editor) interject(w *bytes.Buffer, text string) {
	partial := !e.discard && len(e.line) > 0
	if partial {
		w.WriteString("\r\n")
	}
	writeText(w, text)
	if partial {
		w.Write(e.line)
	}
}

// writeText writes text, whose lines end with \n, to w in wire form: lines
// end with \r\n, tabs become spaces, and control characters, invalid UTF-8 and other
// unprintable runes become '?', so that nothing a Daemon returns can drive
// the terminal.
func writeText(w *bytes.Buffer, text string) {
	for len(text) > 0 {
		r, size := utf8.DecodeRuneInString(text)
		switch {
		case r == '\n':
			w.WriteString("\r\n")
		case r == '\t':
			w.WriteByte(' ')
		case r == utf8.RuneError && size <= 1, !unicode.IsPrint(r):
			w.WriteByte('?')
		default:
			w.WriteString(text[:size])
		}
		text = text[size:]
	}
}
