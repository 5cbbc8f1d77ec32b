package conformance

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/xds/endpoints"
	"istio.io/istio/pilot/test/xdstest"
)

// What Envoy would refuse. For every proxy of a scenario the check asks
// istiod for the whole of what a connected Envoy gets (listeners, clusters,
// the routes its listeners name, the endpoints of every EDS cluster) and
// checks it as Envoy checks a resource it is sent, with Istio's own
// validators (pilot/test/xdstest: overlapping filter chains, duplicate
// listener addresses and names, missing TLS inspectors, duplicate clusters,
// virtual hosts and domains...) and the protoc-gen-validate rules Envoy's
// API declares, on every resource and every typed config inside it. One
// refused resource is enough for Envoy to reject the whole listener (or
// cluster, or route table): a 15443 listener with two filter chains for one
// SNI takes down every service behind the gateway.

// xdsResources is what istiod sends one connected proxy.
type xdsResources struct {
	listeners []*listener.Listener
	clusters  []*clusterv3.Cluster
	routes    []*route.RouteConfiguration
	endpoints []*endpoint.ClusterLoadAssignment
}

// resources generates everything istiod sends the connected proxy.
func (v *istiodView) resources(c connected) xdsResources {
	r := xdsResources{listeners: v.cg.Listeners(c.proxy), clusters: c.all}
	r.routes = v.cg.RoutesFromListeners(c.proxy, r.listeners)
	for _, name := range c.clusters {
		b := endpoints.NewEndpointBuilder(name, c.proxy, v.cg.PushContext())
		if cla := b.BuildClusterLoadAssignment(v.index); cla != nil {
			r.endpoints = append(r.endpoints, cla)
		}
	}
	return r
}

// envoyProblem is one thing Envoy would refuse in a resource sent to a
// proxy, with what the finding needs to name the file at fault.
type envoyProblem struct {
	kind, name string // "listener", "0.0.0.0_15443"
	why        string
	// port is a listener's port; hosts the services the problem is about
	// (from a filter chain's SNI, a cluster's name), "" if unknown.
	port  uint32
	hosts []string
}

// envoyProblems checks r as Envoy would, resource by resource.
func envoyProblems(r xdsResources) []envoyProblem {
	var out []envoyProblem
	for _, l := range r.listeners {
		port := l.GetAddress().GetSocketAddress().GetPortValue()
		for _, msg := range validateWith(func(t testing.TB) { xdstest.ValidateListeners(t, []*listener.Listener{l}) }) {
			p := envoyProblem{kind: "listener", name: l.GetName(), port: port, why: msg}
			var a, b int
			if _, err := fmt.Sscanf(msg, "overlapping filter chains %d and %d", &a, &b); err == nil && a < len(l.FilterChains) {
				m := l.FilterChains[a].GetFilterChainMatch()
				p.why = fmt.Sprintf("filter chains %d and %d have the same match (%s)", b, a, describeMatch(m))
				p.hosts = sniHosts(m.GetServerNames())
			}
			out = append(out, p)
		}
		out = append(out, typedConfigProblems("listener", l.GetName(), l, port)...)
	}
	// Across listeners: Envoy refuses two listeners of one name or on one
	// address. Istio's check of that needs no filter chains; the copies keep
	// the per-listener findings above from being reported twice.
	var bare []*listener.Listener
	for _, l := range r.listeners {
		bare = append(bare, &listener.Listener{Name: l.GetName(), Address: l.GetAddress(), AdditionalAddresses: l.GetAdditionalAddresses()})
	}
	for _, msg := range validateWith(func(t testing.TB) { xdstest.ValidateListeners(t, bare) }) {
		out = append(out, envoyProblem{kind: "listener", why: msg})
	}

	seen := map[string]bool{}
	for _, c := range r.clusters {
		hosts := clusterHosts(c.GetName())
		if seen[c.GetName()] {
			out = append(out, envoyProblem{kind: "cluster", name: c.GetName(), why: "duplicate cluster name", hosts: hosts})
		}
		seen[c.GetName()] = true
		for _, msg := range validateWith(func(t testing.TB) { xdstest.ValidateCluster(t, c) }) {
			out = append(out, envoyProblem{kind: "cluster", name: c.GetName(), why: msg, hosts: hosts})
		}
		out = append(out, typedConfigProblems("cluster", c.GetName(), c, 0, hosts...)...)
	}

	names := map[string]bool{}
	for _, rc := range r.routes {
		var hosts []string
		for _, vh := range rc.GetVirtualHosts() {
			hosts = append(hosts, vh.GetDomains()...)
		}
		if names[rc.GetName()] {
			out = append(out, envoyProblem{kind: "route configuration", name: rc.GetName(), why: "duplicate route configuration name"})
		}
		names[rc.GetName()] = true
		for _, msg := range validateWith(func(t testing.TB) {
			xdstest.ValidateRouteConfiguration(t, rc)
			for _, vh := range rc.GetVirtualHosts() {
				xdstest.ValidateRoutes(t, vh.GetRoutes())
			}
		}) {
			out = append(out, envoyProblem{kind: "route configuration", name: rc.GetName(), why: msg, hosts: hosts})
		}
		out = append(out, typedConfigProblems("route configuration", rc.GetName(), rc, 0, hosts...)...)
	}

	for _, cla := range r.endpoints {
		hosts := clusterHosts(cla.GetClusterName())
		for _, msg := range validateWith(func(t testing.TB) { xdstest.ValidateClusterLoadAssignment(t, cla) }) {
			out = append(out, envoyProblem{kind: "endpoints", name: cla.GetClusterName(), why: msg, hosts: hosts})
		}
		out = append(out, typedConfigProblems("endpoints", cla.GetClusterName(), cla, 0, hosts...)...)
	}
	return out
}

