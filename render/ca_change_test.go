package render

import (
	"errors"
	"slices"
	"testing"

	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/internal/cases"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/output"
)

// trust models, across the clusters of a mesh, what Istio's code does with
// roots (pilot/pkg/bootstrap/istio_ca.go, pilot/pkg/trustbundle,
// pkg/istio-agent, security/pkg/nodeagent/cache): each cluster's cacerts,
// the root its istiod signs under, the roots its meshConfig adds and
// whether it hands them out (ISTIO_MULTIROOT_MESH); and two workloads per
// cluster, one that never rotates its certificate and one that rotates
// after every step, each with the root of its certificate and the roots it
// trusts. Roots are named by the Meshes: meshc certs' root is the new
// Mesh's previousRoot (or its root, when the root does not move), and
// cert-manager issues under the new Mesh's root.
type trust struct {
	m        *mesh.Mesh
	oldRoot  string // the root meshc certs' cacerts hold
	newRoot  string // the root cert-manager issues under
	clusters map[string]*trustCluster
}

type trustCluster struct {
	secret      string // root of cacerts; "" when there is none
	meshcSecret bool   // cacerts is meshc certs' Opaque Secret
	istiod      string // root istiod signs under; "" before it starts
	multiRoot   bool
	caCerts     []string
	agentFlag   bool // PROXY_CONFIG_XDS_AGENT in the proxies' metadata
	workloads   [2]workload
}

type workload struct {
	cert    string          // root of its certificate; "" before it runs
	flag    bool            // started with PROXY_CONFIG_XDS_AGENT
	trusted map[string]bool // roots it trusts
}

func newTrust(old, new *mesh.Mesh) *trust {
	t := &trust{m: new, newRoot: rootDER(new.Spec.CA.Root.PEM), clusters: map[string]*trustCluster{}}
	t.oldRoot = t.newRoot
	if r := new.Spec.CA.PreviousRoot; r != nil {
		t.oldRoot = rootDER(r.PEM)
	}
	for _, m := range []*mesh.Mesh{old, new} {
		for _, n := range m.ClusterNames() {
			if t.clusters[n] == nil {
				t.clusters[n] = &trustCluster{}
			}
		}
	}
	return t
}

// servedBy is the cluster whose istiod serves cluster name's workloads.
func (t *trust) servedBy(m *mesh.Mesh, name string) *trustCluster {
	c := m.Cluster(name)
	if c == nil {
		return t.clusters[name]
	}
	if p := m.Place(c); !p.IsPrimary() {
		return t.clusters[c.ControlPlane]
	}
	return t.clusters[name]
}

// bundle is what istiod of c hands out: its own root, and with
// ISTIO_MULTIROOT_MESH the roots of meshConfig.caCertificates.
func (c *trustCluster) bundle() map[string]bool {
	b := map[string]bool{c.istiod: true}
	if c.multiRoot {
		for _, r := range c.caCerts {
			b[r] = true
		}
	}
	return b
}

// start runs a workload's pod anew under istiod s: a certificate of its
// root, trusting that root and, with the proxy config agent, s's bundle.
func (w *workload) start(s *trustCluster) {
	w.flag = s.agentFlag
	w.rotate(s)
}

// rotate has a running workload renew its certificate from istiod s: the
// response carries s's root, which joins the pushed bundle.
func (w *workload) rotate(s *trustCluster) {
	w.cert = s.istiod
	w.trusted = map[string]bool{s.istiod: true}
	w.push(s)
}

// push is istiod s's trust bundle reaching a running sidecar (PCDS): only
// with the agent and ISTIO_MULTIROOT_MESH; the sidecar merges it with its
// certificate's root.
func (w *workload) push(s *trustCluster) {
	if !w.flag || !s.multiRoot {
		return
	}
	for r := range s.bundle() {
		w.trusted[r] = true
	}
}

