package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"sync"
	"time"
)

// StandIns does, for the simulated clusters, what kubelets, a cloud's load
// balancers, istio-cni's node agent (ambient.go) and the network between
// clusters would: it runs each primary's
// istiods on the host from the pods the plan created (one per control plane
// revision: two during a canary upgrade), gives LoadBalancer Services an
// address, and carries a remote's calls to its istiod Services to its
// primary's istiod of the same revision (what the primary's east-west
// gateway does, routing by the name the remote dials). It never changes an
// object the plan applied, only Service and Pod status and, as istio-cni
// does, pods' redirection annotation.
type StandIns struct {
	fleet *Fleet
	// Primary is each cluster's primary: its own name (or "") for a
	// primary; a cluster missing from it has left the mesh.
	Primary map[string]string
	// Revision is the mesh's control plane revision ("default" when it
	// names none): the one Istiod returns.
	Revision string
	// Address is the load balancer's address for a cluster's Services.
	Address func(cluster, ns, name string) string

	mu       sync.Mutex
	istiods  map[istiodKey]*Istiod
	starting map[istiodKey]bool
	pods     map[istiodKey]string // the pod each running istiod stands for
	forwards map[string]*forward  // by remote and Service name
	errs     []error
}

// istiodKey names one istiod: a primary and a revision.
type istiodKey struct{ cluster, revision string }

// forward is the stand-in for the way from a remote's istiod Service to its
// primary's istiod.
type forward struct {
	ip string
	ls []net.Listener
}

// NewStandIns returns the stand-ins for a mesh whose clusters' primaries
// are primary (as Expectations.Primary) and whose revision is revision.
func NewStandIns(f *Fleet, primary map[string]string, revision string, address func(cluster, ns, name string) string) *StandIns {
	return &StandIns{fleet: f, Primary: primary, Revision: revision, Address: address, istiods: map[istiodKey]*Istiod{},
		starting: map[istiodKey]bool{}, pods: map[istiodKey]string{}, forwards: map[string]*forward{}}
}