// typedConfigProblems validates every typed config (google.protobuf.Any)
// inside msg as Envoy does when it unpacks one: the type must be known and
// its content pass the type's own validation rules. protoc-gen-validate's
// Validate stops at an Any; Envoy does not.
func typedConfigProblems(kind, name string, msg proto.Message, port uint32, hosts ...string) []envoyProblem {
	var out []envoyProblem
	var walk func(path string, m protoreflect.Message)
	walk = func(path string, m protoreflect.Message) {
		if a, ok := m.Interface().(*anypb.Any); ok {
			inner, err := a.UnmarshalNew()
			if err != nil {
				out = append(out, envoyProblem{kind: kind, name: name, port: port, hosts: hosts,
					why: fmt.Sprintf("%s: typed config %s: %v", path, a.GetTypeUrl(), err)})
				return
			}
			if v, ok := inner.(interface{ ValidateAll() error }); ok {
				if err := v.ValidateAll(); err != nil {
					out = append(out, envoyProblem{kind: kind, name: name, port: port, hosts: hosts,
						why: fmt.Sprintf("%s: typed config %s is invalid: %v", path, a.GetTypeUrl(), err)})
				}
			}
			walk(path, inner.ProtoReflect())
			return
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			if fd.Message() == nil {
				return true
			}
			p := strings.TrimPrefix(path+"."+string(fd.Name()), ".")
			switch {
			case fd.IsList():
				for i := range v.List().Len() {
					walk(fmt.Sprintf("%s[%d]", p, i), v.List().Get(i).Message())
				}
			case fd.IsMap():
				if fd.MapValue().Message() != nil {
					v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
						walk(fmt.Sprintf("%s[%s]", p, k.String()), mv.Message())
						return true
					})
				}
			default:
				walk(p, v.Message())
			}
			return true
		})
	}
	walk("", msg.ProtoReflect())
	return out
}

// validateWith runs Istio's validators on a testing.TB that keeps what they
// report, one line each (they dump whole resources after the first line).
func validateWith(f func(t testing.TB)) []string {
	r := &tbRecorder{}
	func() {
		defer func() {
			if x := recover(); x != nil && x != errValidatorFatal {
				r.Errorf("validator failed: %v", x)
			}
		}()
		f(r)
	}()
	for i, msg := range r.errs {
		msg, _, _ = strings.Cut(msg, "\n")
		msg = strings.TrimSuffix(strings.TrimSpace(msg), "{")
		msg = strings.TrimSuffix(strings.TrimSpace(msg), ":")
		r.errs[i] = msg
	}
	return r.errs
}

// tbRecorder is the testing.TB Istio's validators report to. It implements
// what they call; the embedded nil TB makes any other call panic, which
// validateWith reports.
type tbRecorder struct {
	testing.TB
	errs []string
}

var errValidatorFatal = fmt.Errorf("validator stopped")

