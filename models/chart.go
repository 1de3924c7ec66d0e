package models

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// Chart is a horizontal bar chart, e.g. the latency of each MobileNet.
type Chart struct {
	Title string
	// Unit is appended to the values, e.g. "ms".
	Unit string
	Bars []Bar
}

// Bar is one bar of a Chart.
type Bar struct {
	Label string
	Value float64
	// Note is a smaller text after the value, e.g. "569M MAdds".
	Note string
}

// WriteSVG renders the chart as a standalone SVG document: one bar per
// row, labels on the left, values at the bar ends, on a scale starting at
// zero. Values must be finite and not negative.
func (c Chart) WriteSVG(w io.Writer) error {
	if len(c.Bars) == 0 {
		return fmt.Errorf("chart %q: no bars", c.Title)
	}
	maxV := 0.0
	for _, b := range c.Bars {
		if b.Value < 0 || math.IsNaN(b.Value) || math.IsInf(b.Value, 0) {
			return fmt.Errorf("chart %q: bar %q has value %v, want a finite value ≥ 0", c.Title, b.Label, b.Value)
		}
		maxV = max(maxV, b.Value)
	}
	step := niceStep(maxV / 4)
	ticks := int(math.Ceil(maxV/step - 1e-9))
	maxV = step * float64(max(ticks, 1))
	const (
		width   = 720
		labelW  = 190
		valueW  = 190
		top     = 48
		rowH    = 34
		barH    = 22
		bottom  = 28
		plotW   = width - labelW - valueW
		palette = "#4e79a7,#f28e2b,#59a14f,#e15759,#76b7b2,#edc948,#b07aa1,#ff9da7"
	)
	colors := strings.Split(palette, ",")
	height := top + rowH*len(c.Bars) + bottom
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">`+"\n", width, height, width, height)
	fmt.Fprintf(&sb, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	fmt.Fprintf(&sb, `<text x="%d" y="28" font-size="16" font-weight="bold">%s</text>`+"\n", 12, html.EscapeString(c.Title))
	// Grid: round ticks from zero past the largest value.
	for i := 0; i <= max(ticks, 1); i++ {
		x := labelW + plotW*i/max(ticks, 1)
		v := step * float64(i)
		fmt.Fprintf(&sb, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#dddddd"/>`+"\n", x, top-6, x, height-bottom)
		fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="middle" fill="#666666" font-size="11">%s</text>`+"\n", x, height-bottom+16, html.EscapeString(formatValue(v, c.Unit)))
	}
	for i, b := range c.Bars {
		y := top + rowH*i
		bw := int(math.Round(float64(plotW) * b.Value / maxV))
		fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelW-8, y+barH/2+5, html.EscapeString(b.Label))
		fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s: %s</title></rect>`+"\n",
			labelW, y, bw, barH, colors[i%len(colors)], html.EscapeString(b.Label), html.EscapeString(formatValue(b.Value, c.Unit)))
		text := formatValue(b.Value, c.Unit)
		if b.Note != "" {
			text += " · " + b.Note
		}
		// The text goes after the bar, or inside it, in white, when the
		// space after the bar is too narrow (about 7 px a character).
		x, anchor, fill := labelW+bw+6, "start", "#000000"
		if need := 7 * len([]rune(text)); x+need > width && bw > plotW/2 {
			x, anchor, fill = labelW+bw-6, "end", "#ffffff"
		}
		fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="%s" fill="%s">%s</text>`+"\n", x, y+barH/2+5, anchor, fill, html.EscapeString(text))
	}
	sb.WriteString("</svg>\n")
	_, err := io.WriteString(w, sb.String())
	return err
}

// niceStep rounds v up to 1, 2, 2.5 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

func formatValue(v float64, unit string) string {
	s := fmt.Sprintf("%.3g", v)
	if v >= 1000 {
		s = fmt.Sprintf("%.0f", v)
	}
	if unit != "" {
		s += " " + unit
	}
	return s
}
