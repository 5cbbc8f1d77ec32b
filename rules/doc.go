// Package rules is meshc's Validate step: the cross-cluster rules the
// schema cannot express.
//
// In: a *mesh.Mesh that Load accepted. Out: diag.Problems, in input order,
// each with the stable ID of the rule that failed (MC003). Rules is the
// table, one row per rule with what it protects against and the Istio
// symptom without it; docs/rules.md is generated from it, and each check
// function is named after its rule. VetPeers checks the Mesh files of
// federated peers given together (MC049). Guarantees lists the mistakes
// meshc's output cannot contain by construction, so they need no rule.
package rules
