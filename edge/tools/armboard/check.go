package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// result is one check of the guest's console output.
type result struct {
	name   string
	detail string // what was seen, when it passed
	err    error
}

// markers collects the guest's marker lines: first word → the rest, in order.
func markers(console []byte) map[string][]string {
	m := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(console))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		_, rest, ok := strings.Cut(sc.Text(), marker+" ")
		if !ok {
			continue
		}
		key, value, _ := strings.Cut(strings.TrimSpace(rest), " ")
		m[key] = append(m[key], value)
	}
	return m
}

// last returns the last value of a marker, or an error naming it.
func last(m map[string][]string, key string) (string, error) {
	v := m[key]
	if len(v) == 0 {
		return "", fmt.Errorf("the guest never printed %q", marker+" "+key)
	}
	return v[len(v)-1], nil
}

// commandOutput splits "rc=N JSON" and checks the exit status.
func commandOutput(m map[string][]string, key string) (string, error) {
	v, err := last(m, key)
	if err != nil {
		return "", err
	}
	rc, js, _ := strings.Cut(v, " ")
	if rc != "rc=0" {
		return "", fmt.Errorf("edge %s exited with %s (its stderr is on the console)", key, rc)
	}
	return js, nil
}

// classification is the part of `edge classify --json` checked here.
type classification struct {
	Results []struct {
		Image   string `json:"image"`
		Classes []struct {
			Index int     `json:"index"`
			Label string  `json:"label"`
			Score float64 `json:"score"`
		} `json:"classes"`
	} `json:"results"`
}

// detection is the part of `edge detect --json` checked here.
type detection struct {
	Results []struct {
		Image      string `json:"image"`
		Detections []struct {
			Label string  `json:"label"`
			Score float64 `json:"score"`
		} `json:"detections"`
	} `json:"results"`
}

// expectedTop1 are the classifier's answers the guest must give.
var expectedTop1 = map[string]string{"coffee.png": "espresso", "parrot.jpg": "macaw"}

var (
	chipRE = regexp.MustCompile(`gpiochip0: GPIOs (\d+)-(\d+)`)
	lineRE = regexp.MustCompile(`gpio-(\d+) \(([^|]*)\|([^)]*)\) (in|out) +(hi|lo)`)
)

// gpioLine is one requested line of /sys/kernel/debug/gpio.
type gpioLine struct {
	gpio          int
	consumer, dir string
	high          bool
}

// debugfsGPIO parses a dump of /sys/kernel/debug/gpio: gpiochip0's base
// and the requested lines of it.
func debugfsGPIO(dump string) (base int, lines []gpioLine, err error) {
	m := chipRE.FindStringSubmatch(dump)
	if m == nil {
		return 0, nil, fmt.Errorf("no gpiochip0 in /sys/kernel/debug/gpio: %q", dump)
	}
	base, _ = strconv.Atoi(m[1])
	for _, l := range lineRE.FindAllStringSubmatch(dump, -1) {
		n, _ := strconv.Atoi(l[1])
		lines = append(lines, gpioLine{gpio: n, consumer: strings.TrimSpace(l[3]), dir: l[4], high: l[5] == "hi"})
	}
	return base, lines, nil
}

// statusRE is the counters line of the console's status command.
var statusRE = regexp.MustCompile(`^frames (\d+) dropped (\d+) events (\d+)`)

// consoleSession returns the console lines between the guest's
// console-ready and ack-seen markers: edge's serial console at work.
func consoleSession(console []byte) []string {
	var out []string
	in := false
	for _, l := range strings.Split(string(console), "\n") {
		switch {
		case strings.Contains(l, marker+" console-ready"):
			in = true
		case strings.Contains(l, marker+" ack-seen"):
			return out
		case in:
			out = append(out, l)
		}
	}
	return out
}

// answers checks the console's answers to the host's commands.
func answers(session []string) (string, error) {
	if len(session) == 0 {
		return "", errors.New("no console session: the guest never printed console-ready, or ack-seen right after it")
	}
	var version, status, event string
	for _, l := range session {
		switch {
		case version == "" && strings.HasPrefix(l, "edge ") && !strings.HasPrefix(l, "edge console on"):
			version = l
		case status == "" && statusRE.MatchString(l):
			status = l
		case event == "" && strings.Contains(l, "espresso-lamp"):
			event = l
		}
	}
	var errs []error
	if version == "" {
		errs = append(errs, errors.New("no answer to version"))
	}
	if m := statusRE.FindStringSubmatch(status); m == nil {
		errs = append(errs, errors.New("no answer to status"))
	} else if frames, _ := strconv.Atoi(m[1]); frames == 0 {
		errs = append(errs, fmt.Errorf("status: no frames: %q", status))
	} else if events, _ := strconv.Atoi(m[3]); events == 0 {
		errs = append(errs, fmt.Errorf("status: no events: %q", status))
	}
	if event == "" {
		errs = append(errs, errors.New("events lists no espresso-lamp event"))
	}
	return fmt.Sprintf("%q; %q; %q", version, status, shorten(strings.TrimSpace(event), 80)), errors.Join(errs...)
}

