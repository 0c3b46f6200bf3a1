// Package ddblocal fetches, starts and stops DynamoDB Local, AWS's own
// DynamoDB emulator, bound to 127.0.0.1.
//
// The emulator comes from the npm package amplify-dynamodb-simulator, which
// ships the DynamoDB Local jar; [Ensure] unpacks it once into a cache
// directory and [Start] runs it through a small Java launcher that binds it to
// 127.0.0.1 only (DynamoDB Local itself binds every interface and has no flag
// for it). Java 17 is needed: a JDK the first time, to compile the launcher.
package ddblocal

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	_ "embed" // for the launcher's Java source
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/deskline/deskline/localstack/proc"
)

const (
	// Version is the DynamoDB Local version that Ensure installs.
	Version = "1.25.1"

	npmPackage   = "amplify-dynamodb-simulator"
	npmVersion   = "2.9.30"
	npmTarball   = npmPackage + "-" + npmVersion + ".tgz"
	npmIntegrity = "sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ=="
	// tarPrefix is where the npm package keeps DynamoDB Local.
	tarPrefix = "package/emulator/"

	installName = "dynamodb-local-" + Version
	jarName     = "DynamoDBLocal.jar"
	libName     = "DynamoDBLocal_lib"
	tmpPrefix   = ".ddblocal-tmp-"

	// javaRelease is the class-file level the launcher is compiled for, so
	// that any Java runtime from 11 on can load it.
	javaRelease = "11"
)

//go:embed Launcher.java
var launcherSource []byte

// DefaultCacheDir returns the cache directory to pass to [Ensure]:
// $DESKLINE_CACHE_DIR if set, else "deskline" under [os.UserCacheDir], else
// "deskline-cache" under [os.TempDir].
func DefaultCacheDir() string {
	if d := os.Getenv("DESKLINE_CACHE_DIR"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "deskline")
	}
	return filepath.Join(os.TempDir(), "deskline-cache")
}

// Ensure makes sure DynamoDB Local [Version] is unpacked under
// <cacheDir>/dynamodb-local-<Version>/ and its launcher compiled, and returns
// that directory (it holds DynamoDBLocal.jar and DynamoDBLocal_lib/).
//
// The first call takes the npm package amplify-dynamodb-simulator@2.9.30
// (from <cacheDir>/amplify-dynamodb-simulator-2.9.30.tgz when that file is
// there, else through `npm pack`), checks its integrity, unpacks it and
// compiles the launcher with javac; later calls only look. Concurrent calls,
// from one process or several, are safe: they take a lock file and move
// finished directories into place with a rename. logf, which may be nil,
// hears about the slow steps.
func Ensure(ctx context.Context, cacheDir string, logf func(string, ...any)) (string, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if cacheDir == "" {
		return "", errors.New("ensure dynamodb local: empty cache dir")
	}
	cacheDir, err := filepath.Abs(cacheDir)
	if err != nil {
		return "", fmt.Errorf("ensure dynamodb local: %w", err)
	}
	dir := filepath.Join(cacheDir, installName)
	if installed(dir) && launcherBuilt(launcherDir(dir)) {
		return dir, nil
	}
	if err := install(ctx, cacheDir, dir, logf); err != nil {
		return "", fmt.Errorf("ensure dynamodb local: %w", err)
	}
	return dir, nil
}

// installed reports whether dir holds an unpacked DynamoDB Local. Since dir
// only ever appears by a rename of a complete tree, the jar is enough.
func installed(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, jarName))
	return err == nil && st.Mode().IsRegular()
}

// install fetches and unpacks DynamoDB Local into dir, if needed, and
// compiles the launcher, while holding the cache lock.
func install(ctx context.Context, cacheDir, dir string, logf func(string, ...any)) error {
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return fmt.Errorf("create cache dir: %w", err)
	}
	unlock, err := proc.Lock(ctx, filepath.Join(cacheDir, "."+installName+".lock"), "DynamoDB Local", logf)
	if err != nil {
		return err
	}
	defer unlock()
	if !installed(dir) { // another process may have finished while we waited
		if err := unpackPackage(ctx, cacheDir, dir, logf); err != nil {
			return err
		}
	}
	_, err = ensureLauncher(ctx, dir, logf)
	return err
}

// unpackPackage gets the npm tarball and moves its emulator/ into dir.
func unpackPackage(ctx context.Context, cacheDir, dir string, logf func(string, ...any)) error {
	// Under the lock nobody else is working, so any temp dir is a leftover
	// of a killed run.
	if old, _ := filepath.Glob(filepath.Join(cacheDir, tmpPrefix+"*")); len(old) > 0 {
		for _, p := range old {
			_ = os.RemoveAll(p)
		}
	}

	tgz := filepath.Join(cacheDir, npmTarball)
	if err := checkIntegrity(tgz); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			logf("ignoring %s: %v", tgz, err)
		}
		work, err := os.MkdirTemp(cacheDir, tmpPrefix+"npm-")
		if err != nil {
			return fmt.Errorf("create temp dir: %w", err)
		}
		defer os.RemoveAll(work)
		logf("fetching %s@%s with npm pack (about 57 MB, once)", npmPackage, npmVersion)
		if tgz, err = npmPack(ctx, work); err != nil {
			return err
		}
		if err := checkIntegrity(tgz); err != nil {
			return err
		}
	}

	tmp, err := os.MkdirTemp(cacheDir, tmpPrefix+"unpack-")
	if err != nil {
		return fmt.Errorf("create temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	logf("unpacking DynamoDB Local %s into %s", Version, dir)
	if err := unpack(tgz, tmp); err != nil {
		return err
	}
	if !installed(tmp) {
		return fmt.Errorf("%s has no %s%s", tgz, tarPrefix, jarName)
	}
	if st, err := os.Stat(filepath.Join(tmp, libName)); err != nil || !st.IsDir() {
		return fmt.Errorf("%s has no %s%s/", tgz, tarPrefix, libName)
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes it 0700
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err := renameDir(tmp, dir, installed); err != nil {
		return err
	}
	return nil
}

// npmPack runs `npm pack` in dir and returns the tarball's path.
func npmPack(ctx context.Context, dir string) (string, error) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("npm pack %s@%s: npm not found (install Node.js and npm): %w", npmPackage, npmVersion, err)
	}
	cmd := exec.CommandContext(ctx, npm, "pack", "--silent", npmPackage+"@"+npmVersion)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("npm pack %s@%s: %w\n%s", npmPackage, npmVersion, err, strings.TrimSpace(string(out)))
	}
	p := filepath.Join(dir, npmTarball)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("npm pack %s@%s: %w (npm said: %s)", npmPackage, npmVersion, err, strings.TrimSpace(string(out)))
	}
	return p, nil
}

