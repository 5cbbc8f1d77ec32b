package certs_test

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"meshc.dev/meshc/certs"
	"meshc.dev/meshc/internal/ownership"
)

// testBits keeps the tests fast: a 4096-bit key (the default, Istio's
// convention) takes about half a second to generate on a small machine,
// 2048 bits a tenth of that. Key size does not change any behaviour tested
// here.
const testBits = 2048

var (
	baseOnce sync.Once
	baseDir  string
	baseErr  error
)

// base returns a private copy of a directory holding a root and
// intermediates for cluster1 and cluster2, generated once per test binary.
func base(t *testing.T) string {
	t.Helper()
	baseOnce.Do(func() {
		baseDir, baseErr = os.MkdirTemp("", "meshc-certs-base-")
		if baseErr != nil {
			return
		}
		baseDir = filepath.Join(baseDir, "certs")
		_, baseErr = certs.Generate(certs.Options{Mesh: "demo", Dir: baseDir, Clusters: []string{"cluster1", "cluster2"}, KeyBits: testBits})
	})
	if baseErr != nil {
		t.Fatal(baseErr)
	}
	dir := filepath.Join(t.TempDir(), "certs")
	if err := os.CopyFS(dir, os.DirFS(baseDir)); err != nil {
		t.Fatal(err)
	}
	// CopyFS does not keep modes; restore what Generate wrote.
	err := filepath.WalkDir(baseDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(baseDir, p)
		return os.Chmod(filepath.Join(dir, rel), fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if baseDir != "" {
		os.RemoveAll(filepath.Dir(baseDir))
	}
	os.Exit(code)
}

func readCert(t *testing.T, p string) *x509.Certificate {
	t.Helper()
	chain := readChain(t, p)
	return chain[0]
}

func readChain(t *testing.T, p string) []*x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no certificate", p)
	}
	return out
}

func mode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func read(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestChain checks what Istio's plug-in CA needs, with crypto/x509: each
// intermediate verifies against the shared root, is a CA that may sign
// workload certificates but no further CAs, carries the cluster's name (L=)
// and istiod's SAN, and cert-chain.pem is intermediate then root.
func TestChain(t *testing.T) {
	dir := base(t)
	root := readCert(t, filepath.Join(dir, certs.RootCertFile))
	if !root.IsCA || root.CheckSignatureFrom(root) != nil {
		t.Fatalf("root is not a self-signed CA")
	}
	if got, want := root.Subject.String(), "CN=Root CA,O=Istio"; got != want {
		t.Errorf("root subject = %q, want %q", got, want)
	}
	pool := x509.NewCertPool()
	pool.AddCert(root)
	var serials []string
	for _, c := range []string{"cluster1", "cluster2"} {
		ca := readCert(t, filepath.Join(dir, c, certs.CACertFile))
		if _, err := ca.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			t.Errorf("%s: intermediate does not verify against the root: %v", c, err)
		}
		if !ca.IsCA || !ca.BasicConstraintsValid || ca.MaxPathLen != 0 || !ca.MaxPathLenZero {
			t.Errorf("%s: want CA:true, pathlen:0; got IsCA=%v MaxPathLen=%d", c, ca.IsCA, ca.MaxPathLen)
		}
		if ca.KeyUsage&x509.KeyUsageCertSign == 0 {
			t.Errorf("%s: no keyCertSign", c)
		}
		if got, want := ca.Subject.String(), "CN=Intermediate CA,O=Istio,L="+c; got != want {
			t.Errorf("%s: subject = %q, want %q", c, got, want)
		}
		if diff := cmp.Diff([]string{certs.IstiodSAN}, ca.DNSNames); diff != "" {
			t.Errorf("%s: SAN (-want +got):\n%s", c, diff)
		}
		if ca.NotAfter.After(root.NotAfter) {
			t.Errorf("%s: intermediate outlives the root", c)
		}
		chain := readChain(t, filepath.Join(dir, c, certs.CertChainFile))
		if len(chain) != 2 || !chain[0].Equal(ca) || !chain[1].Equal(root) {
			t.Errorf("%s: cert-chain.pem is not intermediate then root", c)
		}
		if !readCert(t, filepath.Join(dir, c, certs.RootCertFile)).Equal(root) {
			t.Errorf("%s: root-cert.pem is not the shared root", c)
		}
		serials = append(serials, ca.SerialNumber.String())
	}
	if serials[0] == serials[1] {
		t.Errorf("intermediates share serial %s", serials[0])
	}
	findings, err := certs.Verify(certs.VerifyOptions{Dir: dir, Clusters: []string{"cluster1", "cluster2"}})
	if err != nil || len(findings) != 0 {
		t.Errorf("Check of a fresh directory: %v %v", findings, err)
	}
}

