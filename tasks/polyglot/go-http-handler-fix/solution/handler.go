package gohttphandler

import (
	"fmt"
	"net/http"
)

// Greet answers GET /greet?name=NAME with "hello, NAME".
// A request without a name, or with an empty one, gets 400 Bad Request.
func Greet(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if name == "" {
		http.Error(w, "missing name", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "hello, %s\n", name)
}
