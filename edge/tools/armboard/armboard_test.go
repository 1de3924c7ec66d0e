package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// cpioEntry is one entry read back from a newc archive.
type cpioEntry struct {
	mode uint32
	data string
}

// readCPIO parses a newc archive the way the kernel does.
func readCPIO(t *testing.T, b []byte) (map[string]cpioEntry, []string) {
	t.Helper()
	entries := map[string]cpioEntry{}
	var order []string
	field := func(h []byte, i int) int {
		n, err := strconv.ParseUint(string(h[6+8*i:6+8*i+8]), 16, 32)
		if err != nil {
			t.Fatalf("header field %d: %v", i, err)
		}
		return int(n)
	}
	for off := 0; ; {
		if off%4 != 0 || off+110 > len(b) {
			t.Fatalf("entry at %d: misaligned or truncated", off)
		}
		h := b[off : off+110]
		if string(h[:6]) != "070701" {
			t.Fatalf("entry at %d: magic %q", off, h[:6])
		}
		mode, size, namesize := field(h, 1), field(h, 6), field(h, 11)
		name := string(b[off+110 : off+110+namesize-1])
		if b[off+110+namesize-1] != 0 {
			t.Fatalf("%s: name not NUL-terminated", name)
		}
		off = (off + 110 + namesize + 3) &^ 3
		data := string(b[off : off+size])
		off = (off + size + 3) &^ 3
		if name == "TRAILER!!!" {
			if off != len(b) {
				t.Fatalf("%d bytes after the trailer", len(b)-off)
			}
			return entries, order
		}
		if _, dup := entries[name]; dup {
			t.Errorf("%s twice", name)
		}
		entries[name] = cpioEntry{uint32(mode), data}
		order = append(order, name)
	}
}

