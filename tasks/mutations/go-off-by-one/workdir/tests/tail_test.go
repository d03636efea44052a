package tests

import (
	"reflect"
	"testing"

	"codingagentbench/gotail"
)

var log = []string{"boot", "mount", "net up", "login"}

func expect(t *testing.T, n int, want []string) {
	t.Helper()
	if got := gotail.Tail(log, n); !reflect.DeepEqual(got, want) {
		t.Fatalf("Tail(log, %d) = %q, want %q", n, got, want)
	}
}

func TestTail_LastTwo(t *testing.T) { expect(t, 2, []string{"net up", "login"}) }

func TestTail_All(t *testing.T) { expect(t, 4, log) }

func TestTail_MoreThanAvailable(t *testing.T) { expect(t, 10, log) }

func TestTail_Zero(t *testing.T) { expect(t, 0, []string{}) }
