package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"meshc.dev/meshc/internal/atomicdir"
)

// DefaultExpiryWindow is how far ahead Verify warns about expiry: 30 days,
// time to roll an intermediate before workloads fail to get certificates.
const DefaultExpiryWindow = 30 * 24 * time.Hour

// VerifyOptions says what Verify inspects.
type VerifyOptions struct {
	// Dir is a certificates directory written by Generate or by Istio's
	// tools/certs Makefiles (same layout).
	Dir string
	// Clusters, when set, are the clusters that must have an intermediate
	// (the mesh's clusters); every subdirectory of Dir is checked either way.
	Clusters []string
	// Now is the time certificates are checked at; zero means time.Now().
	Now time.Time
	// Window reports certificates expiring within it; 0 means
	// DefaultExpiryWindow.
	Window time.Duration
	// ExpiredOnly reports only certificates already expired, ignoring
	// Window: what Generate uses, since a short validity there is a choice.
	ExpiredOnly bool
}

// Finding is one trust problem, named by the file at fault.
type Finding struct {
	Path    string
	Message string
}

func (f Finding) String() string { return filepath.ToSlash(f.Path) + ": " + f.Message }

// Verify inspects a certificates directory for what breaks cross-cluster
// mTLS or istiod's start-up: intermediates that do not chain to the shared
// root, expired or soon-expiring certificates, certificates that are not
// CAs, keys that do not match, files missing or readable by others, and
// clusters of the mesh with no certificates. Findings come back sorted by
// path; the error is for a directory that cannot be read at all.
func Verify(opts VerifyOptions) ([]Finding, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Window == 0 {
		opts.Window = DefaultExpiryWindow
	}
	entries, err := os.ReadDir(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("reading certificates directory: %w", err)
	}
	c := &checker{opts: opts}
	c.checkDirMode(opts.Dir)
	root := c.checkRoot()

	dirs := map[string]bool{}
	for _, e := range entries {
		_, leftover := atomicdir.LeftoverOf(e.Name())
		switch {
		case leftover && e.IsDir():
			c.add(filepath.Join(opts.Dir, e.Name()), "left by an interrupted meshc certs run (it may hold private keys); the next meshc certs removes it")
		case e.IsDir() && !strings.HasPrefix(e.Name(), "."):
			dirs[e.Name()] = true
		case e.Name() != RootCertFile && e.Name() != RootKeyFile && e.Name() != ".meshc":
			c.unknown(filepath.Join(opts.Dir, e.Name()))
		}
	}
	if left, err := atomicdir.Leftovers(opts.Dir); err == nil {
		for _, l := range left {
			c.add(l, "left by an interrupted meshc certs run (it may hold private keys); the next meshc certs removes it")
		}
	}
	for _, name := range opts.Clusters {
		if !dirs[name] {
			c.add(filepath.Join(opts.Dir, name), "cluster %s of the mesh has no intermediate CA (run meshc certs to add it)", name)
		}
	}
	names := make([]string, 0, len(dirs))
	for d := range dirs {
		names = append(names, d)
	}
	slices.Sort(names)
	for _, name := range names {
		c.checkCluster(name, root)
	}
	slices.SortStableFunc(c.found, func(a, b Finding) int { return strings.Compare(a.Path, b.Path) })
	return c.found, nil
}

type checker struct {
	opts  VerifyOptions
	found []Finding
}

func (c *checker) add(path, format string, args ...any) {
	c.found = append(c.found, Finding{Path: path, Message: fmt.Sprintf(format, args...)})
}

// unknown reports a file meshc certs does not write: a copy of a key, say,
// which no other check looks at.
func (c *checker) unknown(p string) {
	c.add(p, "not a file meshc certs writes; it may hold key material: remove it, or keep it elsewhere")
}

func (c *checker) checkDirMode(dir string) {
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		c.add(dir, "directory holds private keys but has mode %#o; run chmod 700", fi.Mode().Perm())
	}
}

func (c *checker) checkKeyMode(p string) {
	if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
		c.add(p, "private key material readable by others (mode %#o); run chmod 600", fi.Mode().Perm())
	}
}

// readCerts reads a PEM file, reporting a missing or unreadable one.
func (c *checker) readCerts(p string) []*x509.Certificate {
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		c.add(p, "missing")
		return nil
	}
	if err != nil {
		c.add(p, "%v", err)
		return nil
	}
	certs, err := parseCerts(data)
	if err != nil {
		c.add(p, "%v", err)
		return nil
	}
	return certs
}

func (c *checker) checkExpiry(p string, cert *x509.Certificate, what string) {
	switch {
	case c.opts.Now.After(cert.NotAfter):
		c.add(p, "%s expired on %s", what, cert.NotAfter.UTC().Format(time.DateOnly))
	case !c.opts.ExpiredOnly && c.opts.Now.Add(c.opts.Window).After(cert.NotAfter):
		c.add(p, "%s expires on %s, within %s; issue a new one before then", what, cert.NotAfter.UTC().Format(time.DateOnly), c.opts.Window)
	case c.opts.Now.Before(cert.NotBefore):
		c.add(p, "%s is not valid before %s", what, cert.NotBefore.UTC().Format(time.RFC3339))
	}
}

