package systemd

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// lookTool finds a command the test needs. Missing, it skips the test on
// a developer's machine and fails it in CI ($CI set), where the machine
// is expected to have it.
func lookTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found (Debian package %s): needed in CI", name, pkg)
		}
		t.Skipf("%s not found (apt-get install %s)", name, pkg)
	}
	return path
}

// unitSettings parses a unit file into section → key → values, in order.
func unitSettings(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	units := map[string]map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			section = line[1 : len(line)-1]
			units[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: %q is not a KEY=value line in a section", path, n, line)
			}
			units[section][k] = append(units[section][k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return units
}

func TestUnitSettings(t *testing.T) {
	u := unitSettings(t, "edge.service")
	for _, tc := range []struct{ section, key, want string }{
		{"Service", "Type", "notify"},
		{"Service", "ExecStart", "/usr/bin/edge run --config /etc/edge/edge.yaml"},
		{"Service", "ExecReload", "/bin/kill -HUP $MAINPID"},
		{"Service", "WatchdogSec", "30"},
		{"Service", "Restart", "on-failure"},
		{"Service", "RestartSec", "2"},
		{"Service", "TimeoutStopSec", "5"},
		{"Service", "User", "edge"},
		{"Service", "Group", "edge"},
		{"Service", "SupplementaryGroups", "video gpio dialout"},
		{"Service", "NoNewPrivileges", "yes"},
		{"Service", "ProtectSystem", "strict"},
		{"Service", "ProtectHome", "yes"},
		{"Service", "PrivateTmp", "yes"},
		{"Service", "StateDirectory", "edge"},
		{"Service", "ReadWritePaths", "/var/lib/edge"},
		{"Service", "DevicePolicy", "closed"},
		{"Service", "DeviceAllow", "char-video4linux rw"},
		{"Service", "DeviceAllow", "char-gpiochip rw"},
		{"Service", "DeviceAllow", "char-ttyS rw"},
		{"Service", "DeviceAllow", "char-ttyAMA rw"},
		{"Service", "DeviceAllow", "char-ttyUSB rw"},
		{"Service", "DeviceAllow", "char-ttyACM rw"},
		{"Service", "DeviceAllow", "char-ttyGS rw"},
		{"Service", "DeviceAllow", "char-apex rw"},
		{"Service", "DeviceAllow", "char-usb_device rw"},
		{"Service", "LockPersonality", "yes"},
		{"Service", "RestrictRealtime", "yes"},
		{"Service", "ProtectKernelTunables", "yes"},
		{"Service", "ProtectControlGroups", "yes"},
		{"Service", "RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6 AF_NETLINK"},
		{"Install", "WantedBy", "multi-user.target"},
	} {
		t.Run(tc.key+"="+tc.want, func(t *testing.T) {
			got := u[tc.section][tc.key]
			for _, v := range got {
				if v == tc.want {
					return
				}
			}
			t.Errorf("[%s] %s = %q, want %q among them", tc.section, tc.key, got, tc.want)
		})
	}
	for _, forbidden := range []string{"PrivateDevices", "MemoryDenyWriteExecute"} {
		if v, ok := u["Service"][forbidden]; ok {
			t.Errorf("%s=%v: edge needs its devices and GStreamer's run-time code", forbidden, v)
		}
	}
}

func TestUdevRule(t *testing.T) {
	b, err := os.ReadFile("99-edge-gpio.rules")
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && line[0] != '#' {
			rules = append(rules, line)
		}
	}
	want := `SUBSYSTEM=="gpio", KERNEL=="gpiochip*", GROUP="gpio", MODE="0660"`
	if len(rules) != 1 || rules[0] != want {
		t.Errorf("rules %q, want only %q", rules, want)
	}
}

// buildEdge builds the edge command of this tree into dir. It needs the
// cgo environment of `make env` (make test has it).
func buildEdge(t *testing.T, dir string) string {
	t.Helper()
	goTool := lookTool(t, "go", "golang")
	bin := filepath.Join(dir, "edge")
	cmd := exec.Command(goTool, "build", "-o", bin, "./edge")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./edge (run with the environment of `eval \"$(make -s env)\"`): %v\n%s", err, out)
	}
	return bin
}

// verify runs systemd-analyze verify on the unit file and returns the
// lines it printed about that unit, and all it printed.
func verify(t *testing.T, analyze, unit string) (ours []string, all string) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(analyze, "verify", unit)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_COLOR=0", "SYSTEMD_PAGER=")
	err := cmd.Run()
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, unit) || strings.Contains(line, filepath.Base(unit)+":") {
			ours = append(ours, line)
		}
	}
	if err != nil && len(ours) == 0 {
		// A failure must come from our unit: unrelated system units only warn.
		ours = append(ours, "systemd-analyze verify: "+err.Error())
	}
	return ours, out.String()
}

// The unit passes `systemd-analyze verify` without a warning about it,
// with ExecStart pointing to an edge built from this tree.
func TestUnitVerify(t *testing.T) {
	analyze := lookTool(t, "systemd-analyze", "systemd")
	dir := t.TempDir()
	bin := buildEdge(t, dir)
	src, err := os.ReadFile("edge.service")
	if err != nil {
		t.Fatal(err)
	}
	const execLine = "ExecStart=/usr/bin/edge "
	if !bytes.Contains(src, []byte("\n"+execLine)) {
		t.Fatalf("edge.service: no %q line", execLine)
	}
	unit := filepath.Join(dir, "edge.service")
	if err := os.WriteFile(unit, bytes.Replace(src, []byte(execLine), []byte("ExecStart="+bin+" "), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if ours, all := verify(t, analyze, unit); len(ours) > 0 {
		t.Errorf("systemd-analyze verify edge.service:\n%s\n(all output:\n%s)", strings.Join(ours, "\n"), all)
	}

	// The check is not blind: a broken copy is reported.
	broken := filepath.Join(t.TempDir(), "edge.service")
	bad := bytes.Replace(src, []byte(execLine), []byte("ExecStart="+bin+" "), 1)
	bad = bytes.Replace(bad, []byte("DeviceAllow=char-apex rw"), []byte("DeviceAllow=char-apex rwx\nWatchdogSecs=30"), 1)
	if err := os.WriteFile(broken, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	ours, all := verify(t, analyze, broken)
	for _, want := range []string{"rwx", "WatchdogSecs"} {
		if !strings.Contains(strings.Join(ours, "\n"), want) {
			t.Errorf("systemd-analyze verify did not report %s in a broken unit:\n%s", want, all)
		}
	}
}
