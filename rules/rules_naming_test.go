package rules

import (
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// TestCheckFunctionsNamedAfterRules: each rule's check function is named
// check<RuleName> (MC013 unused-network → checkUnusedNetwork), so the code
// behind a rule ID is found by its name.
func TestCheckFunctionsNamedAfterRules(t *testing.T) {
	for _, r := range Rules {
		if r.check == nil {
			continue // a rule across several files (MC049), reported by VetPeers
		}
		want := "check"
		for _, word := range strings.Split(r.Name, "-") {
			want += strings.ToUpper(word[:1]) + word[1:]
		}
		full := runtime.FuncForPC(reflect.ValueOf(r.check).Pointer()).Name()
		got := full[strings.LastIndex(full, ".")+1:]
		if !strings.EqualFold(got, want) {
			t.Errorf("%s (%s): check function %s, want %s", r.ID, r.Name, got, want)
		}
	}
}

// TestRetiredRulesNeverReport: a retired rule keeps its ID and its entry in
// the catalogue but runs nothing, and one that still ran could not say it
// was retired.
func TestRetiredRulesNeverReport(t *testing.T) {
	retired := 0
	for _, r := range Rules {
		if r.Retired == "" {
			continue
		}
		retired++
		if r.check != nil {
			t.Errorf("%s (%s) is retired but still has a check", r.ID, r.Name)
		}
	}
	if retired == 0 {
		t.Error("no retired rule: MC069 (istio-csr-not-rendered) is one")
	}
}