// load is istiod of c (re)starting: it signs under cacerts' root, or, with
// none, a self-signed root of its own that no other cluster trusts.
func (c *trustCluster) load(name string) {
	c.istiod = c.secret
	if c.istiod == "" {
		c.istiod = "self-signed root of " + name
	}
}

// step applies one plan step of phase to the model.
func (t *trust) step(t2 *testing.T, m *mesh.Mesh, phase string, s Step, out *output.Output) {
	c := t.clusters[s.Cluster]
	switch phase {
	case PhaseCACerts:
		if m.Spec.CA.Issuer == mesh.IssuerMeshc {
			c.secret, c.meshcSecret = t.oldRoot, true
		} else {
			// cert-manager writes into the Secret it finds, keeping its
			// type; istiod prefers tls.crt.
			c.secret = t.newRoot
		}
		if c.secret == c.istiod || c.istiod == "" {
			return // hot reload under the same root, or no istiod yet
		}
	case PhaseReplaceCACerts:
		if c.meshcSecret {
			c.secret, c.meshcSecret = "", false
		}
	case PhaseRestartIstiod:
		c.load(s.Cluster)
	case PhaseTrustWorkloads, PhaseRenewWorkloads, PhaseForgetRoot:
		for i := range c.workloads {
			c.workloads[i].start(t.servedBy(m, s.Cluster))
		}
	case PhasePrimaries, PhaseRemotes, PhaseTrustRoots:
		if !m.Place(m.Cluster(s.Cluster)).IsPrimary() {
			return
		}
		multi, roots, flag := installedTrust(t2, s, out)
		restart := c.istiod == "" || multi != c.multiRoot // a new env rolls istiod
		c.multiRoot, c.caCerts, c.agentFlag = multi, roots, flag
		if restart {
			c.load(s.Cluster)
		}
	}
}

// installedTrust reads, from the control plane a step installs, what
// istiod hands out and whether the proxies run the agent that takes it.
func installedTrust(t *testing.T, s Step, out *output.Output) (multi bool, roots []string, flag bool) {
	for _, f := range s.Applies() {
		var doc any
		if err := yaml.Unmarshal(out.Lookup(f).Data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		walk(doc, func(k string, v any) {
			switch k {
			case "ISTIO_MULTIROOT_MESH":
				multi = multi || v == "true"
			case "PROXY_CONFIG_XDS_AGENT":
				flag = flag || v == "true"
			case "caCertificates":
				for _, e := range v.([]any) {
					roots = append(roots, rootDER(e.(map[string]any)["pem"].(string)))
				}
			}
		})
	}
	return multi, roots, flag
}

func walk(v any, f func(string, any)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			f(k, x)
			walk(x, f)
		}
	case []any:
		for _, x := range v {
			walk(x, f)
		}
	}
}

// settle is time passing after a step: istiod pushes its bundle to every
// running sidecar, and the rotating workload renews its certificate.
func (t *trust) settle(m *mesh.Mesh) {
	for name, c := range t.clusters {
		s := t.servedBy(m, name)
		for i := range c.workloads {
			w := &c.workloads[i]
			if w.cert == "" || s.istiod == "" {
				continue
			}
			if i == 1 {
				w.rotate(s)
			} else {
				w.push(s)
			}
		}
	}
}

// broken names a workload that does not trust the root of another's
// certificate: mTLS between them fails.
func (t *trust) broken() string {
	for a, ca := range t.clusters {
		for i, wa := range ca.workloads {
			if wa.cert == "" {
				continue
			}
			for b, cb := range t.clusters {
				for j, wb := range cb.workloads {
					if wb.cert != "" && !wa.trusted[wb.cert] {
						return workloadName(a, i) + " does not trust the root of " + workloadName(b, j) + "'s certificate (" + t.name(wb.cert) + ")"
					}
				}
			}
		}
	}
	return ""
}

func workloadName(cluster string, i int) string {
	return cluster + []string{"'s steady workload", "'s rotating workload"}[i]
}

