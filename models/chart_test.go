package models

import (
	"strings"
	"testing"
)

func TestNiceStep(t *testing.T) {
	for in, want := range map[float64]float64{96.2: 100, 0.3: 0.5, 12: 20, 2.2: 2.5, 1: 1, 0: 1, 4.9: 5} {
		if got := niceStep(in); got != want {
			t.Errorf("niceStep(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestChartRejectsBadValues(t *testing.T) {
	var sb strings.Builder
	if err := (Chart{Title: "t"}).WriteSVG(&sb); err == nil {
		t.Error("no bars: no error")
	}
	if err := (Chart{Title: "t", Bars: []Bar{{Label: "a", Value: -1}}}).WriteSVG(&sb); err == nil {
		t.Error("negative value: no error")
	}
	// Labels are escaped.
	if err := (Chart{Title: "a<b", Bars: []Bar{{Label: "x&y", Value: 1}}}).WriteSVG(&sb); err != nil || !strings.Contains(sb.String(), "a&lt;b") || !strings.Contains(sb.String(), "x&amp;y") {
		t.Errorf("escaping: %v\n%s", err, sb.String())
	}
}