// check runs every check on the console output; line is the PL061 line
// edge was configured to drive, ack the one the host drives through the
// serial console.
func check(console []byte, line, ack int) []result {
	m := markers(console)
	var rs []result
	add := func(name string, f func() (string, error)) {
		d, err := f()
		rs = append(rs, result{name: name, detail: d, err: err})
	}

	add("guest booted the arm64 kernel", func() (string, error) {
		v, err := last(m, "kernel")
		if err == nil && !strings.Contains(v, "aarch64") {
			err = fmt.Errorf("uname: %s", v)
		}
		return v, err
	})
	add("PL061 GPIO chip present", func() (string, error) {
		v, err := last(m, "gpiochips")
		if err == nil && !strings.Contains(v, "/dev/gpiochip0") {
			err = fmt.Errorf("no /dev/gpiochip0: %s", v)
		}
		return v, err
	})
	add("edge runs (shared libraries, TFLite through the rpath /usr/lib/edge)", func() (string, error) {
		v, err := last(m, "version")
		if err == nil && !strings.HasPrefix(v, "edge ") {
			err = fmt.Errorf("edge version: %s", v)
		}
		return v, err
	})
	add("edge classify: labels", func() (string, error) {
		js, err := commandOutput(m, "classify")
		if err != nil {
			return "", err
		}
		var c classification
		if err := json.Unmarshal([]byte(js), &c); err != nil {
			return "", fmt.Errorf("classify --json: %w: %s", err, shorten(js, 200))
		}
		var seen []string
		got := map[string]string{}
		for _, r := range c.Results {
			if len(r.Classes) == 0 {
				return "", fmt.Errorf("%s: no classes", r.Image)
			}
			top := r.Classes[0]
			got[path.Base(r.Image)] = top.Label
			seen = append(seen, fmt.Sprintf("%s: %s %.2f", path.Base(r.Image), top.Label, top.Score))
		}
		var errs []error
		for img, want := range expectedTop1 {
			if got[img] != want {
				errs = append(errs, fmt.Errorf("%s: top-1 %q, want %q", img, got[img], want))
			}
		}
		return strings.Join(seen, ", "), errors.Join(errs...)
	})
	add("edge detect: a person in grace_hopper.png", func() (string, error) {
		js, err := commandOutput(m, "detect")
		if err != nil {
			return "", err
		}
		var d detection
		if err := json.Unmarshal([]byte(js), &d); err != nil {
			return "", fmt.Errorf("detect --json: %w: %s", err, shorten(js, 200))
		}
		for _, r := range d.Results {
			for _, x := range r.Detections {
				if x.Label == "person" && x.Score >= 0.5 {
					return fmt.Sprintf("person %.2f", x.Score), nil
				}
			}
		}
		return "", fmt.Errorf("no person with score >= 0.5: %s", shorten(js, 300))
	})
	add(fmt.Sprintf("edge run drove PL061 line %d high", line), func() (string, error) {
		v, err := last(m, "gpio-while-running")
		if err != nil {
			return "", err
		}
		base, lines, err := debugfsGPIO(v)
		if err != nil {
			return "", err
		}
		for _, l := range lines {
			if l.gpio == base+line && l.consumer == "edge" && l.dir == "out" && l.high {
				return fmt.Sprintf("gpio-%d (gpiochip0 line %d): consumer edge, out hi", l.gpio, line), nil
			}
		}
		seen, _ := last(m, "gpio-seen")
		return "", fmt.Errorf("line %d (gpio-%d) not held high by edge (%s): %s", line, base+line, seen, v)
	})
	add("edge run stopped cleanly on SIGTERM", func() (string, error) {
		v, err := last(m, "run")
		if err == nil && v != "rc=0" {
			err = fmt.Errorf("edge run exited with %s (run.log is on the console)", v)
		}
		return v, err
	})
	add("GPIO line released after the stop", func() (string, error) {
		v, err := last(m, "gpio-after-stop")
		if err != nil {
			return "", err
		}
		_, lines, err := debugfsGPIO(v)
		if err != nil {
			return "", err
		}
		for _, l := range lines {
			if l.consumer == "edge" {
				return "", fmt.Errorf("gpio-%d still requested by edge: %s", l.gpio, v)
			}
		}
		return "no line requested by edge", nil
	})
	add("event log: the rule fired on espresso", func() (string, error) {
		v, err := last(m, "events")
		if err != nil {
			return "", err
		}
		for _, l := range strings.Split(v, ";") {
			var e struct {
				Rule  string  `json:"rule"`
				Label string  `json:"label"`
				Score float64 `json:"score"`
			}
			if json.Unmarshal([]byte(l), &e) == nil && e.Rule == "espresso-lamp" && e.Label == "espresso" {
				return fmt.Sprintf("rule %s, label %s %.2f", e.Rule, e.Label, e.Score), nil
			}
		}
		return "", fmt.Errorf("no espresso-lamp event: %s", shorten(v, 300))
	})
	add("serial console: version, status and events answered on ttyAMA0", func() (string, error) {
		return answers(consoleSession(console))
	})
	add(fmt.Sprintf("serial console: \"gpio ack on\" drove PL061 line %d (seen by the guest kernel)", ack), func() (string, error) {
		v, err := last(m, "ack-seen")
		if err != nil {
			return "", err
		}
		seen, dump, _ := strings.Cut(v, " after ")
		base, lines, err := debugfsGPIO(dump)
		if err != nil {
			return "", err
		}
		for _, l := range lines {
			if l.gpio == base+ack && l.consumer == "edge" && l.dir == "out" && l.high {
				if seen != "1" {
					return "", fmt.Errorf("the guest's wait says %q, but debugfs shows the line high", seen)
				}
				return fmt.Sprintf("gpio-%d (gpiochip0 line %d): consumer edge, out hi", l.gpio, ack), nil
			}
		}
		return "", fmt.Errorf("line %d (gpio-%d) not driven high by edge after the console command: %s", ack, base+ack, shorten(v, 300))
	})
	add("guest init finished", func() (string, error) {
		_, err := last(m, "done")
		return "", err
	})
	return rs
}
