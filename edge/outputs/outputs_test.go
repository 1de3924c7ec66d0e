package outputs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// change is one Out call seen by a recorder.
type change struct {
	pin   string
	level gpio.Level
	at    time.Time
}

// recorder collects the Out calls of several pins in one timeline.
type recorder struct {
	mu      sync.Mutex
	changes []change
}

func (r *recorder) all() []change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]change(nil), r.changes...)
}

// of returns the changes of one pin.
func (r *recorder) of(pin string) []change {
	var cs []change
	for _, c := range r.all() {
		if c.pin == pin {
			cs = append(cs, c)
		}
	}
	return cs
}

// recPin is a gpiotest.Pin that records every Out with its time
// (gpiotest.Pin keeps only the last level).
type recPin struct {
	*gpiotest.Pin
	rec *recorder
}

func (p *recPin) Out(l gpio.Level) error {
	p.rec.mu.Lock()
	p.rec.changes = append(p.rec.changes, change{p.N, l, time.Now()})
	p.rec.mu.Unlock()
	return p.Pin.Out(l)
}

func newRecPin(rec *recorder, name string, num int) *recPin {
	return &recPin{Pin: &gpiotest.Pin{N: name, Num: num}, rec: rec}
}

// failPin fails every Out.
type failPin struct{ *gpiotest.Pin }

func (failPin) Out(gpio.Level) error { return errors.New("bus fault") }

func levels(cs []change) string {
	var b strings.Builder
	for _, c := range cs {
		if c.level {
			b.WriteByte('H')
		} else {
			b.WriteByte('L')
		}
	}
	return b.String()
}