func (r *tbRecorder) Helper()             {}
func (r *tbRecorder) Cleanup(func())      {}
func (r *tbRecorder) Log(...any)          {}
func (r *tbRecorder) Logf(string, ...any) {}
func (r *tbRecorder) Error(args ...any)   { r.errs = append(r.errs, fmt.Sprint(args...)) }
func (r *tbRecorder) Errorf(format string, a ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, a...))
}
func (r *tbRecorder) Fatal(args ...any) { r.Error(args...); panic(errValidatorFatal) }
func (r *tbRecorder) Fatalf(format string, a ...any) {
	r.Errorf(format, a...)
	panic(errValidatorFatal)
}
func (r *tbRecorder) Fail()                         { r.Error("failed") }
func (r *tbRecorder) FailNow()                      { r.Fatal("failed") }
func (r *tbRecorder) Failed() bool                  { return len(r.errs) > 0 }
func (r *tbRecorder) Name() string                  { return "conformance" }
func (r *tbRecorder) Skip(args ...any)              { r.Fatal(args...) }
func (r *tbRecorder) Skipf(format string, a ...any) { r.Fatalf(format, a...) }
func (r *tbRecorder) Setenv(key, value string)      { r.Fatalf("validator sets %s", key) }
func (r *tbRecorder) TempDir() string               { r.Fatal("validator wants a temporary directory"); return "" }
func (r *tbRecorder) Skipped() bool                 { return false }
func (r *tbRecorder) SkipNow()                      { r.Fatal("skipped") }

// describeMatch says what a filter chain matches, briefly.
func describeMatch(m *listener.FilterChainMatch) string {
	var parts []string
	if len(m.GetServerNames()) > 0 {
		parts = append(parts, "SNI "+strings.Join(m.GetServerNames(), ","))
	}
	if p := m.GetDestinationPort(); p != nil {
		parts = append(parts, fmt.Sprintf("port %d", p.GetValue()))
	}
	if t := m.GetTransportProtocol(); t != "" {
		parts = append(parts, "transport "+t)
	}
	if len(parts) == 0 {
		return "anything"
	}
	return strings.Join(parts, ", ")
}

// sniHosts are the service hosts of SNI names of the outbound_.port_.subset_.host form.
func sniHosts(names []string) []string {
	var out []string
	for _, n := range names {
		if h := clusterHosts(n); len(h) > 0 {
			out = appendNew(out, h[0])
		}
	}
	return out
}

// clusterHosts is the service host of an Istio cluster name
// (outbound|8080||host, outbound_.8080_._.host), if it has one.
func clusterHosts(name string) []string {
	if _, _, h, _ := model.ParseSubsetKey(name); h != "" {
		return []string{string(h)}
	}
	return nil
}

// checkEnvoy returns a finding for each thing Envoy would refuse in what the
// istiod of c sends the connected proxy p, against the file at fault.
func (s *Scenario) checkEnvoy(v *istiodView, c *ClusterState, p *Proxy, conn connected) []finding {
	var out []finding
	for _, pr := range envoyProblems(v.resources(conn)) {
		files := s.xdsFiles(c, p, pr)
		why := fmt.Sprintf("istiod of %s sends the %s a %s Envoy refuses", c.Name, p, pr.kind)
		if len(files) > 1 {
			why += fmt.Sprintf(" (made by %s together)", strings.Join(files, " and "))
		}
		file := c.Name
		if len(files) > 0 {
			file = files[0]
		}
		out = append(out, finding{file, why, fmt.Sprintf("%s %s: %s", pr.kind, cmp.Or(pr.name, "(all)"), pr.why)})
	}
	return out
}

// xdsFiles names the rendered files that make the resource of a problem,
// sorted: for a listener of a gateway, the Gateways with a server on its
// port that select the gateway (only those passing the problem's hosts, if
// it names some); for a resource about hosts, the Istio config and Services
// that name them. Objects the harness made itself (File "") are nobody's
// fault; with no file left, the finding names the istiod's cluster.
func (s *Scenario) xdsFiles(c *ClusterState, p *Proxy, pr envoyProblem) []string {
	var files []string
	add := func(f string) {
		if f != "" {
			files = appendNew(files, f)
		}
	}
	if pr.kind == "listener" && p.Gateway && pr.port != 0 {
		for _, o := range c.Objects {
			if o.Config != nil && gatewayServesHosts(o.Config, p.Labels, pr.port, pr.hosts) {
				add(o.File)
			}
		}
	}
	if len(files) == 0 {
		for _, h := range pr.hosts {
			for _, f := range s.filesNamingHost(c, h) {
				add(f)
			}
		}
	}
	slices.Sort(files)
	return files
}