// checkIntegrity checks the file against the registry's sha512 integrity for
// the pinned package version.
func checkIntegrity(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha512.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("read %s: %w", p, err)
	}
	got := "sha512-" + base64.StdEncoding.EncodeToString(h.Sum(nil))
	if got != npmIntegrity {
		return fmt.Errorf("integrity of %s is %s, want %s", p, got, npmIntegrity)
	}
	return nil
}

// unpack extracts the package/emulator/ part of the npm tarball into dst.
func unpack(tgz, dst string) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("unpack %s: %w", tgz, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("unpack %s: %w", tgz, err)
		}
		name := path.Clean(h.Name)
		rel, ok := strings.CutPrefix(name, strings.TrimSuffix(tarPrefix, "/"))
		if !ok || (rel != "" && rel[0] != '/') {
			continue
		}
		rel = strings.TrimPrefix(rel, "/")
		if rel == "" {
			continue
		}
		if !filepath.IsLocal(rel) {
			return fmt.Errorf("unpack %s: unsafe path %q", tgz, h.Name)
		}
		target := filepath.Join(dst, filepath.FromSlash(rel))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("unpack %s: %w", tgz, err)
			}
		case tar.TypeReg:
			if err := writeFile(target, tr, fs.FileMode(h.Mode)&0o755|0o644); err != nil {
				return fmt.Errorf("unpack %s: %w", tgz, err)
			}
		default:
			// npm tarballs hold only files and directories; skip anything
			// else rather than follow links.
		}
	}
}

func writeFile(p string, r io.Reader, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// renameDir moves the finished directory tmp to dst. If dst appeared in the
// meantime and done(dst) holds, someone else finished first, which is fine.
func renameDir(tmp, dst string, done func(string) bool) error {
	err := os.Rename(tmp, dst)
	if err == nil {
		return nil
	}
	if done(dst) {
		return nil
	}
	return fmt.Errorf("move %s into place: %w", dst, err)
}

// launcherDir is where the launcher compiled from this source lives; the
// directory name carries a hash of the source, so an edited launcher is
// compiled afresh.
func launcherDir(dir string) string {
	h := sha256.New()
	h.Write(launcherSource)
	h.Write([]byte("\x00--release " + javaRelease))
	return filepath.Join(dir, "launcher-"+hex.EncodeToString(h.Sum(nil))[:12])
}

func launcherBuilt(ldir string) bool {
	_, err := os.Stat(filepath.Join(ldir, "Launcher.class"))
	return err == nil
}

// ensureLauncher compiles Launcher.java against the jar in dir, once, and
// returns the directory to put on the class path.
func ensureLauncher(ctx context.Context, dir string, logf func(string, ...any)) (string, error) {
	ldir := launcherDir(dir)
	if launcherBuilt(ldir) {
		return ldir, nil
	}
	javac, err := javaTool("javac")
	if err != nil {
		return "", fmt.Errorf("compile launcher: %w (a JDK is needed once, e.g. apt-get install openjdk-17-jdk-headless)", err)
	}
	tmp, err := os.MkdirTemp(dir, tmpPrefix+"launcher-")
	if err != nil {
		return "", fmt.Errorf("compile launcher: %w", err)
	}
	defer os.RemoveAll(tmp)
	src := filepath.Join(tmp, "Launcher.java")
	if err := os.WriteFile(src, launcherSource, 0o644); err != nil {
		return "", fmt.Errorf("compile launcher: %w", err)
	}
	logf("compiling the DynamoDB Local launcher")
	cmd := exec.CommandContext(ctx, javac, "--release", javaRelease, "-nowarn",
		"-cp", filepath.Join(dir, jarName), "-d", tmp, src)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("compile launcher: %s: %w\n%s", javac, err, strings.TrimSpace(string(out)))
	}
	if err := os.Remove(src); err != nil {
		return "", fmt.Errorf("compile launcher: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", fmt.Errorf("compile launcher: %w", err)
	}
	if err := renameDir(tmp, ldir, launcherBuilt); err != nil {
		return "", fmt.Errorf("compile launcher: %w", err)
	}
	return ldir, nil
}

// javaTool finds a JDK tool: $JAVA_HOME/bin/<name> when JAVA_HOME is set and
// has it, else <name> on PATH.
func javaTool(name string) (string, error) {
	if home := os.Getenv("JAVA_HOME"); home != "" {
		p := filepath.Join(home, "bin", name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found: %w", name, err)
	}
	return p, nil
}