func (t *trust) name(root string) string {
	switch root {
	case t.newRoot:
		return "the new root"
	case t.oldRoot:
		return "the previous root"
	}
	return root
}

// run applies plan p (of mesh m, rendered as out) to the model and returns,
// for the first step after which two workloads do not trust each other,
// what breaks.
func (t *trust) run(t2 *testing.T, m *mesh.Mesh, p *Plan, out *output.Output) string {
	for _, ph := range p.Phases {
		for _, s := range ph.Steps {
			t.step(t2, m, ph.ID, s, out)
			if ph.ID == PhasePrimaries || ph.ID == PhaseRemotes {
				// A first install starts the workloads.
				for name, c := range t.clusters {
					for i := range c.workloads {
						if c.workloads[i].cert == "" && t.servedBy(m, name).istiod != "" && m.Cluster(name) != nil {
							c.workloads[i].start(t.servedBy(m, name))
						}
					}
				}
			}
			t.settle(m)
			if b := t.broken(); b != "" {
				return ph.ID + ": " + b
			}
		}
	}
	return ""
}

// TestChangePlansKeepTrust runs, on the trust model, each change case of
// testdata/changes that moves the issuer or the root: the old mesh's full
// plan, then the change plan. After every step every workload must trust
// the root of every other's certificate, and when a move is done every
// workload holds a certificate of the new Mesh's root. The plan without its
// trust-roots and trust-workloads phases must break trust, or the model
// proves nothing.
func TestChangePlansKeepTrust(t *testing.T) {
	pairs, err := cases.ReadDir("../compiler/testdata/changes")
	if err != nil {
		t.Fatal(err)
	}
	moves, rootMoves := 0, 0
	for _, c := range pairs {
		old, new := mustVet(t, c.Input("old.yaml")), mustVet(t, c.Input("new.yaml"))
		if !new.WritesCACerts() || old.Spec.CA.Issuer == new.Spec.CA.Issuer && !old.MovesRoot() {
			continue
		}
		p, err := BuildChangePlan(old, new, ChangeOptions{})
		var refused *RefusedChange
		if errors.As(err, &refused) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		t.Run(c.Name(), func(t *testing.T) {
			oldOut, _ := Render(old)
			newOut, _ := Render(new)
			model := func(p *Plan) (*trust, string) {
				tr := newTrust(old, new)
				if old.MovesRoot() {
					// The move began under an earlier Mesh: the clusters run
					// cert-manager's cacerts under the new root.
					tr.oldRoot = rootDER(old.Spec.CA.PreviousRoot.PEM)
				}
				if b := tr.run(t, old, BuildPlan(old), oldOut); b != "" {
					t.Fatalf("the old mesh's own plan breaks trust: %s", b)
				}
				return tr, tr.run(t, new, p, newOut)
			}
			tr, b := model(p)
			if b != "" {
				t.Fatalf("after step %s", b)
			}
			for name, cl := range tr.clusters {
				for i, w := range cl.workloads {
					if new.Cluster(name) != nil && w.cert != tr.newRoot {
						t.Errorf("after the plan, %s holds a certificate of %s, not of the new root", workloadName(name, i), tr.name(w.cert))
					}
				}
			}
			if caMoveOf(old, new) == nil || !new.MovesRoot() {
				return
			}
			rootMoves++
			without := *p
			without.Phases = slices.DeleteFunc(slices.Clone(p.Phases), func(ph Phase) bool {
				return ph.ID == PhaseTrustRoots || ph.ID == PhaseTrustWorkloads
			})
			if _, b := model(&without); b == "" {
				t.Errorf("without phases %s and %s the model keeps trust: it cannot tell a safe move from a broken one", PhaseTrustRoots, PhaseTrustWorkloads)
			}
		})
		moves++
	}
	if moves < 3 || rootMoves < 1 {
		t.Errorf("%d change cases move the issuer or end a root's move, %d move the root; the check is not exercised", moves, rootMoves)
	}
}