// TestSecretCarriesMeshcLabel: the cacerts Secret carries meshc's
// managed-by label, which a change plan requires before it deletes the
// Secret from a cluster that leaves the mesh.
func TestSecretCarriesMeshcLabel(t *testing.T) {
	var s struct {
		Metadata struct {
			Name, Namespace string
			Labels          map[string]string
		}
	}
	if err := yaml.Unmarshal(read(t, filepath.Join(base(t), "cluster1", certs.SecretFile)), &s); err != nil {
		t.Fatal(err)
	}
	if s.Metadata.Name != certs.SecretName || s.Metadata.Labels["app.kubernetes.io/managed-by"] != "meshc" {
		t.Errorf("cacerts metadata %+v, want name %s and app.kubernetes.io/managed-by: meshc", s.Metadata, certs.SecretName)
	}
}

// TestModes checks that keys and the Secret holding one are 0600, their
// directories 0700, whatever the umask.
func TestModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	if err := os.Mkdir(dir, 0o755); err != nil { // a directory the user made, too open
		t.Fatal(err)
	}
	if _, err := certs.Generate(certs.Options{Mesh: "demo", Dir: dir, Clusters: []string{"c1"}, KeyBits: testBits}); err != nil {
		t.Fatal(err)
	}
	want := map[string]fs.FileMode{
		".":                  0o700,
		ownership.MarkerFile: 0o644,
		certs.RootKeyFile:    0o600,
		certs.RootCertFile:   0o644,
		"c1":                 0o700,
		"c1/ca-key.pem":      0o600,
		"c1/cacerts.yaml":    0o600,
		"c1/ca-cert.pem":     0o644,
		"c1/cert-chain.pem":  0o644,
		"c1/root-cert.pem":   0o644,
	}
	got := map[string]fs.FileMode{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		got[filepath.ToSlash(rel)] = mode(t, p)
		return nil
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files and modes (-want +got):\n%s", diff)
	}
}

