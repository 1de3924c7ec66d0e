package systemd

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// systemTools are the commands install.sh runs only on a real install;
// staged, it must call none of them.
var systemTools = []string{"useradd", "usermod", "groupadd", "chown", "chgrp", "systemctl", "udevadm", "ldconfig"}

// stubTools puts a script for each of systemTools first in PATH: it
// records its name and fails. It returns the PATH and the record file.
func stubTools(t *testing.T) (path, record string) {
	t.Helper()
	dir := t.TempDir()
	record = filepath.Join(dir, "called")
	for _, name := range systemTools {
		script := "#!/bin/sh\necho \"" + name + " $*\" >>" + record + "\nexit 1\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir + string(os.PathListSeparator) + os.Getenv("PATH"), record
}

// fakeFile writes a file with the content into a temp dir.
func fakeFile(t *testing.T, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// runInstall runs install.sh with the args and extra environment.
func runInstall(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	sh := lookTool(t, "sh", "dash")
	cmd := exec.Command(sh, append([]string{"install.sh"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// tree lists the files and directories under root with their modes.
func tree(t *testing.T, root string) map[string]fs.FileMode {
	t.Helper()
	got := map[string]fs.FileMode{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		got[rel] = info.Mode()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A staged install (DESTDIR) lays out the tree, touches nothing of the
// system (no user, owner, systemd or udev change), keeps an existing
// config, and follows --prefix.
func TestInstallStaged(t *testing.T) {
	path, record := stubTools(t)
	bin := fakeFile(t, "edge", "#!/bin/sh\necho edge\n", 0o755)
	lib := fakeFile(t, "libtensorflowlite_c.so", "ELF", 0o644)
	unit := readFile(t, "edge.service")
	example := readFile(t, "../edge/edge.example.yaml")

	for _, tc := range []struct {
		name   string
		env    []string
		args   []string
		prefix string
	}{
		{"DESTDIR", []string{"DESTDIR=%s"}, nil, "/usr"},
		{"--destdir", nil, []string{"--destdir", "%s"}, "/usr"},
		{"--prefix", nil, []string{"--destdir=%s", "--prefix", "/opt/edge"}, "/opt/edge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			fill := func(ss []string) []string {
				var out []string
				for _, s := range ss {
					out = append(out, strings.ReplaceAll(s, "%s", root))
				}
				return out
			}
			env := append(fill(tc.env), "PATH="+path)
			args := append(fill(tc.args), "--binary", bin, "--tflite-lib", lib)
			out, err := runInstall(t, env, args...)
			if err != nil {
				t.Fatalf("install.sh %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			if !strings.Contains(out, "systemctl enable --now edge") {
				t.Errorf("install.sh does not print the next step:\n%s", out)
			}

			p := strings.TrimPrefix(tc.prefix, "/")
			want := map[string]fs.FileMode{
				p + "/bin/edge":                        0o755,
				p + "/lib/edge/libtensorflowlite_c.so": 0o644,
				"etc/ld.so.conf.d/edge.conf":           0o644,
				"lib/systemd/system/edge.service":      0o644,
				"lib/udev/rules.d/99-edge-gpio.rules":  0o644,
				"etc/edge/edge.yaml":                   0o640,
				"var/lib/edge":                         fs.ModeDir | 0o750,
				"var/lib/edge/models":                  fs.ModeDir | 0o750,
				"var/lib/edge/events":                  fs.ModeDir | 0o750,
			}
			got := tree(t, root)
			for f, mode := range want {
				if m, ok := got[f]; !ok {
					t.Errorf("%s not installed", f)
				} else if m != mode {
					t.Errorf("%s: mode %v, want %v", f, m, mode)
				}
			}
			for f, m := range got {
				if _, ok := want[f]; !ok && !m.IsDir() {
					t.Errorf("unexpected file %s", f)
				}
			}
			if _, err := os.Stat(filepath.Join(root, "etc/passwd")); err == nil {
				t.Error("a staged install wrote etc/passwd")
			}
			if b, err := os.ReadFile(record); err == nil {
				t.Errorf("a staged install ran system tools:\n%s", b)
			}

			wantUnit := strings.Replace(unit, "ExecStart=/usr/bin/edge ", "ExecStart="+tc.prefix+"/bin/edge ", 1)
			if got := readFile(t, filepath.Join(root, "lib/systemd/system/edge.service")); got != wantUnit {
				t.Errorf("installed unit differs from edge.service with ExecStart under %s", tc.prefix)
			}
			if got := readFile(t, filepath.Join(root, "etc/ld.so.conf.d/edge.conf")); got != tc.prefix+"/lib/edge\n" {
				t.Errorf("ld.so.conf.d/edge.conf = %q, want %q", got, tc.prefix+"/lib/edge\n")
			}
			if got := readFile(t, filepath.Join(root, "etc/edge/edge.yaml")); got != example {
				t.Error("/etc/edge/edge.yaml is not edge/edge.example.yaml")
			}

			// Idempotent, and a configuration is never overwritten.
			mine := filepath.Join(root, "etc/edge/edge.yaml")
			if err := os.WriteFile(mine, []byte("camera: {source: /dev/video2}\n"), 0o640); err != nil {
				t.Fatal(err)
			}
			out, err = runInstall(t, env, args...)
			if err != nil {
				t.Fatalf("second install.sh: %v\n%s", err, out)
			}
			if got := readFile(t, mine); got != "camera: {source: /dev/video2}\n" || !strings.Contains(out, "kept /etc/edge/edge.yaml") {
				t.Errorf("second run replaced the config (now %q):\n%s", got, out)
			}
		})
	}
}

func TestInstallErrors(t *testing.T) {
	path, record := stubTools(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no binary", []string{"--binary", "/nonexistent/edge"}, "make build"},
		{"relative prefix", []string{"--prefix", "usr"}, "absolute path"},
		{"unknown flag", []string{"--frobnicate"}, "unknown argument --frobnicate"},
		{"missing lib", []string{"--binary", "/bin/sh", "--tflite-lib", "/nonexistent.so"}, "/nonexistent.so"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			out, err := runInstall(t, []string{"PATH=" + path, "DESTDIR=" + root}, tc.args...)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Errorf("install.sh %s: %v, want a failure saying %q:\n%s", strings.Join(tc.args, " "), err, tc.want, out)
			}
			if len(tree(t, root)) != 0 {
				t.Errorf("a failed install left files in DESTDIR: %v", tree(t, root))
			}
		})
	}
	if b, err := os.ReadFile(record); err == nil {
		t.Errorf("install.sh ran system tools:\n%s", b)
	}
}
