package main

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// cpioWriter writes a cpio archive in the "newc" format the kernel
// unpacks as an initramfs. Parent directories are added on first use.
type cpioWriter struct {
	w    io.Writer
	ino  uint32
	dirs map[string]bool
	err  error
}

func newCPIO(w io.Writer) *cpioWriter {
	return &cpioWriter{w: w, ino: 1, dirs: map[string]bool{".": true, "/": true}}
}

const (
	modeDir     = 0o040000
	modeRegular = 0o100000
	modeSymlink = 0o120000
)

func (c *cpioWriter) entry(name string, mode uint32, data []byte) {
	if c.err != nil {
		return
	}
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	c.parents(name)
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		c.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
	c.ino++
	buf := append([]byte(hdr), name...)
	buf = append(buf, 0)
	buf = pad4(buf)
	buf = append(buf, data...)
	buf = pad4(buf)
	_, c.err = c.w.Write(buf)
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// parents adds the directories above name that are not there yet.
func (c *cpioWriter) parents(name string) {
	dir := path.Dir(name)
	if c.dirs[dir] {
		return
	}
	c.dirs[dir] = true
	c.parents(dir)
	c.entry(dir, modeDir|0o755, nil)
}

// Dir adds a directory.
func (c *cpioWriter) Dir(name string) {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	if !c.dirs[name] {
		c.dirs[name] = true
		c.entry(name, modeDir|0o755, nil)
	}
}

// File adds a regular file with the given permissions.
func (c *cpioWriter) File(name string, perm fs.FileMode, data []byte) {
	c.entry(name, modeRegular|uint32(perm.Perm()), data)
}

// Symlink adds a symbolic link.
func (c *cpioWriter) Symlink(name, target string) {
	c.entry(name, modeSymlink|0o777, []byte(target))
}

// Close writes the trailer.
func (c *cpioWriter) Close() error {
	c.entry("TRAILER!!!", 0, nil)
	return c.err
}

// sysroot resolves guest paths in a tree unpacked from Debian packages,
// where symlinks are relative or point into the tree.
type sysroot struct {
	root    string
	triplet string // aarch64-linux-gnu
}

// hostPath maps a guest path to the file it is in the sysroot, following
// symlinks inside the tree; it fails if the path does not exist there.
func (s sysroot) hostPath(guest string) (string, error) {
	p := guest
	for range 40 {
		host := filepath.Join(s.root, p)
		fi, err := os.Lstat(host)
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			// Resolve the directories on the way too (lib → usr/lib).
			real, err := filepath.EvalSymlinks(host)
			if err != nil {
				return "", err
			}
			if rel, err := filepath.Rel(s.root, real); err != nil || strings.HasPrefix(rel, "..") {
				return "", fmt.Errorf("%s: leads out of the sysroot to %s", guest, real)
			}
			return real, nil
		}
		t, err := os.Readlink(host)
		if err != nil {
			return "", err
		}
		if path.IsAbs(t) {
			p = t
		} else {
			p = path.Join(path.Dir(p), t)
		}
	}
	return "", fmt.Errorf("%s: too many symlinks", guest)
}

// defaultDirs are where the dynamic loader looks for a library that no
// RUNPATH names, in order.
func (s sysroot) defaultDirs() []string {
	return []string{"/lib/" + s.triplet, "/usr/lib/" + s.triplet, "/lib", "/usr/lib"}
}

// elfDeps reads the interpreter, DT_NEEDED and RUNPATH (or RPATH) of an ELF file.
func elfDeps(file string) (interp string, needed, runpath []string, err error) {
	f, err := elf.Open(file)
	if err != nil {
		return "", nil, nil, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(p.Open())
			if err != nil {
				return "", nil, nil, fmt.Errorf("%s: PT_INTERP: %w", file, err)
			}
			interp = strings.TrimRight(string(b), "\x00")
		}
	}
	if needed, err = f.DynString(elf.DT_NEEDED); err != nil {
		return "", nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	for _, tag := range []elf.DynTag{elf.DT_RUNPATH, elf.DT_RPATH} {
		rp, err := f.DynString(tag)
		if err != nil {
			return "", nil, nil, fmt.Errorf("%s: %w", file, err)
		}
		for _, r := range rp {
			runpath = append(runpath, strings.Split(r, ":")...)
		}
		if len(runpath) > 0 {
			break
		}
	}
	return interp, needed, runpath, nil
}

// libClosure finds, in the sysroot, every shared library the ELF files
// need, directly or through other libraries, as the dynamic loader of the
// guest would: RUNPATH first ($ORIGIN is the guest directory of the file
// that needs it), then the default directories. elfs maps guest paths to
// host files: the binary and the libraries installed beside it. It
// returns guest path → host file for the libraries and the loader.
func (s sysroot) libClosure(elfs map[string]string) (map[string]string, error) {
	libs := map[string]string{}
	found := map[string]bool{} // sonames
	type item struct{ guest, host string }
	var queue []item
	for g, h := range elfs {
		queue = append(queue, item{g, h})
	}
	sort.Slice(queue, func(i, j int) bool { return queue[i].guest < queue[j].guest })
	var missing []string
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		interp, needed, runpath, err := elfDeps(it.host)
		if err != nil {
			return nil, err
		}
		if interp != "" && libs[interp] == "" {
			h, err := s.hostPath(interp)
			if err != nil {
				return nil, fmt.Errorf("%s: interpreter %s: %w", it.guest, interp, err)
			}
			libs[interp] = h
		}
		var dirs []string
		for _, r := range runpath {
			dirs = append(dirs, strings.ReplaceAll(r, "$ORIGIN", path.Dir(it.guest)))
		}
		dirs = append(dirs, s.defaultDirs()...)
	next:
		for _, so := range needed {
			if found[so] {
				continue
			}
			for _, d := range dirs {
				g := path.Join(d, so)
				if h, ok := elfs[g]; ok {
					libs[g] = h
					found[so] = true
					continue next
				}
				h, err := s.hostPath(g)
				if errors.Is(err, fs.ErrNotExist) {
					continue
				} else if err != nil {
					return nil, err
				}
				libs[g] = h
				found[so] = true
				queue = append(queue, item{g, h})
				continue next
			}
			missing = append(missing, so+" (needed by "+it.guest+")")
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("not in the sysroot %s: %s", s.root, strings.Join(missing, ", "))
	}
	return libs, nil
}
