package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Tools are the directories build.sh printed, by tool name (etcd,
// kubernetes, kwok, helm, istio).
type Tools map[string]string

// Bin is the path of one binary of a tool.
func (t Tools) Bin(tool, name string) string { return filepath.Join(t[tool], name) }

// Fleet is the API servers of one rehearsal: one etcd, and per cluster a
// kube-apiserver, kube-controller-manager, kube-scheduler and kwok.
type Fleet struct {
	Dir        string // everything the fleet writes: data, certificates, logs
	Kubeconfig string // one context per cluster, named as the Mesh names it
	Tools      Tools
	Procs      *Procs
	Clusters   map[string]*Cluster
	etcd       string
	next       int // index of the next cluster
}

// Cluster is one API server and its controllers.
type Cluster struct {
	Name, Context string
	Index         int
	Server        string // https://127.0.0.1:PORT
	ServiceCIDR   string // 127.(100+Index).0.0/16: every Service IP is a loopback address the host can bind
	PodCIDR       string // what kwok gives pods: 10.(100+Index).0.0/16
	CAFile        string // the API server's serving certificate and its CA
	Token         string // the admin's static token
	Kube          *Kube
}

// StartFleet starts etcd; clusters are added with AddCluster.
func StartFleet(dir string, tools Tools) (*Fleet, error) {
	f := &Fleet{Dir: dir, Tools: tools, Procs: NewProcs(dir), Clusters: map[string]*Cluster{},
		Kubeconfig: filepath.Join(dir, "kubeconfig")}
	client, peer := freePort(), freePort()
	f.etcd = "http://127.0.0.1:" + client
	_, err := f.Procs.Start("etcd", nil, dir, "nice", "-n", "10", tools.Bin("etcd", "etcd"),
		"--name", "e2e", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", f.etcd, "--advertise-client-urls", f.etcd,
		"--listen-peer-urls", "http://127.0.0.1:"+peer, "--initial-advertise-peer-urls", "http://127.0.0.1:"+peer,
		"--initial-cluster", "e2e=http://127.0.0.1:"+peer, "--unsafe-no-fsync", "--log-level", "warn")
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Stop stops every process of the fleet and what was started through it.
func (f *Fleet) Stop() error { return f.Procs.StopAll(10 * time.Second) }

// AddCluster starts a cluster's servers, waits until its API server answers
// and its controllers have made the default ServiceAccount, adds its context
// to the kubeconfig and registers the simulated node.
func (f *Fleet) AddCluster(ctx context.Context, name, kubeContext string) (*Cluster, error) {
	i := f.next
	f.next++
	d := filepath.Join(f.Dir, name)
	if err := os.MkdirAll(filepath.Join(d, "certs"), 0o700); err != nil {
		return nil, err
	}
	c := &Cluster{Name: name, Context: kubeContext, Index: i,
		ServiceCIDR: fmt.Sprintf("127.%d.0.0/16", 100+i), PodCIDR: fmt.Sprintf("10.%d.0.0/16", 100+i)}
	port := freePort()
	c.Server = "https://127.0.0.1:" + port
	c.CAFile = filepath.Join(d, "certs", "apiserver.crt")
	c.Token = randomHex(16)
	if err := os.WriteFile(filepath.Join(d, "tokens.csv"), []byte(c.Token+`,admin,admin,"system:masters"`+"\n"), 0o600); err != nil {
		return nil, err
	}
	saKey := filepath.Join(d, "sa.key")
	if out, err := exec.Command("openssl", "genrsa", "-out", saKey, "2048").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("openssl: %v: %s", err, out)
	}
	k8s := func(bin string) string { return f.Tools.Bin("kubernetes", bin) }
	if _, err := f.Procs.Start(name+"-kube-apiserver", nil, d, "nice", "-n", "10", k8s("kube-apiserver"),
		"--etcd-servers="+f.etcd, "--etcd-prefix=/"+name,
		"--bind-address=127.0.0.1", "--secure-port="+port, "--advertise-address=127.0.0.1",
		"--cert-dir="+filepath.Join(d, "certs"), "--token-auth-file="+filepath.Join(d, "tokens.csv"),
		"--authorization-mode=RBAC", "--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+saKey, "--service-account-signing-key-file="+saKey,
		"--service-cluster-ip-range="+c.ServiceCIDR,
		// The API server refuses to publish its own Endpoints on loopback.
		"--endpoint-reconciler-type=none", "--profiling=false"); err != nil {
		return nil, err
	}
	if err := waitFor(ctx, 5*time.Minute, name+" API server certificate", func() error {
		_, err := os.Stat(c.CAFile)
		return err
	}); err != nil {
		return nil, err
	}
	var kube *Kube
	if err := waitFor(ctx, 5*time.Minute, name+" API server /readyz", func() error {
		// The certificate file may still be being written: read it again.
		k, err := NewKube(c.Server, c.Token, c.CAFile)
		if err != nil {
			return err
		}
		if err := k.Get("/readyz", nil); err != nil {
			return err
		}
		kube = k
		return nil
	}); err != nil {
		return nil, fmt.Errorf("%w (log: %s)", err, filepath.Join(f.Dir, name+"-kube-apiserver.log"))
	}
	c.Kube = kube
	f.Clusters[name] = c
	if err := f.writeKubeconfig(); err != nil {
		return nil, err
	}
	// The controller manager's root CA (what service-account token Secrets
	// carry as ca.crt, so what remote secrets trust) is the CA of the
	// self-signed pair: the second certificate of the API server's file.
	bundle, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, err
	}
	certs := bytes.SplitAfter(bundle, []byte("-----END CERTIFICATE-----\n"))
	if len(certs) < 2 {
		return nil, fmt.Errorf("%s: want a certificate and its CA", c.CAFile)
	}
	rootCA := filepath.Join(d, "ca.crt")
	if err := os.WriteFile(rootCA, certs[1], 0o600); err != nil {
		return nil, err
	}
	kc := filepath.Join(d, "admin.kubeconfig")
	if err := os.WriteFile(kc, kubeconfig([]*Cluster{c}, c.Context), 0o600); err != nil {
		return nil, err
	}
	if _, err := f.Procs.Start(name+"-kube-controller-manager", nil, d, "nice", "-n", "10", k8s("kube-controller-manager"),
		"--kubeconfig="+kc, "--service-account-private-key-file="+saKey, "--root-ca-file="+rootCA,
		"--use-service-account-credentials=true", "--controllers=*", "--leader-elect=false",
		"--secure-port=0", "--bind-address=127.0.0.1"); err != nil {
		return nil, err
	}
	if _, err := f.Procs.Start(name+"-kube-scheduler", nil, d, "nice", "-n", "10", k8s("kube-scheduler"),
		"--kubeconfig="+kc, "--leader-elect=false", "--secure-port=0", "--bind-address=127.0.0.1"); err != nil {
		return nil, err
	}
	stages, err := f.kwokStages()
	if err != nil {
		return nil, err
	}
	if _, err := f.Procs.Start(name+"-kwok", nil, d, "nice", "-n", "10", f.Tools.Bin("kwok", "kwok"),
		"--kubeconfig="+kc, "-c", stages, "--manage-all-nodes", "--node-ip=127.0.0.1", "--cidr="+c.PodCIDR,
		"--server-address="); err != nil {
		return nil, err
	}
	if err := kube.Do("POST", "/api/v1/nodes", "application/json", []byte(nodeJSON), nil); err != nil {
		return nil, err
	}
	if err := waitFor(ctx, 5*time.Minute, name+" default ServiceAccount (kube-controller-manager)", func() error {
		return kube.Get("/api/v1/namespaces/default/serviceaccounts/default", nil)
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// The one simulated node of a cluster: kwok manages it, pods bound to it
// become Running and Ready with an IP of the cluster's PodCIDR.
const nodeJSON = `{"apiVersion":"v1","kind":"Node","metadata":{"name":"kwok-node-0",
"annotations":{"node.alpha.kubernetes.io/ttl":"0","kwok.x-k8s.io/node":"fake"},
"labels":{"kubernetes.io/arch":"amd64","kubernetes.io/os":"linux","kubernetes.io/hostname":"kwok-node-0","type":"kwok"}},
"spec":{},"status":{"allocatable":{"cpu":"32","memory":"256Gi","pods":"110"},"capacity":{"cpu":"32","memory":"256Gi","pods":"110"}}}`

// kwokStages joins the stages kwok needs into one file: nodes become ready
// and keep their heartbeat, pods become ready at once.
func (f *Fleet) kwokStages() (string, error) {
	path := filepath.Join(f.Dir, "kwok-stages.yaml")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	var b bytes.Buffer
	for _, s := range []string{"node/fast/node-initialize", "node/heartbeat/node-heartbeat", "pod/fast/pod-ready", "pod/fast/pod-complete", "pod/fast/pod-delete"} {
		data, err := os.ReadFile(filepath.Join(f.Tools["kwok"], "stage", s+".yaml"))
		if err != nil {
			return "", err
		}
		if s == "pod/fast/pod-ready" {
			// istiod's pods are made ready by the istiod stand-in, once the
			// istiod it runs answers /ready, as its readiness probe would.
			const anchor = "    matchExpressions:\n"
			if !bytes.Contains(data, []byte(anchor)) {
				return "", fmt.Errorf("kwok's pod-ready stage has no %q", anchor)
			}
			data = bytes.Replace(data, []byte(anchor), []byte(anchor+"    - key: '.metadata.labels.app'\n      operator: 'NotIn'\n      values:\n      - 'istiod'\n"), 1)
		}
		b.WriteString("---\n")
		b.Write(data)
	}
	return path, os.WriteFile(path, b.Bytes(), 0o600)
}

func (f *Fleet) writeKubeconfig() error {
	var cs []*Cluster
	for i := 0; i < f.next; i++ {
		for _, c := range f.Clusters {
			if c.Index == i {
				cs = append(cs, c)
			}
		}
	}
	return os.WriteFile(f.Kubeconfig, kubeconfig(cs, ""), 0o600)
}

// kubeconfig has one cluster, user and context per cluster; the context is
// the Mesh's, the cluster and user are named after the cluster.
func kubeconfig(cs []*Cluster, current string) []byte {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Config\nclusters:\n")
	for _, c := range cs {
		fmt.Fprintf(&b, "- name: %s\n  cluster: {server: %q, certificate-authority: %q}\n", c.Name, c.Server, c.CAFile)
	}
	b.WriteString("users:\n")
	for _, c := range cs {
		fmt.Fprintf(&b, "- name: %s-admin\n  user: {token: %q}\n", c.Name, c.Token)
	}
	b.WriteString("contexts:\n")
	for _, c := range cs {
		fmt.Fprintf(&b, "- name: %q\n  context: {cluster: %s, user: %s-admin}\n", c.Context, c.Name, c.Name)
	}
	if current != "" {
		fmt.Fprintf(&b, "current-context: %q\n", current)
	}
	return []byte(b.String())
}

// waitFor polls check until it returns nil, ctx ends or timeout passes; the
// error names what was awaited and the last answer.
func waitFor(ctx context.Context, timeout time.Duration, what string, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting %s for %s: %w", timeout, what, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %v)", what, ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// freePort is a loopback port nothing listens on now.
func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
