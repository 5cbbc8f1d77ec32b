package conformance

import (
	"encoding/binary"
	"hash/fnv"
	"net"
	"net/netip"
	"sync"

	"github.com/miekg/dns"

	"istio.io/istio/pilot/pkg/model"
)

// The harness's DNS. istiod resolves a network gateway given by hostname (a
// load balancer's, like an EKS one, or a peer's) itself, with DNS, and
// sends sidecars the addresses it gets. The behavioural check has no
// network, so it runs a DNS server of its own on the loopback interface and
// points istiod's gateway resolver at it (model.NetworkGatewayTestDNSServers,
// the hook Istio's own tests use). It answers every name with one IPv4
// address derived from the name alone (hostAddress), so expectations can
// say which address a hostname stands for without asking it.

var (
	dnsOnce sync.Once
	dnsErr  error
)

// startDNS starts the harness's DNS server, once per process, and makes it
// the one istiod's gateway resolver asks.
func startDNS() error {
	dnsOnce.Do(func() {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			dnsErr = err
			return
		}
		started := make(chan struct{})
		srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(answer), NotifyStartedFunc: func() { close(started) }}
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		model.NetworkGatewayTestDNSServers = []string{pc.LocalAddr().String()}
	})
	return dnsErr
}

// answer answers an A question with the name's hostAddress, and any other
// with no records.
func answer(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	for _, q := range r.Question {
		if q.Qtype != dns.TypeA {
			continue
		}
		m.Answer = append(m.Answer, &dns.A{
			Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600},
			A:   net.ParseIP(hostAddress(q.Name)),
		})
	}
	_ = w.WriteMsg(m)
}

// hostAddress is the address the harness's DNS gives hostname: one of
// 100.64.0.0/10 (RFC 6598, never a real host on the Internet), from a hash
// of the name. An IP address stands for itself.
func hostAddress(hostname string) string {
	if _, err := netip.ParseAddr(hostname); err == nil {
		return hostname
	}
	h := fnv.New32a()
	h.Write([]byte(dns.CanonicalName(hostname)))
	n := 100<<24 | 64<<16 | h.Sum32()&(1<<22-1)
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], n)
	return netip.AddrFrom4(b).String()
}
