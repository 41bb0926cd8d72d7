// A stand-in for traefik/whoami: GET /health answers 200, anything else the request's headers.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		name, _ := os.Hostname()
		fmt.Fprintf(w, "Hostname: %s\n", name)
		r.Header.Write(w)
	})
	log.Fatal(http.ListenAndServe(":80", nil))
}
