// Package certs gives every cluster of a mesh an intermediate CA signed by
// one shared root, in the layout Istio's plug-in CA reads, and checks an
// existing certificates directory for the trust mistakes that otherwise
// surface at runtime as failed cross-cluster mTLS.
//
// In: a directory, the mesh's cluster names and, optionally, an existing root
// (certificate and key). Out, following istio/istio tools/certs:
//
//	DIR/root-cert.pem                 shared root CA (self-signed)
//	DIR/root-key.pem                  its key (0600), unless the root was given by path
//	DIR/<cluster>/ca-cert.pem         intermediate CA: O=Istio, CN=Intermediate CA, L=<cluster>
//	DIR/<cluster>/ca-key.pem          its key (0600)
//	DIR/<cluster>/root-cert.pem       copy of the shared root
//	DIR/<cluster>/cert-chain.pem      intermediate, then root
//	DIR/<cluster>/cacerts.yaml        the istio-system/cacerts Secret holding the four files (0600)
//
// Directories are 0700. Keys already on disk are never replaced unless the
// caller forces it, and a root already in DIR is always reused, so running
// again for a new cluster adds only that cluster's intermediate. Nothing here
// prints: callers get paths, never key material.
package certs