func mustNew(t *testing.T, name string, pin gpio.PinOut, cfg Config) *Output {
	t.Helper()
	o, err := New(name, pin, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

// waitFor polls cond for up to 2 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	pin := &gpiotest.Pin{N: "GPIO17", Num: 17}
	tests := []struct {
		name    string
		outName string
		pin     gpio.PinOut
		cfg     Config
		want    []string // substrings of the error
	}{
		{"pulse mode without width", "relay1", pin, Config{Mode: Pulse}, []string{`"relay1"`, "pulse width 0", "> 0"}},
		{"negative width", "relay1", pin, Config{Mode: Hold, Pulse: -time.Second}, []string{`"relay1"`, "pulse width -1s", "> 0"}},
		{"nil pin", "relay1", nil, Config{Mode: Hold}, []string{`"relay1"`, "no pin", "gpio.PinOut"}},
		{"invalid pin", "relay1", gpio.INVALID, Config{Mode: Hold}, []string{`"relay1"`, "gpio.INVALID"}},
		{"unknown mode", "relay1", pin, Config{Mode: Mode(7), Pulse: time.Second}, []string{`"relay1"`, "mode 7", "Pulse or Hold"}},
		{"empty name", "", pin, Config{Mode: Hold}, []string{"empty name"}},
		{"pin fails", "relay1", failPin{pin}, Config{Mode: Hold}, []string{`"relay1"`, "GPIO17", "inactive", "bus fault"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := New(tt.outName, tt.pin, tt.cfg)
			if err == nil {
				o.Close()
				t.Fatalf("New(%q, %v, %+v) succeeded, want an error", tt.outName, tt.pin, tt.cfg)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestNewDrivesInactive(t *testing.T) {
	tests := []struct {
		activeLow bool
		want      gpio.Level
	}{{false, gpio.Low}, {true, gpio.High}}
	for _, tt := range tests {
		pin := &gpiotest.Pin{N: "P", L: !tt.want}
		o := mustNew(t, "o", pin, Config{Mode: Hold, ActiveLow: tt.activeLow})
		if got := pin.Read(); got != tt.want || o.State() {
			t.Errorf("activeLow=%v: after New pin is %s, state %v; want %s, false", tt.activeLow, got, o.State(), tt.want)
		}
	}
}

func TestPulseWidth(t *testing.T) {
	const width = 50 * time.Millisecond
	tests := []struct {
		name      string
		activeLow bool
		want      string // levels after New: inactive, active, inactive
	}{
		{"active high", false, "LHL"},
		{"active low", true, "HLH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			pin := newRecPin(rec, "GPIO17", 17)
			o := mustNew(t, "relay1", pin, Config{Mode: Pulse, Pulse: width, ActiveLow: tt.activeLow})
			start := time.Now()
			if err := o.Trigger(); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took > 20*time.Millisecond {
				t.Logf("Trigger took %v (should not block for the pulse)", took)
			}
			if took := time.Since(start); took >= width {
				t.Errorf("Trigger blocked for %v, the pulse is %v", took, width)
			}
			if !o.State() {
				t.Error("State() = false right after Trigger")
			}
			waitFor(t, "end of pulse", func() bool { return len(rec.all()) == 3 })
			cs := rec.all()
			if got := levels(cs); got != tt.want {
				t.Fatalf("levels %s, want %s", got, tt.want)
			}
			// Active at 25 ms and inactive again by 150 ms (+100 ms for a loaded CI).
			got := cs[2].at.Sub(cs[1].at)
			if got < width || got > 250*time.Millisecond {
				t.Errorf("pulse width %v, want %v (allowed up to 250ms)", got, width)
			}
			if o.State() {
				t.Error("State() = true after the pulse")
			}
			if pin.Read() != cs[0].level {
				t.Errorf("pin left %s, want inactive %s", pin.Read(), cs[0].level)
			}
		})
	}
}

// A Trigger during a pulse restarts it: one continuous active period that
// ends one full width after the last Trigger.
func TestRetriggerRestartsPulse(t *testing.T) {
	const width = 150 * time.Millisecond
	rec := &recorder{}
	pin := newRecPin(rec, "GPIO17", 17)
	o := mustNew(t, "relay1", pin, Config{Mode: Pulse, Pulse: width})
	if err := o.Trigger(); err != nil {
		t.Fatal(err)
	}
	first := rec.all()[1].at
	time.Sleep(width / 2)
	second := time.Now()
	if second.Sub(first) >= width*9/10 {
		t.Skipf("machine too loaded: the re-trigger came %v into a %v pulse", second.Sub(first), width)
	}
	if err := o.Trigger(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "end of pulse", func() bool { return len(rec.all()) >= 3 })
	time.Sleep(20 * time.Millisecond) // a wrong second pulse would show up here
	cs := rec.all()
	if got := levels(cs); got != "LHL" {
		t.Fatalf("levels %s, want LHL (one pulse, no gap)", got)
	}
	if end := cs[2].at; end.Sub(second) < width {
		t.Errorf("pulse ended %v after the re-trigger, want ≥ %v", end.Sub(second), width)
	}
	if total := cs[2].at.Sub(first); total > width*3/2+250*time.Millisecond {
		t.Errorf("pulse lasted %v, want about %v", total, width*3/2)
	}
}

func TestHoldMode(t *testing.T) {
	steps := []struct {
		set       bool
		wantState bool
		wantLevel gpio.Level
	}{
		{true, true, gpio.High},
		{true, true, gpio.High}, // repeated: no change
		{false, false, gpio.Low},
		{true, true, gpio.High},
		{false, false, gpio.Low},
	}
	for _, activeLow := range []bool{false, true} {
		rec := &recorder{}
		pin := newRecPin(rec, "GPIO27", 27)
		o := mustNew(t, "lamp", pin, Config{Mode: Hold, ActiveLow: activeLow})
		for i, s := range steps {
			if err := o.Set(s.set); err != nil {
				t.Fatal(err)
			}
			want := s.wantLevel != gpio.Level(activeLow)
			if o.State() != s.wantState || pin.Read() != gpio.Level(want) {
				t.Errorf("activeLow=%v step %d Set(%v): state %v pin %s, want %v %s",
					activeLow, i, s.set, o.State(), pin.Read(), s.wantState, gpio.Level(want))
			}
		}
		// Inactive at New, then one Out per change: the repeated Set(true) wrote nothing.
		if n := len(rec.all()); n != 5 {
			t.Errorf("activeLow=%v: %d Out calls, want 5", activeLow, n)
		}
		err := o.Trigger()
		if err == nil || !strings.Contains(err.Error(), "hold mode") || !strings.Contains(err.Error(), `"lamp"`) {
			t.Errorf("Trigger in hold mode: %v, want an error naming the output and hold mode", err)
		}
	}
}

// Set cancels a pulse in progress: Set(true) keeps the output on for good,
// Set(false) ends the pulse now.
func TestSetCancelsPulse(t *testing.T) {
	const width = 60 * time.Millisecond
	rec := &recorder{}
	pin := newRecPin(rec, "GPIO5", 5)
	o := mustNew(t, "siren", pin, Config{Mode: Pulse, Pulse: width})
	if err := o.Trigger(); err != nil {
		t.Fatal(err)
	}
	if err := o.Set(true); err != nil {
		t.Fatal(err)
	}
	time.Sleep(width + 60*time.Millisecond)
	if !o.State() || pin.Read() != gpio.High {
		t.Fatalf("after Trigger, Set(true) and the pulse width: state %v pin %s, want on", o.State(), pin.Read())
	}
	if err := o.PulseFor(time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := o.Set(false); err != nil {
		t.Fatal(err)
	}
	if o.State() || pin.Read() != gpio.Low {
		t.Fatalf("Set(false) during a pulse: state %v pin %s, want off", o.State(), pin.Read())
	}
	if got := levels(rec.all()); got != "LHL" {
		t.Errorf("levels %s, want LHL", got)
	}
}

func TestCloseLeavesInactiveAndStopsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	rec := &recorder{}
	var outs []*Output
	var pins []*recPin
	for i, activeLow := range []bool{false, true, false, true} {
		pin := newRecPin(rec, "P"+string(rune('0'+i)), i)
		o, err := New(pin.N, pin, Config{Mode: Pulse, Pulse: time.Hour, ActiveLow: activeLow})
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Trigger(); err != nil { // mid-pulse at Close
			t.Fatal(err)
		}
		outs, pins = append(outs, o), append(pins, pin)
	}
	for i, o := range outs {
		if err := o.Close(); err != nil {
			t.Fatal(err)
		}
		if err := o.Close(); err != nil {
			t.Errorf("second Close: %v, want nil", err)
		}
		inactive := gpio.Level(o.cfg.ActiveLow)
		if pins[i].Read() != inactive || o.State() {
			t.Errorf("%s after Close: pin %s state %v, want %s false", o.Name(), pins[i].Read(), o.State(), inactive)
		}
		for _, err := range []error{o.Trigger(), o.Set(true), o.PulseFor(time.Second)} {
			if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), o.Name()) {
				t.Errorf("%s after Close: %v, want ErrClosed naming the output", o.Name(), err)
			}
		}
	}
	waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

// closerPin records that Close was called.
type closerPin struct {
	*gpiotest.Pin
	closed int
}

func (p *closerPin) Close() error { p.closed++; return nil }

func TestCloseClosesPin(t *testing.T) {
	pin := &closerPin{Pin: &gpiotest.Pin{N: "GPIO4"}}
	o, err := New("door", pin, Config{Mode: Hold})
	if err != nil {
		t.Fatal(err)
	}
	o.Close()
	o.Close()
	if pin.closed != 1 {
		t.Errorf("pin closed %d times, want 1", pin.closed)
	}
}

func TestConcurrentUse(t *testing.T) {
	rec := &recorder{}
	pin := newRecPin(rec, "GPIO6", 6)
	o := mustNew(t, "buzzer", pin, Config{Mode: Pulse, Pulse: 5 * time.Millisecond})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				switch i % 3 {
				case 0:
					_ = o.Trigger()
				case 1:
					_ = o.State()
				default:
					_ = o.Set(i%2 == 0)
				}
			}
		}()
	}
	wg.Wait()
	if err := o.Set(false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if pin.Read() != gpio.Low || o.State() {
		t.Errorf("after Set(false): pin %s state %v", pin.Read(), o.State())
	}
	// Levels alternate: never two identical writes in a row.
	cs := rec.all()
	for i := 1; i < len(cs); i++ {
		if cs[i].level == cs[i-1].level {
			t.Fatalf("write %d repeats level %s", i, cs[i].level)
		}
	}
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		in      string
		want    Mode
		wantErr bool
	}{
		{"pulse", Pulse, false},
		{"Hold", Hold, false},
		{" hold ", Hold, false},
		{"toggle", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		var m Mode
		err := m.UnmarshalText([]byte(tt.in))
		if (err != nil) != tt.wantErr || (err == nil && m != tt.want) {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v, err %v", tt.in, m, err, tt.want, tt.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), `"pulse" or "hold"`) {
			t.Errorf("error %q does not say what is expected", err)
		}
	}
	for _, m := range []Mode{Pulse, Hold} {
		b, err := m.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		if back, err := ParseMode(string(b)); err != nil || back != m {
			t.Errorf("round trip of %v: %v, %v", m, back, err)
		}
	}
}

func TestBank(t *testing.T) {
	rec := &recorder{}
	var outs []*Output
	for i, name := range []string{"relay1", "lamp", "buzzer"} {
		cfg := Config{Mode: Pulse, Pulse: 20 * time.Millisecond, Logger: quiet}
		if name == "lamp" {
			cfg = Config{Mode: Hold, ActiveLow: true, Logger: quiet} // self-tested with SelfTestPulse
		}
		o, err := New(name, newRecPin(rec, name, i), cfg)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, o)
	}
	b, err := NewBank(outs...)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got := strings.Join(b.Names(), ","); got != "relay1,lamp,buzzer" {
		t.Errorf("Names() = %s", got)
	}
	if o, ok := b.Get("lamp"); !ok || o.Name() != "lamp" {
		t.Errorf("Get(lamp) = %v, %v", o, ok)
	}
	if _, ok := b.Get("nope"); ok {
		t.Error("Get(nope) found something")
	}

	const gap = 10 * time.Millisecond
	start := len(rec.all())
	if err := b.SelfTest(context.Background(), gap); err != nil {
		t.Fatal(err)
	}
	cs := rec.all()[start:]
	var order []string
	for _, c := range cs {
		if len(order) == 0 || order[len(order)-1] != c.pin {
			order = append(order, c.pin)
		}
	}
	if got := strings.Join(order, ","); got != "relay1,lamp,buzzer" {
		t.Fatalf("self-test order %s, want relay1,lamp,buzzer (each pulsed once, in turn)", got)
	}
	for _, name := range b.Names() {
		var own []change
		for _, c := range cs {
			if c.pin == name {
				own = append(own, c)
			}
		}
		o, _ := b.Get(name)
		want := "HL"
		if o.cfg.ActiveLow {
			want = "LH"
		}
		if got := levels(own); got != want {
			t.Errorf("%s self-test levels %s, want %s", name, got, want)
			continue
		}
		width := o.cfg.Pulse
		if width == 0 {
			width = SelfTestPulse
		}
		if d := own[1].at.Sub(own[0].at); d < width {
			t.Errorf("%s self-test pulse %v, want ≥ %v", name, d, width)
		}
	}
	for i := 1; i < len(cs); i++ {
		if cs[i].pin != cs[i-1].pin && cs[i].at.Sub(cs[i-1].at) < gap {
			t.Errorf("gap between %s and %s is %v, want ≥ %v", cs[i-1].pin, cs[i].pin, cs[i].at.Sub(cs[i-1].at), gap)
		}
	}

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range b.Names() {
		o, _ := b.Get(name)
		if last := rec.of(name); o.State() || last[len(last)-1].level != gpio.Level(o.cfg.ActiveLow) {
			t.Errorf("%s not inactive after Bank.Close", name)
		}
	}
}

func TestBankSelfTestCancel(t *testing.T) {
	rec := &recorder{}
	a := mustNew(t, "a", newRecPin(rec, "a", 1), Config{Mode: Pulse, Pulse: time.Hour})
	bb := mustNew(t, "b", newRecPin(rec, "b", 2), Config{Mode: Pulse, Pulse: time.Hour})
	b, err := NewBank(a, bb)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err = b.SelfTest(ctx, 0)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("SelfTest with an expiring context: %v, want DeadlineExceeded naming output a", err)
	}
	if a.State() || len(rec.of("b")) != 1 {
		t.Errorf("after a cancelled self-test: a active %v, b writes %d (want false, 1)", a.State(), len(rec.of("b")))
	}
}

func TestNewBankErrors(t *testing.T) {
	a := mustNew(t, "a", &gpiotest.Pin{N: "a"}, Config{Mode: Hold})
	a2 := mustNew(t, "a", &gpiotest.Pin{N: "a2"}, Config{Mode: Hold})
	tests := []struct {
		name string
		outs []*Output
		want string
	}{
		{"duplicate", []*Output{a, a2}, `output "a" given twice`},
		{"nil", []*Output{a, nil}, "output 1 is nil"},
	}
	for _, tt := range tests {
		if _, err := NewBank(tt.outs...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: NewBank error %v, want %q", tt.name, err, tt.want)
		}
	}
	var zero Bank
	if _, ok := zero.Get("x"); ok || len(zero.Names()) != 0 || zero.Close() != nil || zero.SelfTest(context.Background(), 0) != nil {
		t.Error("zero Bank is not a usable empty bank")
	}
}
