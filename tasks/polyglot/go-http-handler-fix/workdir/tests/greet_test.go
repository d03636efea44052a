package tests

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"codingagentbench/gohttphandler"
)

func get(t *testing.T, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	gohttphandler.Greet(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

func TestGreet_OK(t *testing.T) {
	rec := get(t, "/greet?name=Ada")
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	if got := rec.Body.String(); got != "hello, Ada\n" {
		t.Fatalf("body = %q, want %q", got, "hello, Ada\n")
	}
}

func TestGreet_MissingNameReturns400(t *testing.T) {
	rec := get(t, "/greet")
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", rec.Code)
	}
}

func TestGreet_EmptyNameReturns400(t *testing.T) {
	rec := get(t, "/greet?name=")
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", rec.Code)
	}
}
