// The OpenAPI 3 document of the REST gateway, derived from its route table and the request and
// response messages' descriptors, so that it always matches what is served. Any thread.
#pragma once

#include <string>
#include <vector>

#include "server/rest_request.hpp"

namespace kafka::sidecar {

// The document, as JSON: one operation per route, with its path and query parameters, its
// body, and a schema per message in the proto JSON mapping (proto field names; 64-bit integers
// as strings; bytes as base64, or text with encoding=text).
std::string openApiDocument(const std::vector<RestRoute>& routes);

}  // namespace kafka::sidecar