// TestRerun checks that a second run reuses the root, keeps existing
// intermediates, adds only the new cluster's, and replaces one only with
// Force.
func TestRerun(t *testing.T) {
	dir := base(t)
	rootBefore := read(t, filepath.Join(dir, certs.RootCertFile))
	rootKeyBefore := read(t, filepath.Join(dir, certs.RootKeyFile))
	key1 := read(t, filepath.Join(dir, "cluster1", certs.CAKeyFile))

	res, err := certs.Generate(certs.Options{Mesh: "demo", Dir: dir, Clusters: []string{"cluster1", "cluster2", "cluster3"}, KeyBits: testBits})
	if err != nil {
		t.Fatal(err)
	}
	want := []certs.Event{
		{Status: certs.Reused, Path: filepath.Join(dir, certs.RootCertFile)},
		{Status: certs.Kept, Path: filepath.Join(dir, "cluster1"), Cluster: "cluster1"},
		{Status: certs.Kept, Path: filepath.Join(dir, "cluster2"), Cluster: "cluster2"},
		{Status: certs.Created, Path: filepath.Join(dir, "cluster3"), Cluster: "cluster3"},
	}
	if diff := cmp.Diff(want, res.Events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if !bytes.Equal(rootBefore, read(t, filepath.Join(dir, certs.RootCertFile))) ||
		!bytes.Equal(rootKeyBefore, read(t, filepath.Join(dir, certs.RootKeyFile))) {
		t.Error("the root changed")
	}
	if !bytes.Equal(key1, read(t, filepath.Join(dir, "cluster1", certs.CAKeyFile))) {
		t.Error("cluster1's key was overwritten without Force")
	}
	if len(res.Findings) != 0 {
		t.Errorf("a sound re-run reports findings: %v", res.Findings)
	}
	findings, err := certs.Verify(certs.VerifyOptions{Dir: dir, Clusters: []string{"cluster1", "cluster2", "cluster3"}})
	if err != nil || len(findings) != 0 {
		t.Errorf("cluster3 does not join the existing trust: %v %v", findings, err)
	}

	res, err = certs.Generate(certs.Options{Mesh: "demo", Dir: dir, Clusters: []string{"cluster1"}, KeyBits: testBits, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Events[len(res.Events)-1].Status; got != certs.Replaced {
		t.Errorf("with Force, cluster1 was %s, want %s", got, certs.Replaced)
	}
	if bytes.Equal(key1, read(t, filepath.Join(dir, "cluster1", certs.CAKeyFile))) {
		t.Error("Force did not issue a new key")
	}
	if !bytes.Equal(rootKeyBefore, read(t, filepath.Join(dir, certs.RootKeyFile))) {
		t.Error("Force replaced the root key")
	}
	if findings, _ := certs.Verify(certs.VerifyOptions{Dir: dir}); len(findings) != 0 {
		t.Errorf("after Force: %v", findings)
	}
}

// TestRootByPath signs with a root kept elsewhere: only its certificate is
// copied, and a directory already holding another root is refused.
func TestRootByPath(t *testing.T) {
	src := base(t)
	dir := filepath.Join(t.TempDir(), "certs")
	opts := certs.Options{
		Mesh: "demo", Dir: dir, Clusters: []string{"edge"}, KeyBits: testBits,
		RootCert: filepath.Join(src, certs.RootCertFile), RootKey: filepath.Join(src, certs.RootKeyFile),
	}
	if _, err := certs.Generate(opts); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, certs.RootKeyFile)); err == nil {
		t.Error("the root key was copied next to the intermediates")
	}
	root := readCert(t, filepath.Join(src, certs.RootCertFile))
	pool := x509.NewCertPool()
	pool.AddCert(root)
	if _, err := readCert(t, filepath.Join(dir, "edge", certs.CACertFile)).Verify(x509.VerifyOptions{Roots: pool}); err != nil {
		t.Errorf("edge does not chain to the given root: %v", err)
	}

	other := filepath.Join(t.TempDir(), "other")
	if _, err := certs.Generate(certs.Options{Mesh: "demo", Dir: other, KeyBits: testBits}); err != nil {
		t.Fatal(err)
	}
	opts.Dir = other
	if _, err := certs.Generate(opts); err == nil || !strings.Contains(err.Error(), "holds a different root") {
		t.Errorf("signing into a directory with another root: err = %v", err)
	}
}

// TestNeverOverwritesAKey refuses to create a root over a lone root key:
// in a directory that is not meshc's, and in one that is.
func TestNeverOverwritesAKey(t *testing.T) {
	for _, marked := range []bool{false, true} {
		dir := t.TempDir()
		keyPath := filepath.Join(dir, certs.RootKeyFile)
		if err := os.WriteFile(keyPath, []byte("precious"), 0o600); err != nil {
			t.Fatal(err)
		}
		want := "holds no .meshc marker"
		if marked {
			if err := os.WriteFile(filepath.Join(dir, ownership.MarkerFile), ownership.Marker(ownership.Certs, "demo"), 0o644); err != nil {
				t.Fatal(err)
			}
			want = "will not overwrite a key"
		}
		_, err := certs.Generate(certs.Options{Mesh: "demo", Dir: dir, Clusters: []string{"c1"}, KeyBits: testBits, Force: true})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("marked=%v: err = %v, want %q", marked, err, want)
		}
		if string(read(t, keyPath)) != "precious" {
			t.Error("the key was overwritten")
		}
	}
}

