package certs

import (
	"bytes"
	"cmp"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"meshc.dev/meshc/internal/atomicdir"
	"meshc.dev/meshc/internal/ownership"
)

// File names, as Istio's plug-in CA and tools/certs spell them.
const (
	RootCertFile  = "root-cert.pem"
	RootKeyFile   = "root-key.pem"
	CACertFile    = "ca-cert.pem"
	CAKeyFile     = "ca-key.pem"
	CertChainFile = "cert-chain.pem"
	// SecretFile is the cacerts Secret manifest; it holds ca-key.pem.
	SecretFile = "cacerts.yaml"
)

// Conventions of istio/istio tools/certs (common.mk, root-ca.conf,
// intermediate.conf), kept so certificates made by meshc read like the ones
// the Istio docs make.
const (
	// DefaultKeyBits is ROOTCA_KEYSZ and INTERMEDIATE_KEYSZ.
	DefaultKeyBits = 4096
	// DefaultValidity is ROOTCA_DAYS and INTERMEDIATE_DAYS (3650 days).
	DefaultValidity = 3650 * 24 * time.Hour
	Organization    = "Istio"
	RootCN          = "Root CA"
	IntermediateCN  = "Intermediate CA"
	// IstiodSAN is INTERMEDIATE_SAN_DNS.
	IstiodSAN = "istiod.istio-system.svc"
	// Namespace and SecretName are where istiod looks for a plug-in CA.
	Namespace  = "istio-system"
	SecretName = "cacerts"
)

// backdate is how far before "now" certificates become valid, so a cluster
// whose clock runs a little behind the machine that made them accepts them.
const backdate = 5 * time.Minute

// MaxValidity is the longest validity Generate gives a certificate: a
// hundred years, far past any CA's life and far within what X.509 dates and
// time.Duration hold (a longer one, counted in days, overflowed to minutes).
const MaxValidity = 36500 * 24 * time.Hour

// Options says what Generate creates.
type Options struct {
	// Dir is the certificates directory; created 0700 if missing.
	Dir string
	// Clusters are the clusters that get an intermediate CA, by name
	// (DNS-1123 labels; they name the subdirectories).
	Clusters []string
	// RootCert and RootKey name an existing root to sign with (both or
	// neither). Its certificate is copied into Dir; its key is not.
	RootCert, RootKey string
	// Force replaces existing intermediates (new keys). The root is never
	// replaced: delete it by hand to start a new trust.
	Force bool
	// KeyBits is the RSA key size of new keys; 0 means DefaultKeyBits.
	KeyBits int
	// RootValidity and Validity are the lifetimes of a new root and new
	// intermediates; 0 means DefaultValidity. An intermediate never outlives
	// its root.
	RootValidity, Validity time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Mesh is the name of the mesh (metadata.name), written into the
	// directory's ownership marker: meshc writes only into a certificates
	// directory whose marker names the mesh, or into a new or empty one.
	Mesh string
	// Inputs are files the run read (the Mesh file); a directory holding
	// one is refused.
	Inputs []string
}

// Status says what Generate did with one file or directory.
type Status string

// Statuses reported in Result.
const (
	Created  Status = "created"
	Reused   Status = "reused"   // an existing root signed the new intermediates
	Kept     Status = "kept"     // an existing intermediate was left alone
	Replaced Status = "replaced" // an existing intermediate was re-issued (Force)
	Copied   Status = "copied"   // a root given by path was copied into Dir
)

// Event is one thing Generate did, named by path so callers can report it
// without ever touching key material.
type Event struct {
	Status  Status
	Path    string
	Cluster string // "" for the root
}

