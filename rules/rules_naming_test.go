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
