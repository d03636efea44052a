package tests

import (
	"testing"

	"codingagentbench/goclamp"
)

func TestClamp_Below(t *testing.T) {
	if got := goclamp.Clamp(-5, 0, 10); got != 0 {
		t.Fatalf("Clamp(-5, 0, 10) = %d, want 0", got)
	}
}

func TestClamp_Above(t *testing.T) {
	if got := goclamp.Clamp(15, 0, 10); got != 10 {
		t.Fatalf("Clamp(15, 0, 10) = %d, want 10", got)
	}
}

func TestClamp_Inside(t *testing.T) {
	if got := goclamp.Clamp(4, 0, 10); got != 4 {
		t.Fatalf("Clamp(4, 0, 10) = %d, want 4", got)
	}
}

func TestClamp_AtBounds(t *testing.T) {
	if got := goclamp.Clamp(0, 0, 10); got != 0 {
		t.Fatalf("Clamp(0, 0, 10) = %d, want 0", got)
	}
	if got := goclamp.Clamp(10, 0, 10); got != 10 {
		t.Fatalf("Clamp(10, 0, 10) = %d, want 10", got)
	}
}