// Result lists what Generate did: the root first, then clusters in order.
type Result struct {
	Events []Event
	// Findings are the trust problems left in Dir after the run, as Check
	// reports them (expiry aside, unless already expired). Kept files come
	// from earlier runs or other hands, so a run that keeps a broken
	// intermediate says so here instead of calling it fine.
	Findings []Finding
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// check refuses options Generate cannot honour, before anything is read or
// written.
func (opts *Options) check() error {
	if (opts.RootCert == "") != (opts.RootKey == "") {
		return errors.New("give both the root certificate and the root key, or neither")
	}
	switch opts.KeyBits {
	case 2048, 3072, 4096:
	default:
		return fmt.Errorf("RSA key size must be 2048, 3072 or 4096 bits, got %d", opts.KeyBits)
	}
	for _, v := range []time.Duration{opts.RootValidity, opts.Validity} {
		if v < 0 || v > MaxValidity {
			return fmt.Errorf("certificate validity must be positive and at most %d days (MaxValidity), got %v", MaxValidity/(24*time.Hour), v)
		}
	}
	seen := map[string]bool{}
	for _, c := range opts.Clusters {
		if !dnsLabel.MatchString(c) {
			return fmt.Errorf("cluster name %q is not a DNS-1123 label", c)
		}
		if seen[c] {
			return fmt.Errorf("cluster %q listed twice", c)
		}
		seen[c] = true
	}
	if opts.Mesh == "" {
		return errors.New("the mesh's name is needed for the directory's ownership marker")
	}
	return nil
}

// Generate makes sure Dir holds a root CA and an intermediate CA for every
// cluster in opts.Clusters. See the package documentation for the layout.
func Generate(opts Options) (*Result, error) {
	if opts.KeyBits == 0 {
		opts.KeyBits = DefaultKeyBits
	}
	if opts.Validity == 0 {
		opts.Validity = DefaultValidity
	}
	if opts.RootValidity == 0 {
		opts.RootValidity = DefaultValidity
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	// Directories are swapped, locked and checked where the file system
	// resolves opts.Dir: a symlink is written through, never replaced,
	// and cannot hide a render output around it.
	real, err := ownership.Resolve(opts.Dir)
	opts.Dir = filepath.Clean(opts.Dir) // for messages
	if err != nil {
		return nil, err // it names the directory
	}
	// Keys never go inside a render output: the next render replaces it
	// with everything in it. The policy is the library's, so no front end
	// can forget it.
	if out, err := ownership.Enclosing(real, ownership.Render, ownership.RenderPlanFile); err != nil {
		return nil, fmt.Errorf("certificates directory: %w", err)
	} else if out != "" {
		return nil, fmt.Errorf("%s is inside %s, a meshc render output that the next render replaces as a whole; keep certificates elsewhere",
			filepath.ToSlash(opts.Dir), ownership.Shown(out))
	}
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		return nil, fmt.Errorf("certificates directory: %w", err)
	}
	// One run at a time per directory: concurrent runs on an empty
	// directory would each make a root and sign with it.
	unlock, err := ownership.Lock(real)
	if err != nil {
		return nil, err
	}
	defer unlock()
	fresh, err := prepareDir(opts, real)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	if fresh {
		err = generateFresh(opts, real, res)
	} else {
		err = generateInto(opts, real, res)
	}
	if err != nil {
		return nil, err
	}
	// Kept events were recorded before the root's; put the root first.
	sortEvents(res.Events, opts.Clusters)
	res.Findings, err = Verify(VerifyOptions{Dir: opts.Dir, Clusters: opts.Clusters, Now: opts.Now(), ExpiredOnly: true})
	if err != nil {
		return nil, fmt.Errorf("checking the result: %w", err)
	}
	return res, nil
}

// prepareDir cleans up after an interrupted run and decides whether the
// directory is new (written whole, in one swap) or meshc's from an earlier
// run (updated cluster by cluster). Anything else is refused.
func prepareDir(opts Options, real string) (fresh bool, err error) {
	if wd, err := ownership.Resolve("."); err == nil && (real == wd || strings.HasPrefix(wd, real+string(filepath.Separator))) {
		return false, fmt.Errorf("certificates directory %s contains the working directory; choose a directory of its own, such as certs/", opts.Dir)
	}
	if _, err := atomicdir.Recover(real); err != nil {
		return false, fmt.Errorf("cleaning up an interrupted run: %w", err)
	}
	state, err := ownership.Check(opts.Dir, ownership.Certs, opts.Mesh, opts.Inputs...)
	var r *ownership.Refusal
	if errors.As(err, &r) && r.Unmarked && legacyLayout(opts.Dir) {
		// Written by a meshc older than the marker: adopt it.
		state, err = ownership.Owned, writeFile(filepath.Join(opts.Dir, ownership.MarkerFile), ownership.Marker(ownership.Certs, opts.Mesh), 0o644)
	}
	if err != nil {
		return false, err
	}
	if state == ownership.Owned {
		if err := ensureDir(opts.Dir); err != nil {
			return false, fmt.Errorf("certificates directory: %w", err)
		}
		entries, err := os.ReadDir(opts.Dir)
		if err != nil {
			return false, err
		}
		for _, e := range entries {
			if base, ok := atomicdir.LeftoverOf(e.Name()); ok && e.IsDir() {
				if _, err := atomicdir.Recover(filepath.Join(real, base)); err != nil {
					return false, fmt.Errorf("cleaning up an interrupted run: %w", err)
				}
			}
		}
	}
	return state != ownership.Owned, nil
}

// legacyLayout reports whether dir looks exactly like what meshc certs wrote
// before it wrote a marker: a root certificate, perhaps its key, and
// directories.
func legacyLayout(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	root := false
	for _, e := range entries {
		switch {
		case e.Name() == RootCertFile && e.Type().IsRegular():
			root = true
		case e.Name() == RootKeyFile && e.Type().IsRegular():
		case e.IsDir() && dnsLabel.MatchString(e.Name()):
		default:
			return false
		}
	}
	return root
}

// generateFresh writes a new directory whole: root, every intermediate and
// the marker appear in one atomic swap, so a run killed at any point leaves
// either no certificates or all of them, never a root key without its
// certificate.
func generateFresh(opts Options, real string, res *Result) error {
	var root *rootCA
	var files []atomicdir.File
	if opts.RootCert != "" {
		r, err := readRoot(opts.RootCert, opts.RootKey)
		if err != nil {
			return fmt.Errorf("root CA: %w", err)
		}
		root = r
		res.Events = append(res.Events, Event{Status: Copied, Path: filepath.Join(opts.Dir, RootCertFile)})
	} else {
		r, keyPEM, err := newRoot(opts)
		if err != nil {
			return fmt.Errorf("root CA: %w", err)
		}
		root = r
		files = append(files, atomicdir.File{Path: RootKeyFile, Data: keyPEM, Mode: 0o600})
		res.Events = append(res.Events, Event{Status: Created, Path: filepath.Join(opts.Dir, RootCertFile)})
	}
	files = append(files,
		atomicdir.File{Path: RootCertFile, Data: root.pem, Mode: 0o644},
		atomicdir.File{Path: ownership.MarkerFile, Data: ownership.Marker(ownership.Certs, opts.Mesh), Mode: 0o644})
	for _, c := range opts.Clusters {
		cf, err := intermediateFiles(opts, root, c)
		if err != nil {
			return fmt.Errorf("cluster %s: %w", c, err)
		}
		for _, f := range cf {
			f.Path = c + "/" + f.Path
			files = append(files, f)
		}
		res.Events = append(res.Events, Event{Status: Created, Path: filepath.Join(opts.Dir, c), Cluster: c})
	}
	if err := atomicdir.Replace(real, 0o700, files); err != nil {
		return fmt.Errorf("writing %s: %w", opts.Dir, err)
	}
	return nil
}

// generateInto adds to a directory meshc wrote before: clusters without an
// intermediate get one (each cluster's directory swapped in atomically),
// the others are kept unless Force.
func generateInto(opts Options, real string, res *Result) error {
	// Work out which clusters need a new intermediate before touching the
	// root, so a run that changes nothing needs no root key.
	var todo []string
	for _, c := range opts.Clusters {
		d := filepath.Join(opts.Dir, c)
		switch empty, err := isEmptyDir(d); {
		case err != nil:
			return fmt.Errorf("cluster %s: %w", c, err)
		case !empty && !opts.Force:
			res.Events = append(res.Events, Event{Status: Kept, Path: d, Cluster: c})
		default:
			todo = append(todo, c)
		}
	}

	root, err := loadOrCreateRoot(opts, len(todo) > 0, res)
	if err != nil {
		return fmt.Errorf("root CA: %w", err)
	}
	for _, c := range todo {
		d := filepath.Join(opts.Dir, c)
		existed, err := exists(d)
		if err != nil {
			return fmt.Errorf("cluster %s: %w", c, err)
		}
		files, err := intermediateFiles(opts, root, c)
		if err == nil {
			err = atomicdir.Replace(filepath.Join(real, c), 0o700, files)
		}
		if err != nil {
			return fmt.Errorf("cluster %s: %w", c, err)
		}
		st := Created
		if existed {
			st = Replaced
		}
		res.Events = append(res.Events, Event{Status: st, Path: d, Cluster: c})
	}
	return nil
}

func sortEvents(ev []Event, order []string) {
	rank := map[string]int{"": -1}
	for i, c := range order {
		rank[c] = i
	}
	slices.SortStableFunc(ev, func(a, b Event) int { return cmp.Compare(rank[a.Cluster], rank[b.Cluster]) })
}

// rootCA is the signing root: its certificate (DER and parsed) and, when a
// new intermediate must be signed, its key.
type rootCA struct {
	cert *x509.Certificate
	pem  []byte
	key  crypto.Signer
}

func loadOrCreateRoot(opts Options, needKey bool, res *Result) (*rootCA, error) {
	certPath := filepath.Join(opts.Dir, RootCertFile)
	keyPath := filepath.Join(opts.Dir, RootKeyFile)
	haveCert, err := exists(certPath)
	if err != nil {
		return nil, err
	}

	if opts.RootCert != "" {
		root, err := readRoot(opts.RootCert, opts.RootKey)
		if err != nil {
			return nil, err
		}
		if haveCert {
			existing, err := os.ReadFile(certPath)
			if err != nil {
				return nil, err
			}
			c, err := parseCert(existing)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", certPath, err)
			}
			if !c.Equal(root.cert) {
				return nil, fmt.Errorf("%s holds a different root than %s; its intermediates would not trust the new ones (use a fresh directory, or remove it to start a new trust)", certPath, opts.RootCert)
			}
			res.Events = append(res.Events, Event{Status: Reused, Path: opts.RootCert})
			return root, nil
		}
		if err := writeFile(certPath, root.pem, 0o644); err != nil {
			return nil, err
		}
		res.Events = append(res.Events, Event{Status: Copied, Path: certPath})
		return root, nil
	}

	if haveCert {
		if !needKey {
			res.Events = append(res.Events, Event{Status: Reused, Path: certPath})
			return nil, nil
		}
		haveKey, err := exists(keyPath)
		if err != nil {
			return nil, err
		}
		if !haveKey {
			return nil, fmt.Errorf("%s exists but %s does not; give the root's key with the root certificate and key flags to sign new intermediates", certPath, keyPath)
		}
		root, err := readRoot(certPath, keyPath)
		if err != nil {
			return nil, err
		}
		res.Events = append(res.Events, Event{Status: Reused, Path: certPath})
		return root, nil
	}
	if ok, err := exists(keyPath); err != nil {
		return nil, err
	} else if ok {
		return nil, fmt.Errorf("%s exists without %s; meshc will not overwrite a key (restore the certificate or remove the key)", keyPath, certPath)
	}
	root, keyPEM, err := newRoot(opts)
	if err != nil {
		return nil, err
	}
	// Key first: a certificate without its key is useless, a lone key is
	// refused on the next run instead of silently replaced.
	if err := writeFile(keyPath, keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeFile(certPath, root.pem, 0o644); err != nil {
		return nil, err
	}
	res.Events = append(res.Events, Event{Status: Created, Path: certPath})
	return root, nil
}

func readRoot(certPath, keyPath string) (*rootCA, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("reading root certificate: %w", err)
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certPath, err)
	}
	if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("%s: not a CA certificate (needs CA:true and keyCertSign)", certPath)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("reading root key: %w", err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	if !keyMatches(key, cert) {
		return nil, fmt.Errorf("%s does not belong to %s", keyPath, certPath)
	}
	return &rootCA{cert: cert, pem: encodeCert(cert.Raw), key: key}, nil
}

