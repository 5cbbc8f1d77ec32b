package render

import (
	"testing"

	"meshc.dev/meshc/internal/ownership"
)

// TestPlanFileIsOwnershipsRenderPlan: certs.Generate knows a render output
// made before markers by ownership.RenderPlanFile, which must be the plan
// render writes.
func TestPlanFileIsOwnershipsRenderPlan(t *testing.T) {
	if PlanFile != ownership.RenderPlanFile {
		t.Errorf("render.PlanFile %q, ownership.RenderPlanFile %q", PlanFile, ownership.RenderPlanFile)
	}
}
