package transport

import "net/http"

// statusCodes codes a request error that has no code of its own, by the
// answer's status: every error the gateway produces carries extensions.code.
var statusCodes = map[int]string{
	http.StatusBadRequest:           CodeBadRequest,
	http.StatusMethodNotAllowed:     CodeMethodNotAllowed,
	http.StatusNotAcceptable:        CodeMethodNotAllowed, // a mutation over GET
	http.StatusUnsupportedMediaType: CodeUnsupportedMediaType,
	http.StatusUnprocessableEntity:  CodeBadRequest,
	http.StatusInternalServerError:  CodeInternal,
}
