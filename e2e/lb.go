package e2e

import (
	"fmt"
	"net/url"
)

// serviceList is the part of a Service list the stand-ins read.
type serviceList struct {
	Items []service `json:"items"`
}

type service struct {
	Object
	Spec struct {
		Type      string `json:"type"`
		ClusterIP string `json:"clusterIP"`
		Ports     []struct {
			Name       string `json:"name"`
			Port       int    `json:"port"`
			TargetPort any    `json:"targetPort"`
		} `json:"ports"`
	} `json:"spec"`
	Status struct {
		LoadBalancer struct {
			Ingress []struct {
				IP string `json:"ip"`
			} `json:"ingress"`
		} `json:"loadBalancer"`
	} `json:"status"`
}

// assignLoadBalancers is the load-balancer controller a cloud provides:
// every LoadBalancer Service without an address gets addr(namespace, name)
// in its status (the address nothing on loopback can answer at; only
// istiod reads it, as the gateway address of the Service's network).
func assignLoadBalancers(k *Kube, addr func(ns, name string) string) error {
	var l serviceList
	if err := k.Get("/api/v1/services", &l); err != nil {
		return err
	}
	for _, s := range l.Items {
		if s.Spec.Type != "LoadBalancer" || len(s.Status.LoadBalancer.Ingress) > 0 {
			continue
		}
		ip := addr(s.Metadata.Namespace, s.Metadata.Name)
		patch := fmt.Sprintf(`{"status":{"loadBalancer":{"ingress":[{"ip":%q}]}}}`, ip)
		path := fmt.Sprintf("/api/v1/namespaces/%s/services/%s/status", url.PathEscape(s.Metadata.Namespace), url.PathEscape(s.Metadata.Name))
		if err := k.Do("PATCH", path, "application/merge-patch+json", []byte(patch), nil); err != nil {
			return err
		}
	}
	return nil
}
