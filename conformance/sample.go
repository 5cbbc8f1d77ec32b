package conformance

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"istio.io/istio/pkg/ptr"

	"meshc.dev/meshc/mesh"
)

// The sample service the behavioural check deploys in every cluster: the
// same name and namespace everywhere, so Istio merges its endpoints across
// clusters into one service. The namespace is the harness's own, apart from
// any a Mesh shares.
const (
	sampleName      = "sample"
	sampleNamespace = "meshc-sample"
	samplePort      = 8080
	sampleHost      = sampleName + "." + sampleNamespace + ".svc.cluster.local"
)

// sampleEnvoyCluster is the outbound Envoy cluster of the sample service.
var sampleEnvoyCluster = fmt.Sprintf("outbound|%d||%s", samplePort, sampleHost)

// Labels the sidecar injector gives every injected pod: mTLS-capable, which
// Istio requires of an endpoint it reaches through a gateway.
var sampleLabels = map[string]string{
	"app":                             sampleName,
	"security.istio.io/tlsMode":       "istio",
	"service.istio.io/canonical-name": sampleName,
}

// samplePods is how many pods of the sample service run in the i-th cluster
// of a mesh: 1 to 3, so that gateway weights differ between clusters.
func samplePods(i int) int { return 1 + i%3 }

// samplePodIP is the IP of the k-th pod slot of the i-th cluster (10 and
// up: the sample's pods, then each shared service's, servicePodIP). Each
// cluster has a /20 of 10.1.0.0 to 10.95.255.255, below the Services'
// 10.96/16 and 10.97/16 and the VMs' 10.255/16: room for 1,520 clusters
// of 4,086 pods. Past that the harness stops rather than hand out an
// address twice or one that is not an address.
func samplePodIP(i, k int) string {
	const clusters, slots = 95 * 16, 1 << 12
	if i >= clusters || 10+k >= slots {
		panic(fmt.Sprintf("conformance: pod %d of cluster %d is past the harness's address plan (%d clusters of %d pods)", k, i, clusters, slots-10))
	}
	n := 1<<16 + i<<12 + 10 + k
	return fmt.Sprintf("10.%d.%d.%d", n>>16, n>>8&255, n&255)
}

// loadBalancerAddress is the address the i-th cluster's east-west gateway
// load balancer gets: the one the Mesh declares, else one the harness hands
// out in place of the cloud (TEST-NET-3, RFC 5737).
func loadBalancerAddress(c *mesh.Cluster, i int) string {
	if c.EastWestGateway != nil && c.EastWestGateway.Address != "" {
		return c.EastWestGateway.Address
	}
	return "203.0.113." + strconv.Itoa(1+i)
}

// workload is a service as one cluster runs it: name, namespace, ports
// (each also the target port), and its pods' IPs.
type workload struct {
	name, namespace string
	ports           []port
	podIPs          []string
}

// port is a named Service port. Istio matches endpoints to a service port by
// name, so a Service must name its ports as every other cluster's Service
// of the same host does (a stub meshc renders, for one).
type port struct {
	name   string
	number int32
}

// sampleService returns the sample service as the i-th cluster runs it:
// its namespace, Service, pods and EndpointSlice. podLabels are added to
// every pod's labels (the injector's network label, on remotes).
func sampleService(i int, podLabels map[string]string) []Object {
	w := workload{name: sampleName, namespace: sampleNamespace, ports: []port{{"http", samplePort}}}
	for k := range samplePods(i) {
		w.podIPs = append(w.podIPs, samplePodIP(i, k))
	}
	ns := Object{Object: &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: sampleNamespace}}}
	return append([]Object{ns}, w.objects(i, true, podLabels)...)
}

// objects returns the workload's pods and EndpointSlice and, if withService,
// its Service, in the i-th cluster.
func (w workload) objects(i int, withService bool, podLabels map[string]string) []Object {
	labels := map[string]string{}
	for k, v := range sampleLabels {
		labels[k] = v
	}
	labels["app"] = w.name
	labels["service.istio.io/canonical-name"] = w.name
	for k, v := range podLabels {
		labels[k] = v
	}
	var objs []Object
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name: w.name + "-abcde", Namespace: w.namespace,
			Labels: map[string]string{discoveryv1.LabelServiceName: w.name},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: w.name, Namespace: w.namespace},
		Spec: corev1.ServiceSpec{
			ClusterIP: fmt.Sprintf("10.96.%d.%d", i/250, 10+i%250),
			Selector:  map[string]string{"app": w.name},
		},
	}
	for _, p := range w.ports {
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{
			Name: p.name, Port: p.number, TargetPort: intstr.FromInt32(p.number), Protocol: corev1.ProtocolTCP,
		})
		slice.Ports = append(slice.Ports, discoveryv1.EndpointPort{Name: ptr.Of(p.name), Port: ptr.Of(p.number), Protocol: ptr.Of(corev1.ProtocolTCP)})
	}
	if withService {
		objs = append(objs, Object{Object: svc})
	}
	for k, ip := range w.podIPs {
		name := fmt.Sprintf("%s-%d", w.name, k)
		objs = append(objs, Object{Object: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: w.namespace, Labels: labels},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: w.name}}},
			Status: corev1.PodStatus{
				Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			},
		}})
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{ip},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.Of(true)},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Name: name, Namespace: w.namespace},
		})
	}
	return append(objs, Object{Object: slice})
}