// Run reconciles until ctx ends.
func (s *StandIns) Run(ctx context.Context) {
	for {
		for name, c := range s.fleet.Clusters {
			s.reconcile(ctx, name, c)
		}
		select {
		case <-ctx.Done():
			s.closeForwards()
			return
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// SetMesh makes the stand-ins follow a changed mesh.
func (s *StandIns) SetMesh(primary map[string]string, revision string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Primary, s.Revision = primary, revision
}

// Istiod is the running istiod of a primary's current revision, or nil.
func (s *StandIns) Istiod(cluster string) *Istiod {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.istiods[istiodKey{cluster, s.Revision}]
}

// IstiodOf is the running istiod of a primary's revision, or nil.
func (s *StandIns) IstiodOf(cluster, revision string) *Istiod {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.istiods[istiodKey{cluster, revision}]
}

// Revisions are the revisions whose istiod runs on a cluster, sorted.
func (s *StandIns) Revisions(cluster string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var revs []string
	for k := range s.istiods {
		if k.cluster == cluster {
			revs = append(revs, k.revision)
		}
	}
	sort.Strings(revs)
	return revs
}

// Errors are what the stand-ins could not do (an istiod that would not
// start is a finding, not noise).
func (s *StandIns) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

func (s *StandIns) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, err)
}

func (s *StandIns) reconcile(ctx context.Context, name string, c *Cluster) {
	_ = assignLoadBalancers(c.Kube, func(ns, svc string) string { return s.Address(name, ns, svc) })
	_ = reconcileCapture(c.Kube)
	s.mu.Lock()
	primary, inMesh := s.Primary[name]
	s.mu.Unlock()
	if !inMesh && len(s.Revisions(name)) == 0 {
		return
	}
	if primary == "" || primary == name {
		s.reconcileIstiods(ctx, name, c)
		return
	}
	s.reconcileForwards(name, c, primary)
}

// reconcileIstiods starts an istiod for each revision's pod when it runs,
// restarts it when the pod is replaced (a rollout restart or a new
// configuration), and stops it when the pod is gone (the revision or Istio
// uninstalled).
func (s *StandIns) reconcileIstiods(ctx context.Context, name string, c *Cluster) {
	pods, err := istiodPods(c.Kube)
	if err != nil {
		return // the API server did not answer: try again
	}
	s.mu.Lock()
	var stop []*Istiod
	for k, i := range s.istiods {
		if k.cluster != name || s.starting[k] {
			continue
		}
		if p := pods[k.revision]; p == nil || p.Metadata.Name != s.pods[k] {
			stop = append(stop, i)
			delete(s.istiods, k)
		}
	}
	s.mu.Unlock()
	for _, i := range stop {
		_ = i.Proc.Stop(5 * time.Second)
	}
	for rev, p := range pods {
		k := istiodKey{name, rev}
		s.mu.Lock()
		busy := s.starting[k] || s.istiods[k] != nil
		s.mu.Unlock()
		if busy {
			continue
		}
		var svc service
		if err := c.Kube.Get("/api/v1/namespaces/istio-system/services/"+IstiodService(rev), &svc); err != nil || svc.Spec.ClusterIP == "" {
			continue
		}
		s.mu.Lock()
		s.starting[k] = true
		s.mu.Unlock()
		go func() {
			i, err := s.fleet.startIstiod(ctx, c, p, rev, svc.Spec.ClusterIP)
			if err == nil {
				err = markReady(c, p)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			s.starting[k] = false
			if err != nil {
				s.errs = append(s.errs, err)
				return
			}
			s.istiods[k], s.pods[k] = i, p.Metadata.Name
		}()
	}
}

// reconcileForwards keeps a forward for each of a remote's istiod Services
// (`istiod`, `istiod-<revision>`: what its webhooks and proxies dial) and
// closes the forwards of Services that are gone. The tags' Services
// (`istiod-revision-tag-<tag>`) select istiod pods, which a remote has none
// of: nothing there answers them, and neither does the stand-in.
func (s *StandIns) reconcileForwards(remote string, c *Cluster, primary string) {
	var l serviceList
	if err := c.Kube.Get("/api/v1/namespaces/istio-system/services", &l); err != nil {
		return
	}
	want := map[string]service{}
	for _, svc := range l.Items {
		rev := svc.Metadata.Labels["istio.io/rev"]
		if rev == "" {
			rev = "default"
		}
		if svc.Metadata.Name == IstiodService(rev) && svc.Spec.ClusterIP != "" {
			want[remote+" "+svc.Metadata.Name] = svc
		}
	}
	s.mu.Lock()
	for k, fw := range s.forwards {
		r, _, _ := strings.Cut(k, " ")
		if svc, ok := want[k]; r == remote && (!ok || svc.Spec.ClusterIP != fw.ip) {
			for _, l := range fw.ls {
				l.Close()
			}
			delete(s.forwards, k)
		}
	}
	var add []service
	for k, svc := range want {
		if s.forwards[k] == nil {
			add = append(add, svc)
		}
	}
	s.mu.Unlock()
	for _, svc := range add {
		rev := svc.Metadata.Labels["istio.io/rev"]
		if rev == "" {
			rev = "default"
		}
		if err := s.forward(remote, svc.Metadata.Name, svc.Spec.ClusterIP, primary, rev); err != nil {
			s.fail(err)
		}
	}
}

// forward listens on a remote's istiod Service IP, on the ports a remote's
// API server and proxies use (443: webhooks, 15012: xDS and CA, 15017:
// webhooks by port), and carries each connection to the same port of its
// primary's istiod of the Service's revision.
func (s *StandIns) forward(remote, name, ip, primary, rev string) error {
	var ls []net.Listener
	for _, port := range []string{"443", "15012", "15017"} {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, port))
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return fmt.Errorf("%s: stand-in for the way from Service %s to %s's istiod of revision %s: %w", remote, name, primary, rev, err)
		}
		ls = append(ls, l)
		go func() {
			for {
				down, err := l.Accept()
				if err != nil {
					return
				}
				go func() {
					defer down.Close()
					i := s.IstiodOf(primary, rev)
					if i == nil {
						return
					}
					to := port
					if port == "15017" {
						to = "443"
					}
					up, err := net.Dial("tcp", net.JoinHostPort(i.ServiceIP, to))
					if err != nil {
						return
					}
					defer up.Close()
					go io.Copy(up, down)
					io.Copy(down, up)
				}()
			}
		}()
	}
	s.mu.Lock()
	s.forwards[remote+" "+name] = &forward{ip: ip, ls: ls}
	s.mu.Unlock()
	return nil
}

func (s *StandIns) closeForwards() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, fw := range s.forwards {
		for _, l := range fw.ls {
			l.Close()
		}
	}
	s.forwards = map[string]*forward{}
}