// TestCheckFindsTrustMistakes breaks a good directory in the ways users do
// and expects each to be named, by file.
func TestCheckFindsTrustMistakes(t *testing.T) {
	dir := base(t)
	foreign := filepath.Join(t.TempDir(), "foreign")
	if _, err := certs.Generate(certs.Options{Mesh: "demo", Dir: foreign, Clusters: []string{"cluster3"}, KeyBits: testBits}); err != nil {
		t.Fatal(err)
	}
	// cluster3's intermediate comes from another root.
	if err := os.CopyFS(filepath.Join(dir, "cluster3"), os.DirFS(filepath.Join(foreign, "cluster3"))); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{certs.CAKeyFile, certs.SecretFile} {
		os.Chmod(filepath.Join(dir, "cluster3", f), 0o600)
	}
	os.Chmod(filepath.Join(dir, "cluster3"), 0o700)
	// cluster2 got cluster1's key, and its key is readable by everyone.
	key1 := read(t, filepath.Join(dir, "cluster1", certs.CAKeyFile))
	if err := os.WriteFile(filepath.Join(dir, "cluster2", certs.CAKeyFile), key1, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "cluster2", certs.CAKeyFile), 0o644)

	got, err := certs.Verify(certs.VerifyOptions{Dir: dir, Clusters: []string{"cluster1", "cluster2", "cluster3", "cluster4"}})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, f := range got {
		rel, _ := filepath.Rel(dir, f.Path)
		msg := f.Message
		if i := strings.Index(msg, ": x509:"); i >= 0 {
			msg = msg[:i] // the x509 wording is Go's, not ours
		}
		lines = append(lines, filepath.ToSlash(rel)+": "+strings.ReplaceAll(msg, filepath.ToSlash(dir), "DIR"))
	}
	want := []string{
		"cluster2/ca-key.pem: private key material readable by others (mode 0644); run chmod 600",
		"cluster2/ca-key.pem: does not belong to ca-cert.pem; istiod refuses to start with a mismatched pair",
		"cluster2/cacerts.yaml: data[ca-key.pem] differs from ca-key.pem; regenerate it",
		"cluster3/ca-cert.pem: does not chain to the shared root DIR/root-cert.pem",
		"cluster3/cert-chain.pem: does not end with the shared root DIR/root-cert.pem",
		"cluster3/root-cert.pem: differs from the shared root DIR/root-cert.pem; workloads of this cluster would not trust the others",
		"cluster4: cluster cluster4 of the mesh has no intermediate CA (run meshc certs to add it)",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// TestCheckExpiry reports an intermediate expiring within the window, and
// one already expired, but not one expiring after it.
func TestCheckExpiry(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	res, err := certs.Generate(certs.Options{Mesh: "demo", Dir: dir, Clusters: []string{"soon"}, KeyBits: testBits,
		Validity: 10 * 24 * time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	// A short validity is the caller's choice: Generate does not flag it.
	if len(res.Findings) != 0 {
		t.Errorf("fresh 10-day intermediate: findings %v", res.Findings)
	}
	check := func(at time.Time, window time.Duration) []string {
		fs, err := certs.Verify(certs.VerifyOptions{Dir: dir, Now: at, Window: window})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range fs {
			rel, _ := filepath.Rel(dir, f.Path)
			out = append(out, filepath.ToSlash(rel)+": "+f.Message)
		}
		return out
	}
	if got := check(now, 24*time.Hour); len(got) != 0 {
		t.Errorf("10 days left, 1-day window: %v", got)
	}
	want := []string{"soon/ca-cert.pem: intermediate expires on 2026-11-11, within 720h0m0s; issue a new one before then"}
	if diff := cmp.Diff(want, check(now, 30*24*time.Hour)); diff != "" {
		t.Errorf("30-day window (-want +got):\n%s", diff)
	}
	want = []string{"soon/ca-cert.pem: intermediate expired on 2026-11-11"}
	if diff := cmp.Diff(want, check(now.Add(20*24*time.Hour), time.Hour)); diff != "" {
		t.Errorf("after expiry (-want +got):\n%s", diff)
	}
	// A re-run after expiry keeps the intermediate but reports it expired.
	res, err = certs.Generate(certs.Options{Mesh: "demo", Dir: dir, Clusters: []string{"soon"}, KeyBits: testBits,
		Now: func() time.Time { return now.Add(20 * 24 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].Message != "intermediate expired on 2026-11-11" {
		t.Errorf("re-run after expiry: findings %v, want the expired intermediate", res.Findings)
	}
}

// TestGenerateRejectsBadOptions: the library, not only the CLI, refuses key
// sizes Istio's conventions do not allow and validity that is negative or
// longer than MaxValidity.
func TestGenerateRejectsBadOptions(t *testing.T) {
	for _, opts := range []certs.Options{
		{Dir: t.TempDir(), Clusters: []string{"c1"}, KeyBits: 1024},
		{Dir: t.TempDir(), Clusters: []string{"c1"}, KeyBits: 2048, Validity: -time.Hour},
		{Dir: t.TempDir(), Clusters: []string{"c1"}, KeyBits: 2048, RootValidity: certs.MaxValidity + time.Hour},
	} {
		if _, err := certs.Generate(opts); err == nil {
			t.Errorf("Generate(%+v) succeeded", opts)
		}
	}
}

// TestGenerateReportsBrokenKept: an intermediate a run keeps is checked, so
// a key readable by others is reported rather than passed off as kept.
func TestGenerateReportsBrokenKept(t *testing.T) {
	dir := base(t)
	key := filepath.Join(dir, "cluster1", certs.CAKeyFile)
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := certs.Generate(certs.Options{Mesh: "demo", Dir: dir, Clusters: []string{"cluster1", "cluster2"}, KeyBits: testBits})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].Path != key {
		t.Errorf("findings %v, want one for %s", res.Findings, key)
	}
}

// TestValidityAsAsked: the certificates Generate signs are valid from five
// minutes before now to now plus the validity asked for, to the second,
// up to MaxValidity; an intermediate never outlives its root.
func TestValidityAsAsked(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 30, 15, 999, time.UTC)
	dir := filepath.Join(t.TempDir(), "certs")
	_, err := certs.Generate(certs.Options{Mesh: "demo", Dir: dir, Clusters: []string{"c1"}, KeyBits: testBits,
		RootValidity: certs.MaxValidity, Validity: certs.MaxValidity, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	read := func(p string) *x509.Certificate {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := pem.Decode(data)
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	wantFrom := now.Add(-5 * time.Minute).Truncate(time.Second)
	wantTo := now.Add(certs.MaxValidity).Truncate(time.Second)
	for _, p := range []string{filepath.Join(dir, certs.RootCertFile), filepath.Join(dir, "c1", certs.CACertFile)} {
		c := read(p)
		if !c.NotBefore.Equal(wantFrom) || !c.NotAfter.Equal(wantTo) {
			t.Errorf("%s: valid %v to %v, want %v to %v", p, c.NotBefore, c.NotAfter, wantFrom, wantTo)
		}
	}
}

// TestVerifyReportsStrayFiles: a file meshc certs does not write, at the top
// or in a cluster's directory (a copy of a key, a half-written one), is a
// finding: no other check would look at it.
func TestVerifyReportsStrayFiles(t *testing.T) {
	dir := base(t)
	for _, p := range []string{"root-key.pem.bak", ".root-key.pem.new-123", "cluster1/ca-key.pem.old"} {
		if err := os.WriteFile(filepath.Join(dir, p), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := certs.Verify(certs.VerifyOptions{Dir: dir, Clusters: []string{"cluster1"}})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range got {
		if strings.Contains(f.Message, "not a file meshc certs writes") {
			rel, _ := filepath.Rel(dir, f.Path)
			paths = append(paths, filepath.ToSlash(rel))
		}
	}
	if want := []string{".root-key.pem.new-123", "cluster1/ca-key.pem.old", "root-key.pem.bak"}; !slices.Equal(paths, want) {
		t.Errorf("stray files reported: %v, want %v (all findings: %v)", paths, want, got)
	}
}

// TestRefusesRenderOutput: keys never go inside a render output, which the
// next render replaces whole, whether the output is known by its marker or,
// written before markers, by its plan. The library refuses, not only the
// CLI, so no front end can forget to.
func TestRefusesRenderOutput(t *testing.T) {
	for name, sign := range map[string][2]string{
		"marker": {ownership.MarkerFile, string(ownership.Marker(ownership.Render, "demo"))},
		"plan":   {ownership.RenderPlanFile, "# plan\n"},
	} {
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			if err := os.WriteFile(filepath.Join(out, sign[0]), []byte(sign[1]), 0o644); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(out, "certs", "here")
			_, err := certs.Generate(certs.Options{Mesh: "demo", Dir: dir, Clusters: []string{"c1"}, KeyBits: testBits})
			if err == nil || !strings.Contains(err.Error(), "a meshc render output that the next render replaces as a whole") {
				t.Fatalf("Generate into a render output: %v", err)
			}
			if _, err := os.Stat(filepath.Join(out, "certs")); !os.IsNotExist(err) {
				t.Errorf("Generate wrote into the render output: %v", err)
			}
		})
	}
}
