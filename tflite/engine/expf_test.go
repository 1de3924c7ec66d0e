package engine

import (
	"math"
	"testing"
)

// TestExpfMatchesGlibc checks the port of glibc's expf against a hash of
// glibc 2.36's own results over every 4099th float in (−110, 90) (taken
// with a C program; over every 7th float the two agree as well).
func TestExpfMatchesGlibc(t *testing.T) {
	var cnt uint64
	var h uint32
	for u := uint64(0); u < 1<<32; u += 4099 {
		x := math.Float32frombits(uint32(u))
		if !(x > -110 && x < 90) {
			continue
		}
		h = h*31 + math.Float32bits(expf(x))
		cnt++
	}
	if cnt != 546672 || h != 1441445044 {
		t.Errorf("expf over %d floats: hash %d, glibc gives 546672 floats, hash 1441445044", cnt, h)
	}
}