func (c *checker) checkCA(p string, cert *x509.Certificate, what string) bool {
	ok := true
	if !cert.BasicConstraintsValid || !cert.IsCA {
		c.add(p, "%s is not a CA certificate (basicConstraints CA:true); istiod cannot sign workload certificates with it", what)
		ok = false
	}
	if cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		c.add(p, "%s lacks the keyCertSign key usage; istiod cannot sign workload certificates with it", what)
		ok = false
	}
	return ok
}

func (c *checker) checkRoot() *x509.Certificate {
	p := filepath.Join(c.opts.Dir, RootCertFile)
	certs := c.readCerts(p)
	if certs == nil {
		return nil
	}
	root := certs[0]
	c.checkCA(p, root, "root")
	if err := root.CheckSignatureFrom(root); err != nil {
		c.add(p, "root is not self-signed: %v", err)
	}
	c.checkExpiry(p, root, "root")
	keyPath := filepath.Join(c.opts.Dir, RootKeyFile)
	if data, err := os.ReadFile(keyPath); err == nil {
		c.checkKeyMode(keyPath)
		if key, err := parseKey(data); err != nil {
			c.add(keyPath, "%v", err)
		} else if !keyMatches(key, root) {
			c.add(keyPath, "does not belong to %s", filepath.ToSlash(p))
		}
	}
	return root
}

func (c *checker) checkCluster(name string, root *x509.Certificate) {
	dir := filepath.Join(c.opts.Dir, name)
	rootPath := filepath.ToSlash(filepath.Join(c.opts.Dir, RootCertFile))
	c.checkDirMode(dir)
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			if !slices.Contains([]string{CAKeyFile, CACertFile, RootCertFile, CertChainFile, SecretFile}, e.Name()) {
				c.unknown(filepath.Join(dir, e.Name()))
			}
		}
	}

	certPath := filepath.Join(dir, CACertFile)
	var ca *x509.Certificate
	if certs := c.readCerts(certPath); certs != nil {
		ca = certs[0]
		c.checkCA(certPath, ca, "intermediate")
		c.checkExpiry(certPath, ca, "intermediate")
		if len(ca.Subject.Locality) != 1 || ca.Subject.Locality[0] != name {
			c.add(certPath, "subject names cluster %q (L=), but the certificate sits in %s/; files copied from another cluster?", strings.Join(ca.Subject.Locality, ","), name)
		}
		if root != nil {
			pool := x509.NewCertPool()
			pool.AddCert(root)
			_, err := ca.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: c.opts.Now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
			var invalid x509.CertificateInvalidError
			if err != nil && !(errors.As(err, &invalid) && invalid.Reason == x509.Expired) {
				c.add(certPath, "does not chain to the shared root %s: %v", rootPath, err)
			}
		}
	}

	keyPath := filepath.Join(dir, CAKeyFile)
	switch data, err := os.ReadFile(keyPath); {
	case errors.Is(err, fs.ErrNotExist):
		c.add(keyPath, "missing")
	case err != nil:
		c.add(keyPath, "%v", err)
	default:
		c.checkKeyMode(keyPath)
		key, err := parseKey(data)
		switch {
		case err != nil:
			c.add(keyPath, "%v", err)
		case ca != nil && !keyMatches(key, ca):
			c.add(keyPath, "does not belong to %s; istiod refuses to start with a mismatched pair", CACertFile)
		}
	}

	localRoot := filepath.Join(dir, RootCertFile)
	if certs := c.readCerts(localRoot); certs != nil && root != nil && !certs[0].Equal(root) {
		c.add(localRoot, "differs from the shared root %s; workloads of this cluster would not trust the others", rootPath)
	}

	chainPath := filepath.Join(dir, CertChainFile)
	if chain := c.readCerts(chainPath); chain != nil {
		if ca != nil && !chain[0].Equal(ca) {
			c.add(chainPath, "does not start with %s", CACertFile)
		}
		if last := chain[len(chain)-1]; root != nil && !last.Equal(root) {
			c.add(chainPath, "does not end with the shared root %s", rootPath)
		}
	}
	c.checkSecret(dir)
}

// checkSecret compares the cacerts manifest with the files next to it: a
// stale manifest installs a different CA than the files say.
func (c *checker) checkSecret(dir string) {
	p := filepath.Join(dir, SecretFile)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		c.add(p, "missing")
		return
	}
	if err != nil {
		c.add(p, "%v", err)
		return
	}
	c.checkKeyMode(p)
	var s struct {
		Kind     string `yaml:"kind"`
		Metadata struct{ Name, Namespace string }
		Data     map[string]string `yaml:"data"`
	}
	if err := yaml.Unmarshal(data, &s); err != nil {
		c.add(p, "not a Secret manifest: %v", err)
		return
	}
	if s.Kind != "Secret" || s.Metadata.Name != SecretName || s.Metadata.Namespace != Namespace {
		c.add(p, "must be Secret %s/%s, the name istiod reads", Namespace, SecretName)
	}
	for _, f := range []string{CACertFile, CAKeyFile, RootCertFile, CertChainFile} {
		want, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			continue // reported above
		}
		got, err := base64.StdEncoding.DecodeString(s.Data[f])
		if err != nil || !bytes.Equal(got, want) {
			c.add(p, "data[%s] differs from %s; regenerate it", f, f)
		}
	}
}
