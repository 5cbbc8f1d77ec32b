package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// StandIns does, for the simulated clusters, what kubelets, a cloud's load
// balancers and the network between clusters would: it runs each primary's
// istiod on the host from the pod the plan created, gives LoadBalancer
// Services an address, and carries a remote's calls to its istiod Service
// to its primary's istiod (what the primary's east-west gateway does).
// It never changes an object the plan applied, only Service status.
type StandIns struct {
	fleet *Fleet
	// Primary is each cluster's primary: its own name (or "") for a
	// primary; a cluster missing from it has left the mesh.
	Primary map[string]string
	// Address is the load balancer's address for a cluster's Services.
	Address func(cluster, ns, name string) string

	mu       sync.Mutex
	istiods  map[string]*Istiod
	starting map[string]bool
	pods     map[string]string // the pod each running istiod stands for
	forwards map[string][]net.Listener
	errs     []error
}

// NewStandIns returns the stand-ins for a mesh whose clusters' primaries
// are primary (as Expectations.Primary).
func NewStandIns(f *Fleet, primary map[string]string, address func(cluster, ns, name string) string) *StandIns {
	return &StandIns{fleet: f, Primary: primary, Address: address, istiods: map[string]*Istiod{},
		starting: map[string]bool{}, pods: map[string]string{}, forwards: map[string][]net.Listener{}}
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

// SetPrimaries makes the stand-ins follow a changed mesh.
func (s *StandIns) SetPrimaries(primary map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Primary = primary
}

// Istiod is the running istiod of a primary, or nil.
func (s *StandIns) Istiod(cluster string) *Istiod {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.istiods[cluster]
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
	s.mu.Lock()
	primary, inMesh := s.Primary[name]
	s.mu.Unlock()
	if !inMesh && s.Istiod(name) == nil {
		return
	}
	var svc service
	err := c.Kube.Get("/api/v1/namespaces/istio-system/services/istiod", &svc)
	if primary == "" || primary == name {
		s.reconcileIstiod(ctx, name, c, svc, err)
		return
	}
	s.mu.Lock()
	_, forwarding := s.forwards[name]
	s.mu.Unlock()
	if err == nil && svc.Spec.ClusterIP != "" && !forwarding {
		if err := s.forward(name, svc.Spec.ClusterIP, primary); err != nil {
			s.fail(err)
		}
	}
}

// reconcileIstiod starts istiod when its pod runs, restarts it when the pod
// is replaced (a rollout restart or a new configuration), and stops it when
// the pod is gone (Istio uninstalled).
func (s *StandIns) reconcileIstiod(ctx context.Context, name string, c *Cluster, svc service, svcErr error) {
	p, podErr := istiodPod(c.Kube)
	s.mu.Lock()
	running, busy, was := s.istiods[name], s.starting[name], s.pods[name]
	s.mu.Unlock()
	if busy {
		return
	}
	if running != nil && (podErr != nil || p.Metadata.Name != was) {
		_ = running.Proc.Stop(5 * time.Second)
		s.mu.Lock()
		delete(s.istiods, name)
		s.mu.Unlock()
		running = nil
	}
	if running != nil || podErr != nil || svcErr != nil || svc.Spec.ClusterIP == "" {
		return
	}
	s.mu.Lock()
	s.starting[name] = true
	s.mu.Unlock()
	go func() {
		i, err := s.fleet.startIstiod(ctx, c, p, svc.Spec.ClusterIP)
		if err == nil {
			err = markReady(c, p)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.starting[name] = false
		if err != nil {
			s.errs = append(s.errs, err)
			return
		}
		s.istiods[name], s.pods[name] = i, p.Metadata.Name
	}()
}

// forward listens on a remote's istiod Service IP, on the ports a remote's
// API server and proxies use (443: webhooks, 15012: xDS and CA, 15017:
// webhooks by port), and carries each connection to the same port of its
// primary's istiod.
func (s *StandIns) forward(remote, ip, primary string) error {
	var ls []net.Listener
	for _, port := range []string{"443", "15012", "15017"} {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, port))
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return fmt.Errorf("%s: stand-in for the way to %s's istiod: %w", remote, primary, err)
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
					i := s.Istiod(primary)
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
	s.forwards[remote] = ls
	s.mu.Unlock()
	return nil
}

func (s *StandIns) closeForwards() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ls := range s.forwards {
		for _, l := range ls {
			l.Close()
		}
	}
	s.forwards = map[string][]net.Listener{}
}