func newRoot(opts Options) (*rootCA, []byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, opts.KeyBits)
	if err != nil {
		return nil, nil, fmt.Errorf("generating root key: %w", err)
	}
	now := opts.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{Organization}, CommonName: RootCN},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(opts.RootValidity),
		BasicConstraintsValid: true,
		IsCA:                  true,
		KeyUsage:              caKeyUsage,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("signing root: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	if err := checkValidity(cert, tmpl.NotBefore, tmpl.NotAfter); err != nil {
		return nil, nil, fmt.Errorf("signing root: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return &rootCA{cert: cert, pem: encodeCert(der), key: key}, keyPEM, nil
}

// checkValidity reports a signed certificate whose dates are not the ones
// asked for (X.509 keeps whole seconds): what is signed is read back, so a
// date mangled on the way (an overflow, an encoding limit) is refused
// before anything is written.
func checkValidity(cert *x509.Certificate, notBefore, notAfter time.Time) error {
	if !cert.NotBefore.Equal(notBefore.Truncate(time.Second)) || !cert.NotAfter.Equal(notAfter.Truncate(time.Second)) {
		return fmt.Errorf("the certificate came out valid from %s to %s, not from %s to %s as asked; nothing was written",
			cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339),
			notBefore.UTC().Format(time.RFC3339), notAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// caKeyUsage is tools/certs' keyUsage: digitalSignature, nonRepudiation,
// keyEncipherment, keyCertSign (Go marks it critical, as the config does).
const caKeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment |
	x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign

// intermediateFiles issues cluster's intermediate CA and returns the files
// of its directory.
func intermediateFiles(opts Options, root *rootCA, cluster string) ([]atomicdir.File, error) {
	key, err := rsa.GenerateKey(rand.Reader, opts.KeyBits)
	if err != nil {
		return nil, fmt.Errorf("generating key: %w", err)
	}
	now := opts.Now()
	notAfter := now.Add(opts.Validity)
	if notAfter.After(root.cert.NotAfter) {
		notAfter = root.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject: pkix.Name{
			Organization: []string{Organization},
			CommonName:   IntermediateCN,
			Locality:     []string{cluster},
		},
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		KeyUsage:              caKeyUsage,
		DNSNames:              []string{IstiodSAN},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, root.cert, key.Public(), root.key)
	if err != nil {
		return nil, fmt.Errorf("signing intermediate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	if err := checkValidity(cert, tmpl.NotBefore, tmpl.NotAfter); err != nil {
		return nil, fmt.Errorf("signing intermediate: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	certPEM := encodeCert(der)
	chain := append(bytes.Clone(certPEM), root.pem...)
	files := []struct {
		name string
		data []byte
		mode fs.FileMode
	}{
		{CAKeyFile, keyPEM, 0o600},
		{CACertFile, certPEM, 0o644},
		{RootCertFile, root.pem, 0o644},
		{CertChainFile, chain, 0o644},
		{SecretFile, secretManifest(cluster, certPEM, keyPEM, root.pem, chain), 0o600},
	}

	out := make([]atomicdir.File, len(files))
	for i, f := range files {
		out[i] = atomicdir.File{Path: f.name, Data: f.data, Mode: f.mode}
	}
	return out, nil
}

// secretManifest is the cacerts Secret of the Istio plug-in CA task
// (kubectl create secret generic cacerts --from-file=...), as a manifest so
// it can be applied idempotently. Its keys are the bare file names.
func secretManifest(cluster string, caCert, caKey, rootCert, chain []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Istio plug-in CA for cluster %s, generated by meshc certs.\n", cluster)
	b.WriteString("# Holds a private key: keep it out of version control; apply it with\n")
	b.WriteString("# kubectl apply --server-side so the key is not copied into an annotation.\n")
	b.WriteString("apiVersion: v1\nkind: Secret\nmetadata:\n")
	fmt.Fprintf(&b, "  name: %s\n  namespace: %s\n", SecretName, Namespace)
	// A change plan deletes the Secret of a cluster that leaves the mesh
	// only if it carries meshc's label.
	b.WriteString("  labels:\n    app.kubernetes.io/managed-by: meshc\n")
	b.WriteString("type: Opaque\ndata:\n")
	for _, kv := range []struct {
		k string
		v []byte
	}{{CACertFile, caCert}, {CAKeyFile, caKey}, {CertChainFile, chain}, {RootCertFile, rootCert}} {
		fmt.Fprintf(&b, "  %s: %s\n", kv.k, base64.StdEncoding.EncodeToString(kv.v))
	}
	return b.Bytes()
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return n.Add(n, big.NewInt(1))
}

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// encodeKey writes PKCS#8 ("PRIVATE KEY"), what openssl 3 writes and what
// Istio's ParsePemEncodedKey accepts.
func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// parseCert reads the first certificate of a PEM file.
func parseCert(data []byte) (*x509.Certificate, error) {
	certs, err := parseCerts(data)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate found")
	}
	return out, nil
}

// parseKey reads a PKCS#8, PKCS#1 or SEC 1 private key: what tools/certs,
// openssl and Istio use.
func parseKey(data []byte) (crypto.Signer, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("no PEM private key found")
	}
	var key any
	var err error
	switch b.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.Bytes)
	default:
		return nil, fmt.Errorf("unsupported PEM block %q for a private key", b.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing private key: %w", err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", key)
	}
	return s, nil
}

func keyMatches(key crypto.Signer, cert *x509.Certificate) bool {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(cert.PublicKey)
}

// ensureDir creates dir 0700, or tightens an existing one to 0700: it will
// hold private keys.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating certificates directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("restricting %s to its owner: %w", dir, err)
		}
	}
	return nil
}

func exists(p string) (bool, error) {
	_, err := os.Lstat(p)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, err
}

func isEmptyDir(p string) (bool, error) {
	entries, err := os.ReadDir(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true, nil
	case err != nil:
		return false, err
	}
	return len(entries) == 0, nil
}

// writeFile writes data to p atomically (temporary file, synced, then
// rename) with exactly mode, regardless of the umask. Only a directory
// meshc already owns gets single files this way (the root of a directory
// whose root was deleted, the marker of an adopted one); a new directory is
// written whole by atomicdir.
func writeFile(p string, data []byte, mode fs.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".new-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	// On disk before the rename names it: a power cut leaves the old file
	// or the whole new one.
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(p)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