func TestCPIO(t *testing.T) {
	var buf bytes.Buffer
	c := newCPIO(&buf)
	c.Dir("proc")
	c.File("/usr/lib/edge/libtensorflowlite_c.so", 0o755, []byte("ELF!"))
	c.File("/init", 0o755, []byte("#!/bin/busybox sh\n"))
	c.File("usr/lib/x", 0o644, []byte("12345"))
	c.Symlink("/bin/sh", "busybox")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	got, order := readCPIO(t, buf.Bytes())
	want := map[string]cpioEntry{
		"proc":                                {modeDir | 0o755, ""},
		"usr":                                 {modeDir | 0o755, ""},
		"usr/lib":                             {modeDir | 0o755, ""},
		"usr/lib/edge":                        {modeDir | 0o755, ""},
		"usr/lib/edge/libtensorflowlite_c.so": {modeRegular | 0o755, "ELF!"},
		"init":                                {modeRegular | 0o755, "#!/bin/busybox sh\n"},
		"usr/lib/x":                           {modeRegular | 0o644, "12345"},
		"bin":                                 {modeDir | 0o755, ""},
		"bin/sh":                              {modeSymlink | 0o777, "busybox"},
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || g != w {
			t.Errorf("%s: %+v, want %+v", name, g, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("entries %v, want %d", order, len(want))
	}
	// A directory comes before what is in it (the kernel needs it there).
	pos := map[string]int{}
	for i, n := range order {
		pos[n] = i
	}
	for n := range got {
		if d := filepath.Dir(n); d != "." && pos[d] > pos[n] {
			t.Errorf("%s comes after %s", d, n)
		}
	}
}

func cc(t *testing.T, dir string, args ...string) {
	t.Helper()
	path, err := exec.LookPath("cc")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("cc not found (Debian package gcc): needed in CI")
		}
		t.Skip("cc not found (apt-get install gcc)")
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// The closure follows DT_NEEDED through libraries, RUNPATH with $ORIGIN,
// and the sysroot's symlinks (absolute ones too), and names what is missing.
func TestLibClosure(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs the C compiler making ELF files")
	}
	const triplet = "x86_64-linux-gnu" // the directories, not the machine: any host works
	root := t.TempDir()
	build := t.TempDir()
	os.WriteFile(filepath.Join(build, "f.c"), []byte("int f(void) { return 1; }\n"), 0o644)
	os.WriteFile(filepath.Join(build, "main.c"), []byte("int main(void) { return 0; }\n"), 0o644)
	cc(t, build, "-shared", "-fPIC", "-Wl,-soname,libdeep.so.2", "-o", "libdeep.so.2", "f.c")
	cc(t, build, "-shared", "-fPIC", "-Wl,-soname,libmid.so.1", "-o", "libmid.so.1", "f.c", "-L.", "-Wl,--no-as-needed", "-l:libdeep.so.2")
	cc(t, build, "-shared", "-fPIC", "-Wl,-soname,libprivate.so", "-o", "libprivate.so", "f.c", "-Wl,-rpath,$ORIGIN/sub", "-L.", "-Wl,--no-as-needed", "-l:libmid.so.1")
	cc(t, build, "-o", "app", "main.c", "-L.", "-Wl,--no-as-needed", "-l:libprivate.so", "-Wl,-rpath,/opt/app/lib")

	lib := filepath.Join(root, "usr/lib", triplet)
	os.MkdirAll(lib, 0o755)
	os.MkdirAll(filepath.Join(root, "opt/app/lib/sub"), 0o755)
	// libmid is found through libprivate's $ORIGIN/sub, by an absolute symlink.
	os.Rename(filepath.Join(build, "libmid.so.1"), filepath.Join(lib, "libmid.so.1.0"))
	os.Symlink("/usr/lib/"+triplet+"/libmid.so.1.0", filepath.Join(root, "opt/app/lib/sub/libmid.so.1"))
	// libdeep in a default directory, behind a relative symlink.
	os.Rename(filepath.Join(build, "libdeep.so.2"), filepath.Join(lib, "libdeep.so.2.0"))
	os.Symlink("libdeep.so.2.0", filepath.Join(lib, "libdeep.so.2"))

	// The dynamic loader the binary names.
	interp := interpOf(t, filepath.Join(build, "app"))
	os.MkdirAll(filepath.Join(root, filepath.Dir(interp)), 0o755)
	cc(t, build, "-shared", "-fPIC", "-nostdlib", "-o", filepath.Join(root, interp), "f.c")

	sr := sysroot{root: root, triplet: triplet}
	elfs := map[string]string{
		"/opt/app/bin/app":           filepath.Join(build, "app"),
		"/opt/app/lib/libprivate.so": filepath.Join(build, "libprivate.so"),
	}
	_, err := sr.libClosure(elfs)
	// The host's libc is not in this sysroot: named as missing, with who needs it.
	if err == nil || !strings.Contains(err.Error(), "libc.so.6 (needed by /opt/app/bin/app)") {
		t.Fatalf("closure: %v, want libc.so.6 missing", err)
	}
	// Give it a libc, then it is complete.
	cc(t, build, "-shared", "-fPIC", "-nostdlib", "-Wl,-soname,libc.so.6", "-o", filepath.Join(lib, "libc.so.6"), "f.c")
	got, err := sr.libClosure(elfs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/opt/app/lib/libprivate.so":            filepath.Join(build, "libprivate.so"),
		"/opt/app/lib/sub/libmid.so.1":          filepath.Join(lib, "libmid.so.1.0"),
		"/usr/lib/" + triplet + "/libdeep.so.2": filepath.Join(lib, "libdeep.so.2.0"),
		"/usr/lib/" + triplet + "/libc.so.6":    filepath.Join(lib, "libc.so.6"),
		interp:                                  filepath.Join(root, interp),
	}
	for g, h := range want {
		if got[g] != h {
			t.Errorf("%s: %q, want %q", g, got[g], h)
		}
	}
	for g := range got {
		if _, ok := want[g]; !ok {
			t.Errorf("unexpected %s", g)
		}
	}
}

func interpOf(t *testing.T, file string) string {
	t.Helper()
	interp, _, _, err := elfDeps(file)
	if err != nil || interp == "" {
		t.Fatalf("%s: interpreter %q, %v", file, interp, err)
	}
	return interp
}

func TestDebugfsGPIO(t *testing.T) {
	dump := "gpiochip0: GPIOs 504-511, parent: amba/9030000.pl061, 9030000.pl061:; gpio-507 (                    |GPIO Key Poweroff   ) in  hi IRQ ACTIVE LOW; gpio-509 (                    |edge                ) out hi ;"
	base, lines, err := debugfsGPIO(dump)
	if err != nil || base != 504 || len(lines) != 2 {
		t.Fatalf("base %d lines %+v %v", base, lines, err)
	}
	if l := lines[1]; l.gpio != 509 || l.consumer != "edge" || l.dir != "out" || !l.high {
		t.Errorf("line %+v", l)
	}
	if l := lines[0]; l.consumer != "GPIO Key Poweroff" || l.dir != "in" {
		t.Errorf("line %+v", l)
	}
	if _, _, err := debugfsGPIO("nothing"); err == nil {
		t.Error("no error without gpiochip0")
	}
}

// The checks pass on a recorded good run and name what is wrong in
// broken ones.
func TestCheck(t *testing.T) {
	good, err := os.ReadFile("testdata/console-pass.log")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range check(good, 5, 6) {
		if r.err != nil {
			t.Errorf("%s: %v", r.name, r.err)
		}
	}
	for _, tc := range []struct {
		name       string
		old, new   string
		line       int
		check, msg string
	}{
		{"other line", "", "", 7, "drove PL061 line 7", "line 7 (gpio-511) not held high"},
		{"line low", "|edge                ) out hi", "|edge                ) out lo", 5, "drove PL061 line 5", "not held high"},
		{"wrong label", `"label": "espresso"`, `"label": "cup"`, 5, "classify", `coffee.png: top-1 "cup", want "espresso"`},
		{"classify failed", "classify rc=0", "classify rc=1", 5, "classify", "exited with rc=1"},
		{"no person", `"label": "person"`, `"label": "tie"`, 5, "detect", "no person"},
		{"still held", "gpio-after-stop gpiochip0: GPIOs 504-511, parent: amba/9030000.pl061, 9030000.pl061:;",
			"gpio-after-stop gpiochip0: GPIOs 504-511, parent: amba/9030000.pl061, 9030000.pl061:; gpio-509 (                    |edge                ) out lo ;", 5, "released", "still requested by edge"},
		{"no event", `"rule":"espresso-lamp"`, `"rule":"other"`, 5, "event log", "no espresso-lamp event"},
		{"killed", "run rc=0", "run rc=143", 5, "SIGTERM", "rc=143"},
		{"hung", "EDGE-BOARD: done", "", 5, "finished", `never printed "EDGE-BOARD: done"`},
		{"no status answer", "frames 2 dropped 0 events 1", "error: unknown command", 5, "status and events", "no answer to status"},
		{"no frames", "frames 2 dropped 0 events 1", "frames 0 dropped 0 events 1", 5, "status and events", "no frames"},
		{"no event listed", "rule=espresso-lamp label", "rule=other label", 5, "status and events", "no espresso-lamp event"},
		{"no session", "EDGE-BOARD: console-ready", "EDGE-BOARD: console-not", 5, "status and events", "no console session"},
		{"ack not driven", "gpio-510 (                    |edge                ) out hi", "gpio-510 (                    |edge                ) out lo", 5, "gpio ack on", "line 6 (gpio-510) not driven high"},
		{"ack wait timed out", "ack-seen 1", "ack-seen no", 5, "gpio ack on", "debugfs shows the line high"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			console := good
			if tc.old != "" {
				if !bytes.Contains(good, []byte(tc.old)) {
					t.Fatalf("the recorded console has no %q", tc.old)
				}
				console = bytes.Replace(good, []byte(tc.old), []byte(tc.new), 1)
			}
			var found bool
			for _, r := range check(console, tc.line, 6) {
				if !strings.Contains(r.name, tc.check) {
					continue
				}
				found = true
				if r.err == nil || !strings.Contains(r.err.Error(), tc.msg) {
					t.Errorf("%s: %v, want an error saying %q", r.name, r.err, tc.msg)
				}
			}
			if !found {
				t.Errorf("no check named like %q", tc.check)
			}
		})
	}
}

// The guest's files are what the checks expect.
func TestGuestConfig(t *testing.T) {
	b := board{gpioLine: 5, ackLine: 6}
	cfg := b.config()
	for _, want := range []string{"line: 5", "line: 6", "labels: [espresso]", "mode: hold", "source: /data/photos/", `listen: "off"`, "dir: /tmp/events", "port: /dev/ttyAMA0"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config has no %q:\n%s", want, cfg)
		}
	}
	init := b.initScript()
	for _, key := range []string{"kernel", "gpiochips", "version", "classify", "detect", "gpio-while-running", "gpio-seen", "console-ready", "ack-seen", "run", "gpio-after-stop", "events", "done"} {
		if !strings.Contains(init, `say "`+key+` `) && !strings.Contains(init, `say "`+key+`"`) {
			t.Errorf("init prints no %s marker", key)
		}
	}
	if sh, err := exec.LookPath("sh"); err == nil {
		f := filepath.Join(t.TempDir(), "init")
		os.WriteFile(f, []byte(init), 0o755)
		if out, err := exec.Command(sh, "-n", f).CombinedOutput(); err != nil {
			t.Errorf("sh -n init: %v\n%s", err, out)
		}
	}
}
