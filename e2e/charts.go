package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// ChartHost is where plan.sh's `helm repo add` points: Istio's chart
// repository.
const ChartHost = "istio-release.storage.googleapis.com"

// ChartRepo stands in for Istio's chart repository, which a machine without
// the internet cannot reach: an HTTPS server for ChartHost, with a
// certificate of the harness's own CA, behind an HTTP proxy that lets
// through nothing else. plan.sh runs unmodified with HTTPS_PROXY and
// SSL_CERT_FILE (Env) pointing helm at it. The charts are Istio's, from the
// pinned commit's manifests/charts, packaged under the Mesh's Istio version.
type ChartRepo struct {
	CAFile string
	Proxy  string // http://127.0.0.1:PORT
	tls    net.Listener
	proxy  *http.Server
}

// Env is what a process needs to reach the repository through the proxy.
// Loopback (the API servers) is never proxied.
func (r *ChartRepo) Env() []string {
	return []string{"HTTPS_PROXY=" + r.Proxy, "https_proxy=" + r.Proxy, "NO_PROXY=127.0.0.0/8,localhost",
		"no_proxy=127.0.0.0/8,localhost", "SSL_CERT_FILE=" + r.CAFile}
}

// istioCharts maps the repository's chart names to their directories in
// Istio's source.
var istioCharts = map[string]string{"base": "base", "istiod": "istio-control/istio-discovery", "gateway": "gateway",
	"cni": "istio-cni", "ztunnel": "ztunnel"}

// StartChartRepo packages Istio's charts at each version (the same charts
// under every version: one pinned commit) and serves them.
func StartChartRepo(dir string, tools Tools, versions ...string) (*ChartRepo, error) {
	repo := filepath.Join(dir, "charts")
	if err := os.MkdirAll(repo, 0o700); err != nil {
		return nil, err
	}
	helm := tools.Bin("helm", "helm")
	for _, version := range versions {
		for _, src := range istioCharts {
			cmd := exec.Command(helm, "package", filepath.Join(tools["istio"], "charts", src),
				"--version", version, "--app-version", version, "-d", repo)
			cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+filepath.Join(dir, "helm-cache"), "HELM_CONFIG_HOME="+filepath.Join(dir, "helm-config"))
			if out, err := cmd.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("helm package %s %s: %v: %s", src, version, err, out)
			}
		}
	}
	if out, err := exec.Command(helm, "repo", "index", repo, "--url", "https://"+ChartHost+"/charts").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("helm repo index: %v: %s", err, out)
	}
	caPEM, cert, err := selfSignedFor(ChartHost)
	if err != nil {
		return nil, err
	}
	r := &ChartRepo{CAFile: filepath.Join(dir, "chart-repo-ca.pem")}
	if err := os.WriteFile(r.CAFile, caPEM, 0o600); err != nil {
		return nil, err
	}
	r.tls, err = tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/charts/", http.StripPrefix("/charts/", http.FileServer(http.Dir(repo))))
	go http.Serve(r.tls, mux)
	target := r.tls.Addr().String()
	r.proxy = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodConnect || req.Host != ChartHost+":443" {
			http.Error(w, "the rehearsal has no internet; only "+ChartHost+" is served", http.StatusForbidden)
			return
		}
		up, err := net.Dial("tcp", target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() { io.Copy(up, buf); up.Close() }()
		io.Copy(conn, up)
		conn.Close()
	})}
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r.Proxy = "http://" + pl.Addr().String()
	go r.proxy.Serve(pl)
	return r, nil
}

// Close stops the server and the proxy.
func (r *ChartRepo) Close() {
	r.tls.Close()
	r.proxy.Close()
}

// selfSignedFor returns a CA (PEM) and a serving certificate for host it signed.
func selfSignedFor(host string) ([]byte, tls.Certificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "meshc e2e chart repository CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return caPEM, tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key}, nil
}
