package eventlog_test

import (
	"fmt"
	"log"
	"os"
	"time"

	"github.com/edgeproject/edge/edge/eventlog"
)

func Example() {
	dir, err := os.MkdirTemp("", "events")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	l, err := eventlog.Open(dir, eventlog.Config{Snapshots: true})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	// A rule fired on frame 1234: log it with a snapshot of the frame.
	const w, h = 64, 48
	frame := make([]byte, w*h*3) // RGB, as the camera gives it
	box := eventlog.Box{XMin: 0.2, YMin: 0.1, XMax: 0.6, YMax: 0.9}
	e := eventlog.Event{
		Time:  time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
		Rule:  "front-door",
		Label: "person", Score: 0.91, Box: &box,
		Frame: 1234, LatencyMS: 23.5,
	}
	if err := l.WriteSnapshot(&e, frame, w, h, []eventlog.Box{box}, []string{"person"}); err != nil {
		log.Fatal(err)
	}

	// A classification event: no box, no snapshot.
	if err := l.Write(eventlog.Event{
		Time: e.Time.Add(time.Second), Rule: "cat", Label: "tabby", Score: 0.7, Frame: 1260, LatencyMS: 9,
	}); err != nil {
		log.Fatal(err)
	}

	// The console's "events 2".
	recent, err := l.Recent(2)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range recent {
		fmt.Println(e.Time.Format(time.RFC3339), e.Rule, e.Label, e.Score, e.Frame)
		if e.Snapshot != "" {
			fmt.Println("  snapshot", e.Snapshot)
		}
	}
	line, _ := os.ReadFile(dir + "/" + eventlog.CurrentFile)
	fmt.Print(string(line))
	// Output:
	// 2024-05-06T07:08:09Z front-door person 0.91 1234
	//   snapshot 20240506T070809.000Z-front-door-1234.jpg
	// 2024-05-06T07:08:10Z cat tabby 0.7 1260
	// {"time":"2024-05-06T07:08:09Z","rule":"front-door","label":"person","score":0.91,"box":{"xmin":0.2,"ymin":0.1,"xmax":0.6,"ymax":0.9},"frame":1234,"latency_ms":23.5,"snapshot":"20240506T070809.000Z-front-door-1234.jpg"}
	// {"time":"2024-05-06T07:08:10Z","rule":"cat","label":"tabby","score":0.7,"frame":1260,"latency_ms":9}
}
